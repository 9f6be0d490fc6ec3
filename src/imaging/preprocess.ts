/**
 * One DICOM file -> the model inputs of each of its axial CT frames (or the reason it has none). This is the
 * unit of work the worker pool runs; series assembly and ordering happen afterwards (assemble.ts).
 */
import { readFileSync } from 'node:fs';
import { Tag } from '../dicom/constants.js';
import { NotDicomError, patientNameText, readDicom, type DicomFile } from '../dicom/dataset.js';
import type { InputSpec } from '../inference/manifest.js';
import { routeByHeader } from './classify.js';
import { applyModality, modalityTransform, paddingMask, rsnaCorrection } from './hounsfield.js';
import { pixelLayout, storedValues } from './pixels.js';
import { Skip, failed, type SkipCode } from './skip.js';
import { windowResize, windowToGrey } from './window-resize.js';

export interface PreprocessOptions {
  /** Distinct model input specifications; each frame gets one tensor per spec. */
  specs: InputSpec[];
  rsnaFix: boolean;
  axialMaxDeg: number;
  paddingMask: boolean;
}

export const DEFAULT_AXIAL_MAX_DEG = 45;

export interface FrameResult {
  sopInstanceUid: string;
  sopClassUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  /** 1-based frame number. */
  frame: number;
  numberOfFrames: number;
  z: number;
  tiltDeg: number;
  standardAxial: boolean;
  instanceNumber: number | null;
  /** One float32 [C, H, W] tensor per spec, in `options.specs` order. */
  tensors: Float32Array[];
  huMin: number;
  huMax: number;
  paddingPixels: number;
  modalityLut: string;
  decoder: string;
}

export interface SkipRecord {
  file: string;
  /** 1-based frame for frame-level skips of multi-frame objects. */
  frame?: number;
  code: SkipCode;
  kind: 'excluded' | 'failed';
  message: string;
}

export type FileResult =
  | { status: 'skipped'; file: string; skip: SkipRecord }
  | { status: 'handled'; file: string; frames: FrameResult[]; frameSkips: SkipRecord[]; seriesDescription: string; patientName: string | null; notes: string[] };

export function specKey(spec: InputSpec): string {
  return JSON.stringify([spec.size, spec.windows.map((w) => [w.center, w.width]), spec.normalization]);
}

function toTensor(hu: Float64Array, mask: Uint8Array | undefined, rows: number, cols: number, spec: InputSpec): Float32Array {
  const [h, w] = spec.size;
  const out = windowResize(hu, mask, rows, cols, spec.windows, h, w);
  const norm = spec.normalization;
  if (norm) {
    const plane = h * w;
    spec.windows.forEach((_, k) => {
      for (let i = k * plane; i < (k + 1) * plane; i++) out[i] = (out[i]! - norm.mean[k]!) / norm.std[k]!;
    });
  }
  return out;
}

function readFileOrSkip(path: string): DicomFile | SkipRecord {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    return { file: path, code: 'unreadable', kind: 'failed', message: `unreadable: ${(e as Error).message}` };
  }
  try {
    return readDicom(buf);
  } catch (e) {
    if (e instanceof NotDicomError) return { file: path, code: 'not-dicom', kind: 'excluded', message: `not a DICOM file (${e.message})` };
    return { file: path, code: 'unreadable', kind: 'failed', message: `unreadable: ${(e as Error).message}` };
  }
}

function skipRecord(file: string, e: unknown, frame?: number): SkipRecord {
  if (e instanceof Skip) return { file, frame, code: e.code, kind: e.kind, message: e.message };
  return { file, frame, code: 'decode-failed', kind: 'failed', message: `transform: ${(e as Error).message ?? String(e)}` };
}

/** Decodes HU for one frame with every correction the options ask for. */
function frameHu(file: DicomFile, frameIndex: number, stored: Int32Array, options: Pick<PreprocessOptions, 'rsnaFix' | 'paddingMask'>) {
  const ds = file.dataset;
  let transform = modalityTransform(ds, frameIndex);
  let values = stored;
  if (options.rsnaFix) {
    const fixed = rsnaCorrection(ds, transform, stored);
    if (fixed) ({ stored: values, transform } = fixed);
  }
  const hu = applyModality(values, transform);
  // The padding mask compares the stored values before any correction, as the header's padding value does.
  const mask = options.paddingMask ? paddingMask(ds, stored) : undefined;
  return { hu, mask, transform };
}

