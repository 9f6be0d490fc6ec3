/**
 * Stored pixel values of one frame: native byte order or decoded with the dcmjs-codecs WebAssembly codecs
 * (DCMTK's IJG JPEG 8/12/16-bit incl. lossless, CharLS JPEG-LS, OpenJPEG, RLE), then read as unsigned,
 * shifted by HighBit+1-BitsStored, masked to BitsStored and sign-extended when PixelRepresentation is 1. Doing
 * the masking here, whatever the codec did with unused high bits, makes every encoding of a slice agree.
 */
import codecs from 'dcmjs-codecs';
import { SUPPORTED_SYNTAXES, Tag, syntaxName } from '../dicom/constants.js';
import type { DicomDataset, DicomFile } from '../dicom/dataset.js';
import { numberOfFrames } from './classify.js';
import { Skip, failed } from './skip.js';

/** Refuse anything claiming more than 256 Mi pixels (headers lie; never size buffers from them alone). */
const MAX_PIXELS = 1 << 28;

let codecsReady: Promise<void> | undefined;
/** Loads the codec WebAssembly once per thread. */
export function initCodecs(): Promise<void> {
  codecsReady ??= codecs.NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false });
  return codecsReady;
}

export interface PixelLayout {
  rows: number;
  columns: number;
  frames: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: number;
  photometric: string;
}

export function pixelLayout(ds: DicomDataset): PixelLayout {
  const rows = ds.int(Tag.Rows);
  const columns = ds.int(Tag.Columns);
  const ba = ds.int(Tag.BitsAllocated);
  if (rows === undefined || columns === undefined) throw failed('header-invalid', 'pixel decode: Rows or Columns missing');
  if (ba === undefined) throw failed('header-invalid', 'pixel decode: BitsAllocated missing');
  const bs = ds.int(Tag.BitsStored) ?? ba;
  const hb = ds.int(Tag.HighBit) ?? bs - 1;
  const pr = ds.int(Tag.PixelRepresentation) ?? 0;
  const spp = ds.int(Tag.SamplesPerPixel) ?? 1;
  const frames = numberOfFrames(ds);
  if (spp !== 1) throw failed('decode-failed', `pixel decode: SamplesPerPixel=${spp}`);
  if (ba !== 8 && ba !== 16 && ba !== 32) throw failed('decode-failed', `pixel decode: unsupported BitsAllocated=${ba}`);
  if (!(bs >= 1 && bs <= ba) || hb < bs - 1 || hb >= ba) {
    throw failed('header-invalid', `pixel decode: inconsistent BitsStored=${bs} HighBit=${hb} BitsAllocated=${ba}`);
  }
  if (rows <= 0 || columns <= 0 || rows * columns * frames > MAX_PIXELS) {
    throw failed('header-invalid', `pixel decode: implausible dimensions ${rows}x${columns}x${frames}`);
  }
  return {
    rows,
    columns,
    frames,
    bitsAllocated: ba,
    bitsStored: bs,
    highBit: hb,
    pixelRepresentation: pr,
    photometric: ds.string(Tag.PhotometricInterpretation) ?? 'MONOCHROME2',
  };
}

/** Splits encapsulated pixel data into one byte array per frame (PS3.5 A.4). */
export function encapsulatedFrames(ds: DicomDataset, frames: number): Uint8Array[] {
  const el = ds.element(Tag.PixelData);
  const fragments = el?.fragments ?? [];
  const bytes = ds.raw.byteArray;
  const fragmentBytes = fragments.map((f) => bytes.subarray(f.position, Math.min(f.position + f.length, bytes.length)));
  if (fragmentBytes.length === 0) throw failed('decode-failed', 'pixel decode: encapsulated Pixel Data has no fragments');
  const concat = (parts: Uint8Array[]) => {
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  };
  const bot = el?.basicOffsetTable ?? [];
  if (bot.length === frames && frames > 1) {
    // Offsets are relative to the first fragment's item tag; fragment.offset is on the same scale.
    return bot.map((start, i) => {
      const end = i + 1 < bot.length ? bot[i + 1]! : Infinity;
      return concat(fragments.flatMap((f, j) => (f.offset >= start && f.offset < end ? [fragmentBytes[j]!] : [])));
    });
  }
  if (frames === 1) return [concat(fragmentBytes)];
  if (fragmentBytes.length === frames) return fragmentBytes;
  // No usable offset table and several fragments per frame: a frame ends with the EOI/EOC marker (FFD9),
  // possibly followed by one padding byte.
  const out: Uint8Array[] = [];
  let current: Uint8Array[] = [];
  for (const f of fragmentBytes) {
    current.push(f);
    const n = f.length;
    const endsWithEoi =
      (n >= 2 && f[n - 2] === 0xff && f[n - 1] === 0xd9) || (n >= 3 && f[n - 3] === 0xff && f[n - 2] === 0xd9 && f[n - 1] === 0);
    if (endsWithEoi) {
      out.push(concat(current));
      current = [];
    }
  }
  if (current.length) out.push(concat(current));
  if (out.length !== frames) {
    throw failed('decode-failed', `pixel decode: found ${out.length} encapsulated frames, NumberOfFrames=${frames}`);
  }
  return out;
}

