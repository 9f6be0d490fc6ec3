/** The independent Python side (Debian's /usr/bin/python3 with pydicom, numpy, torch, onnx) and its reference tools. */
import { spawnSync } from 'node:child_process';
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
