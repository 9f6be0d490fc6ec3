/**
 * QA routes: cases (list with filters, CSV, detail, key-slice images), autopsy ground truth, live performance, the
 * audit trail and the running configuration. Patient data leaves only through these routes, and each request is
 * audited (auth.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { Router, json, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../config/config.js';
import type { Db } from '../db/database.js';
import { caseDetail, listCases, type CaseFilters, type CaseSummary } from '../qa/cases.js';
import { GroundTruthInputSchema, recordGroundTruth } from '../qa/ground-truth.js';
import { computePerformance } from '../qa/performance.js';
import { callerOf, noteAudit, type createAuth } from './auth.js';
import { secondaryCaptureToPng } from './key-slice-png.js';

const dateOrTime = z.string().regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+Z?)?$/, 'an ISO date (YYYY-MM-DD) or UTC timestamp');
const score = z.coerce.number().min(0).max(1);
const FiltersSchema = z
  .object({
    from: dateOrTime.optional(),
    to: dateOrTime.optional(),
    decision: z.enum(['present', 'absent', 'none']).optional(),
    minScore: score.optional(),
    maxScore: score.optional(),
    ensemble: z.string().min(1).optional(),
    dispatch: z.enum(['queued', 'sending', 'delivered', 'dead']).optional(),
    groundTruth: z.enum(['yes', 'no', 'missing']).optional(),
    limit: z.coerce.number().int().min(1).max(10000).optional(),
    offset: z.coerce.number().int().min(0).optional(),
  })
  .strict();

class BadRequest extends Error {}

function parseQuery<T>(schema: z.ZodType<T>, req: Request): T {
  const r = schema.safeParse(req.query);
  if (!r.success) throw new BadRequest(r.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '));
  return r.data;
}

const CSV_COLUMNS: [keyof CaseSummary | 'delivered' | 'dead', string][] = [
  ['id', 'case_id'],
  ['studyUid', 'study_uid'],
  ['patientId', 'patient_id'],
  ['patientName', 'patient_name'],
  ['accessionNumber', 'accession_number'],
  ['studyDate', 'study_date'],
  ['analysedAt', 'analysed_at'],
  ['score', 'score'],
  ['decision', 'decision'],
  ['threshold', 'threshold'],
  ['ensembles', 'ensembles'],
  ['groundTruth', 'ground_truth'],
  ['delivered', 'deliveries_delivered'],
  ['dead', 'deliveries_dead'],
];

/** Spreadsheets run cells that start with = + - @ as formulas; DICOM headers are not to be trusted that far. */
const defuse = (v: unknown) => (typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : v);

/** Redacts secrets from the running configuration for the admin view. */
function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, /sha256|secret|password|bearer/i.test(k) ? '[redacted]' : redact(v)]));
  }
  return value;
}

