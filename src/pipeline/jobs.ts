/**
 * Runs queued jobs: analyse a completed series, record the result and every skipped object, build the SR and the
 * key-slice Secondary Captures, write them durably, and queue them for every destination, all recorded in SQLite.
 * A job left 'running' by a crash is queued again at start.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tag } from '../dicom/constants.js';
import { readDicom } from '../dicom/dataset.js';
import { nowIso, recordEvent, type Db } from '../db/database.js';
import { enqueueFlags } from '../dispatch/flags.js';
import { enqueueResult } from '../dispatch/outbox.js';
import type { ImagingPool } from '../imaging/pool.js';
import type { LoadedEnsemble } from '../inference/manifest.js';
import type { Logger } from '../log/logger.js';
import { buildReport } from '../report/index.js';
import type { NodeIdentity, RawElement, ReportInput, ReportPredecessor, ReportSource } from '../report/types.js';
import { analyzeFiles, type ImagingOptions, type SeriesOutcome, type SlicePredictor } from './analyze.js';

/** Bumped when the report content changes for the same analysis (it is part of every output UID seed). */
export const REPORT_FORMAT = 'pmct-ich-report/1';

const STRING_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);

/** Patient, study and series context copied raw from a source instance (top-level string elements of 0008/0010/0020). */
export function reportSource(path: string, standardAxial: boolean): ReportSource {
  const file = readDicom(readFileSync(path));
  const ds = file.dataset;
  const copiedElements: RawElement[] = [];
  for (const tag of ds.tags()) {
    const group = tag >>> 16;
    if (group !== 0x0008 && group !== 0x0010 && group !== 0x0020) continue;
    const vr = ds.vr(tag);
    const bytes = ds.bytes(tag);
    if (!vr || !STRING_VRS.has(vr) || !bytes) continue;
    copiedElements.push({ tag, vr, bytes: Uint8Array.from(bytes) });
  }
  return {
    studyInstanceUid: ds.string(Tag.StudyInstanceUID) ?? '',
    seriesInstanceUid: ds.string(Tag.SeriesInstanceUID) ?? '',
    copiedElements,
    specificCharacterSet: ds.strings(Tag.SpecificCharacterSet),
    standardAxial,
  };
}

export interface JobDeps {
  db: Db;
  logger: Logger;
  pool: ImagingPool;
  predictor: SlicePredictor;
  ensemble: LoadedEnsemble;
  imaging: ImagingOptions;
  keySlices: number;
  spoolDir: string;
  outputsDir: string;
  node: NodeIdentity;
  destinations: string[];
  /** Worklist flag channels raised for positive cases. */
  flagChannels: string[];
}

interface JobRow {
  id: number;
  seriesId: number;
}

export function requeueInterruptedJobs(db: Db): number {
  return db.prepare(`UPDATE jobs SET state = 'queued' WHERE state = 'running'`).run().changes;
}

function claimNextJob(db: Db): JobRow | undefined {
  return db
    .prepare(
      `UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?
       WHERE id = (SELECT id FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1)
       RETURNING id, series_id AS seriesId`,
    )
    .get(nowIso()) as JobRow | undefined;
}

/** Runs the oldest queued job; resolves false when none was queued. */
export async function runNextJob(deps: JobDeps): Promise<boolean> {
  const job = claimNextJob(deps.db);
  if (!job) return false;
  const { db, logger } = deps;
  const started = Date.now();
  logger.info('job started', { jobId: job.id, seriesId: job.seriesId });
  recordEvent(db, 'job.started', 'analysis started', { jobId: job.id, seriesId: job.seriesId });
  try {
    const outcome = await runJob(job, deps);
    db.prepare(`UPDATE jobs SET state = 'done', finished_at = ?, error = NULL WHERE id = ?`).run(nowIso(), job.id);
    recordEvent(db, 'job.done', outcome, { jobId: job.id, seriesId: job.seriesId });
    logger.info(`job done: ${outcome}`, { jobId: job.id, seriesId: job.seriesId, seconds: (Date.now() - started) / 1000 });
  } catch (e) {
    const message = (e as Error).message ?? String(e);
    db.prepare(`UPDATE jobs SET state = 'failed', finished_at = ?, error = ? WHERE id = ?`).run(nowIso(), message, job.id);
    recordEvent(db, 'job.failed', message, { jobId: job.id, seriesId: job.seriesId });
    logger.error(`job failed: ${message}`, { jobId: job.id, seriesId: job.seriesId });
  }
  return true;
}

