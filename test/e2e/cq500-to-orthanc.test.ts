/**
 * The main job end to end with real peers: dcmtk storescu sends the CQ500 study (JPEG Lossless, kept compressed)
 * to the node; the node scores it and pushes SR + SC to a real Orthanc by C-STORE and to its local folder.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, storescu } from '../helpers/node.js';
import type { RunningNode } from '../../src/service.js';
import { CQ500, dciodvfyErrors, startOrthanc, tempDir, waitFor, type Orthanc, orthancDestination } from '../helpers/peers.js';

const CQ500_FILES = readdirSync(CQ500).length;

describe('CQ500 study: storescu -> node -> Orthanc', () => {
  let orthanc: Orthanc;
  let node: RunningNode;
  let dir: string;
  let received: Awaited<ReturnType<typeof storescu>>;

  beforeAll(async () => {
    orthanc = await startOrthanc();
    dir = tempDir('e2e');
    node = await startTestNode(dir, {
      ingest: { quietSeconds: 2, sweepIntervalSeconds: 0.25 },
      destinations: [
        { name: 'local-folder', type: 'folder', path: 'outbox' },
        orthancDestination(orthanc),
      ],
    });
    received = await storescu(node, ['-xs', '+sd', '+r', CQ500]);
    await waitFor(() => node.idle(), 240_000, 'the node to analyse and dispatch the study');
  }, 300_000);

  afterAll(async () => {
    await node?.stop();
    await orthanc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('receives all 238 slices compressed, as sent', () => {
    expect(received.status, received.stderr).toBe(0);
    expect(CQ500_FILES).toBe(238);
    const rows = node.db.prepare('SELECT transfer_syntax_uid AS ts, COUNT(*) AS n FROM instances GROUP BY ts').all();
    expect(rows).toEqual([{ ts: '1.2.840.10008.1.2.4.70', n: 238 }]);
    // Stored exactly as received: the data set bytes after the meta group equal the source file's.
    const inst = node.db.prepare('SELECT sop_instance_uid AS uid, path FROM instances LIMIT 1').get() as { uid: string; path: string };
    const stored = readFileSync(join(dir, 'spool', inst.path));
    const srcName = readdirSync(CQ500).find((f) => readFileSync(join(CQ500, f)).includes(Buffer.from(inst.uid)))!;
    const src = readFileSync(join(CQ500, srcName));
    const body = (b: Buffer) => b.subarray(144 + b.readUInt32LE(140));
    expect(Buffer.compare(body(stored), body(src))).toBe(0);
  });

  it('records study, series, job, result, slices, outputs and dispatches in SQLite', () => {
    const db = node.db;
    expect(db.prepare('SELECT COUNT(*) FROM studies').pluck().get()).toBe(1);
    expect(db.prepare('SELECT COUNT(*) FROM instances').pluck().get()).toBe(238);
    expect(db.prepare(`SELECT state, COUNT(*) AS n FROM jobs GROUP BY state`).all()).toEqual([{ state: 'done', n: 1 }]);
    const result = db.prepare('SELECT * FROM results').get() as Record<string, unknown>;
    expect(result.status).toBe('analysed');
    expect(result.slice_count).toBe(238);
    expect(typeof result.case_score).toBe('number');
    expect(JSON.parse(result.key_slices as string)).toHaveLength(3);
    const maxSlice = db.prepare('SELECT MAX(probability) FROM slice_results').pluck().get() as number;
    expect(result.case_score).toBeCloseTo(maxSlice, 12);
    expect(result.decision).toBe((result.case_score as number) >= (result.threshold as number) ? 'present' : 'absent');
    expect(db.prepare('SELECT kind, COUNT(*) AS n FROM outputs GROUP BY kind ORDER BY kind').all()).toEqual([
      { kind: 'kos', n: 1 },
      { kind: 'sc', n: 3 },
      { kind: 'sr', n: 1 },
    ]);
    expect(db.prepare(`SELECT destination, state, COUNT(*) AS n FROM dispatches GROUP BY destination, state ORDER BY destination`).all()).toEqual([
      { destination: 'local-folder', state: 'delivered', n: 5 },
      { destination: 'orthanc', state: 'delivered', n: 5 },
    ]);
  });

  it('Orthanc holds the SR and the SCs in the source study (QIDO-RS)', async () => {
    const studyUid = node.db.prepare('SELECT study_uid FROM studies').pluck().get() as string;
    const series = await orthanc.get<Record<string, { Value: string[] }>[]>(`/dicom-web/studies/${studyUid}/series`);
    const modalities = series.map((s) => s['00080060']!.Value[0]).sort();
    expect(modalities).toEqual(['KO', 'OT', 'SR']);
    const instances = await orthanc.get<unknown[]>(`/dicom-web/studies/${studyUid}/instances`);
    expect(instances).toHaveLength(5);
  });

  it('every emitted object passes dciodvfy without Error, and dsrdump reads the SR', () => {
    const outputs = node.db.prepare('SELECT kind, path FROM outputs').all() as { kind: string; path: string }[];
    for (const o of outputs) {
      expect(dciodvfyErrors(join(dir, 'outputs', o.path)), `${o.kind} ${o.path}`).toEqual([]);
    }
    const sr = outputs.find((o) => o.kind === 'sr')!;
    const dump = spawnSync('dsrdump', [join(dir, 'outputs', sr.path)], { encoding: 'utf8' });
    expect(dump.status, dump.stderr).toBe(0);
    expect(dump.stdout).toContain('Imaging Measurement Report');
    expect(dump.stdout).toMatch(/Intracranial hemorrhage/i);
  });
});
