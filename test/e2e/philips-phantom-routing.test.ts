/**
 * Routing on a real mixed exam: the Philips head phantom (an axial series of 28 slices, a scout, two secondary-
 * capture summaries) sent by storescu. Only the axial slices are scored; the scout and the summaries are recorded in
 * SQLite as skipped, each with its reason, and produce no report.
 */
import { readdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestNode, storescu } from '../helpers/node.js';
import type { RunningNode } from '../../src/service.js';
import { tempDir, waitFor, PHANTOM } from '../helpers/peers.js';


describe('Philips head phantom: storescu -> node routing', () => {
  let node: RunningNode;
  let dir: string;
  let received: Awaited<ReturnType<typeof storescu>>;

  beforeAll(async () => {
    dir = tempDir('phantom');
    node = await startTestNode(dir);
    received = await storescu(node, ['+sd', '+r', PHANTOM]);
    await waitFor(() => node.idle(), 120_000, 'the node to route and analyse the phantom exam');
  }, 180_000);

  afterAll(async () => {
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stores every object of the exam', () => {
    expect(received.status, received.stderr).toBe(0);
    expect(node.db.prepare('SELECT COUNT(*) FROM instances').pluck().get()).toBe(readdirSync(PHANTOM).length);
    expect(readdirSync(PHANTOM).length).toBe(31);
  });

  it('scores the 28 axial slices of STD BRAIN 5MM and reports on that series only', () => {
    const analysed = node.db
      .prepare(
        `SELECT se.description, r.slice_count, (SELECT COUNT(*) FROM slice_results sr WHERE sr.result_id = r.id) AS scored
           FROM results r JOIN series se ON se.id = r.series_id WHERE r.status = 'analysed'`,
      )
      .all();
    expect(analysed).toEqual([{ description: 'STD BRAIN 5MM', slice_count: 28, scored: 28 }]);
    expect(node.db.prepare('SELECT kind, COUNT(*) AS n FROM outputs GROUP BY kind ORDER BY kind').all()).toEqual([
      { kind: 'kos', n: 1 },
      { kind: 'sc', n: 3 },
      { kind: 'sr', n: 1 },
    ]);
  });

  it('records the scout and both secondary captures as skipped, with reasons', () => {
    const skipped = node.db
      .prepare(
        `SELECT i.sop_class_uid AS sopClass, s.code, s.kind, s.message FROM skipped s JOIN instances i ON i.id = s.instance_id
          ORDER BY s.code, i.sop_instance_uid`,
      )
      .all() as { sopClass: string; code: string; kind: string; message: string }[];
    expect(skipped.map((s) => [s.code, s.kind, s.sopClass])).toEqual([
      ['localizer', 'excluded', '1.2.840.10008.5.1.4.1.1.2'],
      ['secondary-capture', 'excluded', '1.2.840.10008.5.1.4.1.1.7'],
      ['secondary-capture', 'excluded', '1.2.840.10008.5.1.4.1.1.7'],
    ]);
    expect(skipped[0]!.message).toMatch(/LOCALIZER/);
    // The series that held nothing to analyse end as 'no-slices' results, with no outputs.
    expect(node.db.prepare(`SELECT COUNT(*) FROM results WHERE status = 'no-slices'`).pluck().get()).toBe(2);
  });

  it('takes the exam sent again in another transfer syntax as the same content: no new report', async () => {
    // storescu -xi re-encodes the explicit-VR files as implicit VR: other bytes, the same data.
    const again = await storescu(node, ['-xi', '+sd', '+r', PHANTOM]);
    expect(again.status, again.stderr).toBe(0);
    expect(node.db.prepare(`SELECT COUNT(*) FROM instances WHERE transfer_syntax_uid = '1.2.840.10008.1.2'`).pluck().get()).toBe(31);
    await waitFor(() => node.idle() && (node.db.prepare(`SELECT COUNT(*) FROM jobs WHERE state = 'done'`).pluck().get() as number) === 6, 120_000, 'the re-runs');
    expect(node.db.prepare(`SELECT COUNT(*) FROM results WHERE status = 'analysed'`).pluck().get()).toBe(1);
    expect(node.db.prepare('SELECT COUNT(*) FROM outputs').pluck().get()).toBe(5);
    const notes = node.db.prepare(`SELECT message FROM events WHERE kind = 'job.done' AND job_id > 3 ORDER BY job_id`).pluck().all() as string[];
    expect(notes).toHaveLength(3);
    for (const n of notes) expect(n).toMatch(/^same content as result \d+: nothing new to send$/);
  }, 180_000);
});
