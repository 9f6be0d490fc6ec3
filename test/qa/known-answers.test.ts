/**
 * Must-show (a): the node's ROC AUC, DeLong interval and test, ROC points, Youden threshold and confusion rates equal
 * scikit-learn's and SciPy's on fixed score vectors with ties (test/helpers/known_answers.py).
 */
import { describe, expect, it } from 'vitest';
import { aucWithCi, confusionAt, delongTest, rocPoints, youden } from '../../src/qa/stats.js';
import { hasScipyStack, knownAnswers } from '../helpers/python.js';

/** A fixed pseudo-random sequence (LCG), so the vectors are the same on every run. */
function lcg(seed: number) {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

function vectors() {
  const rnd = lcg(42);
  const labels = Array.from({ length: 80 }, (_, i) => i % 3 === 0);
  // Rounded to one decimal: many ties within and across classes.
  const scores = labels.map((y) => Math.round(Math.min(1, Math.max(0, rnd() * 0.7 + (y ? 0.25 : 0))) * 10) / 10);
  // A reader's 1-5 confidence scale: heavy ties.
  const reader = labels.map((y) => Math.min(5, 1 + Math.floor(rnd() * 4 + (y ? 1.2 : 0))));
  return [
    { scores: [0.9, 0.8, 0.6, 0.6, 0.7, 0.6, 0.3, 0.1, 0.1], labels: [true, true, true, true, false, false, false, false, false], threshold: 0.6 },
    { scores, labels, threshold: 0.5, scores_b: reader },
    { scores: reader, labels, threshold: 3 },
  ];
}

describe.skipIf(!hasScipyStack)('QA statistics equal scikit-learn and SciPy on fixed vectors with ties', () => {
  const cases = vectors();
  const answers = knownAnswers(cases);

  it.each(cases.map((c, i) => [i, c] as const))('vector %i: AUC, DeLong SE and 95% CI, ROC points, Youden, confusion', (i, c) => {
    const k = answers[i]!;
    const r = aucWithCi(c.scores, c.labels);
    expect(r.auc).toBeCloseTo(k.auc, 12);
    expect(k.auc_delong).toBeCloseTo(k.auc, 12);
    expect(r.se).toBeCloseTo(k.se, 10);
    expect(r.ci95![0]).toBeCloseTo(k.ci95[0], 10);
    expect(r.ci95![1]).toBeCloseTo(k.ci95[1], 10);
    // scikit-learn's first vertex is (0, 0) at max(score) + 1 (older versions: inf); the node's is at Infinity.
    const points = rocPoints(c.scores, c.labels);
    expect(points[0]).toEqual({ threshold: Infinity, fpr: 0, tpr: 0 });
    expect(points.slice(1).map((p) => [p.threshold, p.fpr, p.tpr])).toEqual(
      k.roc.slice(1).map(([t, f, r]) => [t, expect.closeTo(f, 12), expect.closeTo(r, 12)]),
    );
    const y = youden(c.scores, c.labels);
    expect({ threshold: y.threshold, sensitivity: y.sensitivity, specificity: y.specificity }).toEqual({
      threshold: k.youden.threshold,
      sensitivity: expect.closeTo(k.youden.sensitivity, 12),
      specificity: expect.closeTo(k.youden.specificity, 12),
    });
    const m = confusionAt(c.scores, c.labels, c.threshold);
    expect(m).toMatchObject({ tp: k.confusion.tp, fp: k.confusion.fp, tn: k.confusion.tn, fn: k.confusion.fn });
    for (const key of ['sensitivity', 'specificity', 'ppv', 'npv'] as const) expect(m[key]).toBeCloseTo(k.confusion[key]!, 12);
  });

  it('DeLong test of a model against a reader on the same cases: z and two-sided p', () => {
    const c = cases[1]!;
    const k = answers[1]!.delong_test!;
    const t = delongTest(c.scores, c.scores_b!, c.labels);
    expect(t.aucB).toBeCloseTo(k.auc_b, 12);
    expect(t.z).toBeCloseTo(k.z, 9);
    expect(t.p).toBeCloseTo(k.p, 10);
    console.log(`known answers: AUC model ${t.aucA.toFixed(4)} vs reader ${t.aucB.toFixed(4)}, z ${t.z!.toFixed(4)} (scipy ${k.z.toFixed(4)}), p ${t.p!.toFixed(5)} (scipy ${k.p.toFixed(5)})`);
  });
});
