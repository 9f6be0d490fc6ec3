/**
 * The node's real-world performance on the cases with autopsy ground truth: ROC AUC with DeLong's 95% interval, the
 * Youden-optimal threshold, the confusion matrix and rates at the threshold in use, the ROC curve, and a monthly
 * series (by analysis month) to show drift.
 */
import type { Db } from '../db/database.js';
import { listCases, type CaseFilters } from './cases.js';
import { aucWithCi, confusionAt, delongCaution, rocPoints, youden, type AucWithCi, type Confusion } from './stats.js';

export interface Performance {
  filters: { from: string | null; to: string | null; ensemble: string | null };
  cases: number;
  positives: number;
  negatives: number;
  /** Cases analysed but still without ground truth (not counted above). */
  awaitingGroundTruth: number;
  auc: AucWithCi | null;
  youden: { threshold: number | null; sensitivity: number; specificity: number; j: number } | null;
  atThreshold: Confusion;
  /** ROC vertices from (0, 0) (threshold null, i.e. +Infinity) to (1, 1). */
  roc: { threshold: number | null; fpr: number; tpr: number }[];
  monthly: { month: string; cases: number; positives: number; negatives: number; auc: number | null; sensitivity: number | null; specificity: number | null }[];
  /** Why a figure is missing, e.g. no negative cases yet. */
  notes: string[];
}

export function computePerformance(db: Db, f: Pick<CaseFilters, 'from' | 'to' | 'ensemble'>, threshold: number): Performance {
  const all = listCases(db, { from: f.from, to: f.to, ensemble: f.ensemble }).filter((c) => c.score !== null);
  const labelled = all.filter((c) => c.groundTruth !== null).reverse();
  const scores = labelled.map((c) => c.score!);
  const labels = labelled.map((c) => c.groundTruth!);
  const positives = labels.filter(Boolean).length;
  const negatives = labels.length - positives;
  const notes: string[] = [];
  const both = positives > 0 && negatives > 0;
  if (!both) notes.push(`ROC AUC and the Youden threshold need positive and negative cases (have ${positives} and ${negatives})`);
  const auc = both ? aucWithCi(scores, labels) : null;
  if (auc?.undefinedReason) notes.push(`DeLong 95% CI not given: ${auc.undefinedReason}`);
  const caution = both ? delongCaution(positives, negatives) : null;
  if (caution) notes.push(caution);
  const y = both ? youden(scores, labels) : null;
  const atThreshold = confusionAt(scores, labels, threshold);
  if (atThreshold.ppv === null && labelled.length) notes.push(`PPV is undefined: no case scores at or above the threshold ${threshold}`);
  if (atThreshold.npv === null && labelled.length) notes.push(`NPV is undefined: no case scores below the threshold ${threshold}`);

  const months = new Map<string, number[]>();
  labelled.forEach((c, i) => months.set(c.analysedAt.slice(0, 7), [...(months.get(c.analysedAt.slice(0, 7)) ?? []), i]));
  const monthly = [...months].map(([month, idx]) => {
    const s = idx.map((i) => scores[i]!);
    const l = idx.map((i) => labels[i]!);
    const p = l.filter(Boolean).length;
    const m = confusionAt(s, l, threshold);
    return { month, cases: l.length, positives: p, negatives: l.length - p, auc: p && l.length - p ? aucWithCi(s, l).auc : null, sensitivity: m.sensitivity, specificity: m.specificity };
  });

  return {
    filters: { from: f.from ?? null, to: f.to ?? null, ensemble: f.ensemble ?? null },
    cases: labelled.length,
    positives,
    negatives,
    awaitingGroundTruth: all.length - labelled.length,
    auc,
    youden: y && { ...y, threshold: Number.isFinite(y.threshold) ? y.threshold : null },
    atThreshold,
    roc: both ? rocPoints(scores, labels).map((p) => ({ ...p, threshold: Number.isFinite(p.threshold) ? p.threshold : null })) : [],
    monthly,
    notes,
  };
}
