/**
 * `calibrate`: chooses the decision threshold by Youden's index on labelled cases scored by the ensemble itself,
 * and writes it into the manifest with its provenance (cases, when, AUC, sensitivity, specificity, the threshold it
 * replaced). Reports made afterwards carry the new threshold and its method; the ensemble digest changes with it,
 * so their UIDs differ from those made under the old threshold.
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { packageRoot, type Config } from '../config/config.js';
import { loadEnsemble, type Threshold } from '../inference/manifest.js';
import type { Logger } from '../log/logger.js';
import type { Progress } from '../log/progress.js';
import { loadLabelledCases } from './labelled-cases.js';
import { scoreLabelledCases, sliceCountImbalance } from './score-cases.js';
import { aucWithCi, youden } from './stats.js';

export interface CalibrateOptions {
  cases: string;
  /** Ensemble (or model) manifest to calibrate; default: the configured one when it is a single manifest. */
  manifest?: string;
  /** Where to write the calibrated manifest; default: in place. */
  out?: string;
  dryRun?: boolean;
  rsnaFix?: boolean;
}

/** A manifest written to another folder keeps pointing at the same members and ONNX file (paths re-based). */
function relocated(raw: Record<string, unknown>, from: string, to: string): Record<string, unknown> {
  if (from === to) return raw;
  const rebase = (p: string) => (isAbsolute(p) ? p : relative(to, resolve(from, p)) || '.');
  if (raw.kind === 'ensemble' && Array.isArray(raw.members)) {
    return { ...raw, members: (raw.members as { manifest: string }[]).map((m) => ({ ...m, manifest: rebase(m.manifest) })) };
  }
  return typeof raw.file === 'string' ? { ...raw, file: rebase(raw.file) } : raw;
}

export async function runCalibrate(opts: CalibrateOptions, config: Config, logger: Logger, progress: Progress): Promise<{ threshold: Threshold; written: string | null }> {
  if (opts.out && existsSync(opts.out) && statSync(opts.out).isDirectory()) throw new Error(`--out ${opts.out} is a folder: give the file name of the calibrated manifest`);
  const manifest = opts.manifest ?? (config.inference.models.length === 1 ? config.inference.models[0]! : undefined);
  if (!manifest) throw new Error('the configuration lists several manifests: say which to calibrate with --manifest');
  // The manifests shipped in the package are replaced on upgrade: calibrating one in place needs an explicit choice.
  if (!opts.manifest && !opts.out && !opts.dryRun && resolve(manifest).startsWith(join(packageRoot(), 'models'))) {
    throw new Error(`${resolve(manifest)} is the manifest shipped with the package: give --out FILE for the calibrated copy (or --manifest to calibrate a manifest in place)`);
  }
  const ensemble = loadEnsemble([manifest]);
  const run = await scoreLabelledCases(loadLabelledCases(opts.cases), ensemble, config, logger, progress, opts.rsnaFix);
  const scored = run.cases.filter((c) => c.ensembleScore !== null);
  const scores = scored.map((c) => c.ensembleScore!);
  const labels = scored.map((c) => c.label);
  const positives = labels.filter(Boolean).length;
  const negatives = labels.length - positives;
  if (!positives || !negatives) throw new Error(`calibration needs positive and negative cases with a score (have ${positives} and ${negatives})`);
  const y = youden(scores, labels);
  if (!Number.isFinite(y.threshold)) {
    const auc = aucWithCi(scores, labels).auc;
    const why = [auc < 0.5 ? `the ensemble ranks negatives above positives (AUC ${auc.toFixed(3)})` : `AUC ${auc.toFixed(3)}`, sliceCountImbalance(scored)].filter(Boolean).join('; ');
    throw new Error(`no threshold does better than chance on these ${scored.length} cases (Youden J = 0): ${why}. The manifest is left as it was`);
  }
  const auc = aucWithCi(scores, labels);
  const threshold: Threshold = {
    value: y.threshold,
    method: 'youden',
    note: `Youden index on ${scored.length} labelled cases (${positives} positive, ${negatives} negative)`,
    provenance: {
      calibratedAt: new Date().toISOString(),
      cases: scored.map((c) => ({ case: c.id, label: c.label, score: c.ensembleScore })),
      source: resolve(opts.cases),
      auc: auc.auc,
      aucCi95: auc.ci95,
      aucCiNote: auc.undefinedReason,
      sensitivity: y.sensitivity,
      specificity: y.specificity,
      youdenJ: y.j,
      unscored: run.cases.filter((c) => c.ensembleScore === null).map((c) => ({ case: c.id, reason: c.unscoredReason })),
      previous: ensemble.threshold,
    },
  };
  if (opts.dryRun) return { threshold, written: null };
  const target = resolve(opts.out ?? manifest);
  const raw = relocated(JSON.parse(readFileSync(resolve(manifest), 'utf8')) as Record<string, unknown>, dirname(resolve(manifest)), dirname(target));
  // Write beside and rename: a crash never leaves a half-written manifest.
  writeFileSync(`${target}.tmp`, JSON.stringify({ ...raw, threshold }, null, 2) + '\n');
  try {
    renameSync(`${target}.tmp`, target);
  } catch (e) {
    rmSync(`${target}.tmp`, { force: true });
    throw e;
  }
  logger.info('threshold calibrated', { manifest: target, value: y.threshold, auc: auc.auc });
  return { threshold, written: target };
}
