/**
 * The method study's statistics as small pure functions: ROC AUC (Mann-Whitney, ties counted half) with DeLong's
 * variance, interval and paired test, ROC points, the Youden threshold, the confusion matrix at a threshold, and
 * Spearman's rho with its two-sided t-based p-value. Written here because the JavaScript statistics libraries lack
 * tie-aware ranks and DeLong with these exact conventions; the t and normal distributions need only the
 * regularised incomplete beta and gamma functions below.
 */

/** Ranks 1..n with ties given their average rank. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

function pearson(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** ln Γ(x), Lanczos approximation (g = 7, 9 terms): ample for p-values. */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised incomplete beta I_x(a, b) by its continued fraction (modified Lentz). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - incompleteBeta(1 - x, b, a);
  const front = Math.exp(Math.log(x) * a + Math.log(1 - x) * b - logGamma(a) - logGamma(b) + logGamma(a + b)) / a;
  const tiny = 1e-300;
  let f = 1;
  let c = 1;
  let d = 0;
  for (let i = 0; i <= 400; i++) {
    const m = Math.floor(i / 2);
    const num = i === 0 ? 1 : i % 2 === 0 ? (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)) : -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    d = 1 / d;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    const cd = c * d;
    f *= cd;
    if (Math.abs(1 - cd) < 1e-14) break;
  }
  return front * (f - 1);
}

/** Spearman's rho (Pearson on average ranks) and the two-sided p-value of t = rho sqrt((n-2)/(1-rho^2)), df n-2. */
export function spearman(x: readonly number[], y: readonly number[]): { rho: number; p: number; n: number } {
  if (x.length !== y.length || x.length < 3) throw new Error('spearman needs two series of the same length, at least 3');
  const n = x.length;
  const rho = pearson(averageRanks(x), averageRanks(y));
  const df = n - 2;
  const t2 = (rho * rho * df) / Math.max(1 - rho * rho, 1e-300);
  const p = Math.abs(rho) >= 1 ? 0 : incompleteBeta(df / (df + t2), df / 2, 0.5);
  return { rho, p, n };
}

/** ROC AUC = P(score of a positive > score of a negative), ties counting one half (Mann-Whitney U / (n1 n0)). */
export function rocAuc(scores: readonly number[], labels: readonly boolean[]): number {
  const ranks = averageRanks(scores as number[]);
  const n1 = labels.filter(Boolean).length;
  const n0 = labels.length - n1;
  if (n1 === 0 || n0 === 0) throw new Error('ROC AUC needs positive and negative cases');
  const rankSum = ranks.reduce((s, r, i) => s + (labels[i] ? r : 0), 0);
  return (rankSum - (n1 * (n1 + 1)) / 2) / (n1 * n0);
}

/** The threshold maximising Youden's J = sensitivity + specificity - 1 (score >= threshold is positive). */
export function youden(scores: readonly number[], labels: readonly boolean[]): { threshold: number; sensitivity: number; specificity: number; j: number } {
  const n1 = labels.filter(Boolean).length;
  const n0 = labels.length - n1;
  let best = { threshold: Infinity, sensitivity: 0, specificity: 1, j: 0 };
  for (const t of [...new Set(scores)].sort((a, b) => b - a)) {
    let tp = 0;
    let tn = 0;
    scores.forEach((s, i) => {
      if (labels[i] && s >= t) tp++;
      if (!labels[i] && s < t) tn++;
    });
    const sensitivity = tp / n1;
    const specificity = tn / n0;
    const j = sensitivity + specificity - 1;
    if (j > best.j) best = { threshold: t, sensitivity, specificity, j };
  }
  return best;
}

/** Regularised upper incomplete gamma Q(a, x): series below a + 1, continued fraction above (Numerical Recipes' split). */
function upperIncompleteGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  const lead = Math.exp(-x + a * Math.log(x) - logGamma(a));
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 500 && Math.abs(term) > Math.abs(sum) * 1e-16; n++) sum += term *= x / (a + n);
    return 1 - sum * lead;
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return lead * h;
}

/** Standard normal CDF: erfc(z) = Q(1/2, z^2), so Φ(x) = 1 - Q(1/2, x^2/2)/2 for x >= 0. */
export function normalCdf(x: number): number {
  const tail = upperIncompleteGamma(0.5, (x * x) / 2) / 2;
  return x >= 0 ? 1 - tail : tail;
}

/** z_{0.975}: the 95% two-sided normal quantile. */
const Z975 = 1.959963984540054;

/** DeLong's structural components: V10 per positive, V01 per negative (ties count one half). */
function structuralComponents(scores: readonly number[], labels: readonly boolean[]): { v10: number[]; v01: number[] } {
  const pos = scores.filter((_, i) => labels[i]);
  const neg = scores.filter((_, i) => !labels[i]);
  const psi = (x: number, y: number) => (x > y ? 1 : x === y ? 0.5 : 0);
  const v10 = pos.map((x) => neg.reduce((s, y) => s + psi(x, y), 0) / neg.length);
  const v01 = neg.map((y) => pos.reduce((s, x) => s + psi(x, y), 0) / pos.length);
  return { v10, v01 };
}

function covariance(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  return a.reduce((s, v, i) => s + (v - ma) * (b[i]! - mb), 0) / (n - 1);
}

