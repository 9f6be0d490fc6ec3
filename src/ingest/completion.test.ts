import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/database.js';
import { completeQuietSeries, restartQuietPeriods } from './completion.js';

let dir: string;
let db: Db;
afterEach(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

function withSeries(lastReceived: string, state = 'receiving'): number {
  dir = mkdtempSync(join(tmpdir(), 'pmct-completion-'));
  db = openDatabase(join(dir, 'db.sqlite'));
  const at = '2026-01-01T00:00:00.000Z';
  db.prepare(`INSERT INTO studies (id, study_uid, created_at, updated_at) VALUES (1, '1.2.3', ?, ?)`).run(at, at);
  return Number(
    db
      .prepare(`INSERT INTO series (study_id, series_uid, state, first_received_at, last_received_at) VALUES (1, '1.2.3.4', ?, ?, ?)`)
      .run(state, lastReceived, lastReceived).lastInsertRowid,
  );
}

describe('series completion', () => {
  it('completes a series once it has been quiet for the quiet time, and queues one job', () => {
    withSeries('2026-01-01T00:00:00.000Z');
    expect(completeQuietSeries(db, 15, new Date('2026-01-01T00:00:14.000Z'))).toEqual([]);
    expect(completeQuietSeries(db, 15, new Date('2026-01-01T00:00:15.000Z'))).toHaveLength(1);
    expect(completeQuietSeries(db, 15, new Date('2026-01-01T00:01:00.000Z'))).toEqual([]);
    expect(db.prepare(`SELECT series.state, jobs.reason FROM series JOIN jobs ON jobs.series_id = series.id`).all()).toEqual([
      { state: 'complete', reason: 'series complete' },
    ]);
  });

  it('gives a series cut off by a stop a fresh quiet period at start-up, instead of completing it at once', () => {
    withSeries('2026-01-01T00:00:00.000Z');
    const restart = new Date('2026-01-01T06:00:00.000Z');
    expect(restartQuietPeriods(db, restart)).toBe(1);
    expect(completeQuietSeries(db, 15, new Date('2026-01-01T06:00:10.000Z'))).toEqual([]);
    expect(completeQuietSeries(db, 15, new Date('2026-01-01T06:00:15.000Z'))).toHaveLength(1);
  });

  it('completes a series at once when it holds every instance its headers promise (ImagesInAcquisition)', () => {
    const id = withSeries('2026-01-01T00:00:00.000Z');
    db.prepare('UPDATE series SET expected_instances = 3, instance_count = 2 WHERE id = ?').run(id);
    expect(completeQuietSeries(db, 15, new Date('2026-01-01T00:00:01.000Z'))).toEqual([]);
    db.prepare('UPDATE series SET instance_count = 3 WHERE id = ?').run(id);
    expect(completeQuietSeries(db, 15, new Date('2026-01-01T00:00:01.000Z'))).toHaveLength(1);
    expect(db.prepare('SELECT reason FROM jobs').pluck().get()).toBe('series complete (all instances the headers promise)');
  });

  it('leaves complete series alone at start-up', () => {
    withSeries('2026-01-01T00:00:00.000Z', 'complete');
    expect(restartQuietPeriods(db, new Date('2026-01-01T06:00:00.000Z'))).toBe(0);
  });
});
