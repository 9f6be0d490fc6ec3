/**
 * The SQLite database: the node's single record of state. WAL mode so the API and the pipeline read while the
 * receiver writes; numbered migrations from `migrations/` applied in order at open and recorded.
 */
import Database from 'better-sqlite3';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Db = Database.Database;

/** The repository's migrations folder (works from src/ under vitest and from dist/src/ when built). */
export function migrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    dir = dirname(dir);
    try {
      if (readdirSync(join(dir, 'migrations')).some((f) => f.endsWith('.sql'))) return join(dir, 'migrations');
    } catch {
      // not here; keep climbing
    }
  }
  throw new Error('migrations folder not found next to the installed package');
}

export function nowIso(): string {
  return new Date().toISOString();
}

/** Applies every `NNN_name.sql` not yet recorded, each in its own transaction. Returns the versions applied. */
export function migrate(db: Db, dir = migrationsDir()): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const applied = new Set(db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
  const files = readdirSync(dir)
    .map((f) => ({ f, m: /^(\d+)_([\w-]+)\.sql$/.exec(f) }))
    .filter((x): x is { f: string; m: RegExpExecArray } => x.m !== null)
    .map(({ f, m }) => ({ file: f, version: Number(m[1]), name: m[2]! }))
    .sort((a, b) => a.version - b.version);
  const done: number[] = [];
  for (const mig of files) {
    if (applied.has(mig.version)) continue;
    const sql = readFileSync(join(dir, mig.file), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(mig.version, mig.name, nowIso());
    })();
    done.push(mig.version);
  }
  return done;
}

export function openDatabase(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // FULL: a committed row survives power loss, which the C-STORE Success answer promises.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function recordEvent(
  db: Db,
  kind: string,
  message: string,
  refs: { seriesId?: number; jobId?: number; data?: unknown } = {},
): void {
  db.prepare('INSERT INTO events (at, kind, series_id, job_id, message, data) VALUES (?, ?, ?, ?, ?, ?)').run(
    nowIso(),
    kind,
    refs.seriesId ?? null,
    refs.jobId ?? null,
    message,
    refs.data === undefined ? null : JSON.stringify(refs.data),
  );
}
