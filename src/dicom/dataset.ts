/**
 * Reading DICOM files: dicom-parser does the byte-level parsing (it keeps element offsets, so values can be
 * copied raw and decoded with the right character set); this module adds the cases real archives send that it
 * does not handle alone (no preamble, meta without a transfer syntax, deflate, truncation) and typed access.
 */
import { inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import dcmjs from 'dcmjs';
import { decodeText } from './charset.js';
import { SUPPORTED_SYNTAXES, Tag, TransferSyntax } from './constants.js';

type ParserDataSet = dicomParser.DataSet;
type ParserElement = dicomParser.Element;

export function tagKey(tag: number): string {
  return 'x' + tag.toString(16).padStart(8, '0');
}

export function tagString(tag: number): string {
  const h = tag.toString(16).padStart(8, '0').toUpperCase();
  return `(${h.slice(0, 4)},${h.slice(4)})`;
}

const dictionary = dcmjs.data.DicomMetaDictionary.dictionary as Record<string, { vr: string } | undefined>;

/** VR from the data dictionary ('xs' = US or SS, 'ox' = OB or OW, 'lt' = US or OW): undefined when unknown. */
export function dictionaryVr(tag: number): string | undefined {
  const h = tag.toString(16).padStart(8, '0').toUpperCase();
  return dictionary[`(${h.slice(0, 4)},${h.slice(4)})`]?.vr;
}

const TEXT_VRS = new Set(['SH', 'LO', 'ST', 'LT', 'UT', 'UC', 'PN']);

/** Typed, charset-aware access to one (sub)dataset. */
export class DicomDataset {
  constructor(
    readonly raw: ParserDataSet,
    readonly specificCharacterSet: readonly string[],
    readonly explicitVr: boolean,
  ) {}

  element(tag: number): ParserElement | undefined {
    return this.raw.elements[tagKey(tag)];
  }

  has(tag: number): boolean {
    return this.element(tag) !== undefined;
  }

  /** The element's VR: as written (explicit VR) or from the dictionary (implicit VR). */
  vr(tag: number): string | undefined {
    const el = this.element(tag);
    if (!el) return undefined;
    return el.vr ?? dictionaryVr(tag);
  }

  /** The value bytes as stored (no copy). Undefined for absent elements and undefined-length values. */
  bytes(tag: number): Uint8Array | undefined {
    const el = this.element(tag);
    if (!el || el.length === 0xffffffff || el.dataOffset === undefined) return undefined;
    const end = Math.min(el.dataOffset + el.length, this.raw.byteArray.length);
    return this.raw.byteArray.subarray(el.dataOffset, end);
  }

  /** All string values, decoded to Unicode, each with its padding removed. */
  strings(tag: number): string[] {
    const b = this.bytes(tag);
    if (!b || b.length === 0) return [];
    const vr = this.vr(tag) ?? 'LO';
    const s = TEXT_VRS.has(vr) ? decodeText(b, this.specificCharacterSet, vr) : decodeText(b, [], vr);
    const keepLeading = vr === 'ST' || vr === 'LT' || vr === 'UT';
    const values = vr === 'ST' || vr === 'LT' || vr === 'UT' ? [s] : s.split('\\');
    return values.map((v) => {
      const t = v.replace(/[\0 ]+$/, '');
      return keepLeading ? t : t.trimStart();
    });
  }

  string(tag: number, index = 0): string | undefined {
    const v = this.strings(tag)[index];
    return v === undefined || v === '' ? undefined : v;
  }

  /**
   * Numeric values: DS/IS parsed from text (tolerating forms like `001.000000E+00`), binary VRs read with the
   * dataset's byte order. `signed` resolves the ambiguous US-or-SS VR of implicit VR datasets.
   */
  numbers(tag: number, signed = false): number[] {
    const el = this.element(tag);
    if (!el) return [];
    let vr = this.vr(tag) ?? '';
    if (vr === 'xs' || vr === 'US or SS') vr = signed ? 'SS' : 'US';
    if (vr === 'DS' || vr === 'IS') {
      return this.strings(tag).map((s) => (s.trim() === '' ? NaN : Number(s.trim())));
    }
    const size = ({ US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, AT: 4 } as Record<string, number>)[vr];
    if (!size) {
      // Unknown VR: try text (many private or malformed elements hold numbers as text).
      return this.strings(tag).map((s) => Number(s));
    }
    const n = Math.floor(el.length / size);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const v =
        vr === 'US' ? this.raw.uint16(tagKey(tag), i)
        : vr === 'SS' ? this.raw.int16(tagKey(tag), i)
        : vr === 'UL' || vr === 'AT' ? this.raw.uint32(tagKey(tag), i)
        : vr === 'SL' ? this.raw.int32(tagKey(tag), i)
        : vr === 'FL' ? this.raw.float(tagKey(tag), i)
        : this.raw.double(tagKey(tag), i);
      out.push(v ?? NaN);
    }
    return out;
  }

  /** The first value as a finite number, else undefined. */
  number(tag: number, signed = false): number | undefined {
    const v = this.numbers(tag, signed)[0];
    return v === undefined || !Number.isFinite(v) ? undefined : v;
  }

  int(tag: number, signed = false): number | undefined {
    const v = this.number(tag, signed);
    return v === undefined ? undefined : Math.trunc(v);
  }

  /** Items of a sequence (empty when absent or not a sequence). */
  sequence(tag: number): DicomDataset[] {
    const el = this.element(tag);
    if (!el?.items) return [];
    return el.items.filter((it) => it.dataSet).map((it) => new DicomDataset(it.dataSet!, this.specificCharacterSet, this.explicitVr));
  }

  /** Elements present at this level, as tags. */
  tags(): number[] {
    return Object.keys(this.raw.elements)
      .map((k) => parseInt(k.slice(1), 16))
      .sort((a, b) => a - b);
  }
}

