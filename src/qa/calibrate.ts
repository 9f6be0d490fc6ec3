/**
 * `calibrate`: chooses the decision threshold by Youden's index on labelled cases scored by the ensemble itself
 * (case files, or the node's own cases with autopsy ground truth), and writes it into the manifest with its provenance (cases, when, AUC, sensitivity, specificity, the threshold it
 * replaced). Reports made afterwards carry the new threshold and its method; the ensemble digest changes with it,
 * so their UIDs differ from those made under the old threshold.
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { packageRoot, type Config } from '../config/config.js';
import { openDatabase } from '../db/database.js';
import { loadEnsemble, type LoadedEnsemble, type Threshold } from '../inference/manifest.js';
import { dataPaths } from '../service.js';
import { listCases } from './cases.js';
import type { Logger } from '../log/logger.js';
import type { Progress } from '../log/progress.js';
import { loadLabelledCases } from './labelled-cases.js';
import { scoreLabelledCases, sliceCountImbalance } from './score-cases.js';
import { aucWithCi, youden } from './stats.js';

export interface CalibrateOptions {
  /** Labelled case files (CSV or positive/negative folders); or */
  cases?: string;
  /** the node's own cases with autopsy ground truth, scored by this ensemble (by name), from the configured database. */
  fromDb?: boolean;
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

interface LabelledScores {
  scored: { id: string; label: boolean; score: number; slices: number | null }[];
  unscored: { case: string; reason: string | null }[];
  source: string;
}

async function fromFiles(cases: string, ensemble: LoadedEnsemble, config: Config, logger: Logger, progress: Progress, rsnaFix?: boolean): Promise<LabelledScores> {
  const run = await scoreLabelledCases(loadLabelledCases(cases), ensemble, config, logger, progress, rsnaFix);
  return {
    scored: run.cases.filter((c) => c.ensembleScore !== null).map((c) => ({ id: c.id, label: c.label, score: c.ensembleScore!, slices: c.slices })),
    unscored: run.cases.filter((c) => c.ensembleScore === null).map((c) => ({ case: c.id, reason: c.unscoredReason })),
    source: resolve(cases),
  };
}

/** The node's own cases: current scores of this ensemble (by name, whatever its threshold) and the current ground truth. */
function fromDatabase(config: Config, ensembleName: string): LabelledScores {
  const path = dataPaths(config.dataDir).db;
  if (!existsSync(path)) throw new Error(`no node database at ${path} (is --config the node's configuration?)`);
  const db = openDatabase(path);
  try {
    const cases = listCases(db, { ensemble: ensembleName });
    return {
      scored: cases.filter((c) => c.groundTruth !== null && c.score !== null).map((c) => ({ id: c.studyUid, label: c.groundTruth!, score: c.score!, slices: null })),
      unscored: cases.filter((c) => c.groundTruth !== null && c.score === null).map((c) => ({ case: c.studyUid, reason: 'no analysable slice' })),
      source: `${path} (cases analysed by ensemble ${ensembleName} with autopsy ground truth)`,
    };
  } finally {
    db.close();
  }
}

export async function runCalibrate(opts: CalibrateOptions, config: Config, logger: Logger, progress: Progress): Promise<{ threshold: Threshold; written: string | null }> {
  if (!opts.cases === !opts.fromDb) throw new Error('give either --cases (labelled files) or --from-db (the node\'s cases with ground truth)');
  if (opts.out && existsSync(opts.out) && statSync(opts.out).isDirectory()) throw new Error(`--out ${opts.out} is a folder: give the file name of the calibrated manifest`);
  const manifest = opts.manifest ?? (config.inference.models.length === 1 ? config.inference.models[0]! : undefined);
  if (!manifest) throw new Error('the configuration lists several manifests: say which to calibrate with --manifest');
  // The manifests shipped in the package are replaced on upgrade: calibrating one in place needs an explicit choice.
  if (!opts.manifest && !opts.out && !opts.dryRun && resolve(manifest).startsWith(join(packageRoot(), 'models'))) {
    throw new Error(`${resolve(manifest)} is the manifest shipped with the package: give --out FILE for the calibrated copy (or --manifest to calibrate a manifest in place)`);
  }
  const ensemble = loadEnsemble([manifest]);
  const { scored, unscored, source } = opts.cases
    ? await fromFiles(opts.cases, ensemble, config, logger, progress, opts.rsnaFix)
    : fromDatabase(config, ensemble.name);
  const scores = scored.map((c) => c.score);
  const labels = scored.map((c) => c.label);
  const positives = labels.filter(Boolean).length;
  const negatives = labels.length - positives;
  if (!positives || !negatives) throw new Error(`calibration needs positive and negative cases with a score (have ${positives} and ${negatives})`);
  const y = youden(scores, labels);
  if (!Number.isFinite(y.threshold)) {
    const auc = aucWithCi(scores, labels).auc;
    const why = [auc < 0.5 ? `the ensemble ranks negatives above positives (AUC ${auc.toFixed(3)})` : `AUC ${auc.toFixed(3)}`, scored.every((c) => c.slices !== null) ? sliceCountImbalance(scored as { label: boolean; slices: number }[]) : null].filter(Boolean).join('; ');
    throw new Error(`no threshold does better than chance on these ${scored.length} cases (Youden J = 0): ${why}. The manifest is left as it was`);
  }
  const auc = aucWithCi(scores, labels);
  const threshold: Threshold = {
    value: y.threshold,
    method: 'youden',
    note: `Youden index on ${scored.length} labelled cases (${positives} positive, ${negatives} negative)`,
    provenance: {
      calibratedAt: new Date().toISOString(),
      cases: scored.map((c) => ({ case: c.id, label: c.label, score: c.score })),
      source,
      auc: auc.auc,
      aucCi95: auc.ci95,
      aucCiNote: auc.undefinedReason,
      sensitivity: y.sensitivity,
      specificity: y.specificity,
      youdenJ: y.j,
      unscored,
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