/** Why an interval or test cannot be given, in words a QA report can print; null when it can. */
function delongUndefined(labels: readonly boolean[], variance?: number): string | null {
  const n1 = labels.filter(Boolean).length;
  const n0 = labels.length - n1;
  if (n1 < 2 || n0 < 2) return `needs at least 2 positive and 2 negative cases (has ${n1} and ${n0})`;
  if (variance !== undefined && !(variance > 0)) return 'the DeLong variance is 0 (the score orders every positive-negative pair alike: complete separation, or all tied), so no interval can be given';
  return null;
}

/** DeLong's interval is asymptotic: below about 10 cases per class it is a rough guide, and reports should say so. */
export function delongCaution(n1: number, n0: number): string | null {
  return Math.min(n1, n0) < 10 ? `only ${n1} positive and ${n0} negative case(s): DeLong intervals and tests are asymptotic and unreliable at this size` : null;
}

export interface AucWithCi {
  auc: number;
  n1: number;
  n0: number;
  /** DeLong standard error and 95% interval (clipped to [0, 1]); null with `undefinedReason` when they cannot be given. */
  se: number | null;
  ci95: [number, number] | null;
  undefinedReason: string | null;
}

/** ROC AUC with DeLong's (1988) variance and a 95% normal interval, as pROC's default `ci.auc` computes it. */
export function aucWithCi(scores: readonly number[], labels: readonly boolean[]): AucWithCi {
  const auc = rocAuc(scores, labels);
  const n1 = labels.filter(Boolean).length;
  const n0 = labels.length - n1;
  const early = delongUndefined(labels);
  if (early) return { auc, n1, n0, se: null, ci95: null, undefinedReason: early };
  const { v10, v01 } = structuralComponents(scores, labels);
  const variance = covariance(v10, v10) / n1 + covariance(v01, v01) / n0;
  const reason = delongUndefined(labels, variance);
  if (reason) return { auc, n1, n0, se: null, ci95: null, undefinedReason: reason };
  const se = Math.sqrt(variance);
  return { auc, n1, n0, se, ci95: [Math.max(0, auc - Z975 * se), Math.min(1, auc + Z975 * se)], undefinedReason: null };
}

export interface DelongTest {
  aucA: number;
  aucB: number;
  /** z statistic and two-sided p of H0: AUC_A = AUC_B; null with `undefinedReason` when they cannot be given. */
  z: number | null;
  p: number | null;
  undefinedReason: string | null;
}

/** DeLong's test of two correlated AUCs: two scores (e.g. a model and a reader) on the same cases. */
export function delongTest(scoresA: readonly number[], scoresB: readonly number[], labels: readonly boolean[]): DelongTest {
  if (scoresA.length !== labels.length || scoresB.length !== labels.length) throw new Error('DeLong test needs both scores for every case');
  const aucA = rocAuc(scoresA, labels);
  const aucB = rocAuc(scoresB, labels);
  const early = delongUndefined(labels);
  if (early) return { aucA, aucB, z: null, p: null, undefinedReason: early };
  const a = structuralComponents(scoresA, labels);
  const b = structuralComponents(scoresB, labels);
  const n1 = a.v10.length;
  const n0 = a.v01.length;
  const variance =
    (covariance(a.v10, a.v10) + covariance(b.v10, b.v10) - 2 * covariance(a.v10, b.v10)) / n1 +
    (covariance(a.v01, a.v01) + covariance(b.v01, b.v01) - 2 * covariance(a.v01, b.v01)) / n0;
  if (!(variance > 1e-15)) {
    return { aucA, aucB, z: null, p: null, undefinedReason: 'the DeLong variance of the AUC difference is 0 (each score separates the classes completely, or both order the cases alike), so no test can be given' };
  }
  const z = (aucA - aucB) / Math.sqrt(variance);
  return { aucA, aucB, z, p: 2 * (1 - normalCdf(Math.abs(z))), undefinedReason: null };
}

export interface RocPoint {
  /** Cases with score >= threshold are called positive; Infinity is the (0, 0) corner. */
  threshold: number;
  fpr: number;
  tpr: number;
}

/** Every ROC vertex, from (0,0) at +Infinity down through each distinct score (sklearn's roc_curve, drop_intermediate=False). */
export function rocPoints(scores: readonly number[], labels: readonly boolean[]): RocPoint[] {
  const n1 = labels.filter(Boolean).length;
  const n0 = labels.length - n1;
  const order = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => b[0] - a[0]);
  const points: RocPoint[] = [{ threshold: Infinity, fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (order[i]![1]) tp++;
    else fp++;
    if (i + 1 === order.length || order[i + 1]![0] !== order[i]![0]) points.push({ threshold: order[i]![0], fpr: n0 ? fp / n0 : 0, tpr: n1 ? tp / n1 : 0 });
  }
  return points;
}

export interface Confusion {
  threshold: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  /** null where the denominator is 0 (e.g. PPV when nothing was called positive). */
  sensitivity: number | null;
  specificity: number | null;
  ppv: number | null;
  npv: number | null;
}

/** The confusion matrix and its rates at `threshold` (score >= threshold is positive, as the node decides). */
export function confusionAt(scores: readonly number[], labels: readonly boolean[], threshold: number): Confusion {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  scores.forEach((s, i) => {
    const called = s >= threshold;
    if (labels[i]) called ? tp++ : fn++;
    else called ? fp++ : tn++;
  });
  const ratio = (a: number, b: number) => (b ? a / b : null);
  return { threshold, tp, fp, tn, fn, sensitivity: ratio(tp, tp + fn), specificity: ratio(tn, tn + fp), ppv: ratio(tp, tp + fp), npv: ratio(tn, tn + fn) };
}
