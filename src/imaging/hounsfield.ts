/**
 * Stored values -> Hounsfield units (the Modality LUT), the opt-in RSNA 2019 correction, and the padding mask.
 * Pure functions over typed arrays; arithmetic in float64.
 */
import { Tag } from '../dicom/constants.js';
import type { DicomDataset } from '../dicom/dataset.js';
import { functionalGroupLookup } from './classify.js';
import { failed } from './skip.js';

export type ModalityTransform =
  | { kind: 'rescale'; slope: number; intercept: number; source: string }
  | { kind: 'lut'; data: Float64Array; first: number; source: string };

function rescaleValue(ds: DicomDataset, frameIndex: number, attr: number): { value: number | undefined; where: string } {
  const at = functionalGroupLookup(ds, frameIndex, Tag.PixelValueTransformationSequence, attr);
  if (!at) return { value: undefined, where: 'default' };
  const raw = at.item.string(attr);
  if (raw === undefined) return { value: undefined, where: at.where };
  const v = Number(raw.trim());
  if (!Number.isFinite(v)) throw failed('header-invalid', `transform: ${attr === Tag.RescaleSlope ? 'RescaleSlope' : 'RescaleIntercept'} is not a number: ${JSON.stringify(raw)}`);
  return { value: v, where: at.where };
}

/** The Modality LUT of a frame: a Modality LUT Sequence if present, else rescale slope/intercept (default 1/0). */
export function modalityTransform(ds: DicomDataset, frameIndex: number): ModalityTransform {
  const item = ds.sequence(Tag.ModalityLUTSequence)[0];
  if (item && item.has(Tag.LUTDescriptor) && item.has(Tag.LUTData)) {
    const signed = (ds.int(Tag.PixelRepresentation) ?? 0) === 1;
    const desc = item.numbers(Tag.LUTDescriptor, signed);
    if (desc.length < 3 || desc.some((v) => !Number.isFinite(v))) throw failed('header-invalid', 'transform: bad LUTDescriptor');
    const n = desc[0] || 65536;
    let first = desc[1]!;
    if (signed && first >= 32768) first -= 65536; // the 2nd descriptor value is SS when pixel data are signed
    const lutVr = item.vr(Tag.LUTData);
    const el = item.element(Tag.LUTData)!;
    const count = Math.floor(el.length / 2);
    if (count < n) throw failed('header-invalid', `transform: ModalityLUTSequence LUTData has ${count} entries, descriptor says ${n}`);
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      data[i] = (lutVr === 'SS' ? item.raw.int16 : item.raw.uint16).call(item.raw, 'x00283006', i) ?? NaN;
    }
    return { kind: 'lut', data, first, source: 'ModalityLUTSequence' };
  }
  const slope = rescaleValue(ds, frameIndex, Tag.RescaleSlope);
  const intercept = rescaleValue(ds, frameIndex, Tag.RescaleIntercept);
  return {
    kind: 'rescale',
    slope: slope.value ?? 1,
    intercept: intercept.value ?? 0,
    source: `rescale(${slope.where}/${intercept.where})`,
  };
}

/** Applies the Modality LUT: HU as float64. */
export function applyModality(stored: Int32Array, t: ModalityTransform): Float64Array {
  const hu = new Float64Array(stored.length);
  if (t.kind === 'rescale') {
    const { slope, intercept } = t;
    for (let i = 0; i < stored.length; i++) hu[i] = stored[i]! * slope + intercept;
  } else {
    const last = t.data.length - 1;
    for (let i = 0; i < stored.length; i++) {
      const idx = Math.min(Math.max(stored[i]! - t.first, 0), last);
      hu[i] = t.data[idx]!;
    }
  }
  return hu;
}

/**
 * The RSNA 2019 quirk (opt-in): BitsStored 12, unsigned, intercept > -100 means the stored values are really
 * 12-bit two's complement offset by 1000. Returns the corrected values and intercept, or undefined if it does
 * not apply.
 */
export function rsnaCorrection(
  ds: DicomDataset,
  t: ModalityTransform,
  stored: Int32Array,
): { stored: Int32Array; transform: ModalityTransform } | undefined {
  if (t.kind !== 'rescale') return undefined;
  if ((ds.int(Tag.BitsStored) ?? 0) !== 12 || (ds.int(Tag.PixelRepresentation) ?? 0) !== 0) return undefined;
  if (Math.trunc(t.intercept) <= -100) return undefined;
  const fixed = new Int32Array(stored.length);
  for (let i = 0; i < stored.length; i++) {
    const v = stored[i]! + 1000;
    fixed[i] = v >= 4096 ? v - 4096 : v;
  }
  return { stored: fixed, transform: { ...t, intercept: -1000, source: t.source + ' +rsna-fix' } };
}

/**
 * Pixels whose stored value is PixelPaddingValue (or within PixelPaddingRangeLimit). A value read as
 * unsigned but at or above 2^(BitsAllocated-1) is negative when the image is signed (implicit VR files carry
 * no VR to say so). Undefined when the header declares no padding.
 */
export function paddingMask(ds: DicomDataset, stored: Int32Array): Uint8Array | undefined {
  const signed = (ds.int(Tag.PixelRepresentation) ?? 0) === 1;
  const ba = ds.int(Tag.BitsAllocated) ?? 16;
  const norm = (v: number) => (signed && v >= 2 ** (ba - 1) ? v - 2 ** ba : v);
  const ppvRaw = ds.int(Tag.PixelPaddingValue, signed);
  if (ppvRaw === undefined) return undefined;
  const ppv = norm(ppvRaw);
  const limRaw = ds.int(Tag.PixelPaddingRangeLimit, signed);
  const lo = limRaw === undefined ? ppv : Math.min(ppv, norm(limRaw));
  const hi = limRaw === undefined ? ppv : Math.max(ppv, norm(limRaw));
  const mask = new Uint8Array(stored.length);
  for (let i = 0; i < stored.length; i++) {
    const v = stored[i]!;
    mask[i] = v >= lo && v <= hi ? 1 : 0;
  }
  return mask;
}
