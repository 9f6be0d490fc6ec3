/**
 * The Comprehensive 3D SR with TID 1500 at the root (sr-codes.md §1-2), in highdicom's three layers: content items
 * (value types), templates named for their TID title, and the document.
 */
import { SopClass, Tag } from '../dicom/constants.js';
import { dataset, num, seq, str, type Dataset } from '../dicom/writer.js';
import {
  codeValue,
  container,
  containerBody,
  contentItem,
  deviceObserverContext,
  imageValue,
  languageOfContentItemAndDescendants,
  srFamilyDocument,
  textValue,
  uidValue,
  type Relationship,
} from './content-items.js';
import {
  codeItem,
  codeSeq,
  formatDs,
  instanceRefs,
  sliceRef,
  studyReference,
  type Entry,
  type Times,
} from './common.js';
import { codes, fill, texts, type Code } from './templates.js';
import type { OutputUids } from './uids.js';
import type { AnalysedSlice, EnsembleIdentity, ReportInput } from './types.js';

/** NUM with its unit; FloatingPointValue carries the exact double when the 16-character DS had to round it. */
function numValue(rel: Relationship, name: Code, value: number, unit: Code): Dataset {
  const ds = formatDs(value);
  const measured: Entry[] = [
    [Tag.MeasurementUnitsCodeSequence, codeSeq(unit)],
    [Tag.NumericValue, str('DS', ds)],
  ];
  if (Number(ds) !== value) measured.push([Tag.FloatingPointValue, num('FD', value)]);
  return contentItem(rel, 'NUM', name, [[Tag.MeasuredValueSequence, seq(dataset(measured))]]);
}

// ---------------------------------------------------------------------------------------------------------------
// Templates (PS3.16), each named for its TID title

/** TID 1600 Image Library: one group of the analysed CT images (TID 1601 entries), modality as shared descriptor. */
function imageLibrary(analysed: readonly AnalysedSlice[]): Dataset {
  const group = container('CONTAINS', codes.imageLibraryGroup, [
    codeValue('HAS ACQ CONTEXT', codes.modality, codes.computedTomography),
    ...instanceRefs(analysed).map((ref) => imageValue('CONTAINS', undefined, ref)),
  ]);
  return container('CONTAINS', codes.imageLibrary, [group]);
}

/** TID 4019 Algorithm Identification (rows in the template's order: name, version, parameters). */
function algorithmIdentification(ensemble: EnsembleIdentity, parameters: string[]): Dataset[] {
  return [
    textValue('HAS CONCEPT MOD', codes.algorithmName, ensemble.name),
    textValue('HAS CONCEPT MOD', codes.algorithmVersion, ensemble.version),
    ...parameters.map((p) => textValue('HAS CONCEPT MOD', codes.algorithmParameters, p)),
  ];
}

function algorithmParameters(input: ReportInput): string[] {
  const { ensemble, threshold } = input;
  const members = ensemble.members
    .map((m) => fill(m.baseline ? texts.sr.baselineMemberFormat : texts.sr.memberFormat, { name: m.name, version: m.version }))
    .join(', ');
  return texts.sr.algorithmParameters.map((t) =>
    fill(t, {
      threshold: formatDs(threshold.value),
      thresholdMethod: threshold.method,
      combine: ensemble.combine,
      digest: ensemble.digest,
      members,
    }),
  );
}

/** The plain-text statements of the group: the result in words, and one per baseline member of the ensemble. */
function resultComments(input: ReportInput): string[] {
  const result = fill(texts.sr.resultComment, {
    score: formatDs(input.caseScore),
    slices: input.analysed.length,
    threshold: formatDs(input.threshold.value),
    decision: texts.sr.decisionWords[input.decision],
  });
  const baselines = input.ensemble.members.filter((m) => m.baseline).map((m) => fill(texts.sr.baselineComment, { name: m.name, version: m.version }));
  return [result, ...baselines];
}

/**
 * TID 1501 Measurement and Qualitative Evaluation Group: tracking, finding and site, algorithm, the case score
 * (TID 300), the key slices it came from, their rendered SC images, and the coded present/absent evaluation.
 */
