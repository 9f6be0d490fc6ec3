/**
 * Decoding of DICOM text (SpecificCharacterSet, PS3.3 C.12.1.1.2 and PS3.5 6.1) to Unicode.
 *
 * Written here because the DICOM readers available for Node either ignore SpecificCharacterSet or refuse code
 * extensions (ISO 2022 escape sequences), which Japanese, Korean and Chinese archives use. The byte-level work
 * is left to the WHATWG TextDecoder; this module only maps DICOM terms to encodings and follows escape
 * sequences.
 */

import { TextDecoder } from 'node:util';

/** Single-byte and multi-byte sets without code extensions: the whole value decodes with one decoder. */
const PLAIN_SETS: Record<string, string> = {
  '': 'latin1-strict',
  'ISO_IR 6': 'latin1-strict',
  'ISO_IR 100': 'latin1-strict',
  'ISO_IR 101': 'iso-8859-2',
  'ISO_IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4',
  'ISO_IR 144': 'iso-8859-5',
  'ISO_IR 127': 'iso-8859-6',
  'ISO_IR 126': 'iso-8859-7',
  'ISO_IR 138': 'iso-8859-8',
  'ISO_IR 148': 'iso-8859-9',
  'ISO_IR 203': 'iso-8859-15',
  'ISO_IR 13': 'shift_jis',
  'ISO_IR 166': 'windows-874',
  'ISO_IR 192': 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

/** A graphic set that can be designated to G0 (7-bit bytes) or G1 (8-bit bytes). */
type GraphicSet =
  | { kind: 'ascii' }
  | { kind: 'romaji' }
  | { kind: 'jisx0208' }
  | { kind: 'jisx0212' }
  | { kind: 'katakana' }
  | { kind: 'ksx1001' }
  | { kind: 'gb2312' }
  | { kind: 'single'; encoding: string };

const ASCII: GraphicSet = { kind: 'ascii' };

/** G1 single-byte sets by ISO 2022 term and by their escape sequence's final byte (ESC - F). */
const SINGLE_BYTE_G1: Record<string, { final: string; encoding: string }> = {
  'ISO 2022 IR 100': { final: 'A', encoding: 'latin1-strict' },
  'ISO 2022 IR 101': { final: 'B', encoding: 'iso-8859-2' },
  'ISO 2022 IR 109': { final: 'C', encoding: 'iso-8859-3' },
  'ISO 2022 IR 110': { final: 'D', encoding: 'iso-8859-4' },
  'ISO 2022 IR 144': { final: 'L', encoding: 'iso-8859-5' },
  'ISO 2022 IR 127': { final: 'G', encoding: 'iso-8859-6' },
  'ISO 2022 IR 126': { final: 'F', encoding: 'iso-8859-7' },
  'ISO 2022 IR 138': { final: 'H', encoding: 'iso-8859-8' },
  'ISO 2022 IR 148': { final: 'M', encoding: 'iso-8859-9' },
  'ISO 2022 IR 203': { final: 'b', encoding: 'iso-8859-15' },
  'ISO 2022 IR 166': { final: 'T', encoding: 'windows-874' },
};

/** Initial G0/G1 designations for the first value of SpecificCharacterSet when it uses code extensions. */
function initialSets(term: string): { g0: GraphicSet; g1: GraphicSet | null } {
  if (term === 'ISO 2022 IR 13') return { g0: { kind: 'romaji' }, g1: { kind: 'katakana' } };
  if (term === 'ISO 2022 IR 87') return { g0: { kind: 'jisx0208' }, g1: null };
  if (term === 'ISO 2022 IR 159') return { g0: { kind: 'jisx0212' }, g1: null };
  if (term === 'ISO 2022 IR 149') return { g0: ASCII, g1: { kind: 'ksx1001' } };
  if (term === 'ISO 2022 IR 58') return { g0: ASCII, g1: { kind: 'gb2312' } };
  const single = SINGLE_BYTE_G1[term];
  if (single) return { g0: ASCII, g1: { kind: 'single', encoding: single.encoding } };
  return { g0: ASCII, g1: null };
}

const decoders = new Map<string, TextDecoder>();
function decodeWith(encoding: string, bytes: Uint8Array): string {
  if (encoding === 'latin1-strict') {
    // WHATWG maps "latin1" to windows-1252; DICOM's ISO_IR 100 is true ISO 8859-1, which is byte = code point.
    let s = '';
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  let d = decoders.get(encoding);
  if (!d) {
    d = new TextDecoder(encoding);
    decoders.set(encoding, d);
  }
  return d.decode(bytes);
}

function decodeRun(set: GraphicSet, bytes: Uint8Array): string {
  switch (set.kind) {
    case 'ascii':
    case 'romaji':
      return decodeWith('latin1-strict', bytes);
    case 'jisx0208':
      // 7-bit JIS X 0208 pairs are EUC-JP with the high bit cleared.
      return decodeWith('euc-jp', bytes.map((b) => b | 0x80));
    case 'jisx0212': {
      const out: number[] = [];
      for (let i = 0; i + 1 < bytes.length; i += 2) out.push(0x8f, bytes[i]! | 0x80, bytes[i + 1]! | 0x80);
      return decodeWith('euc-jp', Uint8Array.from(out));
    }
    case 'katakana':
      return decodeWith('shift_jis', bytes);
    case 'ksx1001':
      return decodeWith('euc-kr', bytes);
    case 'gb2312':
      return decodeWith('gbk', bytes);
    case 'single':
      return decodeWith(set.encoding, bytes);
  }
}

const ESC = 0x1b;

/** Reads the escape sequence at `i` (bytes[i] === ESC); returns its length and the designation it makes. */
function readEscape(bytes: Uint8Array, i: number): { length: number; g0?: GraphicSet; g1?: GraphicSet } {
  const s = String.fromCharCode(...bytes.subarray(i + 1, i + 4));
  if (s.startsWith('(B')) return { length: 3, g0: ASCII };
  if (s.startsWith('(J')) return { length: 3, g0: { kind: 'romaji' } };
  if (s.startsWith(')I')) return { length: 3, g1: { kind: 'katakana' } };
  if (s.startsWith('$B') || s.startsWith('$@')) return { length: 3, g0: { kind: 'jisx0208' } };
  if (s.startsWith('$(D')) return { length: 4, g0: { kind: 'jisx0212' } };
  if (s.startsWith('$)C')) return { length: 4, g1: { kind: 'ksx1001' } };
  if (s.startsWith('$)A')) return { length: 4, g1: { kind: 'gb2312' } };
  if (s[0] === '-') {
    const entry = Object.values(SINGLE_BYTE_G1).find((e) => e.final === s[1]);
    if (entry) return { length: 3, g1: { kind: 'single', encoding: entry.encoding } };
  }
  return { length: 1 }; // unknown: drop the ESC byte itself, keep going
}

/** Bytes at which a value's character state returns to the initial designation (PS3.5 6.1.2.5.3). */
function isResetDelimiter(b: number, vr: string): boolean {
  if (b === 0x5c || b === 0x0d || b === 0x0a || b === 0x09 || b === 0x0c) return true;
  return vr === 'PN' && (b === 0x5e || b === 0x3d);
}

/** Decodes a string value's bytes (trailing padding included or not) to Unicode. */
export function decodeText(bytes: Uint8Array, specificCharacterSet: readonly string[], vr = 'LO'): string {
  const terms = specificCharacterSet.map((t) => t.trim());
  const first = terms[0] ?? '';
  const usesExtensions = terms.some((t) => t.startsWith('ISO 2022'));
  if (!usesExtensions) {
    const enc = PLAIN_SETS[first] ?? 'latin1-strict';
    return decodeWith(enc, bytes);
  }
  const initial = initialSets(first);
  let g0 = initial.g0;
  let g1 = initial.g1;
  let out = '';
  let runStart = 0;
  let runSet: GraphicSet | null = null;
  const flush = (end: number) => {
    if (runSet && end > runStart) out += decodeRun(runSet, bytes.subarray(runStart, end));
  };
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    if (b === ESC) {
      flush(i);
      const esc = readEscape(bytes, i);
      if (esc.g0) g0 = esc.g0;
      if (esc.g1) g1 = esc.g1;
      i += esc.length;
      runStart = i;
      runSet = null;
      continue;
    }
    const set: GraphicSet = b >= 0x80 ? (g1 ?? { kind: 'single', encoding: 'latin1-strict' }) : g0;
    const multiByteG0 = set.kind === 'jisx0208' || set.kind === 'jisx0212';
    if (!multiByteG0 && b < 0x80 && isResetDelimiter(b, vr)) {
      flush(i);
      out += String.fromCharCode(b);
      g0 = initial.g0;
      g1 = initial.g1;
      i += 1;
      runStart = i;
      runSet = null;
      continue;
    }
    if (runSet !== set) {
      flush(i);
      runStart = i;
      runSet = set;
    }
    i += multiByteG0 ? 2 : 1;
  }
  flush(bytes.length);
  return out;
}

/** True when every term of a SpecificCharacterSet value can be decoded by this module. */
export function isKnownCharacterSet(specificCharacterSet: readonly string[]): boolean {
  return specificCharacterSet.every((t) => {
    const term = t.trim();
    return term in PLAIN_SETS || term.startsWith('ISO 2022 IR ') && (
      term === 'ISO 2022 IR 6' || term === 'ISO 2022 IR 13' || term === 'ISO 2022 IR 87' ||
      term === 'ISO 2022 IR 159' || term === 'ISO 2022 IR 149' || term === 'ISO 2022 IR 58' || term in SINGLE_BYTE_G1);
  });
}
