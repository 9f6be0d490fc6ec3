/** DICOM identifiers the node reasons about, named once (no literal UIDs in the logic). */

export const TransferSyntax = Object.freeze({
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JpegBaseline: '1.2.840.10008.1.2.4.50',
  JpegExtended: '1.2.840.10008.1.2.4.51',
  JpegSpectralSelection: '1.2.840.10008.1.2.4.53',
  JpegFullProgression: '1.2.840.10008.1.2.4.55',
  JpegLossless: '1.2.840.10008.1.2.4.57',
  JpegLosslessSV1: '1.2.840.10008.1.2.4.70',
  JpegLsLossless: '1.2.840.10008.1.2.4.80',
  JpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  Jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  Jpeg2000: '1.2.840.10008.1.2.4.91',
  RleLossless: '1.2.840.10008.1.2.5',
});

export type Codec = 'native' | 'jpeg' | 'jpeg-ls' | 'jpeg2000' | 'rle';

interface SyntaxInfo {
  name: string;
  codec: Codec;
  littleEndian: boolean;
  explicitVr: boolean;
  deflated?: boolean;
  lossy?: boolean;
}

/**
 * Every transfer syntax the node can decode, and how. The SCP accepts exactly these (anything else is refused at
 * association time, so the sender can fall back); the imaging stage decodes exactly these.
 */
export const SUPPORTED_SYNTAXES: ReadonlyMap<string, SyntaxInfo> = new Map<string, SyntaxInfo>([
  [TransferSyntax.ImplicitVRLittleEndian, { name: 'Implicit VR Little Endian', codec: 'native', littleEndian: true, explicitVr: false }],
  [TransferSyntax.ExplicitVRLittleEndian, { name: 'Explicit VR Little Endian', codec: 'native', littleEndian: true, explicitVr: true }],
  [TransferSyntax.DeflatedExplicitVRLittleEndian, { name: 'Deflated Explicit VR Little Endian', codec: 'native', littleEndian: true, explicitVr: true, deflated: true }],
  [TransferSyntax.ExplicitVRBigEndian, { name: 'Explicit VR Big Endian', codec: 'native', littleEndian: false, explicitVr: true }],
  [TransferSyntax.JpegBaseline, { name: 'JPEG Baseline (Process 1)', codec: 'jpeg', littleEndian: true, explicitVr: true, lossy: true }],
  [TransferSyntax.JpegExtended, { name: 'JPEG Extended (Process 2 & 4)', codec: 'jpeg', littleEndian: true, explicitVr: true, lossy: true }],
  [TransferSyntax.JpegLossless, { name: 'JPEG Lossless (Process 14)', codec: 'jpeg', littleEndian: true, explicitVr: true }],
  [TransferSyntax.JpegLosslessSV1, { name: 'JPEG Lossless SV1 (Process 14, Selection Value 1)', codec: 'jpeg', littleEndian: true, explicitVr: true }],
  [TransferSyntax.JpegLsLossless, { name: 'JPEG-LS Lossless', codec: 'jpeg-ls', littleEndian: true, explicitVr: true }],
  [TransferSyntax.JpegLsNearLossless, { name: 'JPEG-LS Near-Lossless', codec: 'jpeg-ls', littleEndian: true, explicitVr: true, lossy: true }],
  [TransferSyntax.Jpeg2000Lossless, { name: 'JPEG 2000 Lossless', codec: 'jpeg2000', littleEndian: true, explicitVr: true }],
  [TransferSyntax.Jpeg2000, { name: 'JPEG 2000', codec: 'jpeg2000', littleEndian: true, explicitVr: true, lossy: true }],
  [TransferSyntax.RleLossless, { name: 'RLE Lossless', codec: 'rle', littleEndian: true, explicitVr: true }],
]);

export function syntaxName(uid: string): string {
  return SUPPORTED_SYNTAXES.get(uid)?.name ?? KNOWN_UNSUPPORTED_SYNTAXES.get(uid) ?? 'unknown transfer syntax';
}

/** Syntaxes we recognise but cannot decode (named in refusals so the reason is readable). */
export const KNOWN_UNSUPPORTED_SYNTAXES: ReadonlyMap<string, string> = new Map([
  [TransferSyntax.JpegSpectralSelection, 'JPEG Spectral Selection (Process 6 & 8, retired)'],
  [TransferSyntax.JpegFullProgression, 'JPEG Full Progression (Process 10 & 12, retired)'],
  ['1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile'],
  ['1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264'],
  ['1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 Lossless'],
]);

export const SopClass = Object.freeze({
  Verification: '1.2.840.10008.1.1',
  CtImage: '1.2.840.10008.5.1.4.1.1.2',
  EnhancedCtImage: '1.2.840.10008.5.1.4.1.1.2.1',
  LegacyConvertedEnhancedCtImage: '1.2.840.10008.5.1.4.1.1.2.2',
  SecondaryCapture: '1.2.840.10008.5.1.4.1.1.7',
  Comprehensive3dSr: '1.2.840.10008.5.1.4.1.1.88.34',
  KeyObjectSelection: '1.2.840.10008.5.1.4.1.1.88.59',
  XRayRadiationDoseSr: '1.2.840.10008.5.1.4.1.1.88.67',
});

/** CT image storage classes the pipeline analyses. */
export const CT_IMAGE_CLASSES: ReadonlySet<string> = new Set([
  SopClass.CtImage,
  SopClass.EnhancedCtImage,
  SopClass.LegacyConvertedEnhancedCtImage,
]);

