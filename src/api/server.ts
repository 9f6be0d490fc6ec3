/**
 * The node's HTTP API (express): `/health` and `/metrics` for monitors, the QA routes and dashboard (qa-routes.ts,
 * dashboard/), outbox administration, STOW-RS in and pull. Roles and the audit trail are in auth.ts; every change
 * is also recorded in the events table with who made it and from where.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { packageRoot, type Config } from '../config/config.js';
import { nowIso, recordEvent, type Db } from '../db/database.js';
import type { Logger } from '../log/logger.js';
import { pullStudy } from '../receive/pull.js';
import { multipartRelatedParts, storeInstance, stowResponse, type StowOutcome } from '../receive/stow.js';
import { StoreStatus, type ReceivedObject } from '../receive/scp.js';
import { callerOf, createAuth, noteAudit } from './auth.js';
import { createMetrics } from './metrics.js';
import { qaRoutes } from './qa-routes.js';

export interface RunningApi {
  port: number;
  close(): Promise<void>;
}

/** Where STOW-RS instances go: the same spool and commit step as the SCP's. */
export interface StowIngest {
  tmpDir: string;
  commit: (obj: ReceivedObject) => number;
}

export interface ApiContext {
  db: Db;
  config: Config;
  logger: Logger;
  ingest: StowIngest;
  outputsDir: string;
  /** The threshold in use (the loaded ensemble's), for performance at the current threshold. */
  threshold: () => number;
}

