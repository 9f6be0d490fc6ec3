/**
 * STOW-RS into the node (PS3.18 10.5): the instances of a multipart/related POST enter the same ingest path as
 * C-STORE (spooled durably, committed, grouped into studies and series by their headers, completed by quiet time),
 * so a site that only speaks DICOMweb gets the same analysis.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { readDicom } from '../dicom/dataset.js';
import type { ReceivedObject } from './scp.js';
import { chooseTransferSyntax, StoreStatus } from './scp.js';
import { SpoolWriter } from './spool-writer.js';

/**
 * The bodies of a multipart/related payload (RFC 2387). Hand-written because the maintained multipart parsers
 * (busboy, formidable) only read multipart/form-data; this splits on the boundary and drops each part's headers.
 */
export function multipartRelatedParts(body: Buffer, contentType: string): { type: string; bytes: Buffer }[] {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) throw new Error('multipart/related without a boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { type: string; bytes: Buffer }[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break; // closing delimiter
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), start);
    if (next < 0) throw new Error('multipart/related body ends without its closing boundary');
    const part = body.subarray(start + 2, next); // skip the CRLF after the delimiter
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = headerEnd < 0 ? '' : part.subarray(0, headerEnd).toString('latin1');
    const type = /^content-type:\s*([^;\r\n]+)/im.exec(headers)?.[1]?.trim().toLowerCase() ?? 'application/dicom';
    parts.push({ type, bytes: part.subarray(headerEnd < 0 ? 0 : headerEnd + 4) });
    at = next + 2;
  }
  return parts;
}

export interface StowOutcome {
  sopClassUid?: string;
  sopInstanceUid?: string;
  /** 0 when stored; otherwise a failure reason (PS3.18 Table 10.5.3-2 uses the DIMSE status codes). */
  status: number;
  message?: string;
}

/** Spools and commits one Part 10 instance; the sender is named like a calling AE for the records. */
export async function storeInstance(
  bytes: Buffer,
  tmpDir: string,
  sender: string,
  commit: (obj: ReceivedObject) => number,
): Promise<StowOutcome> {
  let file;
  try {
    file = readDicom(bytes);
  } catch (e) {
    return { status: StoreStatus.CannotUnderstand, message: `not a DICOM instance: ${(e as Error).message}` };
  }
  const sopClassUid = file.dataset.string(0x00020002) ?? file.dataset.string(0x00080016);
  const sopInstanceUid = file.dataset.string(0x00020003) ?? file.dataset.string(0x00080018);
  if (!file.hasPreamble || !file.transferSyntaxFromMeta || !sopClassUid || !sopInstanceUid) {
    return { sopClassUid, sopInstanceUid, status: StoreStatus.CannotUnderstand, message: 'a STOW-RS part must be a Part 10 file with its file meta' };
  }
  // The same rule as the SCP's presentation contexts: what the node cannot decode is not taken.
  if (!chooseTransferSyntax([file.transferSyntaxUid])) {
    return { sopClassUid, sopInstanceUid, status: StoreStatus.CannotUnderstand, message: `transfer syntax ${file.transferSyntaxUid} is not supported` };
  }
  const writer = new SpoolWriter(join(tmpDir, `${randomUUID()}.part`), bytes);
  writer.end();
  try {
    const spooled = await writer.finished();
    const status = commit({ ...spooled, sopClassUid, sopInstanceUid, transferSyntaxUid: file.transferSyntaxUid, callingAeTitle: sender });
    return { sopClassUid, sopInstanceUid, status };
  } catch (e) {
    const err = e as { status?: number; message: string; code?: string };
    return {
      sopClassUid,
      sopInstanceUid,
      status: err.status ?? (err.code === 'ENOSPC' ? StoreStatus.OutOfResources : StoreStatus.CannotUnderstand),
      message: err.message,
    };
  }
}

/** The STOW-RS response body (DICOM JSON): Referenced SOP Sequence for stored instances, Failed SOP Sequence else. */
export function stowResponse(outcomes: StowOutcome[]): Record<string, unknown> {
  const ref = (o: StowOutcome, extra: Record<string, unknown> = {}) => ({
    '00081150': { vr: 'UI', Value: o.sopClassUid ? [o.sopClassUid] : [] },
    '00081155': { vr: 'UI', Value: o.sopInstanceUid ? [o.sopInstanceUid] : [] },
    ...extra,
  });
  const stored = outcomes.filter((o) => o.status === 0);
  const failed = outcomes.filter((o) => o.status !== 0);
  const body: Record<string, unknown> = {};
  if (stored.length) body['00081199'] = { vr: 'SQ', Value: stored.map((o) => ref(o)) };
  if (failed.length) body['00081198'] = { vr: 'SQ', Value: failed.map((o) => ref(o, { '00081197': { vr: 'US', Value: [o.status] } })) };
  return body;
}
