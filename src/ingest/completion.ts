/**
 * Series completion: a series is complete when no instance arrived for `quietSeconds`, or as soon as it holds as
 * many instances as its headers promise (ImagesInAcquisition). Completing it queues a job;
 * a series re-opened by a late instance completes again and gets a new job, whose result replaces the earlier one.
 */
import { nowIso, recordEvent, type Db } from '../db/database.js';

export function completeQuietSeries(db: Db, quietSeconds: number, now = new Date()): number[] {
  const cutoff = new Date(now.getTime() - quietSeconds * 1000).toISOString();
  const due = db
    .prepare(
      `SELECT id FROM series WHERE state = 'receiving' AND (last_received_at <= ? OR instance_count >= expected_instances)
       ORDER BY last_received_at`,
    )
    .pluck()
    .all(cutoff) as number[];
  const jobs: number[] = [];
  const complete = db.transaction((seriesId: number) => {
    const at = nowIso();
    const changed = db
      .prepare(
        `UPDATE series SET state = 'complete', completed_at = ?
         WHERE id = ? AND state = 'receiving' AND (last_received_at <= ? OR instance_count >= expected_instances)`,
      )
      .run(at, seriesId, cutoff).changes;
    if (changed === 0) return; // an instance arrived meanwhile
    const earlier = db.prepare('SELECT COUNT(*) FROM jobs WHERE series_id = ?').pluck().get(seriesId) as number;
    const promised = db.prepare('SELECT instance_count >= expected_instances FROM series WHERE id = ?').pluck().get(seriesId) === 1;
    const reason =
      earlier > 0 ? 'series re-opened by a late instance' : promised ? 'series complete (all instances the headers promise)' : 'series complete';
    const jobId = Number(
      db.prepare(`INSERT INTO jobs (series_id, reason, created_at) VALUES (?, ?, ?)`).run(seriesId, reason, at).lastInsertRowid,
    );
    recordEvent(db, 'job.queued', reason, { seriesId, jobId });
    jobs.push(jobId);
  });
  for (const id of due) complete(id);
  return jobs;
}

/**
 * At start-up, series that were still receiving when the node stopped get a fresh quiet period: the sender may be
 * about to re-send what the stop cut off, and the time spent down says nothing about whether the series is complete.
 */
export function restartQuietPeriods(db: Db, now = new Date()): number {
  return db.prepare(`UPDATE series SET last_received_at = ? WHERE state = 'receiving'`).run(now.toISOString()).changes;
}
