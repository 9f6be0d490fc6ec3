import { describe, expect, it } from 'vitest';
import { backoffSeconds } from './outbox.js';

describe('backoffSeconds', () => {
  it('doubles from the initial delay per attempt, up to the cap', () => {
    const mid = () => 0.5; // no jitter
    expect([1, 2, 3, 4, 5, 9, 20].map((n) => backoffSeconds(n, 5, 60, mid))).toEqual([5, 10, 20, 40, 60, 60, 60]);
  });
  it('jitters by at most 20% either way', () => {
    expect(backoffSeconds(3, 5, 600, () => 0)).toBeCloseTo(16, 12);
    expect(backoffSeconds(3, 5, 600, () => 0.999999)).toBeCloseTo(24, 4);
  });
});
