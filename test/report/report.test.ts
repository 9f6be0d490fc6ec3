import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SopClass } from '../../src/dicom/constants.js';
import { burnInText } from '../../src/report/burn-in.js';
import { InvalidSourceUidError, ReportInputError, buildReport, type BuiltObject, type ReportInput } from '../../src/report/index.js';
import { scLines } from '../../src/report/sc.js';
import { CQ500, DATA, dciodvfyErrors, startOrthanc } from '../helpers/peers.js';
import { copiedElements, cq500Input, parse, sliceOf } from './fixtures.js';

let dir: string;
let input: ReportInput;
let objects: BuiltObject[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pmct-report-'));
  input = await cq500Input();
  objects = buildReport(input);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(o: BuiltObject, name = `${o.kind}${o.index}`): string {
  const path = join(dir, `${name}.dcm`);
  writeFileSync(path, o.bytes);
  return path;
}

const read = (o: BuiltObject) => dicomParser.parseDicom(o.bytes);

/** The value bytes of an element as stored (padding included). */
function valueBytes(ds: dicomParser.DataSet, tag: string): Buffer {
  const el = ds.elements[tag]!;
  return Buffer.from(ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length));
}

const sourceRaw = (i: ReportInput, tag: number) => Buffer.from(i.source.copiedElements.find((e) => e.tag === tag)!.bytes);
const scs = () => objects.filter((o) => o.kind === 'sc');
const pad = (b: Buffer) => (b.length % 2 ? Buffer.concat([b, Buffer.from(' ')]) : b);

