/**
 * The report stage: a finished analysis in, the encoded output objects out (the SR, then one Secondary Capture per
 * key slice in rank order). Every check runs before any object is built, so a bad input yields an error and no
 * partial set of objects.
 */
import { SopClass } from '../dicom/constants.js';
import { buildKos } from './kos.js';
import { isValidUid } from '../dicom/writer.js';
import { InvalidSourceUidError, ReportInputError, producedTimes } from './common.js';
import { buildSc } from './sc.js';
import { buildSr } from './sr.js';
import { codes, type Code } from './templates.js';
import { outputUids } from './uids.js';
import type { BuiltObject, ReportInput } from './types.js';

export { InvalidSourceUidError, ReportInputError } from './common.js';
export type { Code } from './templates.js';
export { outputUids, uidFromSeed, type OutputUids } from './uids.js';
export type * from './types.js';

export interface BuildOptions {
  /**
   * PurposeOfReferenceCodeSequence of the Contributing Equipment item: 109102 DCM "Processing Equipment" by
   * default; a site whose PACS expects the IHE AI Results trial code (Newcode1, 99IHE, "Processing Algorithm") sets
   * it here (sr-codes.md §3).
   */
  contributingEquipmentPurpose?: Code;
}

function checkUid(field: string, uid: string): void {
  if (!isValidUid(uid)) throw new InvalidSourceUidError(field, uid);
}

const inUnitInterval = (x: number) => Number.isFinite(x) && x >= 0 && x <= 1;

/** Throws ReportInputError (InvalidSourceUidError for UIDs) on the first thing that would make a wrong object. */
export function validateReportInput(input: ReportInput): void {
  const { source, analysed, keySlices, predecessor } = input;
  checkUid('source StudyInstanceUID', source.studyInstanceUid);
  checkUid('source SeriesInstanceUID', source.seriesInstanceUid);
  checkUid('node DeviceUID', input.node.deviceUid);
  if (analysed.length === 0) throw new ReportInputError('no analysed slices');
  const seen = new Set<string>();
  for (const s of analysed) {
    checkUid('analysed slice SOPClassUID', s.sopClassUid);
    checkUid('analysed slice SOPInstanceUID', s.sopInstanceUid);
    if (!Number.isInteger(s.frame) || s.frame < 1 || s.frame > s.numberOfFrames) {
      throw new ReportInputError(`frame ${s.frame} of ${s.sopInstanceUid} is outside 1..${s.numberOfFrames}`);
    }
    const key = `${s.sopInstanceUid}#${s.frame}`;
    if (seen.has(key)) throw new ReportInputError(`slice ${key} is listed twice`);
    seen.add(key);
  }
  keySlices.forEach((k, i) => {
    checkUid('key slice SOPInstanceUID', k.slice.sopInstanceUid);
    if (k.rank !== i + 1) throw new ReportInputError(`key slices must be in rank order 1..n; found rank ${k.rank} at ${i + 1}`);
    if (!seen.has(`${k.slice.sopInstanceUid}#${k.slice.frame}`)) {
      throw new ReportInputError(`key slice ${k.rank} (${k.slice.sopInstanceUid}) is not among the analysed slices`);
    }
    const size = (n: number) => Number.isInteger(n) && n >= 1 && n <= 0xffff;
    if (!size(k.rows) || !size(k.columns) || k.pixels.length !== k.rows * k.columns) {
      throw new ReportInputError(`key slice ${k.rank}: ${k.pixels.length} pixels for ${k.rows}x${k.columns}`);
    }
    if (!inUnitInterval(k.probability)) throw new ReportInputError(`key slice ${k.rank}: probability ${k.probability}`);
  });
  if (!inUnitInterval(input.caseScore)) throw new ReportInputError(`case score ${input.caseScore} is not a probability`);
  const expected = input.caseScore >= input.threshold.value ? 'present' : 'absent';
  if (input.decision !== expected) {
    throw new ReportInputError(
      `decision "${input.decision}" contradicts case score ${input.caseScore} against threshold ${input.threshold.value}`,
    );
  }
  if (input.ensemble.members.length === 0) throw new ReportInputError('the ensemble has no members');
  if (input.resultDigest.length === 0) throw new ReportInputError('resultDigest is empty');
  if (predecessor) {
    checkUid('predecessor StudyInstanceUID', predecessor.studyInstanceUid);
    checkUid('predecessor SeriesInstanceUID', predecessor.seriesInstanceUid);
    checkUid('predecessor SOPClassUID', predecessor.sopClassUid);
    checkUid('predecessor SOPInstanceUID', predecessor.sopInstanceUid);
  }
}

/** The SR (index 1), one SC per key slice (index = rank) and the KOS, Part 10 bytes with deterministic UIDs. */
export function buildReport(input: ReportInput, options: BuildOptions = {}): BuiltObject[] {
  validateReportInput(input);
  const uids = outputUids(input);
  const times = producedTimes(input);
  const purpose = options.contributingEquipmentPurpose ?? codes.contributingEquipmentPurpose;
  const studyInstanceUid = input.source.studyInstanceUid;
  const sr: BuiltObject = {
    kind: 'sr',
    index: 1,
    sopClassUid: SopClass.Comprehensive3dSr,
    sopInstanceUid: uids.srInstance,
    seriesInstanceUid: uids.srSeries,
    studyInstanceUid,
    bytes: buildSr(input, uids, times, purpose),
  };
  const scs = input.keySlices.map(
    (key): BuiltObject => ({
      kind: 'sc',
      index: key.rank,
      sopClassUid: SopClass.SecondaryCapture,
      sopInstanceUid: uids.scInstances[key.rank - 1]!,
      seriesInstanceUid: uids.scSeries,
      studyInstanceUid,
      bytes: buildSc(input, key, uids, times, purpose),
    }),
  );
  const kos: BuiltObject = {
    kind: 'kos',
    index: 1,
    sopClassUid: SopClass.KeyObjectSelection,
    sopInstanceUid: uids.kosInstance,
    seriesInstanceUid: uids.kosSeries,
    studyInstanceUid,
    bytes: buildKos(input, uids, times, purpose),
  };
  return [sr, ...scs, kos];
}
