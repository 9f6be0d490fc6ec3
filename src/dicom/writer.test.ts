import { describe, expect, it } from 'vitest';
import dicomParser from 'dicom-parser';
import dcmjs from 'dcmjs';
import { IMPLEMENTATION_CLASS_UID } from './meta.js';
import {
  type DataElement,
  DicomWriteError,
  bytes,
  dataset,
  encodeDataset,
  isValidUid,
  num,
  raw,
  rawStringProblem,
  seq,
  str,
  writePart10,
} from './writer.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// "Yamada^Tarou=山田^太郎" in ISO 2022 IR 87 (PS3.5 Annex H example H.3.1), as stored in charsets/chrH31.dcm.
const JAPANESE_PN = Buffer.from(
  '59616d6164615e5461726f753d1b24423b3345441b28425e1b244242404f3a1b28423d1b24422464245e24401b28425e1b2442243f246d24261b2842',
  'hex',
);

function sample(charset: string[] = ['', 'ISO 2022 IR 87'], patientName: Uint8Array = JAPANESE_PN) {
  return dataset([
    [0x00080005, str('CS', charset)],
    [0x00080016, str('UI', '1.2.840.10008.5.1.4.1.1.7')],
    [0x00080018, str('UI', '2.25.1234567890123456789')],
    [0x00080020, raw('DA', Buffer.from('20240131'))],
    [0x0008103e, str('LO', 'AI result')],
    [0x00100010, raw('PN', patientName)],
    [0x00100020, str('LO', 'ABC')],
    [0x00200013, str('IS', '7')],
    [0x00280030, str('DS', ['0.5', '0.25'])],
    [0x00280010, num('US', 3)],
    [0x00189305, num('FD', 0.6)],
    [
      0x00082112,
      seq(
        dataset([
          [0x00081150, str('UI', '1.2.840.10008.5.1.4.1.1.2')],
          [0x00081155, str('UI', '1.2.3.4')],
          [0x0040a170, seq(dataset([[0x00080100, str('SH', '121322')], [0x00080102, str('SH', 'DCM')]]))],
        ]),
      ),
    ],
    [0x7fe00010, bytes('OB', Uint8Array.from([1, 2, 3]))],
  ]);
}

describe('encodeDataset', () => {
  it('writes known bytes for a short element (tag, VR, 16-bit length, space-padded value)', () => {
    expect(hex(encodeDataset(dataset([[0x00100020, str('LO', 'ABC')]])))).toBe('10002000' + '4c4f' + '0400' + '41424320');
  });

  it('pads UIDs with NUL, uses 32-bit lengths for OB and SQ, writes items with explicit lengths', () => {
    expect(hex(encodeDataset(dataset([[0x00081155, str('UI', '1.2.3')]])))).toBe('08005511' + '5549' + '0600' + '312e322e3300');
    expect(hex(encodeDataset(dataset([[0x7fe00010, bytes('OB', Uint8Array.from([9]))]])))).toBe(
      'e07f1000' + '4f42' + '0000' + '02000000' + '0900',
    );
    const item = '10002000' + '4c4f' + '0200' + '4142';
    expect(hex(encodeDataset(dataset([[0x00082112, seq(dataset([[0x00100020, str('LO', 'AB')]]))]])))).toBe(
      '08001221' + '5351' + '0000' + '12000000' + 'feff00e0' + '0a000000' + item,
    );
  });

  it('sorts elements by tag', () => {
    const out = encodeDataset(dataset([[0x00100020, str('LO', 'AB')], [0x00080060, str('CS', 'SR')]]));
    expect(hex(out.subarray(0, 4))).toBe('08006000');
  });

  it('encodes node text in UTF-8 or Latin-1 as declared', () => {
    const utf8 = encodeDataset(dataset([[0x00080005, str('CS', 'ISO_IR 192')], [0x00081030, str('LO', 'Kopf ü')]]));
    expect(Buffer.from(utf8).includes(Buffer.from('Kopf ü', 'utf8'))).toBe(true);
    const latin1 = encodeDataset(dataset([[0x00080005, str('CS', 'ISO_IR 100')], [0x00081030, str('LO', 'Kopf ü')]]));
    expect(Buffer.from(latin1).includes(Buffer.from([0x4b, 0x6f, 0x70, 0x66, 0x20, 0xfc]))).toBe(true);
  });
});

