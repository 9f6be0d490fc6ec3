/**
 * Worklist flags: for a positive case, a signed JSON webhook and/or an HL7 ORU^R01 over MLLP to each configured
 * channel, so a worklist, RIS or messaging system can move the case up. Queued in SQLite per (result, channel) and retried with the outbox's
 * backoff, so a flag survives restarts and outages like a result does.
 */
import { createHmac } from 'node:crypto';
import type { Config } from '../config/config.js';
import { nowIso, recordEvent, type Db } from '../db/database.js';
import type { Logger } from '../log/logger.js';
import { oruMessage, sendMllp } from './hl7.js';
import { backoffSeconds } from './outbox.js';

export const webhookChannel = (name: string) => `webhook:${name}`;
export const hl7Channel = (name: string) => `hl7:${name}`;

/** Queues a flag per channel for a result (idempotent). */
export function enqueueFlags(db: Db, resultId: number, channels: readonly string[]): void {
  const now = nowIso();
  const insert = db.prepare(`INSERT INTO flags (result_id, channel, next_attempt_at, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`);
  for (const c of channels) insert.run(resultId, c, now, now);
}

/** The flag's content: identifiers a worklist needs (accession number, UIDs) and the finding; no patient name. */
export function flagPayload(db: Db, resultId: number): Record<string, unknown> {
  const r = db
    .prepare(
      `SELECT r.id, r.case_score AS caseScore, r.decision, r.threshold, r.ensemble_name AS ensemble, r.ensemble_version AS ensembleVersion,
              r.created_at AS producedAt, se.series_uid AS seriesInstanceUid, st.study_uid AS studyInstanceUid, st.accession_number AS accessionNumber,
              (SELECT sop_instance_uid FROM outputs WHERE result_id = r.id AND kind = 'sr') AS srInstanceUid
       FROM results r JOIN series se ON se.id = r.series_id JOIN studies st ON st.id = se.study_id WHERE r.id = ?`,
    )
    .get(resultId) as Record<string, unknown>;
  return {
    event: 'pmct-ich.positive',
    finding: 'intracranial hemorrhage suspected (AI, not for diagnostic use)',
    priority: 'high',
    resultId: r.id,
    studyInstanceUid: r.studyInstanceUid,
    seriesInstanceUid: r.seriesInstanceUid,
    accessionNumber: r.accessionNumber ?? null,
    caseScore: r.caseScore,
    threshold: r.threshold,
    decision: r.decision,
    ensemble: { name: r.ensemble, version: r.ensembleVersion },
    srInstanceUid: r.srInstanceUid,
    producedAt: r.producedAt,
  };
}

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

interface Channel {
  channel: string;
  /** Delivers one flag; resolves with an error text, or undefined when the receiver took it. */
  deliver(flagId: number, resultId: number): Promise<string | undefined>;
}

function channelsOf(db: Db, config: Config): Channel[] {
  const errorText = (e: unknown) => `${(e as Error).message}${(e as { cause?: Error }).cause ? ` (${(e as { cause: Error }).cause.message})` : ''}`;
  const webhooks = config.flags.webhooks.map(
    (hook): Channel => ({
      channel: webhookChannel(hook.name),
      async deliver(_flagId, resultId) {
        const body = JSON.stringify(flagPayload(db, resultId));
        try {
          const res = await fetch(hook.url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'X-PMCT-Signature': signature(hook.secret, body) },
            body,
            signal: AbortSignal.timeout(30_000),
          });
          return res.ok ? undefined : `HTTP ${res.status}`;
        } catch (e) {
          return errorText(e);
        }
      },
    }),
  );
  const hl7 = config.flags.hl7.map(
    (ch): Channel => ({
      channel: hl7Channel(ch.name),
      async deliver(flagId, resultId) {
        const p = flagPayload(db, resultId);
        const patientId = db
          .prepare(`SELECT patient_id FROM studies WHERE study_uid = ?`)
          .pluck()
          .get(p.studyInstanceUid) as string | null;
        const message = oruMessage(
          {
            controlId: `PMCT${flagId}`,
            sendingApplication: config.receive.aeTitle,
            patientId,
            accessionNumber: p.accessionNumber as string | null,
            studyInstanceUid: p.studyInstanceUid as string,
            caseScore: p.caseScore as number,
            threshold: p.threshold as number,
            at: new Date(),
          },
          ch,
        );
        try {
          const code = await sendMllp(ch, message);
          return code === 'AA' || code === 'CA' ? undefined : `the receiver answered MSA-1 ${code || '(empty)'}`;
        } catch (e) {
          return errorText(e);
        }
      },
    }),
  );
  return [...webhooks, ...hl7];
}

/** Sends the due flags of every channel; a failure waits with backoff and becomes dead after maxAttempts. */
export async function sweepFlags(db: Db, config: Config, logger: Logger, now = new Date()): Promise<void> {
  const { maxAttempts, initialBackoffSeconds, maxBackoffSeconds } = config.dispatch;
  for (const ch of channelsOf(db, config)) {
    const due = db
      .prepare(`SELECT id, result_id AS resultId, attempts FROM flags WHERE channel = ? AND state = 'queued' AND next_attempt_at <= ? ORDER BY id`)
      .all(ch.channel, now.toISOString()) as { id: number; resultId: number; attempts: number }[];
    for (const f of due) {
      const error = await ch.deliver(f.id, f.resultId);
      const attempts = f.attempts + 1;
      if (!error) {
        db.prepare(`UPDATE flags SET state = 'delivered', attempts = ?, delivered_at = ?, last_error = NULL WHERE id = ?`).run(attempts, nowIso(), f.id);
        recordEvent(db, 'flag.delivered', `${ch.channel} took the flag`, { data: { flagId: f.id, resultId: f.resultId } });
      } else if (attempts >= maxAttempts) {
        db.prepare(`UPDATE flags SET state = 'dead', attempts = ?, last_error = ? WHERE id = ?`).run(attempts, error, f.id);
        logger.error(`gave up on a flag for ${ch.channel} after ${attempts} attempts: ${error}`, { flagId: f.id });
      } else {
        const next = new Date(Date.now() + backoffSeconds(attempts, initialBackoffSeconds, maxBackoffSeconds) * 1000).toISOString();
        db.prepare(`UPDATE flags SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ?`).run(attempts, error, next, f.id);
        logger.warn(`flag to ${ch.channel} failed, will retry: ${error}`, { flagId: f.id });
      }
    }
  }
}
