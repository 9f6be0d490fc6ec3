import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../config/config.js';
import { BASELINE_MANIFEST, BASELINE_PARAMETERS, baselineModelBytes } from './baseline-model.js';
import { DEFAULT_WINDOWS } from './manifest.js';
import { loadOrt, sigmoid } from './predictor.js';

const N = 256;

/** A synthetic head: air, a bone ring (1000 HU) of radius 110 and 8 px thickness, brain 30 HU, a square of blood 70 HU. */
function phantomHu(bloodSide: number): Float64Array {
  const hu = new Float64Array(N * N).fill(-1000);
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      const r = Math.hypot(x - 127.5, y - 127.5);
      if (r < 110) hu[y * N + x] = r >= 102 ? 1000 : 30;
    }
  }
  const start = 128 - (bloodSide >> 1);
  for (let y = start; y < start + bloodSide; y++) for (let x = start; x < start + bloodSide; x++) hu[y * N + x] = 70;
  return hu;
}

function toChannels(hu: Float64Array): Float32Array {
  const t = new Float32Array(3 * N * N);
  DEFAULT_WINDOWS.forEach((w, c) => hu.forEach((v, i) => (t[c * N * N + i] = Math.min(1, Math.max(0, (v - (w.center - w.width / 2)) / w.width)))));
  return t;
}

/** The rule as the doc comment states it, by brute force in HU: the known answer the graph must reproduce. */
function expectedLogit(hu: Float64Array): number {
  const p = BASELINE_PARAMETERS;
  const at = (x: number, y: number) => hu[y * N + x]!;
  const bone = (x: number, y: number) => at(x, y) > p.boneHu;
  const half = p.nearBoneKernel >> 1;
  const sHalf = p.smoothingKernel >> 1;
  let blood = 0;
  let tissue = 0;
  for (let y = 0; y < N; y++) {
    for (let x = 0; x < N; x++) {
      let near = false;
      for (let dy = -half; dy <= half && !near; dy++) for (let dx = -half; dx <= half && !near; dx++) {
        const xx = x + dx, yy = y + dy;
        near = xx >= 0 && yy >= 0 && xx < N && yy < N && bone(xx, yy);
      }
      let left = false, right = false, up = false, down = false;
      for (let k = 0; k < N; k++) {
        if (bone(k, y)) (k <= x ? (left = true) : (right = true));
        if (bone(x, k)) (k <= y ? (up = true) : (down = true));
      }
      if (near || !(left && right && up && down)) continue;
      let sum = 0, count = 0;
      for (let dy = -sHalf; dy <= sHalf; dy++) for (let dx = -sHalf; dx <= sHalf; dx++) {
        const xx = x + dx, yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= N || yy >= N) continue;
        sum += Math.min(180, Math.max(-20, at(xx, yy)));
        count++;
      }
      const smooth = sum / count;
      if (smooth >= p.tissueHu[0] && smooth <= p.tissueHu[1]) tissue++;
      if (smooth >= p.bloodHu[0] && smooth <= p.bloodHu[1]) blood++;
    }
  }
  const fraction = blood / N / N / Math.max(tissue / N / N, p.minTissueFraction);
  return p.slope * (fraction - p.center);
}

describe('baseline ONNX model', () => {
  it('is built byte for byte as the committed manifest pins it', () => {
    const manifest = JSON.parse(readFileSync(join(packageRoot(), 'models', BASELINE_MANIFEST), 'utf8')) as { sha256: string; provenance: { parameters: unknown } };
    const a = baselineModelBytes();
    expect(Buffer.compare(Buffer.from(a), Buffer.from(baselineModelBytes()))).toBe(0);
    expect(createHash('sha256').update(a).digest('hex')).toBe(manifest.sha256);
    expect(manifest.provenance.parameters).toEqual(BASELINE_PARAMETERS);
  });

  it('computes the documented rule: blood fraction of soft tissue inside the skull, away from bone', async () => {
    const ort = await loadOrt();
    const session = await ort.InferenceSession.create(Buffer.from(baselineModelBytes()));
    const small = phantomHu(20);
    const large = phantomHu(100);
    const input = new Float32Array(2 * 3 * N * N);
    input.set(toChannels(small), 0);
    input.set(toChannels(large), 3 * N * N);
    const out = await session.run({ input: new ort.Tensor('float32', input, [2, 3, N, N]) });
    const logits = Array.from(out.logits!.data as Float32Array);
    expect(out.logits!.dims).toEqual([2, 1]);
    const expected = [expectedLogit(small), expectedLogit(large)];
    expect(logits[0]).toBeCloseTo(expected[0]!, 4);
    expect(logits[1]).toBeCloseTo(expected[1]!, 4);
    // A 20 px bleed is too small to call; a 100 px one is called.
    expect(sigmoid(logits[0]!)).toBeLessThan(0.5);
    expect(sigmoid(logits[1]!)).toBeGreaterThan(0.5);
    await session.release();
  });
});
