/**
 * What every output object shares (highdicom's `base.py` habit: one place derives patient, study, equipment and
 * references from the source): the copied patient/study attributes, SOP Common, equipment, coded entries and
 * image references.
 */
import { Tag } from '../dicom/constants.js';
import { rawStringProblem, seq, str, raw, type DataElement, type Dataset, type StringVr, dataset } from '../dicom/writer.js';
import { codes, fill, texts, type Code } from './templates.js';
import type { AnalysedSlice, ReportInput, ReportSource } from './types.js';

export type Entry = [number, DataElement];

/** The input cannot make a valid report; nothing was produced. */
export class ReportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportInputError';
  }
}

/** A UID the report would reference is not a valid DICOM UID (e.g. RSNA's `ID_0fe31b044`). */
export class InvalidSourceUidError extends ReportInputError {
  constructor(
    readonly field: string,
    readonly uid: string,
  ) {
    super(`${field} ${JSON.stringify(uid)} is not a valid DICOM UID (PS3.5 9.1); no report is produced with it`);
    this.name = 'InvalidSourceUidError';
  }
}

/**
 * Patient, Patient Study and General Study attributes copied from the source, with the VR they are written with.
 * Type 2 ones are written empty when the source lacks them (PS3.3: present, possibly empty). StudyInstanceUID is
 * written from the validated `source.studyInstanceUid` instead.
 */
const COPIED: readonly { tag: number; vr: StringVr; type2: boolean }[] = [
  { tag: Tag.StudyDate, vr: 'DA', type2: true },
  { tag: Tag.StudyTime, vr: 'TM', type2: true },
  { tag: Tag.AccessionNumber, vr: 'SH', type2: true },
  { tag: Tag.ReferringPhysicianName, vr: 'PN', type2: true },
  { tag: Tag.TimezoneOffsetFromUTC, vr: 'SH', type2: false },
  { tag: Tag.StudyDescription, vr: 'LO', type2: false },
  { tag: Tag.PhysiciansOfRecord, vr: 'PN', type2: false },
  { tag: Tag.NameOfPhysiciansReadingStudy, vr: 'PN', type2: false },
  { tag: Tag.PatientName, vr: 'PN', type2: true },
  { tag: Tag.PatientID, vr: 'LO', type2: true },
  { tag: Tag.IssuerOfPatientID, vr: 'LO', type2: false },
  { tag: Tag.PatientBirthDate, vr: 'DA', type2: true },
  { tag: Tag.PatientBirthTime, vr: 'TM', type2: false },
  { tag: Tag.PatientSex, vr: 'CS', type2: true },
  { tag: Tag.OtherPatientNames, vr: 'PN', type2: false },
  { tag: Tag.PatientAge, vr: 'AS', type2: false },
  { tag: Tag.PatientSize, vr: 'DS', type2: false },
  { tag: Tag.PatientWeight, vr: 'DS', type2: false },
  { tag: Tag.EthnicGroup, vr: 'SH', type2: false },
  { tag: Tag.AdditionalPatientHistory, vr: 'LT', type2: false },
  { tag: Tag.PatientComments, vr: 'LT', type2: false },
  { tag: Tag.StudyID, vr: 'SH', type2: true },
];

/**
 * The source's patient and study attributes, bytes unchanged, and its SpecificCharacterSet (which those bytes
 * need). A copied date, time or code that is not valid DICOM (an old `2001.01.01` date, say) is written empty
 * (Type 2) or left out (Type 3): the PACS would refuse the object otherwise, and text VRs, which carry the names,
 * are never touched.
 */
export function copiedPatientStudy(source: ReportSource): Entry[] {
  const byTag = new Map(source.copiedElements.map((e) => [e.tag >>> 0, e]));
  const out: Entry[] = [];
  const charset = byTag.get(Tag.SpecificCharacterSet);
  if (charset) out.push([Tag.SpecificCharacterSet, raw('CS', charset.bytes)]);
  else if (source.specificCharacterSet.length > 0) out.push([Tag.SpecificCharacterSet, str('CS', source.specificCharacterSet)]);
  out.push([Tag.StudyInstanceUID, str('UI', source.studyInstanceUid)]);
  for (const { tag, vr, type2 } of COPIED) {
    const el = byTag.get(tag);
    if (el && !rawStringProblem(tag, vr, el.bytes)) out.push([tag, raw(vr, el.bytes)]);
    else if (type2) out.push([tag, str(vr, '')]);
  }
  return out;
}

