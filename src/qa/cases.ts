/**
 * Cases as QA staff see them. A case is a study: its score is the highest case score among the current (not
 * superseded) results of its series, and it is called present when any of them is. Read-only queries for the API,
 * the dashboard and the live performance figures.
 */
import type { Db } from '../db/database.js';
import { groundTruthHistory, type GroundTruth } from './ground-truth.js';

export interface CaseFilters {
  /** Analysis time window: ISO date or timestamp; a plain `to` date includes that whole day. */
  from?: string;
  to?: string;
  decision?: 'present' | 'absent' | 'none';
  minScore?: number;
  maxScore?: number;
  /** Ensemble name, or name@version. */
  ensemble?: string;
  /** Cases with at least one delivery in this state. */
  dispatch?: 'queued' | 'sending' | 'delivered' | 'dead';
  /** Cases whose current ground truth is hemorrhage (yes), none (no), or that have none yet (missing). */
  groundTruth?: 'yes' | 'no' | 'missing';
  limit?: number;
  offset?: number;
}

export interface CaseSummary {
  id: number;
  studyUid: string;
  patientName: string | null;
  patientId: string | null;
  accessionNumber: string | null;
  studyDate: string | null;
  /** Highest current case score (null when no series had an analysable slice). */
  score: number | null;
  decision: 'present' | 'absent' | 'none';
  threshold: number | null;
  ensembles: string;
  analysedAt: string;
  deliveries: { queued: number; delivered: number; dead: number };
  groundTruth: boolean | null;
}

