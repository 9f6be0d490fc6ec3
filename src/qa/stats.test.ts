import { describe, expect, it } from 'vitest';
import { aucWithCi, averageRanks, confusionAt, delongTest, incompleteBeta, normalCdf, rocAuc, spearman, youden } from './stats.js';

// The seed study's Table 2 as printed (../shared/docs/seed-study.md), 15 models in the printed order.
const AUC = [0.907, 0.883, 0.881, 0.883, 0.873, 0.87, 0.895, 0.884, 0.876, 0.873, 0.892, 0.87, 0.862, 0.872, 0.879];
const TRAIN = [5.43e4, 4.9e4, 4.13e4, 6.8e4, 4.48e4, 5.64e4, 4.83e4, 4.82e4, 8.89e4, 1.61e5, 1.41e5, 5.1e4, 4.72e4, 4.67e4, 1.75e5];
const INFER = [193, 139, 120, 194, 151, 95, 153, 154, 176, 197, 170, 103, 104, 105, 167];
const PARAMS = [1.81e7, 6.84e7, 7.71e6, 5.11e7, 2.22e7, 4.21e6, 4.25e7, 4.25e7, 8.68e7, 8.14e7, 6.23e6, 1.34e8, 1.34e8, 8.74e7, 3.03e8];

describe('Spearman on the seed study Table 2 as printed (ties averaged, two-sided t-based p)', () => {
  it.each([
    ['AUC vs inference time', AUC, INFER, 0.589, 0.021],
    ['training vs inference time', TRAIN, INFER, 0.579, 0.024],
    ['AUC vs parameters', AUC, PARAMS, -0.439, 0.102],
  ] as const)('%s: rho and p as the issue states', (_name, x, y, rho, p) => {
    const r = spearman(x, y);
    expect(r.rho).toBeCloseTo(rho, 3);
    expect(r.p).toBeCloseTo(p, 3);
  });
  it('inference time vs parameters: rho = -0.039', () => {
    expect(spearman(INFER, PARAMS).rho).toBeCloseTo(-0.039, 3);
  });
});

describe('building blocks', () => {
  it('gives ties their average rank', () => {
    expect(averageRanks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
  });
  it('incomplete beta matches closed forms: I_x(1,1) = x, I_x(a,1) = x^a, I_0.5(a,a) = 0.5', () => {
    expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12);
    expect(incompleteBeta(0.3, 2.5, 1)).toBeCloseTo(0.3 ** 2.5, 12);
    expect(incompleteBeta(0.5, 3.5, 3.5)).toBeCloseTo(0.5, 12);
  });
});

describe('ROC AUC and Youden on a fixed score vector with ties (hand-counted)', () => {
  // Positives 0.9, 0.8, 0.6, 0.6; negatives 0.7, 0.6, 0.3, 0.1, 0.1.
  const scores = [0.9, 0.8, 0.6, 0.6, 0.7, 0.6, 0.3, 0.1, 0.1];
  const labels = [true, true, true, true, false, false, false, false, false];
  it('AUC: 20 pairs, 16 wins and 2 ties (0.6 vs 0.6) give (16 + 2/2) / 20 = 0.85', () => {
    expect(rocAuc(scores, labels)).toBeCloseTo(17 / 20, 12);
  });
  it('Youden: threshold 0.6 gives sensitivity 4/4, specificity 3/5 (J 0.6), beating 0.8 (2/4, 5/5, J 0.5)', () => {
    expect(youden(scores, labels)).toEqual({ threshold: 0.6, sensitivity: 1, specificity: 0.6, j: expect.closeTo(0.6, 12) });
  });
});

describe('DeLong on the same hand-counted vector', () => {
  const scores = [0.9, 0.8, 0.6, 0.6, 0.7, 0.6, 0.3, 0.1, 0.1];
  const labels = [true, true, true, true, false, false, false, false, false];
  it('V10 = [1, 1, .7, .7] (S10 = .03), V01 = [.5, .75, 1, 1, 1] (S01 = .05): Var = .03/4 + .05/5 = .0175', () => {
    const r = aucWithCi(scores, labels);
    expect(r.se).toBeCloseTo(Math.sqrt(0.0175), 12);
    expect(r.ci95![0]).toBeCloseTo(0.85 - 1.959963984540054 * Math.sqrt(0.0175), 12);
    expect(r.ci95![1]).toBe(1);
  });
  it('says why, instead of a number, when a class has fewer than 2 cases or the variance is 0', () => {
    expect(aucWithCi([0.9, 0.1, 0.2], [true, false, false])).toMatchObject({ ci95: null, undefinedReason: expect.stringMatching(/at least 2 positive/) });
    expect(aucWithCi([0.9, 0.8, 0.1, 0.2], [true, true, false, false])).toMatchObject({ auc: 1, ci95: null, undefinedReason: expect.stringMatching(/variance is 0/) });
    expect(delongTest([0.9, 0.8, 0.1, 0.2], [0.9, 0.8, 0.1, 0.2], [true, true, false, false]).p).toBeNull();
  });
  it('confusion at 0.65: TP 2, FN 2, FP 1, TN 4; PPV 2/3, NPV 4/6', () => {
    expect(confusionAt(scores, labels, 0.65)).toEqual({ threshold: 0.65, tp: 2, fp: 1, tn: 4, fn: 2, sensitivity: 0.5, specificity: 0.8, ppv: 2 / 3, npv: 4 / 6 });
    expect(confusionAt(scores, labels, 2).ppv).toBeNull();
  });
  it('normal CDF: Φ(1.959964) = 0.975, Φ(0) = 0.5, Φ(-3) = 0.0013499', () => {
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 12);
    expect(normalCdf(0)).toBeCloseTo(0.5, 14);
    expect(normalCdf(-3)).toBeCloseTo(0.0013498980316301, 14);
  });
});
