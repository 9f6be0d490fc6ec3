/**
 * Every file under ../shared/data, each analysed on its own, by the node's imaging stage and by the independent
 * reference (preprocess.py's process_file): the same outcome (analysed, or skipped with the matching reason code),
 * the same frames in the same order with the same position along the normal, and tensors within 1e-5. The suite
 * prints one table of every file: its transfer syntax, the node's outcome and reason.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCodecs } from '../../src/imaging/pixels.js';
import { preprocessFile, type FileResult } from '../../src/imaging/preprocess.js';
import type { SkipCode } from '../../src/imaging/skip.js';
import { DEFAULT_WINDOWS } from '../../src/inference/manifest.js';
import { DATA, REPO, tempDir } from '../helpers/peers.js';
import { hasPythonStack, py, REF } from '../helpers/python.js';

const FOLDERS = ['studies', 'slices', 'transfer-syntaxes', 'enhanced-ct', 'pixel-quirks', 'malformed', 'charsets', 'sr-examples'];

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}
const FILES = FOLDERS.flatMap((f) => walk(join(DATA, f))).filter((f) => !f.endsWith('.csv') && !f.endsWith('.tsv'));

/** The reference's reason texts and the node's codes for the same decision. */
const REASON_CODES: [RegExp, SkipCode[]][] = [
  [/^not a DICOM file/, ['not-dicom']],
  [/^unreadable:/, ['unreadable', 'not-dicom']],
  [/^secondary capture/, ['secondary-capture']],
  [/^float pixel data/, ['no-pixel-data']],
  [/^CT image header but no \(7FE0,0010\)/, ['no-pixel-data']],
  [/^no pixel data \(non-image object, SOP class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.88\./, ['structured-report']],
  [/^no pixel data/, ['no-pixel-data']],
  [/^modality .*, not CT/, ['not-ct']],
  [/is not a CT image storage class/, ['unsupported-sop-class']],
  [/^(all \d+ frames excluded: )?localizer/, ['localizer']],
  [/^no PhotometricInterpretation/, ['no-photometric']],
  [/^not monochrome/, ['not-monochrome']],
  [/^(all \d+ frames excluded: )?no Image(Orientation|Position)Patient/, ['no-geometry']],
  [/^(all \d+ frames excluded: )?not axial/, ['not-axial']],
  [/^header:/, ['header-invalid']],
  [/^geometry:/, ['no-geometry', 'header-invalid']],
  [/^pixel decode: no decoder/, ['unsupported-transfer-syntax']],
  [/^(pixel decode|transform):/, ['decode-failed', 'header-invalid']],
];

/**
 * Where the node and the reference part ways on purpose. Each entry says why; anything else that differs fails.
 */
const KNOWN_DIFFERENCES: Record<string, { node: SkipCode; why: string }> = {
  'transfer-syntaxes/ct-slice/CTImage.dcm_JPEGProcess10_12TransferSyntax_1.2.840.10008.1.2.4.55.dcm': {
    node: 'unsupported-transfer-syntax',
    why: 'retired JPEG process 10/12: no maintained JS/wasm decoder (dcmjs-codecs has none); the reference uses GDCM. Refused at association time too.',
  },
  'transfer-syntaxes/ct-slice/CTImage.dcm_JPEGProcess6_8TransferSyntax_1.2.840.10008.1.2.4.53.dcm': {
    node: 'unsupported-transfer-syntax',
    why: 'retired JPEG process 6/8: as above',
  },
  'malformed/emri_small_jpeg_2k_lossless_too_short.dcm': {
    node: 'not-ct',
    why: 'the file has a (truncated) (7FE0,0010) and Modality MR (dcmdump shows both); pydicom drops the incomplete element and calls it "no pixel data". The node names the decisive reason: not CT.',
  },
};

interface RefFile {
  file: string;
  status: 'handled' | 'excluded' | 'failed';
  reason: string | null;
  frames: { sop: string; frame: number; z: number }[];
}

const syntaxOf = new Map(
  readFileSync(join(DATA, 'MANIFEST.tsv'), 'utf8')
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((l) => l.split('\t'))
    .map((c) => [c[0]!, (c[2] ?? '').split(' ')[0]!] as const),
);

describe.skipIf(!hasPythonStack)('every file under ../shared/data, file by file, against preprocess.py', () => {
  let dir: string;
  const ref = new Map<string, RefFile>();
  const node = new Map<string, FileResult>();
  let refTensors: Float32Array;
  const refOffset = new Map<string, number>();

  beforeAll(async () => {
    await initCodecs();
    dir = tempDir('per-file');
    const npz = join(dir, 'ref.npz');
    const lines = py([join(REPO, 'test/helpers/reference_per_file.py'), REF, npz, ...FILES]).trim().split('\n');
    let offset = 0;
    for (const line of lines) {
      const r = JSON.parse(line) as RefFile;
      ref.set(r.file, r);
      refOffset.set(r.file, offset);
      offset += r.frames.length;
    }
    py(['-c', 'import sys,numpy as np; np.ascontiguousarray(np.load(sys.argv[1])["tensors"], dtype="<f4").tofile(sys.argv[2])', npz, join(dir, 'ref.f32')]);
    const buf = readFileSync(join(dir, 'ref.f32'));
    refTensors = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const spec = { name: 'input', size: [256, 256] as [number, number], windows: [...DEFAULT_WINDOWS], normalization: null };
    for (const f of FILES) node.set(f, preprocessFile(f, { specs: [spec], rsnaFix: false, axialMaxDeg: 45, paddingMask: true }));

    const rows = FILES.map((f) => {
      const n = node.get(f)!;
      const outcome = n.status === 'handled' ? `analysed (${n.frames.length} frame${n.frames.length > 1 ? 's' : ''})` : `${n.skip.kind}: ${n.skip.code}`;
      const reason = n.status === 'handled' ? (n.frameSkips[0]?.message ?? '') : n.skip.message;
      return `| ${relative(DATA, f)} | ${syntaxOf.get(relative(DATA, f)) ?? '?'} | ${outcome} | ${reason.replace(/\|/g, '/').slice(0, 140)} |`;
    });
    process.stderr.write(`\n| file | transfer syntax | outcome | reason |\n|---|---|---|---|\n${rows.join('\n')}\n\n`);
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads every file of the data set', () => {
    expect(ref.size).toBe(FILES.length);
    expect(FILES.length).toBeGreaterThan(300);
  });

  it('analyses exactly the files the reference analyses', () => {
    const disagreements = FILES.filter((f) => !KNOWN_DIFFERENCES[relative(DATA, f)])
      .filter((f) => (ref.get(f)!.status === 'handled') !== (node.get(f)!.status === 'handled'))
      .map((f) => ({
      file: relative(DATA, f),
      reference: ref.get(f)!.status === 'handled' ? 'handled' : ref.get(f)!.reason,
      node: node.get(f)!.status === 'handled' ? 'handled' : (node.get(f) as Extract<FileResult, { status: 'skipped' }>).skip.message,
    }));
    expect(disagreements).toEqual([]);
  });

  it('skips every other file with the reason code matching the reference', () => {
    const mismatches: unknown[] = [];
    for (const f of FILES) {
      const r = ref.get(f)!;
      const n = node.get(f)!;
      const known = KNOWN_DIFFERENCES[relative(DATA, f)];
      if (known) {
        expect(n.status === 'skipped' && n.skip.code, f).toBe(known.node);
        continue;
      }
      if (r.status === 'handled' || n.status === 'handled') continue;
      const expected = REASON_CODES.find(([re]) => re.test(r.reason ?? ''))?.[1];
      if (!expected?.includes(n.skip.code)) mismatches.push({ file: relative(DATA, f), reference: r.reason, node: `${n.skip.code}: ${n.skip.message}` });
    }
    expect(mismatches).toEqual([]);
  });

  it('gives the same frames, positions and tensors (within 1e-5) for every analysed file', () => {
    let worst = 0;
    let frames = 0;
    for (const f of FILES) {
      const r = ref.get(f)!;
      const n = node.get(f)!;
      if (r.status !== 'handled' || n.status !== 'handled') continue;
      expect(n.frames.map((x) => [x.sopInstanceUid, x.frame]), f).toEqual(r.frames.map((x) => [x.sop, x.frame]));
      n.frames.forEach((x, i) => {
        expect(x.z, f).toBeCloseTo(r.frames[i]!.z, 6);
        const base = (refOffset.get(f)! + i) * 3 * 256 * 256;
        const t = x.tensors[0]!;
        let d = 0;
        for (let k = 0; k < t.length; k++) d = Math.max(d, Math.abs(t[k]! - refTensors[base + k]!));
        expect(d, `${f} frame ${x.frame}`).toBeLessThan(1e-5);
        worst = Math.max(worst, d);
        frames++;
      });
    }
    process.stderr.write(`per-file parity: ${frames} frames, max |node - preprocess.py| = ${worst}\n`);
    expect(frames).toBeGreaterThan(238);
  });
});