/** Offset of the source's TimezoneOffsetFromUTC in minutes, when it has a valid one. */
function sourceOffsetMinutes(source: ReportSource): number | undefined {
  const el = source.copiedElements.find((e) => e.tag >>> 0 === Tag.TimezoneOffsetFromUTC);
  const m = el && /^([+-])(\d{2})(\d{2})$/.exec(Buffer.from(el.bytes).toString('latin1').trim());
  if (!m) return undefined;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

export interface Times {
  /** DA and TM of producedAt. */
  date: string;
  time: string;
  /** DT with its offset, for ContributionDateTime. */
  dateTime: string;
}

/**
 * producedAt as DICOM date/time. TimezoneOffsetFromUTC applies to every date and time of an instance, the copied
 * study date/time included: so our times follow the source's offset when it declares one, and are UTC otherwise
 * (UTC rather than the machine's zone keeps the bytes the same wherever the node runs).
 */
export function producedTimes(input: ReportInput): Times {
  const offset = sourceOffsetMinutes(input.source) ?? 0;
  const d = new Date(input.producedAt.getTime() + offset * 60_000);
  if (Number.isNaN(d.getTime())) throw new ReportInputError('producedAt is not a valid date');
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}`;
  const time = `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`;
  const abs = Math.abs(offset);
  const zone = `${offset < 0 ? '-' : '+'}${p(Math.floor(abs / 60))}${p(abs % 60)}`;
  return { date, time, dateTime: `${date}${time}${zone}` };
}

/** A Code Sequence item (PS3.3 Table 8.8-1). */
export function codeItem(code: Code): Dataset {
  return dataset([
    [Tag.CodeValue, str('SH', code.value)],
    [Tag.CodingSchemeDesignator, str('SH', code.scheme)],
    [Tag.CodeMeaning, str('LO', code.meaning)],
  ]);
}

export const codeSeq = (code: Code) => seq(codeItem(code));

/** An instance (or some of its frames) to reference. Frame numbers only for multi-frame instances (D3 flags them otherwise). */
export interface InstanceRef {
  sopClassUid: string;
  sopInstanceUid: string;
  frames?: number[];
}

export const sliceRef = (s: AnalysedSlice): InstanceRef => ({
  sopClassUid: s.sopClassUid,
  sopInstanceUid: s.sopInstanceUid,
  frames: s.numberOfFrames > 1 ? [s.frame] : undefined,
});

/** Slices grouped by instance, in first-seen order, frames merged (a multi-frame object is referenced once). */
export function instanceRefs(slices: readonly AnalysedSlice[]): InstanceRef[] {
  const byUid = new Map<string, InstanceRef>();
  for (const s of slices) {
    const ref = sliceRef(s);
    const seen = byUid.get(ref.sopInstanceUid);
    if (!seen) byUid.set(ref.sopInstanceUid, ref);
    else if (seen.frames && ref.frames) seen.frames = [...seen.frames, ...ref.frames.filter((f) => !seen.frames!.includes(f))];
  }
  return [...byUid.values()];
}

/** Referenced SOP Class/Instance (and frames): the body of a ReferencedSOPSequence or SourceImageSequence item. */
export function sopReference(ref: InstanceRef, extra: Entry[] = []): Dataset {
  const entries: Entry[] = [
    [Tag.ReferencedSOPClassUID, str('UI', ref.sopClassUid)],
    [Tag.ReferencedSOPInstanceUID, str('UI', ref.sopInstanceUid)],
    ...extra,
  ];
  if (ref.frames) entries.push([Tag.ReferencedFrameNumber, str('IS', ref.frames.map(String))]);
  return dataset(entries);
}

/** SOP Instance Reference Macro items, hierarchical (study -> series -> instances; PS3.3 Table C.17-3). */
export function studyReference(studyUid: string, series: readonly { seriesUid: string; refs: InstanceRef[] }[]): Dataset {
  return dataset([
    [Tag.StudyInstanceUID, str('UI', studyUid)],
    [
      Tag.ReferencedSeriesSequence,
      seq(
        ...series.map(({ seriesUid, refs }) =>
          dataset([
            [Tag.SeriesInstanceUID, str('UI', seriesUid)],
            // Evidence lists instances; frames are named in the content items.
            [Tag.ReferencedSOPSequence, seq(...refs.map((r) => sopReference({ ...r, frames: undefined })))],
          ]),
        ),
      ),
    ],
  ]);
}

/**
 * SOP Common, General Equipment and the series attributes every object has, plus the Contributing Equipment
 * item that names the algorithm (sr-codes.md §3; the purpose code is configurable, 109102 by default).
 */
export function commonElements(
  input: ReportInput,
  times: Times,
  ids: { sopClassUid: string; sopInstanceUid: string; seriesUid: string; seriesNumber: number; instanceNumber: number },
  purpose: Code,
): Entry[] {
  const { node, ensemble } = input;
  const contributionDescription = fill(texts.contributionDescription, {
    ensemble: ensemble.name,
    version: ensemble.version,
    seriesUid: input.source.seriesInstanceUid,
  });
  const equipment: Entry[] = [
    [Tag.Manufacturer, str('LO', node.manufacturer)],
    [Tag.ManufacturerModelName, str('LO', node.modelName)],
    [Tag.SoftwareVersions, str('LO', node.softwareVersion)],
    // SH holds 16 characters; the full name is the Device Observer Name in the SR.
    [Tag.StationName, str('SH', node.name.slice(0, 16))],
  ];
  if (node.institutionName) equipment.push([Tag.InstitutionName, str('LO', node.institutionName)]);
  const contributing = dataset([
    [Tag.PurposeOfReferenceCodeSequence, codeSeq(purpose)],
    [Tag.Manufacturer, str('LO', node.manufacturer)],
    [Tag.ManufacturerModelName, str('LO', ensemble.name)],
    [Tag.SoftwareVersions, str('LO', [ensemble.version, node.softwareVersion])],
    [Tag.ContributionDateTime, str('DT', times.dateTime)],
    [Tag.ContributionDescription, str('ST', contributionDescription)],
  ]);
  return [
    ...copiedPatientStudy(input.source),
    [Tag.SOPClassUID, str('UI', ids.sopClassUid)],
    [Tag.SOPInstanceUID, str('UI', ids.sopInstanceUid)],
    [Tag.InstanceCreationDate, str('DA', times.date)],
    [Tag.InstanceCreationTime, str('TM', times.time)],
    [Tag.SeriesInstanceUID, str('UI', ids.seriesUid)],
    [Tag.SeriesNumber, str('IS', String(ids.seriesNumber))],
    [Tag.SeriesDate, str('DA', times.date)],
    [Tag.SeriesTime, str('TM', times.time)],
    [Tag.InstanceNumber, str('IS', String(ids.instanceNumber))],
    [Tag.ContentDate, str('DA', times.date)],
    [Tag.ContentTime, str('TM', times.time)],
    ...equipment,
    [Tag.ContributingEquipmentSequence, seq(contributing)],
  ];
}

/** The default Contributing Equipment purpose (sr-codes.md §3). */
export const defaultPurpose = codes.contributingEquipmentPurpose;

/**
 * A DS value (at most 16 characters) as close to `x` as fits: the shortest round-trip form when it fits, else
 * fewer significant digits.
 */
export function formatDs(x: number): string {
  if (!Number.isFinite(x)) throw new ReportInputError(`${x} is not a finite number`);
  const trimZeros = (t: string) => t.replace(/(\.\d*?)0+(?=e|$)/, '$1').replace(/\.(?=e|$)/, '');
  let s = String(x);
  for (let digits = 15; s.length > 16 && digits > 0; digits--) s = trimZeros(x.toPrecision(digits));
  return s;
}
