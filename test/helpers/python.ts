/** The independent Python side (Debian's /usr/bin/python3 with pydicom, numpy, torch, onnx) and its reference tools. */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, SHARED } from './peers.js';

export const PY = '/usr/bin/python3';
export const REF = join(SHARED, 'tools/reference');
export const hasPythonStack = spawnSync(PY, ['-c', 'import torch, torchvision, pydicom, onnx']).status === 0;

/** Runs python3 with `args` and returns its stdout; a failure throws with its stderr. */
export function py(args: string[]): string {
  const r = spawnSync(PY, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`python3 ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/** Whether Debian's SciPy and scikit-learn are there for the statistics' known answers. */
export const hasScipyStack = spawnSync(PY, ['-c', 'import scipy, sklearn']).status === 0;

export interface KnownAnswer {
  auc: number;
  auc_delong: number;
  se: number;
  ci95: [number, number];
  roc: [number | null, number, number][];
  youden: { threshold: number; sensitivity: number; specificity: number };
  confusion: { tp: number; fp: number; tn: number; fn: number; sensitivity: number; specificity: number; ppv: number | null; npv: number | null };
  delong_test?: { auc_b: number; z: number; p: number };
}

/** ROC AUC, DeLong SE/CI/test, ROC points, Youden and the confusion matrix from scikit-learn and SciPy (known_answers.py). */
export function knownAnswers(cases: { scores: number[]; labels: boolean[]; threshold: number; scores_b?: number[] }[]): KnownAnswer[] {
  const r = spawnSync(PY, [join(REPO, 'test/helpers/known_answers.py')], { input: JSON.stringify(cases), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`known_answers.py failed:\n${r.stderr}`);
  return JSON.parse(r.stdout) as KnownAnswer[];
}

/** Copies of the RSNA slices with valid UIDs and CT Image Storage, marked derived (rsna_copies.py); `names`: file -> PatientName. */
export function rsnaCopies(out: string, names: Record<string, string> = {}): string[] {
  const args = [join(REPO, 'test/helpers/rsna_copies.py'), join(SHARED, 'data/slices/rsna-ich'), out, ...Object.entries(names).flatMap(([f, n]) => ['--name', `${f}=${n}`])];
  return py(args).trim().split('\n');
}

/**
 * The reference's random-weight classifiers (make_models.py: fixed seeds; calibrated on `calib` .npz when given)
 * with a node model manifest written beside each; returns the manifest paths in the order of `names`.
 */
export function referenceModels(dir: string, names: string[], calib?: string): string[] {
  py([join(REF, 'make_models.py'), '--out', dir, '--models', names.join(','), ...(calib ? ['--calib', calib] : [])]);
  const models = JSON.parse(readFileSync(join(dir, 'models.json'), 'utf8')) as Record<string, { onnx: string; sha256: string; params: number }>;
  return names.map((name) => {
    const path = join(dir, `${name}.model.json`);
    writeFileSync(
      path,
      JSON.stringify({
        kind: 'model',
        name,
        version: `reference-${models[name]!.sha256.slice(0, 12)}`,
        file: models[name]!.onnx,
        sha256: models[name]!.sha256,
        input: { name: 'input', size: [256, 256] },
        output: { name: 'logits', kind: 'logit', index: 0 },
        parameters: models[name]!.params,
      }),
    );
    return path;
  });
}
