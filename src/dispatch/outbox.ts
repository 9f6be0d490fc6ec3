/**
 * The outbox: one row per (output object, destination) in SQLite. A failed push stays queued with an exponential
 * backoff (with jitter, capped) and becomes a dead letter after the configured attempts. Items of one destination
 * go in one association; destinations are swept independently, so one failing PACS never holds up another.
 */
import { nowIso, recordEvent, type Db } from '../db/database.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import { createSender, type Sender } from './destinations.js';

/** Delay before attempt `attempts + 1`: initial * 2^(attempts-1), capped, with +-20% jitter. */
export function backoffSeconds(attempts: number, initial: number, cap: number, random = Math.random): number {
  const base = Math.min(cap, initial * 2 ** Math.max(0, attempts - 1));
  return base * (0.8 + 0.4 * random());
}

/** Queues every output of a result for every destination (idempotent). */
export function enqueueResult(db: Db, resultId: number, destinations: readonly string[]): number {
  const outputs = db.prepare('SELECT id FROM outputs WHERE result_id = ?').pluck().all(resultId) as number[];
  const insert = db.prepare(
    `INSERT INTO dispatches (output_id, destination, next_attempt_at, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT(output_id, destination) DO NOTHING`,
  );
  const now = nowIso();
  let n = 0;
  db.transaction(() => {
    for (const o of outputs) for (const d of destinations) n += insert.run(o, d, now, now).changes;
  })();
  return n;
}

interface DueItem {
  id: number;
  attempts: number;
  path: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  resultId: number;
}

export class Outbox {
  private readonly senders = new Map<string, Sender>();
  private readonly busy = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly outputsDir: string,
  ) {
    for (const d of config.destinations) this.senders.set(d.name, createSender(d, config.receive.aeTitle));
    // Items left 'sending' by a crash go back to the queue: the PACS deduplicates by SOP Instance UID.
    db.prepare(`UPDATE dispatches SET state = 'queued' WHERE state = 'sending'`).run();
  }

  /** Sends what is due, each destination on its own; resolves when this sweep's sends finished. */
  async sweep(now = new Date()): Promise<void> {
    await Promise.all([...this.senders.keys()].map((name) => this.sweepDestination(name, now)));
  }

  private async sweepDestination(name: string, now: Date): Promise<void> {
    if (this.busy.has(name)) return;
    this.busy.add(name);
    try {
      const items = this.db
        .prepare(
          `SELECT d.id, d.attempts, o.path, o.sop_instance_uid AS sopInstanceUid, st.study_uid AS studyInstanceUid, o.result_id AS resultId
           FROM dispatches d JOIN outputs o ON o.id = d.output_id JOIN results r ON r.id = o.result_id
           JOIN series s ON s.id = r.series_id JOIN studies st ON st.id = s.study_id
           WHERE d.destination = ? AND d.state = 'queued' AND d.next_attempt_at <= ? ORDER BY d.id LIMIT 100`,
        )
        .all(name, now.toISOString()) as DueItem[];
      if (items.length === 0) return;
      const markSending = this.db.prepare(`UPDATE dispatches SET state = 'sending', attempts = attempts + 1 WHERE id = ?`);
      this.db.transaction(() => items.forEach((i) => markSending.run(i.id)))();
      const outcomes = await this.senders
        .get(name)!
        .send(items.map((i) => ({ path: `${this.outputsDir}/${i.path}`, sopInstanceUid: i.sopInstanceUid, studyInstanceUid: i.studyInstanceUid })));
      const { maxAttempts, initialBackoffSeconds, maxBackoffSeconds } = this.config.dispatch;
      let dead = 0;
      this.db.transaction(() => {
        items.forEach((item, k) => {
          const o = outcomes[k]!;
          const attempts = item.attempts + 1;
          if (o.ok) {
            this.db.prepare(`UPDATE dispatches SET state = 'delivered', delivered_at = ?, last_error = NULL WHERE id = ?`).run(nowIso(), item.id);
          } else if (attempts >= maxAttempts) {
            this.db.prepare(`UPDATE dispatches SET state = 'dead', last_error = ? WHERE id = ?`).run(o.error, item.id);
            dead++;
            recordEvent(this.db, 'dispatch.dead', `gave up on ${name} after ${attempts} attempts: ${o.error}`, { data: { dispatchId: item.id } });
          } else {
            const next = new Date(Date.now() + backoffSeconds(attempts, initialBackoffSeconds, maxBackoffSeconds) * 1000);
            this.db
              .prepare(`UPDATE dispatches SET state = 'queued', last_error = ?, next_attempt_at = ? WHERE id = ?`)
              .run(o.error, next.toISOString(), item.id);
          }
        });
      })();
      const delivered = outcomes.filter((o) => o.ok).length;
      const failedOutcome = outcomes.find((o) => !o.ok);
      const meta = { destination: name, delivered, failed: outcomes.length - delivered, results: [...new Set(items.map((i) => i.resultId))] };
      if (dead) {
        this.logger.error(`gave up on ${dead} object(s) for ${name} after ${maxAttempts} attempts (state 'dead' in dispatches): ${failedOutcome && !failedOutcome.ok ? failedOutcome.error : ''}`, meta);
      }
      if (failedOutcome && !failedOutcome.ok && outcomes.length - delivered > dead) {
        this.logger.warn(`dispatch to ${name} failed, will retry: ${failedOutcome.error}`, meta);
      } else if (!failedOutcome) this.logger.info(`dispatched to ${name}`, meta);
    } finally {
      this.busy.delete(name);
    }
  }
}
