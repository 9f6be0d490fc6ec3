import { describe, expect, it } from 'vitest';
import { isValidUid } from '../../src/dicom/writer.js';
import { outputUids, uidFromSeed } from '../../src/report/uids.js';
import { cq500Input } from './fixtures.js';

describe('uidFromSeed', () => {
  // Known answers from Python: '2.25.%d' % uuid.uuid5(uuid.UUID('670b1f4d-7123-4e33-9899-6529bdf9fb40'), seed).int
  it.each([
    ['', '2.25.306142984784418247339427484564187579240'],
    ['pmct', '2.25.39839995115872859504955052176610137213'],
    ['["a","sr"]', '2.25.75743345397398143391152457579443642198'],
    ['Ünïcode', '2.25.37873660564363136193318713045451570072'],
  ])('derives the RFC 4122 version-5 UUID of %j', (seed, expected) => {
    expect(uidFromSeed(seed)).toBe(expected);
    expect(isValidUid(expected)).toBe(true);
    expect(expected.length).toBeLessThanOrEqual(44);
  });
});

describe('outputUids', () => {
  it('gives distinct valid UIDs per role, the same for the same input', async () => {
    const input = await cq500Input();
    const a = outputUids(input);
    const all = [a.srSeries, a.srInstance, a.tracking, a.scSeries, ...a.scInstances];
    expect(all.every(isValidUid)).toBe(true);
    expect(new Set(all).size).toBe(all.length);
    expect(a.scInstances).toHaveLength(input.keySlices.length);
    expect(outputUids({ ...input })).toEqual(a);
  });

  it('changes every UID when anything that determines the content changes', async () => {
    const input = await cq500Input();
    const a = outputUids(input);
    const variants = [
      { ...input, resultDigest: input.resultDigest.replace(/^./, (c) => (c === '0' ? '1' : '0')) },
      { ...input, threshold: { ...input.threshold, value: 0.5 } },
      { ...input, ensemble: { ...input.ensemble, version: '1.2.1' } },
      { ...input, source: { ...input.source, seriesInstanceUid: '1.2.3' } },
    ];
    for (const v of variants) {
      const b = outputUids(v);
      for (const key of ['srSeries', 'srInstance', 'tracking', 'scSeries'] as const) expect(b[key]).not.toBe(a[key]);
      b.scInstances.forEach((uid, i) => expect(uid).not.toBe(a.scInstances[i]));
    }
  });

  it('does not depend on producedAt (a re-send of the same result keeps its UIDs)', async () => {
    const input = await cq500Input();
    expect(outputUids({ ...input, producedAt: new Date('2030-01-01T00:00:00Z') })).toEqual(outputUids(input));
  });
});
