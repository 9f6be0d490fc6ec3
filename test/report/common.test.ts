import { describe, expect, it } from 'vitest';
import { encodeDataset, dataset } from '../../src/dicom/writer.js';
import { copiedPatientStudy, formatDs, producedTimes } from '../../src/report/common.js';
import { fill } from '../../src/report/templates.js';
import type { RawElement, ReportInput } from '../../src/report/types.js';
import { cq500Input } from './fixtures.js';

const rawEl = (tag: number, vr: string, text: string): RawElement => ({ tag, vr, bytes: Buffer.from(text, 'latin1') });

describe('formatDs', () => {
  it.each([
    [0.2316, '0.2316'],
    [0.5, '0.5'],
    [1, '1'],
    [100, '100'],
    [0.8734123456789012, '0.87341234567890'.replace(/0$/, '')],
    [1e-7, '1e-7'],
    [1.2345678901234567e-7, '1.23456789012e-7'],
  ])('%s -> %s (at most 16 characters)', (x, expected) => {
    expect(formatDs(x)).toBe(expected);
    expect(formatDs(x).length).toBeLessThanOrEqual(16);
  });
});

describe('producedTimes', () => {
  const at = (input: ReportInput, offset?: string): ReportInput => ({
    ...input,
    source: {
      ...input.source,
      copiedElements: offset ? [...input.source.copiedElements, rawEl(0x00080201, 'SH', offset)] : input.source.copiedElements,
    },
  });

  it('is UTC when the source declares no offset, and follows the source offset when it does', async () => {
    const input = await cq500Input(); // producedAt 2025-03-14T09:26:53.589Z
    expect(producedTimes(at(input))).toEqual({ date: '20250314', time: '092653.589', dateTime: '20250314092653.589+0000' });
    expect(producedTimes(at(input, '-0500 '))).toEqual({ date: '20250314', time: '042653.589', dateTime: '20250314042653.589-0500' });
    expect(producedTimes(at(input, '+1030'))).toEqual({ date: '20250314', time: '195653.589', dateTime: '20250314195653.589+1030' });
  });
});

describe('copiedPatientStudy', () => {
  it('copies text bytes untouched, writes missing Type 2 attributes empty, and blanks invalid dates', async () => {
    const input = await cq500Input();
    const latin1Name = Buffer.from([0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72, 0x5e, 0x4a, 0xf6, 0x72, 0x67]); // Müller^Jörg
    const source = {
      ...input.source,
      copiedElements: [
        { tag: 0x00100010, vr: 'PN', bytes: latin1Name },
        rawEl(0x00080005, 'CS', 'ISO_IR 100'),
        rawEl(0x00080020, 'DA', '2001.01.01'), // ACR-NEMA style: not a DA
        rawEl(0x00101010, 'AS', '045Y'),
        rawEl(0x0008103e, 'LO', 'series text, not copied'),
      ],
    };
    const entries = new Map(copiedPatientStudy(source));
    expect(entries.get(0x00100010)).toEqual({ vr: 'PN', raw: latin1Name });
    expect(entries.get(0x00080020)).toEqual({ vr: 'DA', value: '' });
    expect(entries.get(0x00101010)).toEqual({ vr: 'AS', raw: Buffer.from('045Y') });
    expect(entries.get(0x00100020)).toEqual({ vr: 'LO', value: '' });
    expect(entries.has(0x0008103e)).toBe(false);
    expect(entries.get(0x0020000d)).toEqual({ vr: 'UI', value: input.source.studyInstanceUid });
    const encoded = Buffer.from(encodeDataset(dataset(entries)));
    expect(encoded.includes(Buffer.concat([latin1Name, Buffer.from(' ')]))).toBe(true);
  });
});

describe('fill', () => {
  it('fills placeholders and refuses a missing one', () => {
    expect(fill('a {x} b {y}', { x: 1, y: 'z' })).toBe('a 1 b z');
    expect(() => fill('a {x} {missing}', { x: 1 })).toThrow(/missing/);
  });
});