/**
 * PatientName as Unicode text, decoded with the data set's character set. Trailing empty component groups
 * ("Wang^XiaoDong=王^小東=") are insignificant (PS3.5 6.2) and dropped, as pydicom does.
 */
export function patientNameText(ds: DicomDataset): string | null {
  return ds.string(Tag.PatientName)?.replace(/=+$/, '') ?? null;
}

export interface DicomFile {
  dataset: DicomDataset;
  transferSyntaxUid: string;
  /** True when the transfer syntax came from the file meta; false when it was guessed. */
  transferSyntaxFromMeta: boolean;
  hasPreamble: boolean;
  /** Byte offset of the data set (just past the file meta group) in the file as stored. */
  datasetOffset: number;
  littleEndian: boolean;
  /** Set when the file ended early or an element could not be parsed: the dataset holds what came before. */
  parseError?: string;
  /** Notes about leniency applied while reading (shown with results, never silently). */
  notes: string[];
}

export class NotDicomError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotDicomError';
  }
}

function errorText(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object' && 'exception' in e) return errorText((e as { exception: unknown }).exception);
  if (e instanceof Error) return e.message;
  return String(e);
}

function vrCallback(tagKeyString: string): string | undefined {
  const vr = dictionaryVr(parseInt(tagKeyString.slice(1), 16));
  return vr && vr.length === 2 && vr === vr.toUpperCase() ? vr : undefined;
}

const VR_CODES = new Set(
  'AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(' '),
);

/** Guess the syntax of a dataset that has no (usable) meta, from its first element, as pydicom does. */
function guessSyntax(b: Uint8Array, at: number): string {
  if (b.length < at + 8) return TransferSyntax.ImplicitVRLittleEndian;
  const vr = String.fromCharCode(b[at + 4]!, b[at + 5]!);
  if (VR_CODES.has(vr)) {
    // group number 0x0008 reads as 0x0800 when big endian
    return b[at] === 0 && b[at + 1] !== 0 ? TransferSyntax.ExplicitVRBigEndian : TransferSyntax.ExplicitVRLittleEndian;
  }
  return TransferSyntax.ImplicitVRLittleEndian;
}

