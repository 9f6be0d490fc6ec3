/**
 * Pull mode: a study stored only in Orthanc is fetched by the node (QIDO-RS + WADO-RS) on an API call, analysed like
 * a received one, and its SR, SCs and KOS appear in Orthanc next to the source images.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/service.js';
import { startTestNode } from '../helpers/node.js';
import { REPO, run, startOrthanc, tempDir, waitFor, type Orthanc, PHANTOM_AXIAL, orthancDestination } from '../helpers/peers.js';


describe('pull mode', () => {
  let orthanc: Orthanc;
  let node: RunningNode;
  let dir: string;
  let studyUid: string;
  let answer: { status: number; body: { series: number; instances: number } };

  beforeAll(async () => {
    orthanc = await startOrthanc();
    for (const f of PHANTOM_AXIAL) {
      const r = await fetch(`${orthanc.url}/instances`, { method: 'POST', body: readFileSync(f) });
      expect(r.status).toBe(200);
    }
    const [study] = await orthanc.get<string[]>('/studies');
    studyUid = (await orthanc.get<{ MainDicomTags: { StudyInstanceUID: string } }>(`/studies/${study}`)).MainDicomTags.StudyInstanceUID;
    dir = tempDir('pull');
    node = await startTestNode(dir, {
      pull: { url: `${orthanc.url}/dicom-web` },
      destinations: [orthancDestination(orthanc)],
      api: { port: 0, tokens: [{ name: 'qa-desk', role: 'qa', sha256: createHash('sha256').update('qa-secret').digest('hex') }] },
    });
    const r = await fetch(`http://127.0.0.1:${node.apiPort}/api/studies/${studyUid}/analyze`, { method: 'POST', headers: { Authorization: 'Bearer qa-secret' } });
    answer = { status: r.status, body: (await r.json()) as typeof answer.body };
    await waitFor(() => node.idle() && (node.db.prepare('SELECT COUNT(*) FROM results').pluck().get() as number) === 1, 120_000, 'the pulled study');
  }, 180_000);

  afterAll(async () => {
    await node?.stop();
    await orthanc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fetches every instance of the study from the PACS', () => {
    expect(answer).toEqual({ status: 202, body: { series: 1, instances: 28, failed: [] } });
    expect(node.db.prepare(`SELECT DISTINCT calling_ae FROM instances`).pluck().all()).toEqual(['PULL']);
  });

  it('analyses it and sends the SR, SCs and KOS back into the same study in the PACS', async () => {
    expect(node.db.prepare('SELECT slice_count FROM results').pluck().get()).toBe(28);
    const series = await orthanc.get<Record<string, { Value: string[] }>[]>(`/dicom-web/studies/${studyUid}/series`);
    expect(series.map((s) => s['00080060']!.Value[0]).sort()).toEqual(['CT', 'KO', 'OT', 'SR']);
  });

  it('answers 404 for a study the PACS does not have, and 400 for something that is not a UID', async () => {
    const post = (uid: string) => fetch(`http://127.0.0.1:${node.apiPort}/api/studies/${uid}/analyze`, { method: 'POST', headers: { Authorization: 'Bearer qa-secret' } });
    const missing = await post('1.2.3.4.5');
    expect([missing.status, await missing.json()]).toEqual([404, { series: 0, instances: 0, failed: [] }]);
    const bad = await post('not-a-uid');
    expect([bad.status, await bad.json()]).toEqual([400, { error: '"not-a-uid" is not a Study Instance UID' }]);
    // Dots and empty components pass a digits-and-dots check; `..` would make the node walk the whole PACS.
    for (const uid of ['1..2', '1.2.', '01.2', '1.2.3a']) expect((await post(uid)).status, uid).toBe(400);
    // The CLI `pull` calls the same endpoint and fails with its answer (spawned async: the node runs in this process).
    const cli = await run(process.execPath, [join(REPO, 'dist/src/cli.js'), 'pull', 'not-a-uid', '--api', `http://127.0.0.1:${node.apiPort}`, '--token', 'qa-secret']);
    expect([cli.status, cli.stdout.trim()]).toEqual([1, '{"error":"\\"not-a-uid\\" is not a Study Instance UID"}']);
  });
});
