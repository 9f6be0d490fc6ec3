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
import { caseDetail, isCase, listCases, type CaseFilters, type CaseSummary } from '../qa/cases.js';
import { GroundTruthInputSchema, recordGroundTruth } from '../qa/ground-truth.js';
import { computePerformance } from '../qa/performance.js';
import { callerOf, noteAudit, type createAuth } from './auth.js';
import { secondaryCaptureToPng } from './key-slice-png.js';

/** A real calendar date (2026-02-30 is refused, not rolled over) or a UTC timestamp. */
const dateOrTime = z.string().refine((v) => {
  const m = /^(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?)?$/.exec(v);
  const t = m && Date.parse(m[2] ? (v.endsWith('Z') ? v : `${v}Z`) : `${v}T00:00:00Z`);
  return !!m && Number.isFinite(t) && new Date(t!).toISOString().slice(0, 10) === m[1];
}, 'an ISO date (YYYY-MM-DD) or UTC timestamp (YYYY-MM-DDThh:mm[:ss]Z)');
/** Query numbers: an empty value means "not given" (z.coerce would make it 0). */
const queryNumber = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());
const score = z.coerce.number().min(0).max(1);
const FiltersSchema = z
  .object({
    from: dateOrTime.optional(),
    to: dateOrTime.optional(),
    decision: z.enum(['present', 'absent', 'none']).optional(),
    minScore: queryNumber(score),
    maxScore: queryNumber(score),
    ensemble: z.string().min(1).optional(),
    dispatch: z.enum(['queued', 'sending', 'delivered', 'dead']).optional(),
    groundTruth: z.enum(['yes', 'no', 'missing']).optional(),
    limit: queryNumber(z.coerce.number().int().min(1).max(10000)),
    offset: queryNumber(z.coerce.number().int().min(0)),
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

/** Ids in paths: plain positive decimal integers only (not 0x2, 1e0 or 12.0). */
function pathId(value: string | undefined, what: string): number {
  if (!/^[1-9]\d{0,15}$/.test(value ?? '')) throw new BadRequest(`${what} ${String(value)} is not a positive integer`);
  return Number(value);
}

/** Redacts secrets from the running configuration for the admin view. */
function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, /sha256|secret|password|bearer/i.test(k) ? '[redacted]' : k === 'url' && typeof v === 'string' ? withoutQuery(v) : redact(v)]),
    );
  }
  return value;
}

/** A URL's query can carry an API key (webhooks often do): shown as `?[redacted]`. */
function withoutQuery(u: string): string {
  const url = new URL(u);
  return url.search ? `${url.origin}${url.pathname}?[redacted]` : u;
}

export function qaRoutes(ctx: { db: Db; config: Config; outputsDir: string; threshold: () => number; auth: ReturnType<typeof createAuth> }): Router {
  const { db, auth } = ctx;
  const r = Router();
  const qa = auth.allow('qa', 'admin');
  const admin = auth.allow('admin');
  // Patient data: never cached by a browser or proxy, never sniffed into another type.
  r.use('/api', (_req, res, next) => (res.set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' }), next()));

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
      // The byte-order mark makes spreadsheet programs read the file as UTF-8 (names such as Müller, 山田).
      .send('\ufeff' + stringify([CSV_COLUMNS.map(([, h]) => h), ...rows]));
  });

  const studyId = (req: Request) => pathId(req.params.id as string | undefined, 'case id');

  r.get('/api/cases/:id', qa, (req, res) => {
    const id = studyId(req);
    noteAudit(res, { target: `case ${id}` });
    const detail = caseDetail(db, id);
    if (!detail) return void res.status(404).json({ error: `no case ${id}` });
    res.json(detail);
  });

  r.get('/api/cases/:id/images/:outputId.png', qa, (req, res) => {
    const id = studyId(req);
    const outputId = pathId(req.params.outputId as string | undefined, 'image id');
    noteAudit(res, { target: `case ${id} image ${outputId}` });
    const out = db
      .prepare(
        `SELECT o.path FROM outputs o JOIN results r ON r.id = o.result_id JOIN series se ON se.id = r.series_id
         WHERE o.id = ? AND se.study_id = ? AND o.kind = 'sc'`,
      )
      .get(outputId, id) as { path: string } | undefined;
    if (!out) return void res.status(404).json({ error: `case ${id} has no key-slice image ${outputId}` });
    const file = join(ctx.outputsDir, out.path);
    if (!existsSync(file)) return void res.status(410).json({ error: `the image file of output ${outputId} is no longer on disk` });
    res.type('image/png').set('Cache-Control', 'no-store').send(secondaryCaptureToPng(file));
  });

  r.put('/api/cases/:id/ground-truth', qa, json({ limit: '64kb' }), (req, res) => {
    const id = studyId(req);
    if (!req.is('application/json')) return void res.status(415).json({ error: 'send the finding as JSON (Content-Type: application/json)' });
    const parsed = GroundTruthInputSchema.safeParse(req.body);
    noteAudit(res, { target: `case ${id} ground truth`, details: req.body as unknown });
    if (!parsed.success) return void res.status(400).json({ error: parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
    if (!isCase(db, id)) return void res.status(404).json({ error: `no case ${id}` });
    res.status(201).json(recordGroundTruth(db, id, parsed.data, callerOf(res).name));
  });

  r.get('/api/qa/performance', qa, (req, res) => {
    const q = parseQuery(z.object({ from: dateOrTime.optional(), to: dateOrTime.optional(), ensemble: z.string().min(1).optional(), threshold: queryNumber(score) }).strict(), req);
    noteAudit(res, { target: 'performance', details: q });
    res.json({ threshold: q.threshold ?? ctx.threshold(), ...computePerformance(db, q, q.threshold ?? ctx.threshold()) });
  });

  // Who the token is: the dashboard shows it; no patient data, so not audited beyond the usual record.
  r.get('/api/whoami', auth.allow('qa', 'admin', 'sender'), (_req, res) => {
    res.json(callerOf(res));
  });

  r.get('/api/audit', admin, (req, res) => {
    const q = parseQuery(
      z.object({ actor: z.string().optional(), action: z.enum(['read', 'change', 'denied']).optional(), from: dateOrTime.optional(), limit: queryNumber(z.coerce.number().int().min(1).max(10000)) }).strict(),
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
        .all({ actor: q.actor ?? null, action: q.action ?? null, from: q.from ?? null, limit: q.limit ?? 500 })
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
