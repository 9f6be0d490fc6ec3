/**
 * The HL7 worklist flag: a positive case sends an ORU^R01 over MLLP to an independent HL7 implementation (the
 * simple-hl7 npm library as the receiving interface engine), which parses it and answers ACK; the flag is recorded
 * as delivered. The accession number (stamped on the phantom slices with dcmodify), the finding and the priority
 * are read back by the library's parser.
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/service.js';
import { startTestNode, storescu } from '../helpers/node.js';
import { DATA, freePort, run, tempDir, waitFor } from '../helpers/peers.js';

interface Hl7Message {
  header: { getField(i: number): { toString(): string } };
  getSegment(id: string): { getField(i: number): { toString(): string }; getComponent(i: number, c: number): { toString(): string } };
  getSegments(id: string): { getField(i: number): { toString(): string }; getComponent(i: number, c: number): { toString(): string } }[];
}
const hl7 = createRequire(import.meta.url)('simple-hl7') as {
  tcp(): { use(fn: (...a: unknown[]) => void): void; start(port: number): void; stop?(): void; server?: { stop(): void } };
};

describe('HL7 ORU^R01 over MLLP', () => {
  let node: RunningNode;
  let dir: string;
  let receiver: ReturnType<typeof hl7.tcp>;
  const messages: Hl7Message[] = [];

  beforeAll(async () => {
    dir = tempDir('hl7');
    const series = join(dir, 'series');
    mkdirSync(series);
    const phantom = join(DATA, 'studies/philips-head-phantom');
    for (const f of readdirSync(phantom).filter((x) => x.includes('_S2010_'))) copyFileSync(join(phantom, f), join(series, f));
    const stamped = await run('dcmodify', ['-nb', '-i', '(0008,0050)=ACC-2026-0042', ...readdirSync(series).map((f) => join(series, f))]);
    expect(stamped.status, stamped.stderr).toBe(0);

    const port = await freePort();
    receiver = hl7.tcp();
    receiver.use((req: unknown, _res: unknown, next: unknown) => {
      messages.push((req as { msg: Hl7Message }).msg);
      (next as () => void)();
    });
    receiver.use((_req: unknown, res: unknown) => (res as { end(): void }).end()); // the library builds the ACK (MSA AA)
    receiver.start(port);

    node = await startTestNode(join(dir, 'node'), {
      flags: { hl7: [{ name: 'ris', host: '127.0.0.1', port, receivingApplication: 'RIS', receivingFacility: 'FORENSIC' }] },
      dispatch: { intervalSeconds: 0.25, initialBackoffSeconds: 0.2, maxBackoffSeconds: 0.5, maxAttempts: 5 },
    });
    expect((await storescu(node, ['+sd', series])).status).toBe(0);
    await waitFor(() => node.idle() && (node.db.prepare(`SELECT COUNT(*) FROM flags WHERE state = 'delivered'`).pluck().get() as number) === 1, 120_000, 'the flag');
  }, 180_000);

  afterAll(async () => {
    await node?.stop();
    (receiver as unknown as { server: { server: { close(): void } } })?.server?.server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is acknowledged by the receiver and recorded as delivered', () => {
    expect(node.db.prepare(`SELECT channel, state, attempts FROM flags`).all()).toEqual([{ channel: 'hl7:ris', state: 'delivered', attempts: 1 }]);
    expect(messages).toHaveLength(1);
  });

  it('carries the message type, the accession number, the priority and the finding, as the library parses them', () => {
    const m = messages[0]!;
    expect(m.header.getField(7).toString()).toMatch(/^ORU\^R01/);
    expect(m.header.getField(10).toString()).toBe('2.5');
    const obr = m.getSegment('OBR');
    expect(obr.getField(3).toString()).toBe('ACC-2026-0042');
    expect(obr.getField(5).toString()).toBe('S');
    const obx = m.getSegments('OBX');
    expect(obx[0]!.getComponent(3, 2).toString()).toBe('Intracranial hemorrhage');
    expect(obx[0]!.getComponent(5, 1).toString()).toBe('Y');
    const score = node.db.prepare(`SELECT case_score FROM results`).pluck().get() as number;
    expect(Number(obx[1]!.getField(5).toString())).toBeCloseTo(score, 4);
  });
});
