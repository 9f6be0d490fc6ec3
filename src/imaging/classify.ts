/**
 * Which objects and frames are axial CT slices, and where each slice lies along its normal. Header-only: the
 * receive path uses it to route instances as they arrive, the imaging path before decoding.
 */
import { CT_IMAGE_CLASSES, SECONDARY_CAPTURE_PREFIX, SR_PREFIX, Tag } from '../dicom/constants.js';
import type { DicomDataset } from '../dicom/dataset.js';
import { Skip, failed } from './skip.js';

/**
 * Finds `attr` for a frame as the enhanced multi-frame IODs place it: per-frame functional group, then the
 * shared group, then the top level. Presence decides (an empty value found first wins), as in PS3.3 C.7.6.16.
 */
const REFORMAT_TYPES = new Set(['REFORMATTED', 'MPR', 'MIP', 'MINIP', 'MINIMUM', 'MAXIMUM', 'PROJECTION IMAGE', 'CURVED']);

export function functionalGroupLookup(
  ds: DicomDataset,
  frameIndex: number,
  macro: number,
  attr: number,
): { item: DicomDataset; where: 'per-frame' | 'shared' | 'top' } | undefined {
  const perFrame = ds.sequence(Tag.PerFrameFunctionalGroupsSequence);
  if (frameIndex < perFrame.length) {
    const item = perFrame[frameIndex]!.sequence(macro)[0];
    if (item?.has(attr)) return { item, where: 'per-frame' };
  }
  const shared = ds.sequence(Tag.SharedFunctionalGroupsSequence)[0];
  const sharedItem = shared?.sequence(macro)[0];
  if (sharedItem?.has(attr)) return { item: sharedItem, where: 'shared' };
  if (ds.has(attr)) return { item: ds, where: 'top' };
  return undefined;
}

export function numberOfFrames(ds: DicomDataset): number {
  const n = ds.int(Tag.NumberOfFrames);
  return n !== undefined && n > 1 ? n : 1;
}

