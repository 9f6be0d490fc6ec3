/**
 * A study sent in two halves with a pause longer than the quiet time: the first half is scored and reported, the
 * late half re-opens the case, and the final result covers every slice. Its SR names the first SR in the Predecessor
 * Documents Sequence; the PACS (a real Orthanc) ends up holding it; sending the final result again adds nothing.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, storescu } from '../helpers/node.js';
import type { RunningNode } from '../../src/service.js';
import { CQ500, startOrthanc, tempDir, waitFor, type Orthanc, orthancDestination } from '../helpers/peers.js';

const FILES = readdirSync(CQ500).sort().map((f) => join(CQ500, f));
const FIRST = FILES.slice(0, 119);
const SECOND = FILES.slice(119);

describe('CQ500 in two halves: the late half re-opens the case', () => {
  let orthanc: Orthanc;
  let node: RunningNode;
  let dir: string;
  const countResults = () => node.db.prepare(`SELECT COUNT(*) FROM results`).pluck().get() as number;
  const send = (files: string[]) => storescu(node, ['-xs', ...files]);
  const studyUid = () => node.db.prepare('SELECT study_uid FROM studies').pluck().get() as string;
  const orthancInstances = async () => (await orthanc.get<unknown[]>(`/dicom-web/studies/${studyUid()}/instances`)).length;
  const outputsOf = (resultId: number) =>
    node.db.prepare(`SELECT kind, sop_instance_uid AS uid, path FROM outputs WHERE result_id = ? ORDER BY kind DESC, idx`).all(resultId) as {
      kind: string;
      uid: string;
      path: string;
    }[];

  beforeAll(async () => {
    orthanc = await startOrthanc();
    dir = tempDir('halves');
    node = await startTestNode(dir, {
      ingest: { quietSeconds: 2, sweepIntervalSeconds: 0.25 },
      destinations: [orthancDestination(orthanc)],
    });
    expect((await send(FIRST)).status).toBe(0);
    await waitFor(() => node.idle() && countResults() === 1, 120_000, 'the first half to be reported');
    expect((await send(SECOND)).status).toBe(0);
    await waitFor(() => node.idle() && countResults() === 2, 120_000, 'the whole series to be reported');
  }, 300_000);

  afterAll(async () => {
    await node?.stop();
    await orthanc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ends with a result for the whole series that supersedes the first', () => {
    const results = node.db.prepare('SELECT id, slice_count AS slices, superseded_by AS supersededBy FROM results ORDER BY id').all();
    expect(results).toEqual([
      { id: 1, slices: 119, supersededBy: 2 },
      { id: 2, slices: 238, supersededBy: null },
    ]);
    expect(node.db.prepare(`SELECT reason FROM jobs ORDER BY id`).pluck().all()).toEqual(['series complete', 'series re-opened by a late instance']);
  });

  it('names the first SR in the final SR (Predecessor Documents Sequence) and uses new UIDs', () => {
    const [firstSr] = outputsOf(1);
    const [finalSr] = outputsOf(2);
    expect(firstSr!.kind).toBe('sr');
    expect(finalSr!.uid).not.toBe(firstSr!.uid);
    const dump = spawnSync('dcmdump', ['+P', '0040,a360', '+P', '0008,1155', join(dir, 'outputs', finalSr!.path)], { encoding: 'utf8' }).stdout;
    expect(dump).toContain('(0040,a360)');
    expect(dump).toContain(firstSr!.uid);
  });

  it('delivers the final SR to the PACS, and a re-send of the final result adds nothing there', async () => {
    const instances = (await orthanc.get<Record<string, { Value: string[] }>[]>(`/dicom-web/studies/${studyUid()}/instances`)).map(
      (i) => i['00080018']!.Value[0],
    );
    for (const o of outputsOf(2)) expect(instances).toContain(o.uid);
    const before = await orthancInstances();
    expect(before).toBe(10); // the first result's SR, 3 SC and KOS stay; the final ones join them
    node.db.prepare(`UPDATE dispatches SET state = 'queued', attempts = 0, next_attempt_at = ?, delivered_at = NULL WHERE output_id IN (SELECT id FROM outputs WHERE result_id = 2)`).run(new Date(0).toISOString());
    await waitFor(() => node.idle(), 60_000, 'the re-send');
    expect(node.db.prepare(`SELECT COUNT(*) FROM dispatches d JOIN outputs o ON o.id = d.output_id WHERE o.result_id = 2 AND d.state = 'delivered' AND d.delivered_at IS NOT NULL`).pluck().get()).toBe(5);
    expect(await orthancInstances()).toBe(before);
  });
});