/** A plain date as `to` means up to the end of that day. */
function exclusiveEnd(to: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(to)) return to;
  const d = new Date(`${to}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString();
}

const CASES_SQL = `
WITH cur AS (
  SELECT r.*, se.study_id FROM results r JOIN series se ON se.id = r.series_id
  WHERE r.superseded_by IS NULL
    AND (@ensemble IS NULL OR r.ensemble_name = @ensemble OR r.ensemble_name || '@' || r.ensemble_version = @ensemble)
), agg AS (
  SELECT study_id, MAX(case_score) AS score, MAX(threshold) AS threshold, MAX(created_at) AS analysed_at,
         CASE WHEN SUM(decision = 'present') > 0 THEN 'present' WHEN SUM(decision = 'absent') > 0 THEN 'absent' ELSE 'none' END AS decision,
         GROUP_CONCAT(DISTINCT ensemble_name || '@' || ensemble_version) AS ensembles
  FROM cur GROUP BY study_id
), disp AS (
  SELECT cur.study_id, SUM(d.state IN ('queued', 'sending')) AS queued, SUM(d.state = 'delivered') AS delivered, SUM(d.state = 'dead') AS dead,
         SUM(d.state = @dispatch) AS in_state
  FROM dispatches d JOIN outputs o ON o.id = d.output_id JOIN cur ON cur.id = o.result_id GROUP BY cur.study_id
), gt AS (
  SELECT g.study_id, g.hemorrhage FROM ground_truth g WHERE g.id = (SELECT MAX(id) FROM ground_truth WHERE study_id = g.study_id)
)
SELECT st.id, st.study_uid AS studyUid, st.patient_name AS patientName, st.patient_id AS patientId,
       st.accession_number AS accessionNumber, st.study_date AS studyDate, agg.score, agg.decision, agg.threshold,
       agg.ensembles, agg.analysed_at AS analysedAt, COALESCE(disp.queued, 0) AS queued, COALESCE(disp.delivered, 0) AS delivered,
       COALESCE(disp.dead, 0) AS dead, gt.hemorrhage AS groundTruth
FROM agg JOIN studies st ON st.id = agg.study_id LEFT JOIN disp ON disp.study_id = st.id LEFT JOIN gt ON gt.study_id = st.id
WHERE (@from IS NULL OR agg.analysed_at >= @from) AND (@to IS NULL OR agg.analysed_at < @to)
  AND (@decision IS NULL OR agg.decision = @decision)
  AND (@minScore IS NULL OR agg.score >= @minScore) AND (@maxScore IS NULL OR agg.score <= @maxScore)
  AND (@dispatch IS NULL OR COALESCE(disp.in_state, 0) > 0)
  AND (@groundTruth IS NULL OR (@groundTruth = 'missing' AND gt.hemorrhage IS NULL) OR gt.hemorrhage = (@groundTruth = 'yes'))
  AND (@studyId IS NULL OR st.id = @studyId)
ORDER BY agg.analysed_at DESC, st.id DESC
LIMIT @limit OFFSET @offset`;

type CaseRow = Omit<CaseSummary, 'deliveries' | 'groundTruth'> & { queued: number; delivered: number; dead: number; groundTruth: number | null };

function queryCases(db: Db, f: CaseFilters, studyId: number | null): CaseSummary[] {
  const rows = db.prepare(CASES_SQL).all({
    from: f.from ?? null,
    to: f.to === undefined ? null : exclusiveEnd(f.to),
    decision: f.decision ?? null,
    minScore: f.minScore ?? null,
    maxScore: f.maxScore ?? null,
    ensemble: f.ensemble ?? null,
    dispatch: f.dispatch ?? null,
    groundTruth: f.groundTruth ?? null,
    studyId,
    limit: f.limit ?? -1,
    offset: f.offset ?? 0,
  }) as CaseRow[];
  return rows.map(({ queued, delivered, dead, groundTruth, ...r }) => ({
    ...r,
    deliveries: { queued, delivered, dead },
    groundTruth: groundTruth === null ? null : groundTruth === 1,
  }));
}

/** A study is a case once a result exists for one of its series (a study whose jobs all failed is not). */
export function isCase(db: Db, studyId: number): boolean {
  return db.prepare('SELECT 1 FROM results r JOIN series se ON se.id = r.series_id WHERE se.study_id = ? LIMIT 1').get(studyId) !== undefined;
}

export function listCases(db: Db, filters: CaseFilters = {}): CaseSummary[] {
  return queryCases(db, filters, null);
}

export interface CaseDetail extends CaseSummary {
  series: unknown[];
  results: unknown[];
  skipped: unknown[];
  outputs: unknown[];
  flags: unknown[];
  groundTruthHistory: GroundTruth[];
}

/** Everything the node did with one study; undefined when the study has no result yet. */
export function caseDetail(db: Db, studyId: number): CaseDetail | undefined {
  const summary = queryCases(db, {}, studyId)[0];
  if (!summary) return undefined;
  // Prepared once: they run per result and per output below.
  const slicesOf = db.prepare(
    `SELECT s.slice_index AS "index", i.sop_instance_uid AS sopInstanceUid, s.frame, s.z, s.probability, s.model_probabilities AS models
     FROM slice_results s JOIN instances i ON i.id = s.instance_id WHERE s.result_id = ? ORDER BY s.slice_index`,
  );
  const deliveriesOf = db.prepare(
    `SELECT destination, state, attempts, last_error AS lastError, delivered_at AS deliveredAt FROM dispatches WHERE output_id = ? ORDER BY id`,
  );
  const series = db
    .prepare(
      `SELECT id, series_uid AS seriesUid, modality, description, state, instance_count AS instances, expected_instances AS expectedInstances,
              first_received_at AS firstReceivedAt, last_received_at AS lastReceivedAt, completed_at AS completedAt
       FROM series WHERE study_id = ? ORDER BY id`,
    )
    .all(studyId);
  const results = (
    db
      .prepare(
        `SELECT r.id, r.series_id AS seriesId, r.status, r.ensemble_name AS ensembleName, r.ensemble_version AS ensembleVersion,
                r.case_score AS caseScore, r.decision, r.threshold, r.threshold_method AS thresholdMethod, r.slice_count AS sliceCount,
                r.key_slices AS keySlices, r.inference_ms AS inferenceMs, r.superseded_by AS supersededBy, r.created_at AS createdAt
         FROM results r JOIN series se ON se.id = r.series_id WHERE se.study_id = ? ORDER BY r.id`,
      )
      .all(studyId) as { id: number; keySlices: string; supersededBy: number | null }[]
  ).map((r) => ({
    ...r,
    keySlices: JSON.parse(r.keySlices) as number[],
    // Per-slice probabilities for current results; superseded ones keep theirs in the database.
    slices:
      r.supersededBy === null
        ? (slicesOf.all(r.id) as { models: string }[]).map((s) => ({ ...s, models: JSON.parse(s.models) as Record<string, number> }))
        : undefined,
  }));
  const skipped = db
    .prepare(
      `SELECT sk.job_id AS jobId, i.sop_instance_uid AS sopInstanceUid, i.path, sk.frame, sk.code, sk.kind, sk.message
       FROM skipped sk JOIN jobs j ON j.id = sk.job_id JOIN series se ON se.id = j.series_id LEFT JOIN instances i ON i.id = sk.instance_id
       WHERE se.study_id = ? ORDER BY sk.id`,
    )
    .all(studyId);
  const outputs = (
    db
      .prepare(
        `SELECT o.id, o.result_id AS resultId, o.kind, o.idx, o.sop_class_uid AS sopClassUid, o.sop_instance_uid AS sopInstanceUid, o.created_at AS createdAt
         FROM outputs o JOIN results r ON r.id = o.result_id JOIN series se ON se.id = r.series_id WHERE se.study_id = ? ORDER BY o.id`,
      )
      .all(studyId) as { id: number }[]
  ).map((o) => ({
    ...o,
    deliveries: deliveriesOf.all(o.id),
  }));
  const flags = db
    .prepare(
      `SELECT f.result_id AS resultId, f.channel, f.state, f.attempts, f.last_error AS lastError, f.delivered_at AS deliveredAt
       FROM flags f JOIN results r ON r.id = f.result_id JOIN series se ON se.id = r.series_id WHERE se.study_id = ? ORDER BY f.id`,
    )
    .all(studyId);
  return { ...summary, series, results, skipped, outputs, flags, groundTruthHistory: groundTruthHistory(db, studyId) };
}
