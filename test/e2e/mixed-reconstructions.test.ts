/**
 * Two reconstructions of one study (e.g. soft-tissue and bone kernels): each axial series is analysed and reported on
 * its own, in the same study. The second series is a re-UIDed copy (new series and SOP UIDs) of 30 CQ500 slices.
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningNode } from '../../src/service.js';
import { startTestNode, storescu } from '../helpers/node.js';
import { CQ500, run, tempDir, waitFor } from '../helpers/peers.js';

describe('two reconstructions in one study', () => {
  let node: RunningNode;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('recons');
    const soft = readdirSync(CQ500).sort().slice(100, 130).map((f) => join(CQ500, f));
    const bone = join(dir, 'bone');
    mkdirSync(bone);
    for (const f of soft) copyFileSync(f, join(bone, f.split('/').pop()!));
    // One new series UID for all copies (dcmodify -gse would give each file its own), new SOP UIDs per file.
    const seriesUid = `2.25.${BigInt('0x' + randomUUID().replace(/-/g, '')).toString(10)}`;
    const stamped = await run('dcmodify', ['-nb', '-gin', '-m', `(0020,000e)=${seriesUid}`, '-m', '(0008,103e)=BONE KERNEL', ...readdirSync(bone).map((f) => join(bone, f))]);
    expect(stamped.status, stamped.stderr).toBe(0);
    node = await startTestNode(join(dir, 'node'));
    expect((await storescu(node, ['-xs', ...soft, bone, '+sd'])).status).toBe(0);
    await waitFor(() => node.idle() && (node.db.prepare('SELECT COUNT(*) FROM results').pluck().get() as number) === 2, 120_000, 'both series');
  }, 180_000);

  afterAll(async () => {
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports each series on its own, in the one study', () => {
    expect(node.db.prepare('SELECT COUNT(*) FROM studies').pluck().get()).toBe(1);
    const rows = node.db
      .prepare(
        `SELECT s.description, r.slice_count AS slices, (SELECT COUNT(*) FROM outputs o WHERE o.result_id = r.id AND o.kind = 'sr') AS srs
         FROM results r JOIN series s ON s.id = r.series_id ORDER BY s.description`,
      )
      .all();
    expect(rows).toEqual([
      { description: '4cc sec 150cc D3D on', slices: 30, srs: 1 },
      { description: 'BONE KERNEL', slices: 30, srs: 1 },
    ]);
  });
});