function measurementAndQualitativeEvaluationGroup(input: ReportInput, uids: OutputUids): Dataset {
  const keyRefs = input.keySlices.map((k) => sliceRef(k.slice));
  const scRefs = uids.scInstances.map((uid) => ({ sopClassUid: SopClass.SecondaryCapture, sopInstanceUid: uid }));
  return container(
    'CONTAINS',
    codes.measurementGroup,
    [
      textValue('HAS OBS CONTEXT', codes.trackingIdentifier, texts.sr.trackingIdentifier),
      uidValue('HAS OBS CONTEXT', codes.trackingUniqueIdentifier, uids.tracking),
      codeValue('CONTAINS', codes.finding, codes.intracranialHemorrhage),
      codeValue('HAS CONCEPT MOD', codes.findingSite, codes[texts.sr.findingSite]),
      ...algorithmIdentification(input.ensemble, algorithmParameters(input)),
      numValue('CONTAINS', codes.probability, input.caseScore, codes.noUnits),
      ...keyRefs.map((ref) => imageValue('CONTAINS', codes.sourceOfMeasurement, ref)),
      ...scRefs.map((ref) => imageValue('CONTAINS', codes.illustrationOfRoi, ref)),
      codeValue('CONTAINS', codes.intracranialHemorrhage, input.decision === 'present' ? codes.present : codes.absent),
      ...resultComments(input).map((t) => textValue('CONTAINS', codes.comment, t)),
    ],
    '1501',
  );
}

/** TID 1500 Measurement Report: the root container's content (the root itself has no relationship type). */
function measurementReport(input: ReportInput, uids: OutputUids): Entry[] {
  return [
    [Tag.ValueType, str('CS', 'CONTAINER')],
    [Tag.ConceptNameCodeSequence, codeSeq(codes.imagingMeasurementReport)],
    ...containerBody(
      [
        languageOfContentItemAndDescendants(),
        ...deviceObserverContext(input.node),
        codeValue('HAS CONCEPT MOD', codes.procedureReported, codes[texts.sr.procedureReported]),
        imageLibrary(input.analysed),
        container('CONTAINS', codes.imagingMeasurements, [measurementAndQualitativeEvaluationGroup(input, uids)]),
      ],
      '1500',
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// Document

/** SR Document General: flags, the procedure, the evidence (every instance the content references), predecessor. */
function documentGeneral(input: ReportInput, uids: OutputUids): Entry[] {
  const { source, predecessor } = input;
  const evidence = studyReference(source.studyInstanceUid, [
    { seriesUid: source.seriesInstanceUid, refs: instanceRefs(input.analysed) },
    {
      seriesUid: uids.scSeries,
      refs: uids.scInstances.map((uid) => ({ sopClassUid: SopClass.SecondaryCapture, sopInstanceUid: uid })),
    },
  ]);
  const entries: Entry[] = [
    [Tag.CompletionFlag, str('CS', texts.sr.completionFlag)],
    [Tag.VerificationFlag, str('CS', texts.sr.verificationFlag)],
    [Tag.PerformedProcedureCodeSequence, seq(codeItem(codes[texts.sr.procedureReported]))],
    [Tag.CurrentRequestedProcedureEvidenceSequence, seq(evidence)],
  ];
  if (predecessor) {
    const ref = { sopClassUid: predecessor.sopClassUid, sopInstanceUid: predecessor.sopInstanceUid };
    entries.push([
      Tag.PredecessorDocumentsSequence,
      seq(studyReference(predecessor.studyInstanceUid, [{ seriesUid: predecessor.seriesInstanceUid, refs: [ref] }])),
    ]);
  }
  return entries;
}

export function buildSr(input: ReportInput, uids: OutputUids, times: Times, purpose: Code): Uint8Array {
  const doc = {
    sopClassUid: SopClass.Comprehensive3dSr,
    sopInstanceUid: uids.srInstance,
    seriesUid: uids.srSeries,
    seriesNumber: texts.sr.seriesNumber,
    modality: 'SR' as const,
    seriesDescription: texts.sr.seriesDescription,
  };
  return srFamilyDocument(input, times, purpose, doc, [...documentGeneral(input, uids), ...measurementReport(input, uids)]);
}
