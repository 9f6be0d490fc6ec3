/**
 * Housekeeping: received files are kept while their case may still need them and removed from the spool after the
 * retention period once the case is finished: no job queued or running for the series, no series still receiving,
 * and every output of its results delivered (or dead) everywhere. The rows stay as the record; the file goes.
 */
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { nowIso, recordEvent, type Db } from '../db/database.js';

export function purgeFinishedCases(db: Db, spoolDir: string, retentionDays: number, now = new Date()): number {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000).toISOString();
  const due = db
    .prepare(
      `SELECT i.id, i.path FROM instances i JOIN series s ON s.id = i.series_id
       WHERE i.purged_at IS NULL AND s.state = 'complete' AND s.completed_at <= ?
         AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.series_id = s.id AND j.state IN ('queued', 'running'))
         AND NOT EXISTS (SELECT 1 FROM dispatches d JOIN outputs o ON o.id = d.output_id JOIN results r ON r.id = o.result_id
                         WHERE r.series_id = s.id AND d.state IN ('queued', 'sending'))`,
    )
    .all(cutoff) as { id: number; path: string }[];
  const mark = db.prepare('UPDATE instances SET purged_at = ? WHERE id = ?');
  for (const row of due) {
    try {
      unlinkSync(join(spoolDir, row.path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    mark.run(nowIso(), row.id);
  }
  if (due.length) recordEvent(db, 'housekeeping.purged', `${due.length} received file(s) of finished cases removed after ${retentionDays} day(s)`);
  return due.length;
}
