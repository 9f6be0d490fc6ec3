/**
 * The decoder and HU stage on every file of ../shared/data/pixel-quirks, against values derived here by hand from
 * the raw Pixel Data bytes and the header (most of these files are MR, CR or SC, which routing skips; the pixel
 * rules still apply to CT, so they are tested directly).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Tag } from '../../src/dicom/constants.js';
import { readDicom, type DicomFile } from '../../src/dicom/dataset.js';
import { applyModality, modalityTransform, paddingMask } from '../../src/imaging/hounsfield.js';
import { initCodecs, pixelLayout, storedValues } from '../../src/imaging/pixels.js';
import { preprocessFile } from '../../src/imaging/preprocess.js';
import { DEFAULT_WINDOWS } from '../../src/inference/manifest.js';
import { DATA } from '../helpers/peers.js';

const Q = join(DATA, 'pixel-quirks');
const open = (name: string): DicomFile => readDicom(readFileSync(join(Q, name)));
const stored = (f: DicomFile) => storedValues(f, pixelLayout(f.dataset)).frames[0]!;
const hu = (f: DicomFile) => applyModality(stored(f), modalityTransform(f.dataset, 0));

/** The raw 16-bit little-endian words of an uncompressed Pixel Data element. */
function words(f: DicomFile): Uint16Array {
  const b = f.dataset.bytes(Tag.PixelData)!;
  const copy = Uint8Array.from(b);
  return new Uint16Array(copy.buffer, 0, copy.length >> 1);
}
/** BitsStored/HighBit/PixelRepresentation by hand: shift, mask, sign-extend. */
function byHand(w: number, bitsStored: number, highBit: number, signed: boolean): number {
  const v = (w >> (highBit + 1 - bitsStored)) & ((1 << bitsStored) - 1);
  return signed && v & (1 << (bitsStored - 1)) ? v - (1 << bitsStored) : v;
}
function mismatches(actual: ArrayLike<number>, expected: (i: number) => number): number {
  let n = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] !== expected(i)) n++;
  return n;
}

beforeAll(() => initCodecs());

