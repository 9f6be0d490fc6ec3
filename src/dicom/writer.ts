/**
 * A small DICOM Part 10 writer (Explicit VR Little Endian only) for the objects the node produces.
 *
 * Why our own: dcmjs re-encodes every string as UTF-8 and rewrites SpecificCharacterSet to ISO_IR 192, but we
 * must copy patient/study strings byte-exact in the source's character set.
 *
 * Model: a dataset is a Map from tag (32-bit number, e.g. 0x00100010) to an element with an explicit VR. Strings
 * the node writes itself are validated (syntax and the VR's length limit) and encoded in the dataset's declared
 * character set; strings copied from a source travel as raw bytes and are only padded to even length. Every check
 * runs before any byte is produced: `writePart10` either returns a complete file or throws `DicomWriteError`.
 */
import { TransferSyntax } from './constants.js';
import { tagString } from './dataset.js';
import { fileMetaHeader } from './meta.js';


export type StringVr =
  | 'AE' | 'AS' | 'CS' | 'DA' | 'DS' | 'DT' | 'IS' | 'LO' | 'LT' | 'PN' | 'SH' | 'ST' | 'TM' | 'UC' | 'UI' | 'UR' | 'UT';
export type NumberVr = 'US' | 'SS' | 'UL' | 'SL' | 'FL' | 'FD';
export type BytesVr = 'OB' | 'OW' | 'UN';
export type Vr = StringVr | NumberVr | BytesVr | 'SQ';

/** A string element the node writes itself: validated and encoded in the dataset's character set. */
export interface StringElement {
  vr: StringVr;
  value: string | readonly string[];
}
/** A string element copied from a source: its bytes as stored there (character set and content untouched). */
export interface RawStringElement {
  vr: StringVr;
  raw: Uint8Array;
}
export interface NumberElement {
  vr: NumberVr;
  value: number | readonly number[];
}
export interface BytesElement {
  vr: BytesVr;
  value: Uint8Array;
}
export interface SequenceElement {
  vr: 'SQ';
  items: readonly Dataset[];
}
export type DataElement = StringElement | RawStringElement | NumberElement | BytesElement | SequenceElement;
export type Dataset = Map<number, DataElement>;

export class DicomWriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DicomWriteError';
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Element helpers

export const str = (vr: StringVr, value: string | readonly string[]): StringElement => ({ vr, value });
export const raw = (vr: StringVr, bytes: Uint8Array): RawStringElement => ({ vr, raw: bytes });
export const num = (vr: NumberVr, value: number | readonly number[]): NumberElement => ({ vr, value });
export const bytes = (vr: BytesVr, value: Uint8Array): BytesElement => ({ vr, value });
export const seq = (...items: Dataset[]): SequenceElement => ({ vr: 'SQ', items });
export const dataset = (entries: Iterable<readonly [number, DataElement]> = []): Dataset =>
  new Map(Array.from(entries, ([t, e]) => [t, e] as [number, DataElement]));

// ---------------------------------------------------------------------------------------------------------------
// UIDs

const UID_RE = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
/** PS3.5 §9.1: digits and dots, no empty component, no leading zero, at most 64 characters. */
export function isValidUid(uid: string): boolean {
  return uid.length > 0 && uid.length <= 64 && UID_RE.test(uid);
}

// ---------------------------------------------------------------------------------------------------------------
// String validation and encoding

/** Maximum characters per value (PS3.5 Table 6.2-1) for the VRs whose limit matters. */
const MAX_CHARS: Partial<Record<StringVr, number>> = {
  AE: 16, AS: 4, CS: 16, DA: 8, DS: 16, DT: 26, IS: 12, LO: 64, LT: 10240, SH: 16, ST: 1024, TM: 14, UI: 64,
};
/** VRs whose value may not contain a backslash (it separates values); the others are single-valued texts. */
const SINGLE_VALUED_TEXT: ReadonlySet<StringVr> = new Set(['LT', 'ST', 'UT', 'UR']);
/** VRs restricted to the default repertoire (ASCII) whatever the character set. */
const DEFAULT_REPERTOIRE: ReadonlySet<StringVr> = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'TM', 'UI', 'UR']);

