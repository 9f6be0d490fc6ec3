/**
 * The same CT slice in every encoding we hold: each lossless encoding decodes to bit-identical Hounsfield units and
 * identical model tensors; lossy encodings (re-quantised, with other rescale slopes) stay within stated tolerances.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Tag } from '../../src/dicom/constants.js';
import { readDicom } from '../../src/dicom/dataset.js';
import { applyModality, modalityTransform } from '../../src/imaging/hounsfield.js';
import { initCodecs, pixelLayout, storedValues } from '../../src/imaging/pixels.js';
import { preprocessFile } from '../../src/imaging/preprocess.js';
import { DEFAULT_WINDOWS } from '../../src/inference/manifest.js';
import { DATA } from '../helpers/peers.js';

const LOSSY = /(JPEGProcess1Transfer|JPEGProcess2_4|JPEGLSLossy|JPEG2000TransferSyntax_)/;
const RETIRED = /(JPEGProcess6_8|JPEGProcess10_12)/; // refused: no maintained decoder (see reference-parity.test.ts)
const SPEC = { name: 'input', size: [256, 256] as [number, number], windows: [...DEFAULT_WINDOWS], normalization: null };

function hu(path: string): Float64Array {
  const file = readDicom(readFileSync(path));
  return applyModality(storedValues(file, pixelLayout(file.dataset)).frames[0]!, modalityTransform(file.dataset, 0));
}
function tensor(path: string): Float32Array {
  const r = preprocessFile(path, { specs: [SPEC], rsnaFix: false, axialMaxDeg: 45, paddingMask: true });
  if (r.status !== 'handled') throw new Error(`${path}: ${r.skip.message}`);
  return r.frames[0]!.tensors[0]!;
}
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
const meanAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
};

describe.each([
  ['transfer-syntaxes/ct-slice', 'CTImage.dcm_LittleEndianExplicitTransferSyntax_1.2.840.10008.1.2.1.dcm'],
  ['transfer-syntaxes/ct1-nema', 'CT1_UNC.explicit_little_endian.dcm'],
])('%s', (folder, referenceName) => {
  const dir = join(DATA, folder);
  const files = readdirSync(dir).sort().filter((f) => !RETIRED.test(f));
  const lossless = files.filter((f) => !LOSSY.test(f));
  const lossy = files.filter((f) => LOSSY.test(f));
  let refHu: Float64Array;
  let refTensor: Float32Array;
  beforeAll(async () => {
    await initCodecs();
    refHu = hu(join(dir, referenceName));
    refTensor = tensor(join(dir, referenceName));
  });

  it.each(lossless)('%s decodes to bit-identical HU and an identical tensor', (name) => {
    const h = hu(join(dir, name));
    expect(h.length).toBe(refHu.length);
    expect(Buffer.compare(Buffer.from(h.buffer), Buffer.from(refHu.buffer))).toBe(0);
    expect(Buffer.compare(Buffer.from(tensor(join(dir, name)).buffer), Buffer.from(refTensor.buffer))).toBe(0);
  });

  if (lossy.length) {
    // Stated tolerance for a lossy encoding of this slice: mean |ΔHU| below one quantisation step of its stored values
    // (its RescaleSlope) and at most 5 HU; where the step is fine (slope <= 5), every tensor value also within 0.25 of
    // the lossless one (a quarter of a window: 20 HU in the 80 HU brain window). An 8-bit JPEG baseline copy of this
    // slice has slope 32.12: it cannot be closer than that, and says so by its header.
    it.each(lossy)('%s (lossy) stays within the stated tolerance', (name) => {
      const h = hu(join(dir, name));
      const t = tensor(join(dir, name));
      const slope = Number(readDicom(readFileSync(join(dir, name))).dataset.string(Tag.RescaleSlope) ?? 1);
      const stats = { meanHu: meanAbs(h, refHu), maxHu: maxAbs(h, refHu), maxTensor: maxAbs(t, refTensor) };
      process.stderr.write(
        `lossy ${name}: slope ${slope}, mean |ΔHU| ${stats.meanHu.toFixed(2)}, max |ΔHU| ${stats.maxHu.toFixed(1)}, max |Δtensor| ${stats.maxTensor.toFixed(4)}\n`,
      );
      expect(stats.meanHu).toBeLessThan(Math.max(5, slope));
      if (slope <= 5) expect(stats.maxTensor).toBeLessThan(0.25);
      expect(stats.meanHu).toBeGreaterThan(0); // it is lossy: identical would mean the file was not what it says
    });
  }
});