/** Throws Skip when the whole object is not a CT image the pipeline analyses. Order follows the reference. */
export function classifyObject(ds: DicomDataset): void {
  const sop = ds.string(Tag.SOPClassUID) ?? '';
  if (sop.startsWith(SECONDARY_CAPTURE_PREFIX) && (sop === SECONDARY_CAPTURE_PREFIX || sop.startsWith(SECONDARY_CAPTURE_PREFIX + '.'))) {
    throw new Skip('secondary-capture', `secondary capture (SOP class ${sop})`);
  }
  if (!ds.has(Tag.PixelData)) {
    if (ds.has(Tag.FloatPixelData) || ds.has(Tag.DoubleFloatPixelData)) {
      throw new Skip('no-pixel-data', 'float pixel data (not a CT image)');
    }
    if (sop.startsWith(SR_PREFIX)) throw new Skip('structured-report', `structured report, no pixel data (SOP class ${sop})`);
    if (CT_IMAGE_CLASSES.has(sop) || (!sop && ds.string(Tag.Modality) === 'CT' && ds.has(Tag.Rows))) {
      throw new Skip('no-pixel-data', 'CT image header but no (7FE0,0010) Pixel Data (vendor-private pixel encoding?)');
    }
    throw new Skip('no-pixel-data', `no pixel data (non-image object, SOP class ${sop || '?'})`);
  }
  const modality = ds.string(Tag.Modality) ?? '';
  if (modality !== 'CT') throw new Skip('not-ct', `modality ${modality || '<missing>'}, not CT`);
  if (sop && !CT_IMAGE_CLASSES.has(sop)) {
    throw new Skip('unsupported-sop-class', `SOP class ${sop} is not a CT image storage class`);
  }
  const imageType = ds.strings(Tag.ImageType).map((s) => s.trim().toUpperCase());
  if (imageType.includes('LOCALIZER')) {
    throw new Skip('localizer', `localizer/scout (ImageType ${imageType.join('\\')})`);
  }
  // Reformats and projections (MPR, MIP/MinIP slabs) are not the thin acquired slices the models were trained on,
  // even when their plane is axial; the scanner sends the acquired series alongside them.
  const derivedAs = imageType.slice(2).find((v) => REFORMAT_TYPES.has(v));
  if (imageType[0] === 'DERIVED' && derivedAs) {
    throw new Skip('reformat', `reformatted or projection image (ImageType ${imageType.join('\\')})`);
  }
  const spp = ds.int(Tag.SamplesPerPixel) ?? 1;
  const photometric = ds.string(Tag.PhotometricInterpretation) ?? '';
  if (!photometric) throw new Skip('no-photometric', 'no PhotometricInterpretation (ACR-NEMA style header)');
  if (spp !== 1 || (photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2')) {
    throw new Skip('not-monochrome', `not monochrome (SamplesPerPixel=${spp}, ${photometric})`);
  }
}

export interface FrameGeometry {
  /** Position along the slice normal: ImagePositionPatient . (row x column direction). */
  z: number;
  /** Angle between the slice normal and the patient z axis, in degrees (gantry tilt for axial slices). */
  tiltDeg: number;
  /** Unit normal of the slice. */
  normal: [number, number, number];
  /** True for the standard axial orientation (rows along +x, columns along +y), e.g. for SC PatientOrientation. */
  standardAxial: boolean;
}

function formatG(v: number): string {
  // Python's %g: 6 significant digits, no trailing zeros.
  if (v === 0) return '0';
  const s = v.toPrecision(6);
  if (s.includes('e')) return s.replace(/\.?0+e/, 'e').replace(/e([+-])(\d)$/, 'e$10$2');
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Geometry of one frame; throws Skip for localizer frames, frames without geometry and non-axial frames. */
export function frameGeometry(ds: DicomDataset, frameIndex: number, axialMaxDeg: number): FrameGeometry {
  const frameType = functionalGroupLookup(ds, frameIndex, Tag.CTImageFrameTypeSequence, Tag.FrameType);
  if (frameType) {
    const ft = frameType.item.strings(Tag.FrameType).map((s) => s.trim().toUpperCase());
    if (ft.includes('LOCALIZER')) throw new Skip('localizer', `localizer frame (FrameType ${ft.join('\\')})`);
  }
  const iopAt = functionalGroupLookup(ds, frameIndex, Tag.PlaneOrientationSequence, Tag.ImageOrientationPatient);
  const ippAt = functionalGroupLookup(ds, frameIndex, Tag.PlanePositionSequence, Tag.ImagePositionPatient);
  const iop = iopAt?.item.numbers(Tag.ImageOrientationPatient) ?? [];
  if (iop.length !== 6) throw new Skip('no-geometry', 'no ImageOrientationPatient: cannot tell whether axial');
  if (iop.some((v) => !Number.isFinite(v))) {
    throw failed('no-geometry', `geometry: ImageOrientationPatient is not numeric (${iop.join('\\')})`);
  }
  const [rx, ry, rz, cx, cy, cz] = iop as [number, number, number, number, number, number];
  const nx = ry * cz - rz * cy;
  const ny = rz * cx - rx * cz;
  const nz = rx * cy - ry * cx;
  const norm = Math.hypot(nx, ny, nz);
  if (!Number.isFinite(norm) || norm < 1e-6) {
    throw failed('no-geometry', `geometry: degenerate ImageOrientationPatient ${iop.join('\\')}`);
  }
  const normal: [number, number, number] = [nx / norm, ny / norm, nz / norm];
  const tiltDeg = (Math.acos(Math.min(1, Math.abs(normal[2]))) * 180) / Math.PI;
  if (Math.abs(normal[2]) < Math.cos((axialMaxDeg * Math.PI) / 180)) {
    throw new Skip(
      'not-axial',
      `not axial: slice normal ${tiltDeg.toFixed(1)} deg from patient z (IOP ${iop.map(formatG).join('\\')})`,
    );
  }
  const ipp = ippAt?.item.numbers(Tag.ImagePositionPatient) ?? [];
  if (ipp.length !== 3) throw new Skip('no-geometry', 'no ImagePositionPatient: cannot order slice');
  if (ipp.some((v) => !Number.isFinite(v))) {
    throw failed('no-geometry', `geometry: ImagePositionPatient is not numeric (${ipp.join('\\')})`);
  }
  const z = ipp[0]! * normal[0] + ipp[1]! * normal[1] + ipp[2]! * normal[2];
  const standardAxial = Math.abs(rx - 1) < 1e-3 && Math.abs(cy - 1) < 1e-3;
  return { z, tiltDeg, normal, standardAxial };
}

export interface HeaderRoute {
  frames: { index: number; geometry: FrameGeometry }[];
  frameSkips: { index: number; skip: Skip }[];
}

/**
 * Classifies an object and each of its frames from the header alone. Throws Skip when nothing in it is
 * analysable; otherwise returns the analysable frames and the reasons for any frame left out.
 */
export function routeByHeader(ds: DicomDataset, axialMaxDeg: number): HeaderRoute {
  classifyObject(ds);
  const n = numberOfFrames(ds);
  const frames: HeaderRoute['frames'] = [];
  const frameSkips: HeaderRoute['frameSkips'] = [];
  for (let f = 0; f < n; f++) {
    try {
      frames.push({ index: f, geometry: frameGeometry(ds, f, axialMaxDeg) });
    } catch (e) {
      if (!(e instanceof Skip)) throw failed('no-geometry', `geometry: ${(e as Error).message}`);
      frameSkips.push({ index: f, skip: e });
    }
  }
  if (frames.length === 0) {
    const first = frameSkips[0]?.skip ?? new Skip('no-geometry', 'no frames');
    const distinct = new Set(frameSkips.map((s) => s.skip.message)).size;
    if (n > 1 && distinct > 1) throw new Skip(first.code, `all ${n} frames excluded: ${first.message}`, first.kind);
    throw first;
  }
  return { frames, frameSkips };
}
