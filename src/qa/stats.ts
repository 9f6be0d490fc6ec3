/**
 * The method study's statistics as small pure functions: ROC AUC (Mann-Whitney, ties counted half), the Youden
 * threshold with its sensitivity and specificity, and Spearman's rho with its two-sided t-based p-value. Written
 * here because the JavaScript statistics libraries lack tie-aware ranks with these exact conventions, and the
 * t-distribution needs only the regularised incomplete beta below.
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