describe('writePart10', () => {
  it('round-trips through dicom-parser byte for byte, copied text untouched', () => {
    const file = writePart10(sample());
    expect(Buffer.from(file.subarray(0, 128)).equals(Buffer.alloc(128))).toBe(true);
    expect(Buffer.from(file.subarray(128, 132)).toString('latin1')).toBe('DICM');

    const parsed = dicomParser.parseDicom(file);
    const metaEnd = 132 + 12 + parsed.uint32('x00020000')!;
    expect(parsed.elements['x00080005']!.dataOffset).toBe(metaEnd + 8); // first dataset element follows the meta
    expect(parsed.string('x00020010')).toBe('1.2.840.10008.1.2.1');
    expect(parsed.string('x00020002')).toBe('1.2.840.10008.5.1.4.1.1.7');
    expect(parsed.string('x00020003')).toBe('2.25.1234567890123456789');
    expect(parsed.string('x00020012')).toBe(IMPLEMENTATION_CLASS_UID);

    const pn = parsed.elements['x00100010']!;
    expect(pn.vr).toBe('PN');
    expect(pn.length).toBe(JAPANESE_PN.length + (JAPANESE_PN.length % 2));
    expect(Buffer.from(file.subarray(pn.dataOffset, pn.dataOffset + JAPANESE_PN.length)).equals(JAPANESE_PN)).toBe(true);

    expect(parsed.string('x00080005')).toBe('\\ISO 2022 IR 87');
    expect(parsed.string('x00100020')).toBe('ABC');
    expect(parsed.string('x00280030')).toBe('0.5\\0.25');
    expect(parsed.uint16('x00280010')).toBe(3);
    expect(parsed.double('x00189305')).toBe(0.6);
    const item = parsed.elements['x00082112']!.items![0]!.dataSet!;
    expect(item.string('x00081155')).toBe('1.2.3.4');
    expect(item.elements['x0040a170']!.items![0]!.dataSet!.string('x00080100')).toBe('121322');
    const pixels = parsed.elements['x7fe00010']!;
    expect(pixels.length).toBe(4);
    expect([...file.subarray(pixels.dataOffset, pixels.dataOffset + 4)]).toEqual([1, 2, 3, 0]);
  });

  it('is read by dcmjs with the same values', () => {
    // dcmjs refuses ISO 2022 character sets; a Latin-1 name shows the same thing for a single-byte set.
    const file = writePart10(sample(['ISO_IR 100'], Buffer.from('Müller^Jörg', 'latin1')));
    const ab = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
    const dict = dcmjs.data.DicomMessage.readFile(ab);
    const nat = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict);
    expect(dict.meta['00020010'].Value).toEqual(['1.2.840.10008.1.2.1']);
    expect(nat.SOPInstanceUID).toBe('2.25.1234567890123456789');
    expect(nat.StudyDate).toBe('20240131');
    expect(nat.InstanceNumber).toBe(7);
    expect(nat.PixelSpacing).toEqual([0.5, 0.25]);
    expect(nat.Rows).toBe(3);
    expect(nat.SourceImageSequence[0].ReferencedSOPInstanceUID).toBe('1.2.3.4');
    expect(JSON.stringify(nat.PatientName)).toContain('Müller^Jörg');
  });

  it('refuses a dataset without valid SOP class/instance UIDs', () => {
    const ds = sample();
    ds.set(0x00080018, str('UI', 'ID_0fe31b044'));
    expect(() => writePart10(ds)).toThrow(DicomWriteError);
  });
});

describe('validation before any byte is written', () => {
  const one = (tag: number, el: DataElement) => () => encodeDataset(dataset([[tag, el]]));
  it.each([
    ['UID with a leading zero', one(0x00081155, str('UI', '1.02.3'))],
    ['UID with letters', one(0x00081155, str('UI', 'ID_0fe31b044'))],
    ['SH longer than 16', one(0x00080100, str('SH', '12345678901234567'))],
    ['LO longer than 64', one(0x0008103e, str('LO', 'x'.repeat(65)))],
    ['backslash inside a value', one(0x0008103e, str('LO', 'a\\b'))],
    ['lower case CS', one(0x00080060, str('CS', 'sr'))],
    ['bad DA', one(0x00080020, str('DA', '2024-01-31'))],
    ['bad DS', one(0x00280030, str('DS', '1,5'))],
    ['control character', one(0x0008103e, str('LO', 'a\nb'))],
    ['US out of range', one(0x00280010, num('US', 70000))],
    ['odd OW', one(0x7fe00010, bytes('OW', Uint8Array.from([1])))],
    ['file meta element in the dataset', one(0x00020010, str('UI', '1.2'))],
    ['group length', one(0x00080000, num('UL', 4))],
    ['non-ASCII copied into a date', one(0x00080020, raw('DA', Buffer.from('2024013\xe9', 'latin1')))],
    ['non-ASCII text without a character set for it', one(0x0008103e, str('LO', 'Kopf ü'))],
  ])('refuses %s', (_name, fn) => {
    expect(fn).toThrow(DicomWriteError);
  });

  it('refuses text the declared ISO 2022 character set cannot take', () => {
    const ds = dataset([[0x00080005, str('CS', ['', 'ISO 2022 IR 87'])], [0x0008103e, str('LO', '山田')]]);
    expect(() => encodeDataset(ds)).toThrow(/cannot encode/);
  });

  it('accepts empty Type 2 values and a multi-valued CS with an empty first value', () => {
    const out = encodeDataset(dataset([[0x00080050, str('SH', '')], [0x00080005, str('CS', ['', 'ISO 2022 IR 149'])]]));
    expect(hex(out.subarray(0, 8))).toBe('08000500' + '4353' + '1000');
  });

  it('reports problems of copied values of the ASCII-only VRs, and none for text VRs', () => {
    expect(rawStringProblem(0x00080020, 'DA', Buffer.from('20240131'))).toBeUndefined();
    expect(rawStringProblem(0x00080030, 'TM', Buffer.from('120000.000 '))).toBeUndefined();
    expect(rawStringProblem(0x0020000d, 'UI', Buffer.from('1.2.3\0'))).toBeUndefined();
    expect(rawStringProblem(0x0020000d, 'UI', Buffer.from('ID_0fe31b044'))).toMatch(/not a valid UID/);
    expect(rawStringProblem(0x00080020, 'DA', Buffer.from('2001.01.01'))).toMatch(/DA/);
    expect(rawStringProblem(0x00100010, 'PN', JAPANESE_PN)).toBeUndefined();
  });
});

describe('isValidUid', () => {
  it('follows PS3.5 9.1', () => {
    expect(isValidUid('1.2.840.10008.1.2.1')).toBe(true);
    expect(isValidUid('2.25.0')).toBe(true);
    expect(isValidUid('1..2')).toBe(false);
    expect(isValidUid('1.2.')).toBe(false);
    expect(isValidUid('1.' + '1'.repeat(63))).toBe(false);
    expect(isValidUid('')).toBe(false);
  });
});
