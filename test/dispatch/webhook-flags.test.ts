/**
 * Worklist flags by webhook: a positive case (the Philips phantom, which the HU baseline calls positive) raises one
 * signed JSON flag; a negative one (CQ500 slices) raises none. The receiver here fails the first delivery, so the
 * flag is retried; its HMAC is checked with an independent computation.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/service.js';
import { startTestNode, storescu } from '../helpers/node.js';
import { CQ500, tempDir, waitFor, PHANTOM_AXIAL } from '../helpers/peers.js';

const SECRET = 'a-shared-webhook-secret';
const NEGATIVE = readdirSync(CQ500).sort().slice(100, 120).map((f) => join(CQ500, f));

describe('worklist flags by webhook', () => {
  let node: RunningNode;
  let dir: string;
  let server: Server;
  const received: { signature: string; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ signature: String(req.headers['x-pmct-signature']), body });
        res.statusCode = received.length === 1 ? 500 : 204; // the first delivery fails
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    dir = tempDir('webhook');
    node = await startTestNode(dir, {
      flags: { webhooks: [{ name: 'worklist', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/flags`, secret: SECRET }] },
      dispatch: { intervalSeconds: 0.25, initialBackoffSeconds: 0.2, maxBackoffSeconds: 0.5, maxAttempts: 5 },
    });
    expect((await storescu(node, ['-xs', ...PHANTOM_AXIAL, ...NEGATIVE])).status).toBe(0);
    await waitFor(() => node.idle() && (node.db.prepare('SELECT COUNT(*) FROM results').pluck().get() as number) === 2, 120_000, 'both cases');
  }, 180_000);

  afterAll(async () => {
    await node?.stop();
    await new Promise((r) => server?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('raises one flag, for the positive case only, delivered on the second attempt', () => {
    expect(node.db.prepare(`SELECT decision FROM results ORDER BY decision`).pluck().all()).toEqual(['absent', 'present']);
    const flags = node.db
      .prepare(`SELECT f.channel, f.state, f.attempts, r.decision FROM flags f JOIN results r ON r.id = f.result_id`)
      .all();
    expect(flags).toEqual([{ channel: 'webhook:worklist', state: 'delivered', attempts: 2, decision: 'present' }]);
    expect(received).toHaveLength(2);
    expect(received[1]!.body).toBe(received[0]!.body);
  });

  it('signs the body (HMAC-SHA256) and carries the identifiers and the finding, not the patient name', () => {
    const { signature, body } = received[1]!;
    expect(signature).toBe(`sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`);
    const flag = JSON.parse(body) as Record<string, unknown>;
    const result = node.db
      .prepare(`SELECT r.case_score AS score, st.study_uid AS study FROM results r JOIN series s ON s.id = r.series_id JOIN studies st ON st.id = s.study_id WHERE r.decision = 'present'`)
      .get() as { score: number; study: string };
    expect(flag).toMatchObject({ event: 'pmct-ich.positive', decision: 'present', priority: 'high', caseScore: result.score, studyInstanceUid: result.study });
    expect(Object.keys(flag)).not.toContain('patientName');
  });
});
