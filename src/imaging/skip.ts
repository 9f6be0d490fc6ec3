/**
 * Why an object or frame is not analysed. Codes are stable (the API, the database and `analyze --json` use
 * them; tests and QA queries match on them); messages are for people.
 */
export const SKIP_CODES = {
  'not-dicom': 'not a DICOM file',
  unreadable: 'the file could not be read or parsed',
  'header-invalid': 'a header attribute needed to analyse the image is invalid',
  'no-pixel-data': 'no (7FE0,0010) Pixel Data',
  'secondary-capture': 'secondary capture',
  'structured-report': 'structured report (e.g. a dose report)',
  'not-ct': 'modality is not CT',
  'unsupported-sop-class': 'SOP class is not a CT image storage class',
  localizer: 'localizer / scout image',
  reformat: 'reformatted or projection image (MPR, MIP), not an acquired slice',
  'not-monochrome': 'not a monochrome image',
  'no-photometric': 'no PhotometricInterpretation',
  'no-geometry': 'no usable image orientation or position',
  'not-axial': 'not an axial slice',
  'unsupported-transfer-syntax': 'no decoder for the transfer syntax',
  'decode-failed': 'pixel data could not be decoded',
  duplicate: 'a repeated SOP Instance UID and frame',
  'invalid-uid': 'a UID that is not a valid DICOM UID',
} as const;

export type SkipCode = keyof typeof SKIP_CODES;

/** Thrown by the classification and decoding steps; carries the stable code and a specific message. */
export class Skip extends Error {
  constructor(
    readonly code: SkipCode,
    message: string,
    /** 'excluded' = deliberately not analysed; 'failed' = should have been analysable but broken. */
    readonly kind: 'excluded' | 'failed' = 'excluded',
  ) {
    super(message);
    this.name = 'Skip';
  }
}

export function failed(code: SkipCode, message: string): Skip {
  return new Skip(code, message, 'failed');
}