/** Secondary Capture family (single- and multi-frame): 1.2.840.10008.5.1.4.1.1.7 and .7.1 to .7.4. */
export const SECONDARY_CAPTURE_PREFIX = SopClass.SecondaryCapture;
/** Structured Report family (all SR, KOS and dose report classes). */
export const SR_PREFIX = '1.2.840.10008.5.1.4.1.1.88.';

/** Tags as 32-bit numbers. */
export const Tag = Object.freeze({
  TransferSyntaxUID: 0x00020010,
  SpecificCharacterSet: 0x00080005,
  ImageType: 0x00080008,
  InstanceCreationDate: 0x00080012,
  InstanceCreationTime: 0x00080013,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  StudyDate: 0x00080020,
  SeriesDate: 0x00080021,
  ContentDate: 0x00080023,
  StudyTime: 0x00080030,
  SeriesTime: 0x00080031,
  ContentTime: 0x00080033,
  AccessionNumber: 0x00080050,
  Modality: 0x00080060,
  ConversionType: 0x00080064,
  Manufacturer: 0x00080070,
  InstitutionName: 0x00080080,
  ReferringPhysicianName: 0x00080090,
  CodeValue: 0x00080100,
  CodingSchemeDesignator: 0x00080102,
  CodeMeaning: 0x00080104,
  MappingResource: 0x00080105,
  TimezoneOffsetFromUTC: 0x00080201,
  StationName: 0x00081010,
  StudyDescription: 0x00081030,
  SeriesDescription: 0x0008103e,
  PhysiciansOfRecord: 0x00081048,
  NameOfPhysiciansReadingStudy: 0x00081060,
  ManufacturerModelName: 0x00081090,
  ReferencedPerformedProcedureStepSequence: 0x00081111,
  ReferencedSeriesSequence: 0x00081115,
  ReferencedSOPClassUID: 0x00081150,
  ReferencedSOPInstanceUID: 0x00081155,
  ReferencedFrameNumber: 0x00081160,
  ReferencedSOPSequence: 0x00081199,
  DerivationDescription: 0x00082111,
  SourceImageSequence: 0x00082112,
  FrameType: 0x00089007,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  IssuerOfPatientID: 0x00100021,
  PatientBirthDate: 0x00100030,
  PatientBirthTime: 0x00100032,
  PatientSex: 0x00100040,
  OtherPatientNames: 0x00101001,
  PatientAge: 0x00101010,
  PatientSize: 0x00101020,
  PatientWeight: 0x00101030,
  EthnicGroup: 0x00102160,
  AdditionalPatientHistory: 0x001021b0,
  PatientComments: 0x00104000,
  BodyPartExamined: 0x00180015,
  SecondaryCaptureDeviceManufacturer: 0x00181016,
  SecondaryCaptureDeviceManufacturerModelName: 0x00181018,
  SecondaryCaptureDeviceSoftwareVersions: 0x00181019,
  SoftwareVersions: 0x00181020,
  ConvolutionKernel: 0x00181210,
  CTImageFrameTypeSequence: 0x00189329,
  ContributingEquipmentSequence: 0x0018a001,
  ContributionDateTime: 0x0018a002,
  ContributionDescription: 0x0018a003,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  StudyID: 0x00200010,
  SeriesNumber: 0x00200011,
  InstanceNumber: 0x00200013,
  PatientOrientation: 0x00200020,
  ImagePositionPatient: 0x00200032,
  ImageOrientationPatient: 0x00200037,
  FrameOfReferenceUID: 0x00200052,
  ImagesInAcquisition: 0x00201002,
  PlanePositionSequence: 0x00209113,
  PlaneOrientationSequence: 0x00209116,
  SamplesPerPixel: 0x00280002,
  PhotometricInterpretation: 0x00280004,
  NumberOfFrames: 0x00280008,
  Rows: 0x00280010,
  Columns: 0x00280011,
  PixelSpacing: 0x00280030,
  BitsAllocated: 0x00280100,
  BitsStored: 0x00280101,
  HighBit: 0x00280102,
  PixelRepresentation: 0x00280103,
  PixelPaddingValue: 0x00280120,
  PixelPaddingRangeLimit: 0x00280121,
  BurnedInAnnotation: 0x00280301,
  RescaleIntercept: 0x00281052,
  RescaleSlope: 0x00281053,
  RescaleType: 0x00281054,
  ModalityLUTSequence: 0x00283000,
  LUTDescriptor: 0x00283002,
  LUTData: 0x00283006,
  PixelMeasuresSequence: 0x00289110,
  PixelValueTransformationSequence: 0x00289145,
  MeasurementUnitsCodeSequence: 0x004008ea,
  RelationshipType: 0x0040a010,
  ValueType: 0x0040a040,
  ConceptNameCodeSequence: 0x0040a043,
  ContinuityOfContent: 0x0040a050,
  UID: 0x0040a124,
  TextValue: 0x0040a160,
  FloatingPointValue: 0x0040a161,
  ConceptCodeSequence: 0x0040a168,
  PurposeOfReferenceCodeSequence: 0x0040a170,
  MeasuredValueSequence: 0x0040a300,
  NumericValue: 0x0040a30a,
  PredecessorDocumentsSequence: 0x0040a360,
  PerformedProcedureCodeSequence: 0x0040a372,
  CurrentRequestedProcedureEvidenceSequence: 0x0040a375,
  CompletionFlag: 0x0040a491,
  VerificationFlag: 0x0040a493,
  ContentTemplateSequence: 0x0040a504,
  ContentSequence: 0x0040a730,
  TemplateIdentifier: 0x0040db00,
  SharedFunctionalGroupsSequence: 0x52009229,
  PerFrameFunctionalGroupsSequence: 0x52009230,
  FloatPixelData: 0x7fe00008,
  DoubleFloatPixelData: 0x7fe00009,
  PixelData: 0x7fe00010,
});
