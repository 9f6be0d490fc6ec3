/**
 * A ReportInput from real data: patient/study elements and slice UIDs of the CQ500 head CT, read here with
 * dicom-parser directly (independently of the node's own reader), and brain-window pixels rendered by the imaging
 * stage. The scores are fixed inputs of the report stage (no model runs here).
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import dicomParser from 'dicom-parser';
import { initCodecs } from '../../src/imaging/pixels.js';
import { renderBrainWindow } from '../../src/imaging/preprocess.js';
import type { AnalysedSlice, RawElement, ReportInput, ReportSource } from '../../src/report/types.js';
import { CQ500 } from '../helpers/peers.js';

const STRING_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);

export function parse(path: string): dicomParser.DataSet {
  // Stop before the pixel data: the headers are all these tests need.
  return dicomParser.parseDicom(readFileSync(path), { untilTag: 'x7fe00010' });
}

/** Raw top-level string elements of groups 0008/0010/0020 (explicit VR sources only, as all used here are). */
export function copiedElements(ds: dicomParser.DataSet): RawElement[] {
  const out: RawElement[] = [];
  for (const [key, el] of Object.entries(ds.elements)) {
    const tag = parseInt(key.slice(1), 16);
    const group = tag >>> 16;
    if (![0x0008, 0x0010, 0x0020].includes(group) || !el.vr || !STRING_VRS.has(el.vr)) continue;
    out.push({ tag, vr: el.vr, bytes: Uint8Array.from(ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length)) });
  }
  return out;
}

export function sourceOf(path: string): ReportSource {
  const ds = parse(path);
  return {
    studyInstanceUid: ds.string('x0020000d')!,
    seriesInstanceUid: ds.string('x0020000e')!,
    copiedElements: copiedElements(ds),
    specificCharacterSet: (ds.string('x00080005') ?? '').split('\\').filter((s, _i, a) => s !== '' || a.length > 1),
    standardAxial: true,
  };
}

export function sliceOf(path: string): AnalysedSlice {
  const ds = parse(path);
  return { sopClassUid: ds.string('x00080016')!, sopInstanceUid: ds.string('x00080018')!, frame: 1, numberOfFrames: 1 };
}

/** 30 consecutive files of the CQ500 series; the last three named are the key slices (rank 1..3). */
const ANALYSED_FILES = readdirSync(CQ500).filter((f) => f.endsWith('.dcm')).sort().slice(100, 130);
const KEY_FILES = ['CT000112.dcm', 'CT000118.dcm', 'CT000105.dcm'];
const KEY_PROBABILITIES = [0.2316, 0.1874, 0.1342];

let cached: ReportInput | undefined;

/** An "absent" result for CQ500-CT-0 (whose majority reading is negative) with an HU-baseline member. */
export async function cq500Input(): Promise<ReportInput> {
  if (cached) return cached;
  await initCodecs();
  const analysed = ANALYSED_FILES.map((f) => sliceOf(join(CQ500, f)));
  const keySlices = KEY_FILES.map((f, i) => {
    const img = renderBrainWindow(join(CQ500, f), 1, { rsnaFix: false, paddingMask: true });
    return { slice: sliceOf(join(CQ500, f)), rank: i + 1, probability: KEY_PROBABILITIES[i]!, ...img };
  });
  const ensembleDigest = createHash('sha256').update('ich-ensemble 1.2.0').digest('hex');
  cached = {
    source: sourceOf(join(CQ500, KEY_FILES[0]!)),
    analysed,
    keySlices,
    caseScore: KEY_PROBABILITIES[0]!,
    decision: 'absent',
    threshold: { value: 0.4127, method: 'youden' },
    ensemble: {
      name: 'ich-ensemble',
      version: '1.2.0',
      digest: ensembleDigest,
      combine: 'mean',
      members: [
        { name: 'hu-baseline', version: '1.0.0', baseline: true },
        { name: 'tf_efficientnet_b0', version: '2024.1', baseline: false },
      ],
    },
    node: {
      name: 'pmct-ich-node-test',
      manufacturer: 'pmct-ich-node project',
      modelName: 'pmct-ich-node',
      softwareVersion: '0.1.0',
      deviceUid: '2.25.301715592164883359342734981632466712183',
      institutionName: 'Institute of Forensic Medicine',
    },
    producedAt: new Date('2025-03-14T09:26:53.589Z'),
    resultDigest: createHash('sha256').update(analysed.map((s) => s.sopInstanceUid).join('|') + ensembleDigest).digest('hex'),
  };
  return cached;
}