export async function startApi(ctx: ApiContext): Promise<RunningApi> {
  const { db, logger, ingest } = ctx;
  const { api, pull } = ctx.config;
  const app = express();
  app.disable('x-powered-by');
  const auth = createAuth(db, api.tokens);
  const anyRole = auth.allow('qa', 'admin');
  const adminOnly = auth.allow('admin');
  const metrics = createMetrics(db);

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });
  // The dashboard only runs its own script: a DICOM string that slipped past escaping could still not execute.
  const csp = "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
  app.use('/dashboard', (_req, res, next) => (res.set('Content-Security-Policy', csp), next()), express.static(join(packageRoot(), 'dashboard'), { index: 'index.html' }));
  app.get('/', (_req, res) => res.redirect('/dashboard/'));
  app.use(qaRoutes({ db, config: ctx.config, outputsDir: ctx.outputsDir, threshold: ctx.threshold, auth }));

  app.get('/health', (_req, res) => {
    const queued = db.prepare(`SELECT COUNT(*) FROM dispatches WHERE state IN ('queued','sending')`).pluck().get() as number;
    const dead = db.prepare(`SELECT COUNT(*) FROM dispatches WHERE state = 'dead'`).pluck().get() as number;
    res.json({ status: 'ok', outbox: { queued, dead } });
  });

  app.get('/api/dispatches', anyRole, (req, res) => {
    const state = typeof req.query.state === 'string' ? req.query.state : undefined;
    const rows = db
      .prepare(
        `SELECT d.id, d.destination, d.state, d.attempts, d.last_error AS lastError, d.next_attempt_at AS nextAttemptAt,
                d.delivered_at AS deliveredAt, o.kind, o.sop_instance_uid AS sopInstanceUid, o.result_id AS resultId
         FROM dispatches d JOIN outputs o ON o.id = d.output_id
         WHERE (@state IS NULL OR d.state = @state) ORDER BY d.id`,
      )
      .all({ state: state ?? null });
    res.json(rows);
  });

  // Puts dead letters back in the queue (all of them, or those of one destination), e.g. once a PACS is fixed.
  app.post('/api/dispatches/retry', adminOnly, (req, res) => {
    const destination = typeof req.query.destination === 'string' ? req.query.destination : null;
    const changed = db
      .prepare(
        `UPDATE dispatches SET state = 'queued', attempts = 0, next_attempt_at = @now, last_error = NULL
         WHERE state = 'dead' AND (@destination IS NULL OR destination = @destination)`,
      )
      .run({ now: nowIso(), destination }).changes;
    const caller = callerOf(res);
    noteAudit(res, { target: 'dead letters', details: { destination, queued: changed } });
    recordEvent(db, 'api.dispatch.retry', `${caller.name} (${caller.role}) from ${req.ip} queued ${changed} dead letter(s) again`, {
      data: { destination, by: caller.name, from: req.ip },
    });
    logger.info('dead letters queued again by an admin', { count: changed, destination, by: caller.name });
    res.json({ queued: changed });
  });

  // STOW-RS in: `sender` tokens (scanners, routers that speak DICOMweb) and admins may store.
  app.post(
    '/dicomweb/studies',
    auth.allow('sender', 'admin'),
    express.raw({ type: 'multipart/related', limit: '4gb' }),
    async (req, res, next) => {
      try {
        const caller = callerOf(res);
        if (!Buffer.isBuffer(req.body)) {
          return void res.status(415).json({ error: 'send multipart/related; type="application/dicom"' });
        }
        const parts = multipartRelatedParts(req.body, req.get('content-type') ?? '');
        if (parts.length === 0) return void res.status(400).json({ error: 'the multipart/related body has no parts' });
        const outcomes: StowOutcome[] = [];
        for (const p of parts) {
          outcomes.push(
            p.type === 'application/dicom'
              ? await storeInstance(p.bytes, ingest.tmpDir, `STOW:${caller.name}`, ingest.commit)
              : { status: StoreStatus.CannotUnderstand, message: `part of type ${p.type} is not application/dicom` },
          );
        }
        const failed = outcomes.filter((o) => o.status !== 0).length;
        noteAudit(res, { target: 'STOW-RS store', details: { parts: outcomes.length, failed } });
        if (failed) logger.warn(`STOW-RS: ${failed} of ${outcomes.length} instance(s) not stored`, { by: caller.name, reasons: [...new Set(outcomes.map((o) => o.message).filter(Boolean))] });
        res
          .status(failed === 0 ? 200 : failed < outcomes.length ? 202 : 409)
          .type('application/dicom+json')
          .send(JSON.stringify(stowResponse(outcomes)));
      } catch (e) {
        if (e instanceof Error && /multipart\/related/.test(e.message)) return void res.status(400).json({ error: e.message });
        next(e);
      }
    },
  );

  // Pull mode: fetch a study from the configured DICOMweb source and analyse it like a received one.
  app.post('/api/studies/:studyUid/analyze', anyRole, async (req, res, next) => {
    if (!pull) return void res.status(409).json({ error: 'no pull source is configured (config key "pull")' });
    try {
      const caller = callerOf(res);
      noteAudit(res, { target: `pull of study ${String(req.params.studyUid)}` });
      const r = await pullStudy(pull, String(req.params.studyUid), ingest);
      recordEvent(db, 'api.pull', `${caller.name} (${caller.role}) from ${req.ip} pulled ${r.instances} instance(s) in ${r.series} series`, {
        data: { by: caller.name, failed: r.failed.length },
      });
      res.status(r.instances ? 202 : 404).json({ series: r.series, instances: r.instances, failed: r.failed });
    } catch (e) {
      // The source's own failures (unknown study, outage) are the source's: 502 with its message.
      if (e instanceof Error && /from the DICOMweb source|fetch failed|is not a Study Instance UID/.test(e.message)) {
        return void res.status(/is not a Study/.test(e.message) ? 400 : 502).json({ error: e.message });
      }
      next(e);
    }
  });

  app.use(['/api', '/dicomweb'], (req, res) => void res.status(404).json({ error: `no route ${req.method} ${req.originalUrl}` }));

  // Errors answer JSON and go to the log; express's default would answer an HTML page with the stack.
  app.use((err: Error & { status?: number; expose?: boolean }, _req: Request, res: Response, _next: NextFunction) => {
    // body-parser's own errors (malformed JSON, too large, bad encoding) are the client's: their 4xx and message.
    if (err.expose && err.status && err.status >= 400 && err.status < 500) return void res.status(err.status).json({ error: err.message });
    logger.error(`API error: ${err.message}`);
    res.status(500).json({ error: 'internal error; see the node log' });
  });

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(api.port ?? 0, api.host, () => resolve(s));
    s.once('error', reject);
  });
  logger.info(`API listening on ${api.host}:${(server.address() as AddressInfo).port}`);
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