interface InstanceRow {
  id: number;
  sopInstanceUid: string;
  path: string;
}

async function runJob(job: JobRow, deps: JobDeps): Promise<string> {
  const { db, ensemble } = deps;
  const instances = db
    .prepare(`SELECT id, sop_instance_uid AS sopInstanceUid, path FROM instances WHERE series_id = ? ORDER BY path`)
    .all(job.seriesId) as InstanceRow[];
  const byPath = new Map(instances.map((i) => [join(deps.spoolDir, i.path), i]));
  const analysis = await analyzeFiles([...byPath.keys()], deps, deps.imaging, deps.keySlices);

  const insertSkip = db.prepare(`INSERT INTO skipped (job_id, instance_id, frame, code, kind, message) VALUES (?, ?, ?, ?, ?, ?)`);
  db.transaction(() => {
    for (const s of analysis.skipped) {
      insertSkip.run(job.id, byPath.get(s.file)?.id ?? null, s.frame ?? null, s.code, s.kind, s.message);
    }
  })();

  const series = analysis.series[0];
  const sourceSlice = series?.slices[series.keySlices[0] ?? 0];
  const source = sourceSlice ? reportSource(sourceSlice.file, sourceSlice.standardAxial) : undefined;
  // The digest covers what the outputs would say, not the bytes received: the same study sent again in another
  // transfer syntax decodes to the same slices and gives the same digest, so nothing new is sent.
  const resultDigest = createHash('sha256')
    .update(
      JSON.stringify([
        REPORT_FORMAT,
        ensemble.digest,
        deps.keySlices,
        series?.slices.map((sl) => [sl.sopInstanceUid, sl.frame, sl.z, sl.ensemble, sl.probabilities]) ?? [],
        source?.copiedElements.map((e) => [e.tag, e.vr, Buffer.from(e.bytes).toString('base64')]) ?? [],
        analysis.skipped.map((k) => [byPath.get(k.file)?.sopInstanceUid ?? k.file, k.frame ?? null, k.code]).sort(),
      ]),
    )
    .digest('hex');
  const previous = db
    .prepare(`SELECT id, result_digest AS digest FROM results WHERE series_id = ? AND superseded_by IS NULL ORDER BY id DESC LIMIT 1`)
    .get(job.seriesId) as { id: number; digest: string } | undefined;
  if (previous && previous.digest === resultDigest) {
    return `same content as result ${previous.id}: nothing new to send`;
  }

  const now = new Date();
  const base = {
    job: job.id,
    series: job.seriesId,
    name: ensemble.name,
    version: ensemble.version,
    digest: ensemble.digest,
    threshold: ensemble.threshold,
  };
  if (!series) {
    db.transaction(() => {
      const resultId = insertResult(db, base, resultDigest, now, undefined);
      if (previous) db.prepare('UPDATE results SET superseded_by = ? WHERE id = ?').run(resultId, previous.id);
    })();
    return `no axial CT slices (${analysis.skipped.length} objects skipped); nothing to report`;
  }

  // Build the objects before recording anything: a source the report cannot be made from fails the job without
  // leaving a result behind.
  const objects = buildReport(await reportInput(series, source!, deps, resultDigest, now, previous ? predecessorOf(db, previous.id) : undefined));
  const insertSlice = db.prepare(
    `INSERT INTO slice_results (result_id, slice_index, instance_id, frame, z, probability, model_probabilities) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertOutput = db.prepare(
    `INSERT INTO outputs (result_id, kind, idx, sop_class_uid, sop_instance_uid, series_uid, path, size, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    const resultId = insertResult(db, base, resultDigest, now, series);
    for (const sl of series.slices) {
      insertSlice.run(resultId, sl.index, byPath.get(sl.file)!.id, sl.frame, sl.z, sl.ensemble, JSON.stringify(sl.probabilities));
    }
    mkdirSync(join(deps.outputsDir, String(resultId)), { recursive: true });
    for (const o of objects) {
      const rel = join(String(resultId), `${o.kind}-${o.index}.dcm`);
      const final = join(deps.outputsDir, rel);
      writeFileSync(`${final}.part`, o.bytes, { flush: true });
      renameSync(`${final}.part`, final);
      insertOutput.run(resultId, o.kind, o.index, o.sopClassUid, o.sopInstanceUid, o.seriesInstanceUid, rel, o.bytes.length, nowIso());
    }
    if (previous) db.prepare('UPDATE results SET superseded_by = ? WHERE id = ?').run(resultId, previous.id);
    enqueueResult(db, resultId, deps.destinations);
    if (series.decision === 'present') enqueueFlags(db, resultId, deps.flagChannels);
  })();
  return `case score ${series.caseScore.toFixed(4)} (${series.decision}, threshold ${series.threshold.value}); ${series.slices.length} slices; ${objects.length} objects queued`;
}