/** Offset just past the group 0002 elements starting at `at` (explicit VR little endian by definition). */
function skipMetaGroup(b: Uint8Array, at: number): { end: number; transferSyntax?: string } {
  let pos = at;
  let ts: string | undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  while (pos + 8 <= b.length && dv.getUint16(pos, true) === 0x0002) {
    const elem = dv.getUint16(pos + 2, true);
    const vr = String.fromCharCode(b[pos + 4]!, b[pos + 5]!);
    let len: number;
    let header: number;
    if (['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr)) {
      len = dv.getUint32(pos + 8, true);
      header = 12;
    } else {
      len = dv.getUint16(pos + 6, true);
      header = 8;
    }
    if (elem === 0x0010) {
      ts = String.fromCharCode(...b.subarray(pos + header, pos + header + len)).replace(/[\0 ]+$/, '');
    }
    pos += header + len;
  }
  return { end: pos, transferSyntax: ts };
}

/** Parses a DICOM file (Part 10, or a bare dataset as some archives write). Throws NotDicomError if it is not DICOM. */
export function readDicom(buf: Buffer): DicomFile {
  const notes: string[] = [];
  const hasPreamble = buf.length >= 132 && buf.toString('latin1', 128, 132) === 'DICM';
  const metaAt = hasPreamble ? 132 : buf.length >= 8 && buf[0] === 0x02 && buf[1] === 0x00 ? 0 : -1;
  if (!hasPreamble) notes.push(metaAt === 0 ? 'file meta without the 128-byte preamble' : 'no file meta information');

  let datasetStart = 0;
  let metaTs: string | undefined;
  let metaDataSet: ParserDataSet | undefined;
  if (metaAt >= 0) {
    const m = skipMetaGroup(buf, metaAt);
    datasetStart = m.end;
    metaTs = m.transferSyntax;
    if (hasPreamble && metaTs) {
      try {
        metaDataSet = dicomParser.parseDicom(buf.subarray(0, datasetStart), { untilTag: 'x00030000' });
      } catch {
        metaDataSet = undefined;
      }
    }
  }
  const fromMeta = metaTs !== undefined && metaTs !== '';
  const ts = fromMeta ? metaTs! : guessSyntax(buf, datasetStart);
  if (!fromMeta && metaAt >= 0) notes.push(`no transfer syntax in the file meta; read as ${ts}`);

  const info = SUPPORTED_SYNTAXES.get(ts);
  let body: Buffer = buf.subarray(datasetStart);
  if (info?.deflated) {
    try {
      body = inflateRawSync(body);
    } catch (e) {
      throw new NotDicomError(`deflated dataset cannot be inflated: ${errorText(e)}`);
    }
  }
  const explicit = ts !== TransferSyntax.ImplicitVRLittleEndian;
  const littleEndian = ts !== TransferSyntax.ExplicitVRBigEndian;
  const options: dicomParser.ParseDicomOptions & { vrCallback?: (tag: string) => string | undefined } = {
    TransferSyntaxUID: info?.deflated ? TransferSyntax.ExplicitVRLittleEndian : ts,
    vrCallback,
  };
  let raw: ParserDataSet;
  let parseError: string | undefined;
  try {
    // A zero-length byte array would make dicom-parser look for a preamble; keep at least one byte.
    raw = dicomParser.parseDicom(body.length >= 133 ? body : Buffer.concat([body, Buffer.alloc(133 - body.length)]), options);
  } catch (e) {
    const partial = e && typeof e === 'object' && 'dataSet' in e ? (e as { dataSet: ParserDataSet }).dataSet : undefined;
    if (!partial) throw new NotDicomError(errorText(e));
    raw = partial;
    parseError = errorText(e);
  }
  if (metaDataSet) {
    for (const [k, v] of Object.entries(metaDataSet.elements)) if (k.startsWith('x0002')) raw.elements[k] ??= v;
  }
  const probe = new DicomDataset(raw, [], explicit);
  const charset = probe.has(Tag.SpecificCharacterSet) ? probe.strings(Tag.SpecificCharacterSet).map((s) => s.trim()) : [];
  const dataset = new DicomDataset(raw, charset, explicit);
  const realElements = Object.keys(raw.elements).filter((k) => !k.startsWith('x0002') && k !== 'x00000000');
  if (!hasPreamble && metaAt < 0 && !looksLikeDataset(dataset, realElements.length)) {
    throw new NotDicomError('no DICOM preamble and no recognisable DICOM elements');
  }
  return { dataset, transferSyntaxUid: ts, transferSyntaxFromMeta: fromMeta, hasPreamble, datasetOffset: datasetStart, littleEndian, parseError, notes };
}

/** A forced read of a non-DICOM file yields garbage elements; insist on some image-ish content (as pydicom's users do). */
function looksLikeDataset(ds: DicomDataset, count: number): boolean {
  return count > 0 && (ds.has(Tag.SOPClassUID) || ds.has(Tag.PixelData) || ds.has(Tag.Modality));
}