const SYNTAX: Partial<Record<StringVr, RegExp>> = {
  AS: /^\d{3}[DWMY]$/,
  CS: /^[A-Z0-9 _]*$/,
  DA: /^\d{8}$/,
  DS: /^ *[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)? *$/,
  DT: /^\d{4}(\d{2}(\d{2}(\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$/,
  IS: /^ *[+-]?\d+ *$/,
  TM: /^\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?$/,
};

function fail(tag: number, vr: string, message: string): never {
  throw new DicomWriteError(`${tagString(tag)} ${vr}: ${message}`);
}

function checkStringValue(tag: number, vr: StringVr, v: string): void {
  if (v.length === 0) return;
  const max = MAX_CHARS[vr];
  if (vr === 'PN') {
    for (const group of v.split('=')) {
      if (group.length > 64) fail(tag, vr, `person name component group longer than 64 characters: ${JSON.stringify(v)}`);
    }
  } else if (max !== undefined && v.length > max) {
    fail(tag, vr, `value ${JSON.stringify(v)} has ${v.length} characters, the VR allows at most ${max}`);
  }
  if (!SINGLE_VALUED_TEXT.has(vr) && v.includes('\\')) {
    fail(tag, vr, `value ${JSON.stringify(v)} contains a backslash (the value delimiter)`);
  }
  const allowedControls = vr === 'LT' || vr === 'ST' || vr === 'UT' ? /[\t\n\f\r\x1b]/ : /\x1b/;
  for (const ch of v) {
    const c = ch.codePointAt(0)!;
    if ((c < 0x20 || c === 0x7f) && !allowedControls.test(ch)) {
      fail(tag, vr, `value ${JSON.stringify(v)} contains control character 0x${c.toString(16)}`);
    }
  }
  if (DEFAULT_REPERTOIRE.has(vr) && /[^\x20-\x7e]/.test(v)) {
    fail(tag, vr, `value ${JSON.stringify(v)} is not in the default repertoire (ASCII)`);
  }
  if (vr === 'UI' && !isValidUid(v)) fail(tag, vr, `${JSON.stringify(v)} is not a valid UID`);
  const re = SYNTAX[vr];
  if (re && !re.test(v)) fail(tag, vr, `${JSON.stringify(v)} is not a valid ${vr} value`);
  if (vr === 'IS') {
    const n = Number(v.trim());
    if (n < -(2 ** 31) || n > 2 ** 31 - 1) fail(tag, vr, `${v} is outside the IS range`);
  }
  if (vr === 'DS' && !Number.isFinite(Number(v.trim()))) fail(tag, vr, `${v} is not finite`);
}

/**
 * Encodes text in the declared character set. ASCII is valid in every character set the node meets (their G0 is
 * ASCII); beyond ASCII only UTF-8 (ISO_IR 192) and Latin-1 (ISO_IR 100) are written, anything else throws.
 */
function encodeText(tag: number, vr: StringVr, text: string, charset: readonly string[]): Uint8Array {
  if (!/[^\x00-\x7f]/.test(text)) return Buffer.from(text, 'latin1');
  const declared = charset.map((c) => c.trim());
  const first = declared[0] ?? '';
  if (declared.length <= 1 && first === 'ISO_IR 192') return Buffer.from(text, 'utf8');
  if (declared.length <= 1 && first === 'ISO_IR 100' && !/[^\x00-\xff]/.test(text)) return Buffer.from(text, 'latin1');
  return fail(
    tag,
    vr,
    `cannot encode ${JSON.stringify(text)} in SpecificCharacterSet ${declared.length ? declared.join('\\') : '(default repertoire)'}`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding

const LONG_LENGTH_VRS: ReadonlySet<string> = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

class Out {
  private chunks: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u16(v: number): void {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    this.push(b);
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    this.push(b);
  }
  tag(t: number): void {
    this.u16(t >>> 16);
    this.u16(t & 0xffff);
  }
  ascii(s: string): void {
    this.push(Buffer.from(s, 'latin1'));
  }
  concat(): Uint8Array {
    return Buffer.concat(this.chunks, this.length);
  }
}

function pad(b: Uint8Array, byte: number): Uint8Array {
  if (b.length % 2 === 0) return b;
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  out[b.length] = byte;
  return out;
}

const NUMBER_RANGES: Record<Exclude<NumberVr, 'FL' | 'FD'>, [number, number, number]> = {
  US: [0, 0xffff, 2],
  SS: [-0x8000, 0x7fff, 2],
  UL: [0, 0xffffffff, 4],
  SL: [-0x80000000, 0x7fffffff, 4],
};

function encodeNumbers(tag: number, vr: NumberVr, value: number | readonly number[]): Uint8Array {
  const values = typeof value === 'number' ? [value] : value;
  const size = vr === 'FD' ? 8 : vr === 'FL' || vr === 'UL' || vr === 'SL' ? 4 : 2;
  const b = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) fail(tag, vr, `${v} is not a finite number`);
    const o = i * size;
    if (vr === 'FD') b.writeDoubleLE(v, o);
    else if (vr === 'FL') b.writeFloatLE(v, o);
    else {
      const [lo, hi] = NUMBER_RANGES[vr];
      if (!Number.isInteger(v) || v < lo || v > hi) fail(tag, vr, `${v} is not an integer in ${lo}..${hi}`);
      if (vr === 'US') b.writeUInt16LE(v, o);
      else if (vr === 'SS') b.writeInt16LE(v, o);
      else if (vr === 'UL') b.writeUInt32LE(v, o);
      else b.writeInt32LE(v, o);
    }
  });
  return b;
}

/**
 * Why a copied value would be invalid, or undefined when it is fine. Only values of the VRs restricted to the
 * default repertoire (dates, times, codes, UIDs...) are checked: their bytes are ASCII whatever the character set,
 * so they can be read without decoding. Text VRs are copied unchecked, as their bytes are the point of copying.
 */
export function rawStringProblem(tag: number, vr: StringVr, rawBytes: Uint8Array): string | undefined {
  if (!DEFAULT_REPERTOIRE.has(vr)) return undefined;
  const text = Buffer.from(rawBytes).toString('latin1').replace(/[\0 ]+$/, '');
  const values = SINGLE_VALUED_TEXT.has(vr) ? [text] : text.split('\\');
  try {
    for (const v of values) checkStringValue(tag, vr, vr === 'UI' ? v : v.trim());
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

function valueBytes(tag: number, el: Exclude<DataElement, SequenceElement>, charset: readonly string[]): Uint8Array {
  if ('raw' in el) {
    const problem = rawStringProblem(tag, el.vr, el.raw);
    if (problem) throw new DicomWriteError(`copied value: ${problem}`);
    return pad(el.raw, el.vr === 'UI' ? 0 : 0x20);
  }
  switch (el.vr) {
    case 'US': case 'SS': case 'UL': case 'SL': case 'FL': case 'FD':
      return encodeNumbers(tag, el.vr, el.value);
    case 'OB': case 'OW': case 'UN':
      if (el.vr === 'OW' && el.value.length % 2 !== 0) fail(tag, el.vr, 'OW value has an odd number of bytes');
      return pad(el.value, 0);
    default: {
      const values = typeof el.value === 'string' ? [el.value] : el.value;
      if (SINGLE_VALUED_TEXT.has(el.vr) && values.length > 1) fail(tag, el.vr, 'this VR takes a single value');
      for (const v of values) checkStringValue(tag, el.vr, v);
      const text = values.join('\\');
      return pad(encodeText(tag, el.vr, text, charset), el.vr === 'UI' ? 0 : 0x20);
    }
  }
}

function encodeElement(out: Out, tag: number, el: DataElement, charset: readonly string[]): void {
  if (!/^[A-Z]{2}$/.test(el.vr)) fail(tag, el.vr, 'not a VR');
  if (el.vr === 'SQ') {
    const body = new Out();
    for (const item of el.items) {
      const encoded = encodeDatasetWith(item, charset);
      body.tag(0xfffee000);
      body.u32(encoded.length);
      body.push(encoded);
    }
    out.tag(tag);
    out.ascii('SQ');
    out.u16(0);
    out.u32(body.length);
    out.push(body.concat());
    return;
  }
  const value = valueBytes(tag, el, charset);
  out.tag(tag);
  out.ascii(el.vr);
  if (LONG_LENGTH_VRS.has(el.vr)) {
    if (value.length > 0xfffffffe) fail(tag, el.vr, 'value too long');
    out.u16(0);
    out.u32(value.length);
  } else {
    if (value.length > 0xfffe) fail(tag, el.vr, `value of ${value.length} bytes does not fit a 16-bit length`);
    out.u16(value.length);
  }
  out.push(value);
}

function encodeDatasetWith(ds: Dataset, charset: readonly string[]): Uint8Array {
  const out = new Out();
  const entries = [...ds].map(([t, el]) => [t >>> 0, el] as const).sort((a, b) => a[0] - b[0]);
  entries.forEach(([tag, el], i) => {
    const group = tag >>> 16;
    if (group === 0x0002) fail(tag, '--', 'file meta elements belong to the meta header, not the dataset');
    if (group === 0xfffe) fail(tag, '--', 'item and delimiter tags cannot be dataset elements');
    if ((tag & 0xffff) === 0) fail(tag, '--', 'group length elements are not written');
    if (i > 0 && entries[i - 1]![0] === tag) fail(tag, '--', 'the same tag twice (as a negative and a positive number)');
    encodeElement(out, tag, el, charset);
  });
  return out.concat();
}

/** The SpecificCharacterSet values a dataset declares (from a written or a raw copied (0008,0005)). */
export function declaredCharset(ds: Dataset): string[] {
  const el = ds.get(0x00080005);
  if (!el) return [];
  if ('raw' in el) return Buffer.from(el.raw).toString('latin1').split('\\').map((s) => s.trim());
  if (el.vr !== 'CS') fail(0x00080005, el.vr, 'SpecificCharacterSet must be CS');
  return (typeof el.value === 'string' ? [el.value] : [...(el.value as readonly string[])]).map((s) => s.trim());
}

/** Encodes a dataset (no preamble or meta) in Explicit VR Little Endian. */
export function encodeDataset(ds: Dataset): Uint8Array {
  return encodeDatasetWith(ds, declaredCharset(ds));
}

function uidOf(ds: Dataset, tag: number, name: string): string {
  const el = ds.get(tag);
  if (!el || el.vr !== 'UI' || !('value' in el) || typeof el.value !== 'string' || !isValidUid(el.value)) {
    return fail(tag, 'UI', `${name} must be present as a single valid UID to write a Part 10 file`);
  }
  return el.value;
}

/**
 * A complete Part 10 file: 128-byte preamble, "DICM", the file meta group (0002) with its group length, and the
 * dataset in Explicit VR Little Endian. MediaStorageSOPClass/InstanceUID come from the dataset's (0008,0016/0018).
 */
export function writePart10(ds: Dataset): Uint8Array {
  const sopClassUid = uidOf(ds, 0x00080016, 'SOPClassUID');
  const sopInstanceUid = uidOf(ds, 0x00080018, 'SOPInstanceUID');
  const meta = fileMetaHeader({ sopClassUid, sopInstanceUid, transferSyntaxUid: TransferSyntax.ExplicitVRLittleEndian });
  return Buffer.concat([meta, encodeDataset(ds)]);
}