export function preprocessFile(path: string, options: PreprocessOptions): FileResult {
  const read = readFileOrSkip(path);
  if (!('dataset' in read)) return { status: 'skipped', file: path, skip: read };
  const file = read;
  const ds = file.dataset;
  const notes = [...file.notes];
  if (file.parseError) notes.push(`parse stopped early: ${file.parseError}`);

  let route;
  try {
    route = routeByHeader(ds, options.axialMaxDeg);
  } catch (e) {
    const rec = skipRecord(path, e);
    if (file.parseError && rec.kind === 'excluded') rec.message += ` (file damaged: ${file.parseError})`;
    return { status: 'skipped', file: path, skip: rec };
  }
  const multiFrame = route.frames.length + route.frameSkips.length > 1;
  const frameSkips: SkipRecord[] = route.frameSkips.map((s) => ({
    file: path,
    frame: s.index + 1,
    code: s.skip.code,
    kind: s.skip.kind,
    message: s.skip.message,
  }));

  let layout;
  let stored;
  try {
    layout = pixelLayout(ds);
    stored = storedValues(file, layout);
  } catch (e) {
    const rec = skipRecord(path, e);
    if (file.parseError) rec.message += ` (file damaged: ${file.parseError})`;
    return { status: 'skipped', file: path, skip: rec };
  }

  const frames: FrameResult[] = [];
  try {
    for (const { index, geometry } of route.frames) {
      const { hu, mask, transform } = frameHu(file, index, stored.frames[index]!, options);
      let huMin = Infinity;
      let huMax = -Infinity;
      for (let i = 0; i < hu.length; i++) {
        const v = hu[i]!;
        if (v < huMin) huMin = v;
        if (v > huMax) huMax = v;
      }
      let paddingPixels = 0;
      if (mask) for (let i = 0; i < mask.length; i++) paddingPixels += mask[i]!;
      frames.push({
        sopInstanceUid: ds.string(Tag.SOPInstanceUID) ?? '',
        sopClassUid: ds.string(Tag.SOPClassUID) ?? '',
        seriesInstanceUid: ds.string(Tag.SeriesInstanceUID) ?? '',
        studyInstanceUid: ds.string(Tag.StudyInstanceUID) ?? '',
        frame: index + 1,
        numberOfFrames: layout.frames,
        z: geometry.z,
        tiltDeg: geometry.tiltDeg,
        standardAxial: geometry.standardAxial,
        instanceNumber: ds.int(Tag.InstanceNumber) ?? null,
        tensors: options.specs.map((spec) => toTensor(hu, mask, layout.rows, layout.columns, spec)),
        huMin,
        huMax,
        paddingPixels,
        modalityLut: transform.source,
        decoder: stored.decoder,
      });
    }
  } catch (e) {
    return { status: 'skipped', file: path, skip: skipRecord(path, e) };
  }
  if (!multiFrame) frameSkips.length = 0;
  return {
    status: 'handled',
    file: path,
    frames,
    frameSkips,
    seriesDescription: ds.string(Tag.SeriesDescription) ?? '',
    patientName: patientNameText(ds),
    notes,
  };
}

export interface KeySliceRender {
  rows: number;
  columns: number;
  pixels: Uint8Array;
  pixelSpacing?: [number, number];
}

/** The brain-window image (40/80) of one frame at native resolution, for the key-slice Secondary Captures. */
export function renderBrainWindow(path: string, frame: number, options: Pick<PreprocessOptions, 'rsnaFix' | 'paddingMask'>): KeySliceRender {
  const read = readFileOrSkip(path);
  if (!('dataset' in read)) throw failed(read.code, read.message);
  const layout = pixelLayout(read.dataset);
  const stored = storedValues(read, layout);
  const { hu, mask } = frameHu(read, frame - 1, stored.frames[frame - 1]!, options);
  const spacing = read.dataset.numbers(Tag.PixelSpacing);
  return {
    rows: layout.rows,
    columns: layout.columns,
    pixels: windowToGrey(hu, 40, 80, mask),
    pixelSpacing: spacing.length === 2 && spacing.every(Number.isFinite) ? [spacing[0]!, spacing[1]!] : undefined,
  };
}
