/**
 * STOW-RS destinations against a real Orthanc with its DICOMweb plugin: the SR and the SCs land in the source study
 * (QIDO-RS finds them), a re-send stores nothing twice, and a destination that always fails ends as dead letters
 * with the HTTP reason while the healthy one delivers.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/service.js';
import { startTestNode, storescu } from '../helpers/node.js';
import { startOrthanc, tempDir, waitFor, type Orthanc, PHANTOM_AXIAL } from '../helpers/peers.js';


describe('STOW-RS destinations', () => {
  let orthanc: Orthanc;
  let node: RunningNode;
  let dir: string;
  const studyUid = () => node.db.prepare('SELECT study_uid FROM studies').pluck().get() as string;
  const dispatches = () =>
    node.db.prepare(`SELECT destination, state, COUNT(*) AS n, MAX(last_error) AS error FROM dispatches GROUP BY destination, state ORDER BY destination`).all();

  beforeAll(async () => {
    orthanc = await startOrthanc();
    dir = tempDir('stow');
    node = await startTestNode(dir, {
      destinations: [
        { name: 'pacs-web', type: 'stow-rs', url: `${orthanc.url}/dicom-web` },
        { name: 'broken-web', type: 'stow-rs', url: `${orthanc.url}/no-such-service` },
      ],
      dispatch: { intervalSeconds: 0.25, maxAttempts: 2, initialBackoffSeconds: 0.2, maxBackoffSeconds: 1 },
    });
    expect((await storescu(node, PHANTOM_AXIAL)).status).toBe(0);
    await waitFor(() => node.idle(), 120_000, 'analysis and both destinations to settle');
  }, 180_000);

  afterAll(async () => {
    await node?.stop();
    await orthanc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers the SR, the 3 SCs and the KOS into the source study, found by QIDO-RS', async () => {
    const series = await orthanc.get<Record<string, { Value: string[] }>[]>(`/dicom-web/studies/${studyUid()}/series`);
    expect(series.map((s) => s['00080060']!.Value[0]).sort()).toEqual(['KO', 'OT', 'SR']);
    const uids = (await orthanc.get<Record<string, { Value: string[] }>[]>(`/dicom-web/studies/${studyUid()}/instances`)).map((i) => i['00080018']!.Value[0]);
    const outputs = node.db.prepare('SELECT sop_instance_uid FROM outputs').pluck().all() as string[];
    expect(outputs).toHaveLength(5);
    expect(uids.sort()).toEqual([...outputs].sort());
  });

  it('ends the always-failing destination in dead letters with the HTTP reason, without holding up the other', () => {
    expect(dispatches()).toEqual([
      { destination: 'broken-web', state: 'dead', n: 5, error: expect.stringMatching(/^STOW-RS answered HTTP 404/) },
      { destination: 'pacs-web', state: 'delivered', n: 5, error: null },
    ]);
  });

  it('stores nothing twice when the result is pushed again', async () => {
    node.db.prepare(`UPDATE dispatches SET state = 'queued', attempts = 0, next_attempt_at = ?, delivered_at = NULL WHERE destination = 'pacs-web'`).run(new Date(0).toISOString());
    await waitFor(() => node.idle(), 60_000, 'the re-send');
    expect(node.db.prepare(`SELECT COUNT(*) FROM dispatches WHERE destination = 'pacs-web' AND delivered_at IS NOT NULL`).pluck().get()).toBe(5);
    expect(await orthanc.get<unknown[]>(`/dicom-web/studies/${studyUid()}/instances`)).toHaveLength(5);
  });
});