function dsrdump(path: string): { out: string; err: string; status: number | null } {
  const r = spawnSync('dsrdump', ['+Pu', '+Pl', path], { encoding: 'latin1' });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

describe('buildReport on a real CQ500 head CT series', () => {
  it('returns the SR, one SC per key slice and the KOS, in the source study and three new series', () => {
    expect(objects.map((o) => [o.kind, o.index])).toEqual([['sr', 1], ['sc', 1], ['sc', 2], ['sc', 3], ['kos', 1]]);
    const [sr] = objects;
    expect(sr!.sopClassUid).toBe(SopClass.Comprehensive3dSr);
    expect(scs().every((o) => o.sopClassUid === SopClass.SecondaryCapture)).toBe(true);
    expect(objects.at(-1)!.sopClassUid).toBe(SopClass.KeyObjectSelection);
    expect(objects.every((o) => o.studyInstanceUid === input.source.studyInstanceUid)).toBe(true);
    const series = new Set(objects.map((o) => o.seriesInstanceUid));
    expect(series.size).toBe(3);
    expect(series.has(input.source.seriesInstanceUid)).toBe(false);
    for (const o of objects) {
      const ds = read(o);
      expect(ds.string('x00080018')).toBe(o.sopInstanceUid);
      expect(ds.string('x00020003')).toBe(o.sopInstanceUid);
      expect(ds.string('x0020000e')).toBe(o.seriesInstanceUid);
      expect(ds.string('x0020000d')).toBe(input.source.studyInstanceUid);
    }
  });

  it('makes the KOS (TID 2010) "Of Interest" over exactly the key slices, which dsrdump reads', () => {
    const kos = objects.find((o) => o.kind === 'kos')!;
    const { out, err, status } = dsrdump(write(kos));
    expect(status).toBe(0);
    // dsrdump's only remark on a KOS: it does not check TID 2010 constraints itself.
    expect(err.trim()).toBe('W: Check for template constraints not yet supported');
    expect(out).toContain('Key Object Selection Document');
    expect(out).toContain('<CONTAINER:(,,"Of Interest")=SEPARATE>');
    expect(out).toContain('<contains TEXT:(,,"Key Object Description")=');
    const images = [...out.matchAll(/<contains IMAGE:=\(CT image,"([^"]+)"\)>/g)].map((m) => m[1]);
    expect(images).toEqual(input.keySlices.map((k) => k.slice.sopInstanceUid));
    const ds = read(kos);
    expect(ds.string('x00080060')).toBe('KO');
    expect(ds.elements['x0040a491']).toBeUndefined(); // no CompletionFlag: not part of the KOS IOD
  });

  it('passes dciodvfy without errors (SR, every SC and the KOS)', () => {
    for (const o of objects) {
      expect(dciodvfyErrors(write(o)), `${o.kind}${o.index}`).toEqual([]);
    }
  });

  it('is read by dsrdump, which shows the finding, the decision, the score, the key slices and the SCs', () => {
    const { out, err, status } = dsrdump(write(objects[0]!));
    expect(status).toBe(0);
    expect(err).toBe('');
    expect(out).toContain('Comprehensive 3D SR Document');
    expect(out).toContain('<CONTAINER:(,,"Imaging Measurement Report")=SEPARATE>');
    expect(out).toContain('<contains CODE:(,,"Finding")=(1386000,SCT,"Intracranial hemorrhage")>');
    expect(out).toContain('<contains CODE:(,,"Intracranial hemorrhage")=(272519000,SCT,"Absent")>');
    expect(out).toContain('<contains NUM:(,,"Probability")="0.2316" (1,UCUM,"no units")>');
    expect(out).toContain('<has concept mod TEXT:(,,"Algorithm Name")="ich-ensemble">');
    expect(out).toContain('<has concept mod TEXT:(,,"Algorithm Version")="1.2.0">');
    expect(out).toContain('<has concept mod TEXT:(,,"Algorithm Parameters")="threshold=0.4127 (youden)">');
    expect(out).toContain(`<has obs context UIDREF:(,,"Device Observer UID")="${input.node.deviceUid}">`);
    for (const k of input.keySlices) {
      expect(out).toContain(`<contains IMAGE:(,,"Source of Measurement")=(CT image,"${k.slice.sopInstanceUid}")>`);
    }
    for (const sc of scs()) {
      expect(out).toContain(`<contains IMAGE:(,,"Illustration of ROI")=(SC image,"${sc.sopInstanceUid}")>`);
    }
    // The image library lists every analysed slice once.
    for (const s of input.analysed) expect(out).toContain(`<contains IMAGE:=(CT image,"${s.sopInstanceUid}")>`);
    expect(out).toContain('hu-baseline 1.0.0 is a transparent HU baseline (a fixed rule on Hounsfield units), not a trained CNN.');
    expect(out).toContain('Case score 0.2316 (maximum ensemble slice probability of 30 analysed slices) against threshold 0.4127');
  });

  it('copies patient and study attributes byte-exact and fills the SR document header', () => {
    const sr = read(objects[0]!);
    for (const [tag, key] of [
      [0x00100010, 'x00100010'],
      [0x00100020, 'x00100020'],
      [0x00080005, 'x00080005'],
    ] as const) {
      expect(valueBytes(sr, key).equals(pad(sourceRaw(input, tag)))).toBe(true);
    }
    // Type 2 study attributes are present (empty in this anonymised source).
    for (const key of ['x00080020', 'x00080030', 'x00080050', 'x00080090', 'x00200010', 'x00100030', 'x00100040']) {
      expect(sr.elements[key], key).toBeDefined();
    }
    expect(sr.string('x00080060')).toBe('SR');
    expect(sr.string('x0008103e')).toMatch(/^AI result/);
    expect(sr.string('x0040a491')).toBe('COMPLETE');
    expect(sr.string('x0040a493')).toBe('UNVERIFIED');
    expect(sr.string('x00080023')).toBe('20250314');
    expect(sr.string('x00080033')).toBe('092653.589');
    const contributing = sr.elements['x0018a001']!.items![0]!.dataSet!;
    expect(contributing.elements['x0040a170']!.items![0]!.dataSet!.string('x00080100')).toBe('109102');
    expect(contributing.string('x00081090')).toBe('ich-ensemble');
    const template = sr.elements['x0040a504']!.items![0]!.dataSet!;
    expect([template.string('x00080105'), template.string('x0040db00')]).toEqual(['DCMR', '1500']);
    // Evidence: the analysed CT instances in the source series, the SCs in theirs.
    const study = sr.elements['x0040a375']!.items!;
    expect(study).toHaveLength(1);
    const series = study[0]!.dataSet!.elements['x00081115']!.items!.map((i) => i.dataSet!);
    expect(series.map((s) => s.string('x0020000e'))).toEqual([input.source.seriesInstanceUid, objects[1]!.seriesInstanceUid]);
    const uids = (s: dicomParser.DataSet) => s.elements['x00081199']!.items!.map((i) => i.dataSet!.string('x00081155'));
    expect(uids(series[0]!)).toEqual(input.analysed.map((s) => s.sopInstanceUid));
    expect(uids(series[1]!)).toEqual(scs().map((o) => o.sopInstanceUid));
    expect(sr.elements['x0040a360']).toBeUndefined();
  });

  it('makes each SC the brain-window slice with the result burned in, referencing its source slice', () => {
    input.keySlices.forEach((key, i) => {
      const sc = read(objects[i + 1]!);
      expect(sc.string('x00080008')).toBe('DERIVED\\SECONDARY');
      expect(sc.string('x00080064')).toBe('WSD');
      expect(sc.string('x00280301')).toBe('YES');
      expect(sc.string('x00280004')).toBe('MONOCHROME2');
      expect([sc.uint16('x00280010'), sc.uint16('x00280011'), sc.uint16('x00280100')]).toEqual([key.rows, key.columns, 8]);
      expect(sc.string('x00200020')).toBe('L\\P');
      expect(sc.intString('x00200013')).toBe(key.rank);
      expect(valueBytes(sc, 'x00100010').equals(pad(sourceRaw(input, 0x00100010)))).toBe(true);
      const ref = sc.elements['x00082112']!.items![0]!.dataSet!;
      expect(ref.string('x00081155')).toBe(key.slice.sopInstanceUid);
      expect(ref.string('x00081150')).toBe(SopClass.CtImage);
      const pixels = valueBytes(sc, 'x7fe00010');
      const lines = scLines(input, key);
      expect(lines[0]).toBe('NOT FOR DIAGNOSTIC USE');
      expect(lines).toContain(`AI ICH key slice ${key.rank}/3  slice p=${key.probability.toFixed(3)}`);
      expect(lines).toContain('Includes HU baseline, not a trained CNN');
      expect(pixels.equals(Buffer.from(burnInText(key.pixels, key.rows, key.columns, lines)))).toBe(true);
      // Below the text the image is the slice itself.
      const lower = key.rows * key.columns / 2;
      expect(pixels.subarray(lower).equals(Buffer.from(key.pixels.subarray(lower)))).toBe(true);
    });
  });

  it('is deterministic: the same input gives the same bytes; another result digest, other UIDs', () => {
    const again = buildReport(structuredClone(input));
    again.forEach((o, i) => {
      expect(o.sopInstanceUid).toBe(objects[i]!.sopInstanceUid);
      expect(Buffer.from(o.bytes).equals(Buffer.from(objects[i]!.bytes))).toBe(true);
    });
    const changed = buildReport({ ...input, resultDigest: 'f'.repeat(64) });
    const before = new Set(objects.flatMap((o) => [o.sopInstanceUid, o.seriesInstanceUid]));
    for (const o of changed) {
      expect(before.has(o.sopInstanceUid)).toBe(false);
      expect(before.has(o.seriesInstanceUid)).toBe(false);
    }
  });

  it('names the SR it supersedes in the Predecessor Documents Sequence', () => {
    const previous = objects[0]!;
    const predecessor = {
      studyInstanceUid: previous.studyInstanceUid,
      seriesInstanceUid: previous.seriesInstanceUid,
      sopInstanceUid: previous.sopInstanceUid,
      sopClassUid: previous.sopClassUid,
    };
    const [sr] = buildReport({ ...input, resultDigest: 'e'.repeat(64), predecessor });
    const ds = read(sr!);
    const study = ds.elements['x0040a360']!.items![0]!.dataSet!;
    expect(study.string('x0020000d')).toBe(predecessor.studyInstanceUid);
    const series = study.elements['x00081115']!.items![0]!.dataSet!;
    expect(series.string('x0020000e')).toBe(predecessor.seriesInstanceUid);
    const instance = series.elements['x00081199']!.items![0]!.dataSet!;
    expect([instance.string('x00081150'), instance.string('x00081155')]).toEqual([predecessor.sopClassUid, predecessor.sopInstanceUid]);
    expect(sr!.sopInstanceUid).not.toBe(previous.sopInstanceUid);
    const path = write(sr!, 'sr-successor');
    expect(dciodvfyErrors(path)).toEqual([]);
    expect(dsrdump(path).out).toContain('Predecessor Docs    : 1');
  });

  it('codes a positive case as Present', () => {
    const positive = { ...input, caseScore: 0.9132, decision: 'present' as const };
    const path = write(buildReport(positive)[0]!, 'sr-present');
    expect(dciodvfyErrors(path)).toEqual([]);
    expect(dsrdump(path).out).toContain('<contains CODE:(,,"Intracranial hemorrhage")=(52101004,SCT,"Present")>');
  });

  it('references frames of a multi-frame source in the SR and the SC', () => {
    const enhanced = (frame: number) => ({ ...input.analysed[0]!, sopClassUid: SopClass.EnhancedCtImage, frame, numberOfFrames: 3 });
    const key = { ...input.keySlices[0]!, slice: enhanced(2) };
    const multi = { ...input, analysed: [enhanced(1), enhanced(2), enhanced(3)], keySlices: [key] };
    const [sr, sc] = buildReport(multi);
    const out = dsrdump(write(sr!, 'sr-multi')).out;
    expect(out).toContain(`<contains IMAGE:=(CTe image,"${enhanced(1).sopInstanceUid}",1,2,3)>`);
    expect(out).toContain(`(CTe image,"${enhanced(1).sopInstanceUid}",2)>`);
    expect(dciodvfyErrors(write(sr!, 'sr-multi'))).toEqual([]);
    const ref = read(sc!).elements['x00082112']!.items![0]!.dataSet!;
    expect(ref.string('x00081160')).toBe('2');
    expect(dciodvfyErrors(write(sc!, 'sc-multi'))).toEqual([]);
  });
});

describe('patient names in other character sets', () => {
  // PatientName and SpecificCharacterSet of real files, put into the CQ500 source in place of its own.
  it.each([
    'chrH31.dcm', // \ISO 2022 IR 87 (Japanese, code extensions)
    'chrH32.dcm', // ISO 2022 IR 13\ISO 2022 IR 87 (half-width katakana first)
    'chrI2.dcm', // \ISO 2022 IR 149 (Korean)
    'chrX1.dcm', // ISO_IR 192 (UTF-8)
    'chrX2.dcm', // GB18030
    'chrRuss.dcm', // ISO_IR 144 (Cyrillic)
    'chrGreek.dcm', // ISO_IR 126
    'chrArab.dcm', // ISO_IR 127
    'chrHbrw.dcm', // ISO_IR 138
    'chrGerm.dcm', // ISO_IR 100
  ])('%s: PatientName and SpecificCharacterSet copied byte-exact into SR and SC', (file) => {
    const charsetFile = parse(join(DATA, 'charsets', file));
    const replaced = copiedElements(charsetFile).filter((e) => e.tag === 0x00100010 || e.tag === 0x00080005);
    expect(replaced).toHaveLength(2);
    const source = {
      ...input.source,
      copiedElements: [...input.source.copiedElements.filter((e) => e.tag !== 0x00100010 && e.tag !== 0x00080005), ...replaced],
      specificCharacterSet: charsetFile.string('x00080005')!.split('\\'),
    };
    const withName = { ...input, source, keySlices: input.keySlices.slice(0, 1) };
    const [sr, sc] = buildReport(withName);
    for (const o of [sr!, sc!]) {
      const ds = read(o);
      for (const e of replaced) {
        const key = 'x' + e.tag.toString(16).padStart(8, '0');
        expect(valueBytes(ds, key).equals(pad(Buffer.from(e.bytes))), `${o.kind} ${key}`).toBe(true);
      }
      expect(dciodvfyErrors(write(o, `${file}-${o.kind}`)), `${o.kind}`).toEqual([]);
    }
    expect(dsrdump(join(dir, `${file}-sr.dcm`)).status).toBe(0);
  });
});

describe('refusals', () => {
  const rsnaUid = () => parse(join(DATA, 'slices/rsna-ich/ID_0fe31b044_intraparenchymal_subarachnoid.dcm')).string('x00080018')!;

  it('refuses the RSNA "UIDs" (ID_...) with InvalidSourceUidError and builds nothing', () => {
    const uid = rsnaUid();
    expect(uid).toMatch(/^ID_/);
    const slice = { ...sliceOf(join(CQ500, 'CT000112.dcm')), sopInstanceUid: uid };
    const cases: ReportInput[] = [
      { ...input, analysed: [slice, ...input.analysed], keySlices: [] },
      { ...input, source: { ...input.source, studyInstanceUid: uid } },
      { ...input, source: { ...input.source, seriesInstanceUid: uid } },
      { ...input, predecessor: { studyInstanceUid: uid, seriesInstanceUid: '1.2', sopInstanceUid: '1.2.3', sopClassUid: SopClass.Comprehensive3dSr } },
    ];
    for (const c of cases) {
      expect(() => buildReport(c)).toThrow(InvalidSourceUidError);
      expect(() => buildReport(c)).toThrow(uid);
    }
  });

  it('refuses inconsistent input', () => {
    const k = input.keySlices;
    expect(() => buildReport({ ...input, decision: 'present' })).toThrow(/contradicts/);
    expect(() => buildReport({ ...input, caseScore: 1.5, decision: 'present' })).toThrow(ReportInputError);
    expect(() => buildReport({ ...input, keySlices: [k[1]!, k[0]!] })).toThrow(/rank order/);
    expect(() => buildReport({ ...input, analysed: input.analysed.slice(0, 5) })).toThrow(/not among the analysed/);
    expect(() => buildReport({ ...input, keySlices: [{ ...k[0]!, pixels: k[0]!.pixels.subarray(1) }] })).toThrow(/pixels/);
    expect(() => buildReport({ ...input, analysed: [...input.analysed, input.analysed[0]!] })).toThrow(/twice/);
  });

  it('refuses node text that the source character set cannot carry', () => {
    const japanese = parse(join(DATA, 'charsets/chrH31.dcm'));
    const source = {
      ...input.source,
      copiedElements: [...input.source.copiedElements.filter((e) => e.tag !== 0x00080005), ...copiedElements(japanese).filter((e) => e.tag === 0x00080005)],
    };
    expect(() => buildReport({ ...input, source, node: { ...input.node, institutionName: 'Rechtsmedizin Zürich' } })).toThrow(/cannot encode/);
  });
});

describe('a real PACS (Orthanc)', () => {
  it('accepts the SR and the SCs into the source study, and a re-send is stored once', async () => {
    const orthanc = await startOrthanc();
    try {
      const post = async (bytes: Uint8Array) => {
        const r = await fetch(`${orthanc.url}/instances`, { method: 'POST', body: Buffer.from(bytes) });
        expect(r.status).toBe(200);
        return (await r.json()) as { Status: string; ID: string };
      };
      for (const o of objects) expect((await post(o.bytes)).Status).toBe('Success');
      expect((await post(buildReport(structuredClone(input))[0]!.bytes)).Status).toBe('AlreadyStored');
      const studies = await orthanc.get<string[]>('/studies');
      expect(studies).toHaveLength(1);
      const study = await orthanc.get<{ MainDicomTags: { StudyInstanceUID: string }; Series: string[] }>(`/studies/${studies[0]}`);
      expect(study.MainDicomTags.StudyInstanceUID).toBe(input.source.studyInstanceUid);
      expect(study.Series).toHaveLength(3);
      expect(await orthanc.get<string[]>('/instances')).toHaveLength(objects.length);
    } finally {
      await orthanc.stop();
    }
  });
});
