/**
 * The static content of the output objects (codes, texts, series attributes) lives in dicom-templates/ as data;
 * this module checks it once at load time, so a bad edit fails at start-up instead of producing a bad object.
 */
import { z } from 'zod';
import codesJson from '../../dicom-templates/codes.json' with { type: 'json' };
import reportJson from '../../dicom-templates/report.json' with { type: 'json' };

/** A coded concept (PS3.3 Table 8.8-1): CodeValue SH (16), CodingSchemeDesignator SH (16), CodeMeaning LO (64). */
export interface Code {
  readonly value: string;
  readonly scheme: string;
  readonly meaning: string;
}

const CodeSchema = z
  .tuple([z.string().min(1).max(16), z.string().min(1).max(16), z.string().min(1).max(64)])
  .transform(([value, scheme, meaning]): Code => Object.freeze({ value, scheme, meaning }));

const CodesSchema = z.object({
  imagingMeasurementReport: CodeSchema,
  language: CodeSchema,
  englishUnitedStates: CodeSchema,
  observerType: CodeSchema,
  device: CodeSchema,
  deviceObserverUid: CodeSchema,
  deviceObserverName: CodeSchema,
  deviceObserverManufacturer: CodeSchema,
  deviceObserverModelName: CodeSchema,
  procedureReported: CodeSchema,
  ctOfHead: CodeSchema,
  imageLibrary: CodeSchema,
  imageLibraryGroup: CodeSchema,
  modality: CodeSchema,
  computedTomography: CodeSchema,
  imagingMeasurements: CodeSchema,
  measurementGroup: CodeSchema,
  trackingIdentifier: CodeSchema,
  trackingUniqueIdentifier: CodeSchema,
  finding: CodeSchema,
  intracranialHemorrhage: CodeSchema,
  findingSite: CodeSchema,
  brainStructure: CodeSchema,
  algorithmName: CodeSchema,
  algorithmVersion: CodeSchema,
  algorithmParameters: CodeSchema,
  probability: CodeSchema,
  noUnits: CodeSchema,
  sourceOfMeasurement: CodeSchema,
  illustrationOfRoi: CodeSchema,
  present: CodeSchema,
  absent: CodeSchema,
  comment: CodeSchema,
  contributingEquipmentPurpose: CodeSchema,
  sourceImageForProcessing: CodeSchema,
  ofInterest: CodeSchema,
  keyObjectDescription: CodeSchema,
});
export type CodeName = keyof z.infer<typeof CodesSchema>;

const LO = z.string().min(1).max(64);
const SeriesNumber = z.number().int().min(1).max(2 ** 31 - 1);
const DecisionWords = z.object({ present: z.string().min(1), absent: z.string().min(1) });
const CodeNameSchema = z.enum(CodesSchema.keyof().options);

const ReportTextsSchema = z.object({
  contributionDescription: z.string().min(1).max(1024),
  sr: z.object({
    seriesNumber: SeriesNumber,
    seriesDescription: LO,
    trackingIdentifier: z.string().min(1),
    language: CodeNameSchema,
    procedureReported: CodeNameSchema,
    findingSite: CodeNameSchema,
    completionFlag: z.enum(['COMPLETE', 'PARTIAL']),
    // VERIFIED would need a Verifying Observer, which a machine is not.
    verificationFlag: z.literal('UNVERIFIED'),
    algorithmParameters: z.array(z.string().min(1)).min(1),
    memberFormat: z.string().min(1),
    baselineMemberFormat: z.string().min(1),
    resultComment: z.string().min(1),
    baselineComment: z.string().min(1),
    decisionWords: DecisionWords,
  }),
  sc: z.object({
    seriesNumber: SeriesNumber,
    seriesDescription: LO,
    derivationDescription: z.string().min(1).max(1024),
    lines: z.array(z.string().min(1)).min(1),
    baselineLine: z.string().min(1),
    decisionWords: DecisionWords,
  }),
  kos: z.object({
    seriesNumber: SeriesNumber,
    seriesDescription: LO,
    /** Document title, a CID 7010 concept (113000 "Of Interest" needs no title modifier). */
    title: CodeNameSchema,
    description: z.string().min(1).max(1024),
  }),
});
export type ReportTexts = z.infer<typeof ReportTextsSchema>;

function parse<S extends z.ZodType>(schema: S, data: unknown, file: string): z.infer<S> {
  const { $comment: _comment, ...rest } = data as Record<string, unknown>;
  const result = schema.safeParse(rest);
  if (!result.success) throw new Error(`dicom-templates/${file} is invalid: ${z.prettifyError(result.error)}`);
  return result.data;
}

export const codes: Readonly<Record<CodeName, Code>> = Object.freeze(parse(CodesSchema.strict(), codesJson, 'codes.json'));
export const texts: ReportTexts = parse(ReportTextsSchema, reportJson, 'report.json');

/** Fills `{name}` placeholders; a placeholder without a value is a template error, not a silent blank. */
export function fill(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (_m, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`template placeholder {${key}} has no value in "${template}"`);
    return String(v);
  });
}
