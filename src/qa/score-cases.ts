/**
 * Scores labelled cases the way the node scores a study: every file of a case through the imaging pool and the
 * models, each model's case score being its maximum slice probability over the case's axial slices, and the
 * ensemble's the maximum of the combined slice probabilities. Shared by `benchmark` and `calibrate`.
 */
import type { Config } from '../config/config.js';
import { collectInputs } from '../imaging/assemble.js';
import { ImagingPool } from '../imaging/pool.js';
import type { LoadedEnsemble } from '../inference/manifest.js';
import { createPredictor } from '../inference/predictor.js';
import type { Logger } from '../log/logger.js';
import type { Progress } from '../log/progress.js';
import { analyzeFiles } from '../pipeline/analyze.js';
import type { LabelledCase } from './labelled-cases.js';

export interface ScoredCase extends LabelledCase {
  /** Model name -> case score; empty when nothing in the case was an axial CT slice. */
  modelScores: Record<string, number>;
  ensembleScore: number | null;
  slices: number;
  /** Why the case has no score (skip codes of its files). */
  unscoredReason: string | null;
}

export interface ScoredCases {
  cases: ScoredCase[];
  /** Model name -> inference milliseconds summed over all slices. */
  inferenceMs: Record<string, number>;
  slices: number;
}

export async function scoreLabelledCases(
  cases: LabelledCase[],
  ensemble: LoadedEnsemble,
  config: Config,
  logger: Logger,
  progress: Progress,
  rsnaFix = config.imaging.rsnaFix,
): Promise<ScoredCases> {
  const predictor = await createPredictor(ensemble, { executionProviders: config.inference.executionProviders, batchSize: config.inference.batchSize, logger });
  const pool = new ImagingPool(config.imaging.workers);
  const names = ensemble.members.map((m) => m.model.manifest.name);
  const inferenceMs: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  const scored: ScoredCase[] = [];
  let slices = 0;
  try {
    progress.update('cases', 0, cases.length);
    for (const c of cases) {
      const outcome = await analyzeFiles(collectInputs([c.path]), { pool, predictor, ensemble }, { ...config.imaging, rsnaFix }, 0);
      const caseSlices = outcome.series.flatMap((s) => s.slices);
      for (const s of outcome.series) for (const n of names) inferenceMs[n]! += (s.msPerSlice[n] ?? 0) * s.slices.length;
      slices += caseSlices.length;
      const modelScores = caseSlices.length ? Object.fromEntries(names.map((n) => [n, Math.max(...caseSlices.map((sl) => sl.probabilities[n]!))])) : {};
      const codes = [...new Set(outcome.skipped.map((k) => k.code))];
      scored.push({
        ...c,
        modelScores,
        ensembleScore: caseSlices.length ? Math.max(...outcome.series.map((s) => s.caseScore)) : null,
        slices: caseSlices.length,
        unscoredReason: caseSlices.length ? null : `no axial CT slice (${codes.join(', ') || 'no DICOM files'})`,
      });
      progress.update('cases', scored.length, cases.length);
    }
  } finally {
    progress.stop();
    await pool.close();
    await predictor.close();
  }
  return { cases: scored, inferenceMs, slices };
}

/**
 * The case score is a maximum over slices, so a case with hundreds of slices tends to score higher than a single
 * slice whatever it shows: say so when the classes differ that much in size.
 */
export function sliceCountImbalance(cases: readonly { label: boolean; slices: number }[]): string | null {
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2 : 0;
  };
  const pos = median(cases.filter((c) => c.label).map((c) => c.slices));
  const neg = median(cases.filter((c) => !c.label).map((c) => c.slices));
  if (!pos || !neg || Math.max(pos, neg) / Math.min(pos, neg) < 5) return null;
  return (
    `positive cases have a median of ${pos} slice(s), negative cases ${neg}: the case score is the maximum slice probability, ` +
    'so the class with more slices per case tends to score higher whatever the images show; compare like with like (whole studies against whole studies)'
  );
}
