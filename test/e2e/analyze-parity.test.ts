/**
 * Parity with the seed's stack, through the CLI: on the CQ500 study, `analyze --json --tensors` with the
 * reference's own models (tiny_cnn and densenet201 from make_models.py: fixed seeds, calibrated) must equal the
 * independent Python reference: tensors within 1e-5 of preprocess.py, per-slice probabilities of each model and the
 * two-model ensemble's case score within 1e-4 of infer.py (PyTorch).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CQ500, REPO, tempDir } from '../helpers/peers.js';
import { hasPythonStack, py, REF, referenceModels } from '../helpers/python.js';


interface AnalyzeJson {
  ensemble: { members: { name: string }[] };
  series: {
    seriesInstanceUid: string;
    caseScore: number;
    slices: { sopInstanceUid: string; frame: number; position: number; probabilities: Record<string, number>; ensemble: number }[];
  }[];
  skipped: unknown[];
}

interface RefResult {
  sop_instance_uids: string[];
  z_positions: number[];
  models: Record<string, { probs: number[]; case_score: number }>;
  ensemble: { probs: number[]; case_score: number };
}

describe.skipIf(!hasPythonStack)('analyze parity with the Python reference (CQ500, tiny_cnn + densenet201)', () => {
  let dir: string;
  let out: AnalyzeJson;
  let ref: RefResult;

  beforeAll(() => {
    dir = tempDir('parity');
    py([join(REF, 'preprocess.py'), CQ500, '--out', join(dir, 'ref.npz'), '--jobs', '2']);
    const manifests = referenceModels(join(dir, 'models'), ['tiny_cnn', 'densenet201'], join(dir, 'ref.npz'));
    py([join(REF, 'infer.py'), '--models', join(dir, 'models'), '--tensors', join(dir, 'ref.npz'), '--out', join(dir, 'ref.json')]);
    ref = JSON.parse(readFileSync(join(dir, 'ref.json'), 'utf8')) as RefResult;
    const r = spawnSync(
      process.execPath,
      [join(REPO, 'dist/src/cli.js'), 'analyze', CQ500, '--json', '--models', ...manifests, '--tensors', join(dir, 'node.npy')],
      { encoding: 'utf8', maxBuffer: 1 << 28 },
    );
    if (r.status !== 0) throw new Error(`analyze failed:\n${r.stderr}`);
    out = JSON.parse(r.stdout) as AnalyzeJson; // stdout must be JSON only
  }, 900_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('orders the 238 slices as the reference does', () => {
    expect(out.series).toHaveLength(1);
    const slices = out.series[0]!.slices;
    expect(slices.map((s) => s.sopInstanceUid)).toEqual(ref.sop_instance_uids);
    slices.forEach((s, i) => expect(s.position).toBeCloseTo(ref.z_positions[i]!, 6));
    expect(out.skipped).toEqual([]);
  });

  it('writes --tensors equal to preprocess.py within 1e-5', () => {
    const stats = JSON.parse(
      py([
        '-c',
        `import numpy as np, json, sys
r = np.load(sys.argv[1])['tensors']; n = np.load(sys.argv[2])
print(json.dumps({"shape": list(n.shape), "dtype": str(n.dtype), "maxdiff": float(np.abs(n.astype(np.float64) - r).max())}))`,
        join(dir, 'ref.npz'),
        join(dir, 'node.npy'),
      ]),
    ) as { shape: number[]; dtype: string; maxdiff: number };
    expect(stats.shape).toEqual([238, 3, 256, 256]);
    expect(stats.dtype).toBe('float32');
    process.stderr.write(`parity: tensors [${stats.shape.join(',')}] max |node - preprocess.py| = ${stats.maxdiff}\n`);
    expect(stats.maxdiff).toBeLessThan(1e-5);
  });

  it('gives per-slice probabilities of each model within 1e-4 of PyTorch', () => {
    const slices = out.series[0]!.slices;
    for (const name of ['tiny_cnn', 'densenet201']) {
      const expected = ref.models[name]!.probs;
      const worst = Math.max(...slices.map((s, i) => Math.abs(s.probabilities[name]! - expected[i]!)));
      process.stderr.write(`parity: ${name} max |p_node - p_torch| over ${slices.length} slices = ${worst.toExponential(2)}\n`);
      expect(worst, name).toBeLessThan(1e-4);
    }
  });

  it('gives the two-model ensemble case score within 1e-4 of the reference', () => {
    const s = out.series[0]!;
    const worst = Math.max(...s.slices.map((sl, i) => Math.abs(sl.ensemble - ref.ensemble.probs[i]!)));
    process.stderr.write(
      `parity: ensemble max |Δp| = ${worst.toExponential(2)}; case score node ${s.caseScore} vs reference ${ref.ensemble.case_score}\n`,
    );
    expect(worst).toBeLessThan(1e-4);
    expect(Math.abs(s.caseScore - ref.ensemble.case_score)).toBeLessThan(1e-4);
  });
});
