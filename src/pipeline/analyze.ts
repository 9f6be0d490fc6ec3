/**
 * The analysis shared by `analyze` (files on disk, no network) and the node's jobs (a received series):
 * files -> imaging worker pool -> series of ordered slices -> ensemble inference -> case score, decision, key slices.
 */
import { assemble, type OrderedSlice } from '../imaging/assemble.js';
import type { ImagingPool } from '../imaging/pool.js';
import type { SkipRecord } from '../imaging/preprocess.js';
import type { InputSpec, LoadedEnsemble, Threshold } from '../inference/manifest.js';
import { caseDecision, combineSliceProbabilities, keySliceIndices } from '../inference/scoring.js';

/** Runs every member model on slices preprocessed for each distinct input spec. */
export interface SlicePredictor {
  /** The distinct input specs the members need, in the order `predict` takes them. */
  readonly specs: InputSpec[];
  /** tensors[s][i]: slice i preprocessed for specs[s]. Returns member name -> slice probabilities. */
  predict(tensors: Float32Array[][]): Promise<{ probabilities: Map<string, Float64Array>; msPerSlice: Map<string, number> }>;
}

export interface ImagingOptions {
  rsnaFix: boolean;
  axialMaxDeg: number;
  paddingMask: boolean;
}

export interface SliceOutcome {
  index: number;
  file: string;
  sopInstanceUid: string;
  sopClassUid: string;
  frame: number;
  numberOfFrames: number;
  z: number;
  instanceNumber: number | null;
  standardAxial: boolean;
  /** Member model name -> probability. */
  probabilities: Record<string, number>;
  ensemble: number;
}

export interface SeriesOutcome {
  seriesInstanceUid: string;
  studyInstanceUid: string;
  description: string;
  patientName: string | null;
  caseScore: number;
  decision: 'present' | 'absent';
  threshold: Threshold;
  /** Indexes into `slices`, highest probability first. */
  keySlices: number[];
  slices: SliceOutcome[];
  msPerSlice: Record<string, number>;
}

export interface AnalysisOutcome {
  series: SeriesOutcome[];
  skipped: SkipRecord[];
}

export interface AnalyzeHooks {
  onProgress?: (stage: 'preprocess' | 'inference', done: number, total: number) => void;
  /** Receives each series' ordered slices with their tensors (for `--tensors`) before they are released. */
  onSeriesTensors?: (slices: readonly OrderedSlice[]) => void;
}

export async function analyzeFiles(
  files: string[],
  deps: { pool: ImagingPool; predictor: SlicePredictor; ensemble: LoadedEnsemble },
  imaging: ImagingOptions,
  keySliceCount: number,
  hooks: AnalyzeHooks = {},
): Promise<AnalysisOutcome> {
  const { pool, predictor, ensemble } = deps;
  const results = await pool.preprocessAll(files, { ...imaging, specs: predictor.specs }, (d, t) => hooks.onProgress?.('preprocess', d, t));
  const assembly = assemble(results);
  const series: SeriesOutcome[] = [];
  let inferred = 0;
  const totalSlices = assembly.series.reduce((n, s) => n + s.slices.length, 0);
  for (const s of assembly.series) {
    hooks.onSeriesTensors?.(s.slices);
    const tensors = predictor.specs.map((_, k) => s.slices.map((sl) => sl.tensors[k]!));
    const { probabilities, msPerSlice } = await predictor.predict(tensors);
    inferred += s.slices.length;
    hooks.onProgress?.('inference', inferred, totalSlices);
    const members = ensemble.members.map((m) => ({ probabilities: probabilities.get(m.model.manifest.name)!, weight: m.weight }));
    const ensembleProbs = combineSliceProbabilities(members, ensemble.combine);
    const { caseScore, decision } = caseDecision(ensembleProbs, ensemble.threshold.value);
    series.push({
      seriesInstanceUid: s.seriesInstanceUid,
      studyInstanceUid: s.studyInstanceUid,
      description: s.seriesDescription,
      patientName: s.patientName,
      caseScore,
      decision,
      threshold: ensemble.threshold,
      keySlices: keySliceIndices(ensembleProbs, keySliceCount),
      msPerSlice: Object.fromEntries(msPerSlice),
      slices: s.slices.map((sl, i) => ({
        index: i,
        file: sl.file,
        sopInstanceUid: sl.sopInstanceUid,
        sopClassUid: sl.sopClassUid,
        frame: sl.frame,
        numberOfFrames: sl.numberOfFrames,
        z: sl.z,
        instanceNumber: sl.instanceNumber,
        standardAxial: sl.standardAxial,
        probabilities: Object.fromEntries(ensemble.members.map((m) => [m.model.manifest.name, probabilities.get(m.model.manifest.name)![i]!])),
        ensemble: ensembleProbs[i]!,
      })),
    });
    // Release the tensors of this series before the next one.
    for (const sl of s.slices) sl.tensors = [];
  }
  return { series, skipped: assembly.skipped };
}