function insertResult(
  db: Db,
  b: { job: number; series: number; name: string; version: string; digest: string; threshold: { value: number; method: string } },
  resultDigest: string,
  at: Date,
  s: SeriesOutcome | undefined,
): number {
  return Number(
    db
      .prepare(
        `INSERT INTO results (job_id, series_id, status, ensemble_name, ensemble_version, ensemble_digest, case_score, decision,
           threshold, threshold_method, slice_count, key_slices, result_digest, inference_ms, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        b.job,
        b.series,
        s ? 'analysed' : 'no-slices',
        b.name,
        b.version,
        b.digest,
        s?.caseScore ?? null,
        s?.decision ?? null,
        b.threshold.value,
        b.threshold.method,
        s?.slices.length ?? 0,
        JSON.stringify(s?.keySlices ?? []),
        resultDigest,
        s ? Object.values(s.msPerSlice).reduce((a, v) => a + v * s.slices.length, 0) : null,
        at.toISOString(),
      ).lastInsertRowid,
  );
}

function predecessorOf(db: Db, resultId: number): ReportPredecessor | undefined {
  const row = db
    .prepare(
      `SELECT o.sop_class_uid AS sopClassUid, o.sop_instance_uid AS sopInstanceUid, o.series_uid AS seriesInstanceUid, st.study_uid AS studyInstanceUid
       FROM outputs o JOIN results r ON r.id = o.result_id JOIN series s ON s.id = r.series_id JOIN studies st ON st.id = s.study_id
       WHERE o.result_id = ? AND o.kind = 'sr'`,
    )
    .get(resultId) as ReportPredecessor | undefined;
  return row;
}

async function reportInput(
  series: SeriesOutcome,
  source: ReportSource,
  deps: JobDeps,
  resultDigest: string,
  producedAt: Date,
  predecessor: ReportPredecessor | undefined,
): Promise<ReportInput> {
  const { ensemble } = deps;
  const keySlices = await Promise.all(
    series.keySlices.map(async (idx, rank) => {
      const sl = series.slices[idx]!;
      const img = await deps.pool.render(sl.file, sl.frame, deps.imaging);
      return {
        slice: { sopClassUid: sl.sopClassUid, sopInstanceUid: sl.sopInstanceUid, frame: sl.frame, numberOfFrames: sl.numberOfFrames },
        rank: rank + 1,
        probability: sl.ensemble,
        rows: img.rows,
        columns: img.columns,
        pixels: img.pixels,
        pixelSpacing: img.pixelSpacing,
      };
    }),
  );
  return {
    source,
    analysed: series.slices.map((sl) => ({
      sopClassUid: sl.sopClassUid,
      sopInstanceUid: sl.sopInstanceUid,
      frame: sl.frame,
      numberOfFrames: sl.numberOfFrames,
    })),
    keySlices,
    caseScore: series.caseScore,
    decision: series.decision,
    threshold: series.threshold,
    ensemble: {
      name: ensemble.name,
      version: ensemble.version,
      digest: ensemble.digest,
      combine: ensemble.combine,
      members: ensemble.members.map((m) => ({ name: m.model.manifest.name, version: m.model.manifest.version, baseline: m.model.manifest.baseline })),
    },
    node: deps.node,
    producedAt,
    resultDigest,
    predecessor,
  };
}
