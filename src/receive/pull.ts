/**
 * Pull mode: a study already in the PACS is fetched by QIDO-RS (its series) and WADO-RS (each series' instances,
 * multipart/related application/dicom) and enters the same ingest path as C-STORE and STOW-RS; completion, analysis
 * and dispatch then run as for any received study.
 */
import type { Config } from '../config/config.js';
import { isValidUid } from '../dicom/writer.js';
import type { ReceivedObject } from './scp.js';
import { multipartRelatedParts, storeInstance, type StowOutcome } from './stow.js';

type Source = NonNullable<Config['pull']>;

function authHeaders(source: Source): Record<string, string> {
  const a = source.auth;
  if (!a) return {};
  return { Authorization: 'bearer' in a ? `Bearer ${a.bearer}` : `Basic ${Buffer.from(`${a.user}:${a.password}`).toString('base64')}` };
}

async function get(source: Source, path: string, accept: string): Promise<Response> {
  const res = await fetch(`${source.url.replace(/\/+$/, '')}${path}`, { headers: { Accept: accept, ...authHeaders(source) }, signal: AbortSignal.timeout(300_000) });
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} from the DICOMweb source`);
  return res;
}

export interface PullResult {
  series: number;
  instances: number;
  failed: StowOutcome[];
}

export async function pullStudy(source: Source, studyUid: string, ingest: { tmpDir: string; commit: (obj: ReceivedObject) => number }): Promise<PullResult> {
  if (!isValidUid(studyUid)) throw new Error(`"${studyUid}" is not a Study Instance UID`);
  const series = (await (await get(source, `/studies/${studyUid}/series`, 'application/dicom+json')).json()) as Record<string, { Value?: string[] }>[];
  const result: PullResult = { series: series.length, instances: 0, failed: [] };
  for (const s of series) {
    const seriesUid = s['0020000E']?.Value?.[0] ?? s['0020000e']?.Value?.[0];
    if (!seriesUid) continue;
    const res = await get(source, `/studies/${studyUid}/series/${seriesUid}`, 'multipart/related; type="application/dicom"; transfer-syntax=*');
    const parts = multipartRelatedParts(Buffer.from(await res.arrayBuffer()), res.headers.get('content-type') ?? '');
    for (const p of parts) {
      const outcome = await storeInstance(p.bytes, ingest.tmpDir, 'PULL', ingest.commit);
      if (outcome.status === 0) result.instances++;
      else result.failed.push(outcome);
    }
  }
  return result;
}
