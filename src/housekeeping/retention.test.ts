import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database.js';
import { purgeFinishedCases } from './retention.js';

let dir: string;
let db: Db;
const T0 = '2026-01-01T00:00:00.000Z';

/** One series with one instance file; `dispatch` is the state of the one output's dispatch (or none). */
function seriesWith(uid: string, opts: { state: 'receiving' | 'complete'; job: string; dispatch?: string }): string {
  const study = db.prepare(`SELECT id FROM studies`).pluck().get() as number;
  const series = Number(
    db.prepare(`INSERT INTO series (study_id, series_uid, state, first_received_at, last_received_at, completed_at) VALUES (?, ?, ?, ?, ?, ?)`)
      .run(study, uid, opts.state, T0, T0, opts.state === 'complete' ? T0 : null).lastInsertRowid,
  );
  const path = `${uid}.dcm`;
  writeFileSync(join(dir, 'spool', path), 'x');
  db.prepare(
    `INSERT INTO instances (series_id, sop_instance_uid, sop_class_uid, transfer_syntax_uid, path, size, sha256, calling_ae, received_at, updated_at)
     VALUES (?, ?, '1.2.840.10008.5.1.4.1.1.2', '1.2.840.10008.1.2.1', ?, 1, 'h', 'CT', ?, ?)`,
  ).run(series, `${uid}.1`, path, T0, T0);
  const job = Number(db.prepare(`INSERT INTO jobs (series_id, state, reason, created_at) VALUES (?, ?, 'test', ?)`).run(series, opts.job, T0).lastInsertRowid);
  if (opts.dispatch) {
    const result = Number(
      db.prepare(
        `INSERT INTO results (job_id, series_id, status, ensemble_name, ensemble_version, ensemble_digest, threshold, threshold_method, slice_count, result_digest, created_at)
         VALUES (?, ?, 'analysed', 'e', '1', 'd', 0.5, 'fixed', 1, ?, ?)`,
      ).run(job, series, uid, T0).lastInsertRowid,
    );
    const output = Number(
      db.prepare(`INSERT INTO outputs (result_id, kind, idx, sop_class_uid, sop_instance_uid, series_uid, path, size, created_at) VALUES (?, 'sr', 1, '1.2', ?, '1.3', 'p', 1, ?)`)
        .run(result, `${uid}.sr`, T0).lastInsertRowid,
    );
    db.prepare(`INSERT INTO dispatches (output_id, destination, state, next_attempt_at, created_at) VALUES (?, 'pacs', ?, ?, ?)`).run(output, opts.dispatch, T0, T0);
  }
  return join(dir, 'spool', path);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pmct-retention-'));
  mkdirSync(join(dir, 'spool'));
  db = openDatabase(join(dir, 'db.sqlite'));
  db.prepare(`INSERT INTO studies (study_uid, created_at, updated_at) VALUES ('1.2', ?, ?)`).run(T0, T0);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('purgeFinishedCases', () => {
  it('removes the files of finished, delivered cases older than the retention, and keeps every other', () => {
    const delivered = seriesWith('1.1', { state: 'complete', job: 'done', dispatch: 'delivered' });
    const dead = seriesWith('1.2', { state: 'complete', job: 'done', dispatch: 'dead' });
    const pending = seriesWith('1.3', { state: 'complete', job: 'done', dispatch: 'queued' });
    const running = seriesWith('1.4', { state: 'complete', job: 'running' });
    const receiving = seriesWith('1.5', { state: 'receiving', job: 'done' });
    expect(purgeFinishedCases(db, join(dir, 'spool'), 30, new Date('2026-01-20T00:00:00Z'))).toBe(0); // within retention
    expect(purgeFinishedCases(db, join(dir, 'spool'), 30, new Date('2026-03-01T00:00:00Z'))).toBe(2);
    expect([delivered, dead, pending, running, receiving].map((f) => existsSync(f))).toEqual([false, false, true, true, true]);
    expect(db.prepare('SELECT COUNT(*) FROM instances WHERE purged_at IS NOT NULL').pluck().get()).toBe(2);
    expect(db.prepare('SELECT COUNT(*) FROM instances').pluck().get()).toBe(5); // the record stays
  });
});
