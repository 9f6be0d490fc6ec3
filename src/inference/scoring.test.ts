import { describe, expect, it } from 'vitest';
import { caseDecision, combineSliceProbabilities, keySliceIndices } from './scoring.js';

describe('combineSliceProbabilities', () => {
  const a = { probabilities: [0.1, 0.8, 0.4], weight: 3 };
  const b = { probabilities: [0.3, 0.2, 0.4], weight: 1 };
  it('mean averages members slice by slice, ignoring weights', () => {
    expect(Array.from(combineSliceProbabilities([a, b], 'mean'))).toEqual([0.2, 0.5, 0.4].map((v) => expect.closeTo(v, 12)));
  });
  it('weighted-mean uses the weights', () => {
    // slice 0: (0.1*3 + 0.3*1) / 4 = 0.15; slice 1: (2.4 + 0.2) / 4 = 0.65
    expect(Array.from(combineSliceProbabilities([a, b], 'weighted-mean'))).toEqual([0.15, 0.65, 0.4].map((v) => expect.closeTo(v, 12)));
  });
  it('max takes the largest member probability', () => {
    expect(Array.from(combineSliceProbabilities([a, b], 'max'))).toEqual([0.3, 0.8, 0.4]);
  });
  it('refuses members with different slice counts', () => {
    expect(() => combineSliceProbabilities([a, { probabilities: [0.1], weight: 1 }], 'mean')).toThrow(/slice count/);
  });
});

describe('caseDecision', () => {
  it('scores the case by its maximum slice probability', () => {
    expect(caseDecision([0.2, 0.71, 0.5], 0.7)).toEqual({ caseScore: 0.71, decision: 'present' });
    expect(caseDecision([0.2, 0.69, 0.5], 0.7)).toEqual({ caseScore: 0.69, decision: 'absent' });
  });
  it('counts a score equal to the threshold as present', () => {
    expect(caseDecision([0.5], 0.5).decision).toBe('present');
  });
  it('refuses an empty case', () => {
    expect(() => caseDecision([], 0.5)).toThrow(/at least one/);
  });
});

describe('keySliceIndices', () => {
  it('returns the top slices, highest first, ties to the lower index', () => {
    expect(keySliceIndices([0.1, 0.9, 0.5, 0.9, 0.2], 3)).toEqual([1, 3, 2]);
  });
  it('returns fewer when the series is short', () => {
    expect(keySliceIndices([0.4, 0.6], 3)).toEqual([1, 0]);
  });
});
