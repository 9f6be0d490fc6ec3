/**
 * The Key Object Selection document (TID 2010, sr-codes.md §4): the key CT slices flagged "Of Interest", so a PACS
 * viewer can jump to them. TID 2010 is not extensible: title, language, device observer, one description, images.
 */
import { SopClass, Tag } from '../dicom/constants.js';
import { seq, str } from '../dicom/writer.js';
import { codeSeq, formatDs, sliceRef, studyReference, type Times } from './common.js';
import {
  containerBody,
  deviceObserverContext,
  imageValue,
  languageOfContentItemAndDescendants,
  srFamilyDocument,
  textValue,
} from './content-items.js';
import { codes, fill, texts, type Code } from './templates.js';
import type { ReportInput } from './types.js';
import type { OutputUids } from './uids.js';

export function buildKos(input: ReportInput, uids: OutputUids, times: Times, purpose: Code): Uint8Array {
  const keyRefs = input.keySlices.map((k) => sliceRef(k.slice));
  const description = fill(texts.kos.description, {
    score: formatDs(input.caseScore),
    threshold: formatDs(input.threshold.value),
    decision: texts.sr.decisionWords[input.decision],
  });
  const doc = {
    sopClassUid: SopClass.KeyObjectSelection,
    sopInstanceUid: uids.kosInstance,
    seriesUid: uids.kosSeries,
    seriesNumber: texts.kos.seriesNumber,
    modality: 'KO' as const,
    seriesDescription: texts.kos.seriesDescription,
  };
  return srFamilyDocument(input, times, purpose, doc, [
    // Key Object Document: the evidence lists exactly the instances the content references.
    [
      Tag.CurrentRequestedProcedureEvidenceSequence,
      seq(studyReference(input.source.studyInstanceUid, [{ seriesUid: input.source.seriesInstanceUid, refs: keyRefs }])),
    ],
    [Tag.ValueType, str('CS', 'CONTAINER')],
    [Tag.ConceptNameCodeSequence, codeSeq(codes[texts.kos.title])],
    ...containerBody(
      [
        languageOfContentItemAndDescendants(),
        ...deviceObserverContext(input.node),
        textValue('CONTAINS', codes.keyObjectDescription, description),
        ...keyRefs.map((ref) => imageValue('CONTAINS', undefined, ref)),
      ],
      '2010',
    ),
  ]);
}
