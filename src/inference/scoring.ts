/**
 * Case scoring as in the method study: member slice probabilities combine into the ensemble's slice
 * probability; the case score is the maximum slice probability; the decision compares it with the threshold.
 */
import type { EnsembleManifest } from './manifest.js';

export interface MemberProbabilities {
  probabilities: ArrayLike<number>;
  weight: number;
}

/** Combines member slice probabilities slice by slice (all members must cover the same slices). */
export function combineSliceProbabilities(members: readonly MemberProbabilities[], rule: EnsembleManifest['combine']): Float64Array {
  if (members.length === 0) throw new Error('an ensemble needs at least one member');
  const n = members[0]!.probabilities.length;
  for (const m of members) {
    if (m.probabilities.length !== n) throw new Error(`members disagree on the slice count (${m.probabilities.length} vs ${n})`);
  }
  const out = new Float64Array(n);
  const totalWeight = members.reduce((s, m) => s + m.weight, 0);
  for (let i = 0; i < n; i++) {
    if (rule === 'max') {
      let v = -Infinity;
      for (const m of members) v = Math.max(v, m.probabilities[i]!);
      out[i] = v;
    } else {
      // 'mean' ignores weights on purpose: it is the study's plain average whatever the manifest lists.
      let v = 0;
      for (const m of members) v += m.probabilities[i]! * (rule === 'weighted-mean' ? m.weight : 1);
      out[i] = v / (rule === 'weighted-mean' ? totalWeight : members.length);
    }
  }
  return out;
}

/** Case score = maximum slice probability; present when it reaches the threshold. */
export function caseDecision(sliceProbabilities: ArrayLike<number>, threshold: number): { caseScore: number; decision: 'present' | 'absent' } {
  if (sliceProbabilities.length === 0) throw new Error('a case needs at least one scored slice');
  let caseScore = -Infinity;
  for (let i = 0; i < sliceProbabilities.length; i++) caseScore = Math.max(caseScore, sliceProbabilities[i]!);
  return { caseScore, decision: caseScore >= threshold ? 'present' : 'absent' };
}

/** Indexes of the `count` most probable slices, highest first; ties go to the lower index (earlier along the normal). */
export function keySliceIndices(sliceProbabilities: ArrayLike<number>, count: number): number[] {
  const idx = Array.from({ length: sliceProbabilities.length }, (_, i) => i);
  idx.sort((a, b) => sliceProbabilities[b]! - sliceProbabilities[a]! || a - b);
  return idx.slice(0, Math.max(0, count));
}
