/**
 * `analyze <paths...> [--json] [--models ...] [--tensors OUT.npy]`: the node's analysis on files, no network.
 */
import type { Config } from '../config/config.js';
import { collectInputs } from '../imaging/assemble.js';
import { ImagingPool } from '../imaging/pool.js';
import { loadEnsemble } from '../inference/manifest.js';
import { createPredictor } from '../inference/predictor.js';
import { createLogger } from '../log/logger.js';
import { createProgress } from '../log/progress.js';
import { analyzeFiles, type AnalysisOutcome } from './analyze.js';
import { writeNpyFloat32 } from './npy.js';

export interface AnalyzeOptions {
  json?: boolean;
  models?: string[];
  tensors?: string;
  rsnaFix?: boolean;
}

export function analysisJson(outcome: AnalysisOutcome, ensemble: ReturnType<typeof loadEnsemble>) {
  return {
    ensemble: {
      name: ensemble.name,
      version: ensemble.version,
      digest: ensemble.digest,
      combine: ensemble.combine,
      threshold: ensemble.threshold,
      members: ensemble.members.map((m) => ({
        name: m.model.manifest.name,
        version: m.model.manifest.version,
        weight: m.weight,
        baseline: m.model.manifest.baseline,
      })),
    },
    series: outcome.series.map((s) => ({
      seriesInstanceUid: s.seriesInstanceUid,
      studyInstanceUid: s.studyInstanceUid,
      description: s.description,
      patientName: s.patientName,
      caseScore: s.caseScore,
      decision: s.decision,
      threshold: s.threshold.value,
      keySlices: s.keySlices.map((i) => ({
        index: i,
        sopInstanceUid: s.slices[i]!.sopInstanceUid,
        frame: s.slices[i]!.frame,
        probability: s.slices[i]!.ensemble,
      })),
      msPerSlice: s.msPerSlice,
      slices: s.slices.map((sl) => ({
        index: sl.index,
        sopInstanceUid: sl.sopInstanceUid,
        frame: sl.frame,
        position: sl.z,
        instanceNumber: sl.instanceNumber,
        file: sl.file,
        probabilities: sl.probabilities,
        ensemble: sl.ensemble,
      })),
    })),
    skipped: outcome.skipped.map((s) => ({ file: s.file, frame: s.frame ?? null, code: s.code, kind: s.kind, message: s.message })),
  };
}

export async function runAnalyzeCommand(paths: string[], opts: AnalyzeOptions, config: Config): Promise<number> {
  const logger = createLogger(config.log.level);
  const ensemble = loadEnsemble(opts.models ?? config.inference.models);
  const files = collectInputs(paths);
  if (files.length === 0) {
    process.stderr.write('analyze: no files under the given paths\n');
    return 2;
  }
  const predictor = await createPredictor(ensemble, {
    executionProviders: config.inference.executionProviders,
    batchSize: config.inference.batchSize,
    logger,
  });
  const pool = new ImagingPool(config.imaging.workers);
  const progress = createProgress();
  const tensorChunks: Float32Array[] = [];
  try {
    const imaging = { ...config.imaging, rsnaFix: opts.rsnaFix ?? config.imaging.rsnaFix };
    const outcome = await analyzeFiles(files, { pool, predictor, ensemble }, imaging, config.inference.keySlices, {
      onProgress: (stage, done, total) => progress.update(stage, done, total),
      onSeriesTensors: opts.tensors ? (slices) => slices.forEach((s) => tensorChunks.push(s.tensors[0]!)) : undefined,
    });
    progress.stop();
    if (opts.tensors) {
      const spec = predictor.specs[0]!;
      writeNpyFloat32(opts.tensors, [tensorChunks.length, spec.windows.length, spec.size[0], spec.size[1]], tensorChunks);
      process.stderr.write(`tensors: ${tensorChunks.length} slices written to ${opts.tensors}\n`);
    }
    const json = analysisJson(outcome, ensemble);
    if (opts.json) {
      process.stdout.write(JSON.stringify(json, null, 1) + '\n');
    } else {
      for (const s of json.series) {
        process.stdout.write(
          `series ${s.seriesInstanceUid} (${s.description || 'no description'}): ${s.slices.length} slices, case score ${s.caseScore.toFixed(4)}, ` +
            `${s.decision} (threshold ${s.threshold}); key slices ${s.keySlices.map((k) => `#${k.index} p=${k.probability.toFixed(3)}`).join(', ')}\n`,
        );
      }
      for (const k of json.skipped) process.stdout.write(`skipped ${k.file}${k.frame ? ` frame ${k.frame}` : ''}: ${k.code}: ${k.message}\n`);
      if (json.series.length === 0) process.stdout.write('no axial CT series found\n');
    }
    return 0;
  } finally {
    progress.stop();
    await pool.close();
    await predictor.close();
  }
}