describe('pixel-quirks', () => {
  it('12bitUnsigned and 12bitUnsigned_0x0F0F: whatever sits above bit 11 is masked off', () => {
    const dirty = open('12bitUnsigned_0x0F0F.dcm');
    expect(words(dirty).some((x) => x >> 12 !== 0)).toBe(true); // the high bits really are set
    for (const name of ['12bitUnsigned.dcm', '12bitUnsigned_0x0F0F.dcm']) {
      const f = open(name);
      const w = words(f);
      expect(mismatches(stored(f), (i) => w[i]! & 0x0fff), name).toBe(0);
    }
  });

  it('12bitSigned_0x0F0F: masked to 12 bits and sign-extended from bit 11', () => {
    const f = open('12bitSigned_0x0F0F.dcm');
    const w = words(f);
    const s = stored(f);
    expect(mismatches(s, (i) => byHand(w[i]!, 12, 11, true))).toBe(0);
    expect(s.some((v) => v < 0)).toBe(true); // negative values exist once sign-extended
  });

  it('693_UNCR / 693_UNCI: 14 bits stored, signed, intercept -1024; padding -2000 masked', () => {
    for (const name of ['693_UNCR.dcm', '693_UNCI.dcm']) {
      const f = open(name);
      const w = words(f);
      const h = hu(f);
      expect(mismatches(h, (i) => byHand(w[i]!, 14, 13, true) * 1 - 1024), name).toBe(0);
      const mask = paddingMask(f.dataset, stored(f))!;
      const padded = Array.from(w).filter((x) => byHand(x, 14, 13, true) === -2000).length;
      expect(padded, name).toBeGreaterThan(0);
      expect(mask.reduce((a, m) => a + m, 0), name).toBe(padded);
    }
  });

  it('693_J2KR: the JPEG 2000 lossless copy decodes to the same HU as the uncompressed one', () => {
    const a = hu(open('693_J2KR.dcm'));
    const b = hu(open('693_UNCR.dcm'));
    expect(mismatches(a, (i) => b[i]!)).toBe(0);
  });

  it('CT_small: 16-bit signed words plus the intercept', () => {
    const f = open('CT_small.dcm');
    const w = words(f);
    const slope = Number(f.dataset.string(Tag.RescaleSlope));
    const intercept = Number(f.dataset.string(Tag.RescaleIntercept));
    expect(mismatches(hu(f), (i) => ((w[i]! << 16) >> 16) * slope + intercept)).toBe(0);
  });

  it('J2K_pixelrep_mismatch: the codec says unsigned, the header signed 13-bit; the header wins, values stay plausible HU', () => {
    const f = open('J2K_pixelrep_mismatch.dcm');
    const h = hu(f);
    let min = Infinity;
    let max = -Infinity;
    for (const v of h) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    // 13-bit signed stored values with intercept 0: [-4096, 4095]; read as unsigned the air would wrap to ~+7000.
    expect(min).toBeGreaterThanOrEqual(-4096);
    expect(max).toBeLessThanOrEqual(4095);
    expect(min).toBeLessThan(-500); // air is there, negative
  });

  it('mlut_18: the Modality LUT Sequence maps stored values (clamped to the table) instead of rescale', () => {
    const f = open('mlut_18.dcm');
    const item = f.dataset.sequence(Tag.ModalityLUTSequence)[0]!;
    const [n, first] = item.numbers(Tag.LUTDescriptor, true) as [number, number];
    const lut = Uint8Array.from(item.bytes(Tag.LUTData)!);
    const entry = (k: number) => new DataView(lut.buffer).getUint16(2 * k, true);
    const s = stored(f);
    const w = words(f);
    expect(mismatches(s, (i) => byHand(w[i]!, 12, 11, true))).toBe(0);
    const h = hu(f);
    expect(mismatches(h, (i) => entry(Math.min(Math.max(s[i]! - first, 0), (n || 65536) - 1)))).toBe(0);
    expect(modalityTransform(f.dataset, 0).kind).toBe('lut');
  });

  it('vlut_04: a VOI LUT is display only: HU are the 8-bit stored values (no rescale)', () => {
    const f = open('vlut_04.dcm');
    const b = f.dataset.bytes(Tag.PixelData)!;
    expect(mismatches(hu(f), (i) => b[i]!)).toBe(0);
  });

  it('Monochrome1-Jpeg: MONOCHROME1 is not inverted in the stored values (inversion is display, not HU)', () => {
    const f = open('Monochrome1-Jpeg.dcm');
    expect(f.dataset.string(Tag.PhotometricInterpretation)).toBe('MONOCHROME1');
    const s = stored(f);
    expect(s.length).toBe(2446 * 2010);
    expect(s.every((v) => v >= 0 && v <= 255)).toBe(true);
  });

  it('the SC, MR and CR files are routed out with their reasons; the CT ones are analysed', () => {
    const spec = { name: 'input', size: [256, 256] as [number, number], windows: [...DEFAULT_WINDOWS], normalization: null };
    const outcome = (name: string) => {
      const r = preprocessFile(join(Q, name), { specs: [spec], rsnaFix: false, axialMaxDeg: 45, paddingMask: true });
      return r.status === 'handled' ? 'analysed' : r.skip.code;
    };
    expect(
      Object.fromEntries(
        ['12bitSigned_0x0F0F.dcm', '693_J2KR.dcm', '693_UNCI.dcm', 'CT_small.dcm', 'GH179A.dcm', 'J2K_pixelrep_mismatch.dcm', 'Monochrome1-Jpeg.dcm', 'mlut_18.dcm', 'vlut_04.dcm'].map(
          (n) => [n, outcome(n)],
        ),
      ),
    ).toEqual({
      '12bitSigned_0x0F0F.dcm': 'not-ct',
      '693_J2KR.dcm': 'analysed',
      '693_UNCI.dcm': 'analysed',
      'CT_small.dcm': 'analysed',
      'GH179A.dcm': 'secondary-capture',
      'J2K_pixelrep_mismatch.dcm': 'analysed',
      'Monochrome1-Jpeg.dcm': 'not-ct',
      'mlut_18.dcm': 'secondary-capture',
      'vlut_04.dcm': 'secondary-capture',
    });
  });
});
