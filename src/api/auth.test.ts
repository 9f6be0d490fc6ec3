import { describe, expect, it } from 'vitest';
import { DeniedThrottle } from './auth.js';

describe('refused requests are audited one by one up to a rate, then counted', () => {
  it('records 3 a minute per source, skips the rest, and reports the count when the next minute starts', () => {
    const t = new DeniedThrottle(3);
    const at = (s: number) => 1_000_000 + s * 1000;
    expect([0, 1, 2, 3, 4].map((s) => t.take('10.0.0.1', at(s)).action)).toEqual(['record', 'record', 'record', 'skip', 'skip']);
    // Another source has its own allowance.
    expect(t.take('10.0.0.2', at(5))).toEqual({ action: 'record', suppressedBefore: 0 });
    expect(t.take('10.0.0.1', at(61))).toEqual({ action: 'record', suppressedBefore: 2 });
    expect(t.take('10.0.0.1', at(62))).toEqual({ action: 'record', suppressedBefore: 0 });
  });
});
