/**
 * Deterministic UIDs of the output objects (sr-codes.md §6, design.md "Durability rules"): a re-sent result gets
 * the same UIDs, so the PACS stores it once; a result whose content changed gets new ones.
 */
import { createHash } from 'node:crypto';
import type { ReportInput } from './types.js';

/** Fixed namespace of this project's name-based UUIDs (random once; never change it, or every UID changes). */
const NAMESPACE = Buffer.from('670b1f4d71234e3398996529bdf9fb40', 'hex');

/**
 * "2.25." + the decimal value of a version-5 UUID (RFC 4122 §4.3: SHA-1 of namespace and name) of `seed`:
 * the same as Python's `uuid.uuid5(namespace, seed).int`, at most 44 characters.
 */
export function uidFromSeed(seed: string): string {
  const b = createHash('sha1').update(NAMESPACE).update(seed, 'utf8').digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return '2.25.' + BigInt('0x' + b.toString('hex')).toString(10);
}

/** The roles a derived UID plays; each seeds its own UID. */
export type UidRole = 'series-sr' | 'sr' | 'tracking' | 'series-sc' | `sc#${number}` | 'series-kos' | 'kos';

export interface OutputUids {
  srSeries: string;
  srInstance: string;
  /** Tracking Unique Identifier of the hemorrhage measurement group. */
  tracking: string;
  scSeries: string;
  /** SC instance UIDs, index 0 = rank 1. */
  scInstances: string[];
  kosSeries: string;
  kosInstance: string;
}

/**
 * Everything besides the role that determines the objects' content. resultDigest already covers the source series,
 * the analysed instances and the ensemble; the rest is listed too, so a caller's digest that misses one of them
 * still cannot make two different contents share a UID. producedAt is left out: it is the result's own time,
 * stored with it and re-sent unchanged.
 */
function contentKey(input: ReportInput): unknown[] {
  const { source, ensemble, node, threshold, predecessor } = input;
  return [
    'pmct-ich-report/1',
    input.resultDigest,
    source.studyInstanceUid,
    source.seriesInstanceUid,
    ensemble.name,
    ensemble.version,
    ensemble.digest,
    threshold.value,
    threshold.method,
    node.deviceUid,
    node.softwareVersion,
    predecessor?.sopInstanceUid ?? null,
  ];
}

export function outputUids(input: ReportInput): OutputUids {
  const key = contentKey(input);
  const uid = (role: UidRole) => uidFromSeed(JSON.stringify([...key, role]));
  return {
    srSeries: uid('series-sr'),
    srInstance: uid('sr'),
    tracking: uid('tracking'),
    scSeries: uid('series-sc'),
    scInstances: input.keySlices.map((k) => uid(`sc#${k.rank}`)),
    kosSeries: uid('series-kos'),
    kosInstance: uid('kos'),
  };
}
