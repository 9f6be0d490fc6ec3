/**
 * What the node's SR-family documents (the TID 1500 SR and the TID 2010 KOS) share: content items (PS3.3 C.17.3)
 * as functions per value type, the small templates both use (language, device observer), and the document head.
 */
import { Tag } from '../dicom/constants.js';
import { dataset, seq, str, writePart10, type Dataset } from '../dicom/writer.js';
import { codeSeq, commonElements, sopReference, type Entry, type InstanceRef, type Times } from './common.js';
import { codes, texts, type Code } from './templates.js';
import type { NodeIdentity, ReportInput } from './types.js';

export type Relationship = 'CONTAINS' | 'HAS OBS CONTEXT' | 'HAS CONCEPT MOD' | 'HAS ACQ CONTEXT';
export type ValueType = 'CONTAINER' | 'CODE' | 'TEXT' | 'UIDREF' | 'NUM' | 'IMAGE';

export function contentItem(rel: Relationship, valueType: ValueType, name: Code | undefined, value: Entry[]): Dataset {
  // PS3.3 Table A.35.13-2: a concept modifier is a CODE or TEXT item; anything else would be refused by readers.
  if (rel === 'HAS CONCEPT MOD' && valueType !== 'CODE' && valueType !== 'TEXT') {
    throw new Error(`HAS CONCEPT MOD cannot target a ${valueType} item`);
  }
  const entries: Entry[] = [
    [Tag.RelationshipType, str('CS', rel)],
    [Tag.ValueType, str('CS', valueType)],
    ...value,
  ];
  if (name) entries.push([Tag.ConceptNameCodeSequence, codeSeq(name)]);
  return dataset(entries);
}

/** CONTAINER body: continuity, optional template identification (DCMR), children. */
export function containerBody(children: Dataset[], templateId?: string): Entry[] {
  const entries: Entry[] = [
    [Tag.ContinuityOfContent, str('CS', 'SEPARATE')],
    [Tag.ContentSequence, seq(...children)],
  ];
  if (templateId) {
    entries.push([
      Tag.ContentTemplateSequence,
      seq(dataset([[Tag.MappingResource, str('CS', 'DCMR')], [Tag.TemplateIdentifier, str('CS', templateId)]])),
    ]);
  }
  return entries;
}

export const container = (rel: Relationship, name: Code, children: Dataset[], templateId?: string) =>
  contentItem(rel, 'CONTAINER', name, containerBody(children, templateId));
export const codeValue = (rel: Relationship, name: Code, value: Code) =>
  contentItem(rel, 'CODE', name, [[Tag.ConceptCodeSequence, codeSeq(value)]]);
export const textValue = (rel: Relationship, name: Code, value: string) =>
  contentItem(rel, 'TEXT', name, [[Tag.TextValue, str('UT', value)]]);
export const uidValue = (rel: Relationship, name: Code, uid: string) => contentItem(rel, 'UIDREF', name, [[Tag.UID, str('UI', uid)]]);
export const imageValue = (rel: Relationship, name: Code | undefined, ref: InstanceRef) =>
  contentItem(rel, 'IMAGE', name, [[Tag.ReferencedSOPSequence, seq(sopReference(ref))]]);

/** TID 1204 Language of Content Item and Descendants. */
export const languageOfContentItemAndDescendants = () =>
  codeValue('HAS CONCEPT MOD', codes.language, codes[texts.sr.language]);

/** TID 1002 Observer Context with TID 1004 Device Observer Identifying Attributes. */
export function deviceObserverContext(node: NodeIdentity): Dataset[] {
  return [
    codeValue('HAS OBS CONTEXT', codes.observerType, codes.device),
    uidValue('HAS OBS CONTEXT', codes.deviceObserverUid, node.deviceUid),
    textValue('HAS OBS CONTEXT', codes.deviceObserverName, node.name),
    textValue('HAS OBS CONTEXT', codes.deviceObserverManufacturer, node.manufacturer),
    textValue('HAS OBS CONTEXT', codes.deviceObserverModelName, node.modelName),
  ];
}


/** One SR-family document of the node: the shared head (patient/study copy, SOP common, equipment), its own series. */
export function srFamilyDocument(
  input: ReportInput,
  times: Times,
  purpose: Code,
  doc: { sopClassUid: string; sopInstanceUid: string; seriesUid: string; seriesNumber: number; modality: 'SR' | 'KO'; seriesDescription: string },
  body: Entry[],
): Uint8Array {
  const ids = { ...doc, instanceNumber: 1 };
  return writePart10(
    dataset([
      ...commonElements(input, times, ids, purpose),
      [Tag.Modality, str('CS', doc.modality)],
      [Tag.SeriesDescription, str('LO', doc.seriesDescription)],
      [Tag.ReferencedPerformedProcedureStepSequence, seq()],
      ...body,
    ]),
  );
}