function decodeFrame(codec: string, layout: PixelLayout, encoded: Uint8Array): Uint8Array {
  const ctx = new codecs.Context({
    width: layout.columns,
    height: layout.rows,
    bitsAllocated: layout.bitsAllocated,
    bitsStored: layout.bitsStored,
    samplesPerPixel: 1,
    pixelRepresentation: layout.pixelRepresentation,
    planarConfiguration: 0,
    photometricInterpretation: layout.photometric,
    encodedBuffer: encoded,
  });
  const n = codecs.NativeCodecs;
  const out =
    codec === 'jpeg' ? n.decodeJpeg(ctx, { convertColorspaceToRgb: false })
    : codec === 'jpeg-ls' ? n.decodeJpegLs(ctx)
    : codec === 'jpeg2000' ? n.decodeJpeg2000(ctx)
    : n.decodeRle(ctx);
  const decoded = out.getDecodedBuffer();
  if (!decoded) throw failed('decode-failed', 'pixel decode: the codec returned no pixels');
  return decoded;
}

/**
 * Stored values of every frame, as Int32Array per frame (rows*columns, row-major), masked and sign-extended.
 * Requires initCodecs() for encapsulated syntaxes.
 */
export function storedValues(file: DicomFile, layout: PixelLayout): { frames: Int32Array[]; decoder: string } {
  const ds = file.dataset;
  const ts = file.transferSyntaxUid;
  const info = SUPPORTED_SYNTAXES.get(ts);
  if (!info) {
    throw failed('unsupported-transfer-syntax', `pixel decode: no decoder for transfer syntax ${ts} (${syntaxName(ts)})`);
  }
  const { rows, columns, frames, bitsAllocated: ba } = layout;
  const npix = rows * columns;
  const bytesPerSample = ba / 8;
  const el = ds.element(Tag.PixelData);
  if (!el) throw new Skip('no-pixel-data', 'no PixelData');

  let raw: Uint8Array[];
  let littleEndian = file.littleEndian;
  let decoder: string;
  if (info.codec === 'native') {
    const data = ds.raw.byteArray.subarray(el.dataOffset, Math.min(el.dataOffset + el.length, ds.raw.byteArray.length));
    const need = npix * frames * bytesPerSample;
    if (el.encapsulatedPixelData) throw failed('decode-failed', 'pixel decode: encapsulated Pixel Data in a native transfer syntax');
    if (data.length < need) throw failed('decode-failed', `pixel decode: truncated PixelData: ${data.length} bytes, need ${need}`);
    raw = Array.from({ length: frames }, (_, f) => data.subarray(f * npix * bytesPerSample, (f + 1) * npix * bytesPerSample));
    decoder = 'native';
  } else {
    if (!el.encapsulatedPixelData) throw failed('decode-failed', `pixel decode: ${info.name} Pixel Data is not encapsulated`);
    const encoded = encapsulatedFrames(ds, frames);
    raw = encoded.map((e, f) => {
      let d: Uint8Array;
      try {
        d = decodeFrame(info.codec, layout, e);
      } catch (err) {
        if (err instanceof Skip) throw err;
        throw failed('decode-failed', `pixel decode: ${info.name} frame ${f + 1}: ${(err as Error).message ?? String(err)}`);
      }
      if (d.length !== npix * bytesPerSample) {
        throw failed('decode-failed', `pixel decode: decoded ${d.length / bytesPerSample} samples, expected ${npix}`);
      }
      return d;
    });
    littleEndian = true; // codecs return native (little-endian) samples
    decoder = `codec:${info.codec}`;
  }

  const shift = layout.highBit + 1 - layout.bitsStored;
  const bs = layout.bitsStored;
  const signed = layout.pixelRepresentation === 1;
  const out = raw.map((bytes) => {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const v = new Int32Array(npix);
    const mod = 2 ** bs;
    const half = 2 ** (bs - 1);
    for (let i = 0; i < npix; i++) {
      const u =
        ba === 8 ? bytes[i]!
        : ba === 16 ? dv.getUint16(i * 2, littleEndian)
        : dv.getUint32(i * 4, littleEndian);
      // Float arithmetic keeps 32-bit samples exact where `>>` and `&` would go negative.
      let s = Math.floor(u / 2 ** shift) % mod;
      if (signed && s >= half) s -= mod;
      v[i] = s;
    }
    return v;
  });
  return { frames: out, decoder };
}
