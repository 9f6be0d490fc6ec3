/**
 * `/metrics` in the Prometheus text format (prom-client). Counts are read from the database at scrape time, so
 * they are the record of state, not a second tally that could drift; process metrics come from prom-client.
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../db/database.js';

/** state -> count rows from a GROUP BY, with every known state present (0 when absent). */
function countsBy(db: Db, sql: string, states: readonly string[]): Map<string, number> {
  const counts = new Map(states.map((s) => [s, 0]));
  for (const r of db.prepare(sql).all() as { k: string | null; n: number }[]) counts.set(r.k ?? 'none', r.n);
  return counts;
}

export function createMetrics(db: Db): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pmct_' });
  const gauge = (name: string, help: string, label: string, states: readonly string[], sql: string) =>
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect() {
        for (const [k, n] of countsBy(db, sql, states)) this.set({ [label]: k }, n);
      },
    });
  gauge('pmct_series', 'Series received, by state', 'state', ['receiving', 'complete'], 'SELECT state AS k, COUNT(*) AS n FROM series GROUP BY state');
  gauge('pmct_jobs', 'Analysis jobs, by state', 'state', ['queued', 'running', 'done', 'failed'], 'SELECT state AS k, COUNT(*) AS n FROM jobs GROUP BY state');
  gauge(
    'pmct_results',
    'Current (not superseded) results, by decision',
    'decision',
    ['present', 'absent', 'none'],
    'SELECT decision AS k, COUNT(*) AS n FROM results WHERE superseded_by IS NULL GROUP BY decision',
  );
  gauge('pmct_dispatches', 'Deliveries of output objects, by state', 'state', ['queued', 'sending', 'delivered', 'dead'], 'SELECT state AS k, COUNT(*) AS n FROM dispatches GROUP BY state');
  gauge('pmct_flags', 'Worklist flags, by state', 'state', ['queued', 'delivered', 'dead'], 'SELECT state AS k, COUNT(*) AS n FROM flags GROUP BY state');
  new Gauge({
    name: 'pmct_instances_received',
    help: 'DICOM instances received and stored',
    registers: [registry],
    collect() {
      this.set(db.prepare('SELECT COUNT(*) FROM instances').pluck().get() as number);
    },
  });
  return registry;
}
