/**
 * Secondary Capture Image Storage key slices (sr-codes.md §5): the brain-window slice with the result burned in,
 * single-frame 8-bit MONOCHROME2 (the SC class PACS support most widely).
 */
import { SopClass, Tag } from '../dicom/constants.js';
import { bytes, dataset, num, seq, str, writePart10 } from '../dicom/writer.js';
import { burnInText } from './burn-in.js';
import { codeSeq, commonElements, formatDs, sliceRef, sopReference, type Times } from './common.js';
import { codes, fill, texts, type Code } from './templates.js';
import type { KeySliceImage, ReportInput } from './types.js';
import type { OutputUids } from './uids.js';

/** What the image says: the warning first (it must fit whole), then rank, scores, model, and the baseline note. */
export function scLines(input: ReportInput, key: KeySliceImage): string[] {
  const display = (x: number) => x.toFixed(3);
  const lines = texts.sc.lines.map((t) =>
    fill(t, {
      rank: key.rank,
      count: input.keySlices.length,
      probability: display(key.probability),
      score: display(input.caseScore),
      threshold: display(input.threshold.value),
      decision: texts.sc.decisionWords[input.decision],
      ensemble: input.ensemble.name,
      version: input.ensemble.version,
    }),
  );
  return input.ensemble.members.some((m) => m.baseline) ? [...lines, texts.sc.baselineLine] : lines;
}

export function buildSc(input: ReportInput, key: KeySliceImage, uids: OutputUids, times: Times, purpose: Code): Uint8Array {
  const { rows, columns } = key;
  const sourceRef = sliceRef(key.slice);
  const image = dataset([
    ...commonElements(
      input,
      times,
      {
        sopClassUid: SopClass.SecondaryCapture,
        sopInstanceUid: uids.scInstances[key.rank - 1]!,
        seriesUid: uids.scSeries,
        seriesNumber: texts.sc.seriesNumber,
        instanceNumber: key.rank,
      },
      purpose,
    ),
    // General Series and SC Equipment
    [Tag.Modality, str('CS', 'OT')],
    [Tag.SeriesDescription, str('LO', texts.sc.seriesDescription)],
    // A head is not a paired structure: saying so is what makes General Series' Laterality (2C) not required.
    [Tag.BodyPartExamined, str('CS', 'HEAD')],
    [Tag.ConversionType, str('CS', 'WSD')],
    [Tag.SecondaryCaptureDeviceManufacturer, str('LO', input.node.manufacturer)],
    [Tag.SecondaryCaptureDeviceManufacturerModelName, str('LO', input.node.modelName)],
    [Tag.SecondaryCaptureDeviceSoftwareVersions, str('LO', input.node.softwareVersion)],
    // General Image
    [Tag.ImageType, str('CS', ['DERIVED', 'SECONDARY'])],
    [Tag.PatientOrientation, str('CS', input.source.standardAxial ? ['L', 'P'] : [])],
    [Tag.DerivationDescription, str('ST', texts.sc.derivationDescription)],
    [
      Tag.SourceImageSequence,
      seq(sopReference(sourceRef, [[Tag.PurposeOfReferenceCodeSequence, codeSeq(codes.sourceImageForProcessing)]])),
    ],
    [Tag.BurnedInAnnotation, str('CS', 'YES')],
    // Image Pixel
    [Tag.SamplesPerPixel, num('US', 1)],
    [Tag.PhotometricInterpretation, str('CS', 'MONOCHROME2')],
    [Tag.Rows, num('US', rows)],
    [Tag.Columns, num('US', columns)],
    [Tag.BitsAllocated, num('US', 8)],
    [Tag.BitsStored, num('US', 8)],
    [Tag.HighBit, num('US', 7)],
    [Tag.PixelRepresentation, num('US', 0)],
    [Tag.PixelData, bytes('OB', burnInText(key.pixels, rows, columns, scLines(input, key)))],
  ]);
  // Only when the SC pixels map 1:1 to the slice (the pipeline sets it only then): a spacing that is wrong is worse
  // than none.
  if (key.pixelSpacing) image.set(Tag.PixelSpacing, str('DS', key.pixelSpacing.map(formatDs)));
  return writePart10(image);
}