export function qaRoutes(ctx: { db: Db; config: Config; outputsDir: string; threshold: () => number; auth: ReturnType<typeof createAuth> }): Router {
  const { db, auth } = ctx;
  const r = Router();
  const qa = auth.allow('qa', 'admin');
  const admin = auth.allow('admin');

  r.get('/api/cases', qa, (req, res) => {
    const filters = parseQuery(FiltersSchema, req) as CaseFilters;
    const cases = listCases(db, { limit: 500, ...filters });
    noteAudit(res, { target: `cases (list of ${cases.length})`, details: { filters, caseIds: cases.map((c) => c.id) } });
    res.json(cases);
  });

  r.get('/api/cases.csv', qa, (req, res) => {
    const filters = parseQuery(FiltersSchema, req) as CaseFilters;
    const cases = listCases(db, filters);
    noteAudit(res, { target: `cases (CSV of ${cases.length})`, details: { filters, caseIds: cases.map((c) => c.id) } });
    const rows = cases.map((c) => {
      const flat = { ...c, delivered: c.deliveries.delivered, dead: c.deliveries.dead, groundTruth: c.groundTruth === null ? '' : c.groundTruth ? 'yes' : 'no' };
      return CSV_COLUMNS.map(([k]) => defuse(flat[k as keyof typeof flat]));
    });
    res
      .type('text/csv; charset=utf-8')
      .attachment('cases.csv')
      .send(stringify([CSV_COLUMNS.map(([, h]) => h), ...rows]));
  });

  const studyId = (req: Request) => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id < 1) throw new BadRequest(`case id ${String(req.params.id)} is not a positive integer`);
    return id;
  };

  r.get('/api/cases/:id', qa, (req, res) => {
    const id = studyId(req);
    noteAudit(res, { target: `case ${id}` });
    const detail = caseDetail(db, id);
    if (!detail) return void res.status(404).json({ error: `no case ${id}` });
    res.json(detail);
  });

  r.get('/api/cases/:id/images/:outputId.png', qa, (req, res) => {
    const id = studyId(req);
    noteAudit(res, { target: `case ${id} image ${String(req.params.outputId)}` });
    const out = db
      .prepare(
        `SELECT o.path FROM outputs o JOIN results r ON r.id = o.result_id JOIN series se ON se.id = r.series_id
         WHERE o.id = ? AND se.study_id = ? AND o.kind = 'sc'`,
      )
      .get(Number(req.params.outputId), id) as { path: string } | undefined;
    if (!out) return void res.status(404).json({ error: `case ${id} has no key-slice image ${String(req.params.outputId)}` });
    const file = join(ctx.outputsDir, out.path);
    if (!existsSync(file)) return void res.status(410).json({ error: `the image file of output ${String(req.params.outputId)} is no longer on disk` });
    res.type('image/png').set('Cache-Control', 'no-store').send(secondaryCaptureToPng(file));
  });

  r.put('/api/cases/:id/ground-truth', qa, json({ limit: '64kb' }), (req, res) => {
    const id = studyId(req);
    const parsed = GroundTruthInputSchema.safeParse(req.body);
    noteAudit(res, { target: `case ${id} ground truth`, details: req.body as unknown });
    if (!parsed.success) return void res.status(400).json({ error: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
    if (!db.prepare('SELECT 1 FROM studies WHERE id = ?').get(id)) return void res.status(404).json({ error: `no case ${id}` });
    res.status(201).json(recordGroundTruth(db, id, parsed.data, callerOf(res).name));
  });

  r.get('/api/qa/performance', qa, (req, res) => {
    const q = parseQuery(z.object({ from: dateOrTime.optional(), to: dateOrTime.optional(), ensemble: z.string().min(1).optional(), threshold: score.optional() }).strict(), req);
    noteAudit(res, { target: 'performance', details: q });
    res.json({ threshold: q.threshold ?? ctx.threshold(), ...computePerformance(db, q, q.threshold ?? ctx.threshold()) });
  });

  r.get('/api/audit', admin, (req, res) => {
    const q = parseQuery(
      z.object({ actor: z.string().optional(), action: z.enum(['read', 'change', 'denied']).optional(), from: dateOrTime.optional(), limit: z.coerce.number().int().min(1).max(10000).default(500) }).strict(),
      req,
    );
    noteAudit(res, { target: 'audit log', details: q });
    res.json(
      db
        .prepare(
          `SELECT id, at, actor, role, source, action, method, path, status, target, details FROM audit_log
           WHERE (@actor IS NULL OR actor = @actor) AND (@action IS NULL OR action = @action) AND (@from IS NULL OR at >= @from)
           ORDER BY id DESC LIMIT @limit`,
        )
        .all({ actor: q.actor ?? null, action: q.action ?? null, from: q.from ?? null, limit: q.limit })
        .map((row) => ({ ...(row as object), details: (row as { details: string | null }).details && JSON.parse((row as { details: string }).details) })),
    );
  });

  r.get('/api/config', admin, (_req, res) => {
    noteAudit(res, { target: 'configuration' });
    res.json(redact(ctx.config));
  });

  r.use('/api', (err: Error, _req: Request, res: Response, next: (e: Error) => void) => {
    if (err instanceof BadRequest) return void res.status(400).json({ error: err.message });
    next(err);
  });
  return r;
}
