/**
 * What the report stage receives from the pipeline and what it returns. The report stage knows nothing of
 * the database or the network: a finished analysis in, encoded DICOM objects out.
 */
import type { Threshold } from '../inference/manifest.js';

/** One element copied byte-exact from a source instance (its value bytes as stored, without padding changes). */
export interface RawElement {
  /** Tag as a 32-bit number, e.g. 0x00100010. */
  tag: number;
  /** Two-letter VR (explicit in the source, or from the data dictionary for implicit VR sources). */
  vr: string;
  /** Value bytes exactly as in the source file (string VRs keep the source's character set and padding). */
  bytes: Uint8Array;
}

/** Patient, study and series context of the analysed series, taken from one of its instances. */
export interface ReportSource {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  /** Top-level elements of groups 0x0008, 0x0010 and 0x0020 with string VRs, copied raw from the source. */
  copiedElements: RawElement[];
  /** SpecificCharacterSet of the source, as its values (empty when absent = default repertoire). */
  specificCharacterSet: string[];
  /** Decoded (Unicode) patient orientation hint: true when the key slices are standard axial (L\P). */
  standardAxial: boolean;
}

/** A slice the analysis used (a single-frame CT instance, or one frame of an Enhanced CT object). */
export interface AnalysedSlice {
  sopClassUid: string;
  sopInstanceUid: string;
  /** 1-based frame number within the instance. */
  frame: number;
  numberOfFrames: number;
}

/** A key slice with the image the Secondary Capture shows. */
export interface KeySliceImage {
  slice: AnalysedSlice;
  /** 1-based rank among the key slices (1 = highest probability). */
  rank: number;
  /** Ensemble probability of this slice. */
  probability: number;
  rows: number;
  columns: number;
  /** rows*columns 8-bit grey values: the slice in the brain window (40/80), padding black, MONOCHROME2. */
  pixels: Uint8Array;
  /** Row/column spacing of the source slice in mm, when known (only copied when the SC maps 1:1). */
  pixelSpacing?: [number, number];
}

export interface NodeIdentity {
  /** Station / device name written into the objects. */
  name: string;
  manufacturer: string;
  modelName: string;
  softwareVersion: string;
  /** Stable UID of this node installation (Device Observer UID, DeviceUID). */
  deviceUid: string;
  institutionName?: string;
}

export interface EnsembleIdentity {
  name: string;
  version: string;
  /** SHA-256 identity of the ensemble (members, versions, threshold, rule). */
  digest: string;
  combine: string;
  members: { name: string; version: string; baseline: boolean }[];
}

export interface ReportPredecessor {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
}

export interface ReportInput {
  source: ReportSource;
  /** Every slice analysed, in slice order. */
  analysed: AnalysedSlice[];
  /** The key slices (top ensemble probabilities), rank order. */
  keySlices: KeySliceImage[];
  /** Case hemorrhage score: the maximum ensemble slice probability. */
  caseScore: number;
  /** Decision against the threshold: present when caseScore >= threshold.value. */
  decision: 'present' | 'absent';
  threshold: Threshold;
  ensemble: EnsembleIdentity;
  node: NodeIdentity;
  /** When the result was produced (ContentDate/Time, ContributionDateTime). */
  producedAt: Date;
  /**
   * Digest of everything that determines the content (source series, the instances analysed with their
   * content hashes, ensemble digest, report format version). Output UIDs derive from it deterministically.
   */
  resultDigest: string;
  /** The SR this one supersedes, if an earlier result for the same series had different content. */
  predecessor?: ReportPredecessor;
}

export type OutputKind = 'sr' | 'sc' | 'kos';

export interface BuiltObject {
  kind: OutputKind;
  /** 1-based index among objects of the same kind (SC rank), 1 for the SR. */
  index: number;
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  /** Complete DICOM Part 10 file (preamble, meta, dataset), Explicit VR Little Endian. */
  bytes: Uint8Array;
}
