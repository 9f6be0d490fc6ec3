/**
 * Completion by what the headers promise: the phantom's axial series, each slice stamped ImagesInAcquisition = 28
 * (dcmodify), completes as soon as the 28th slice is stored, although the quiet time is an hour.
 */
import { copyFileSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, storescu } from '../helpers/node.js';
import type { RunningNode } from '../../src/service.js';
import { run, tempDir, waitFor, PHANTOM } from '../helpers/peers.js';


describe('series completion by the promised instance count', () => {
  let node: RunningNode;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir('promised');
    const series = join(dir, 'series');
    mkdirSync(series);
    const files = readdirSync(PHANTOM).filter((f) => f.includes('_S2010_'));
    for (const f of files) copyFileSync(join(PHANTOM, f), join(series, f));
    const stamped = await run('dcmodify', ['-nb', '-i', '(0020,1002)=28', ...files.map((f) => join(series, f))]);
    expect(stamped.status, stamped.stderr).toBe(0);
    node = await startTestNode(join(dir, 'node'), { ingest: { quietSeconds: 3600, sweepIntervalSeconds: 0.25 } });
    const sent = await storescu(node, ['+sd', series]);
    expect(sent.status, sent.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('completes and analyses the series without waiting for the hour of quiet time', async () => {
    await waitFor(() => node.idle(), 60_000, 'the series to complete by its promised count');
    expect(node.db.prepare('SELECT expected_instances, instance_count, state FROM series').get()).toEqual({
      expected_instances: 28,
      instance_count: 28,
      state: 'complete',
    });
    expect(node.db.prepare('SELECT reason, state FROM jobs').get()).toEqual({ reason: 'series complete (all instances the headers promise)', state: 'done' });
    expect(node.db.prepare('SELECT slice_count FROM results').pluck().get()).toBe(28);
  });
});
