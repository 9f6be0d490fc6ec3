/** The independent Python side (Debian's /usr/bin/python3 with pydicom, numpy, torch, onnx) and its reference tools. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { SHARED } from './peers.js';

export const PY = '/usr/bin/python3';
export const REF = join(SHARED, 'tools/reference');
export const hasPythonStack = spawnSync(PY, ['-c', 'import torch, torchvision, pydicom, onnx']).status === 0;

/** Runs python3 with `args` and returns its stdout; a failure throws with its stderr. */
export function py(args: string[]): string {
  const r = spawnSync(PY, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`python3 ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}
