/**
 * Where results go: a local folder (the embedded default, so the node needs no PACS) or a DICOM node by C-STORE
 * (dcmjs-dimse). Each send reports per object whether it was delivered.
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Destination } from '../config/config.js';
import { Tag } from '../dicom/constants.js';
import { readDicom } from '../dicom/dataset.js';
import dimse from '../dicom/dimse.js';

export interface OutgoingObject {
  path: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
}

export type SendOutcome = { ok: true } | { ok: false; error: string };

export interface Sender {
  send(objects: OutgoingObject[]): Promise<SendOutcome[]>;
}

class FolderSender implements Sender {
  constructor(private readonly root: string) {}

  async send(objects: OutgoingObject[]): Promise<SendOutcome[]> {
    return objects.map((o) => {
      try {
        const dir = join(this.root, o.studyInstanceUid);
        mkdirSync(dir, { recursive: true });
        const final = join(dir, `${o.sopInstanceUid}.dcm`);
        // Copy then rename: a reader of the folder never sees a half-written object.
        copyFileSync(o.path, `${final}.part`);
        renameSync(`${final}.part`, final);
        return { ok: true } as const;
      } catch (e) {
        return { ok: false, error: (e as Error).message };
      }
    });
  }
}

/** What a C-STORE of a file as stored needs: its identity, its transfer syntax and its data set bytes. */
interface StoredObject {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  body: Buffer;
}

/**
 * Reads a file for sending as it is. Our own parser, not dcmjs: dcmjs-dimse would parse and re-encode the data set
 * (padding a truncated one, re-encoding copied patient strings), and the node's objects must reach the PACS
 * byte-exact; a file without the identity a C-STORE needs is refused here with the reason.
 */
function readStoredObject(path: string): StoredObject {
  const bytes = readFileSync(path);
  const file = readDicom(bytes);
  if (!file.transferSyntaxFromMeta) throw new Error('no transfer syntax in the file meta: cannot send it as stored');
  const uid = (tag: number, metaTag: number, name: string) => {
    const v = (file.dataset.string(tag) ?? file.dataset.string(metaTag))?.replace(/[\0 ]+$/, '');
    if (!v) throw new Error(`no ${name}`);
    return v;
  };
  return {
    sopClassUid: uid(Tag.SOPClassUID, 0x00020002, 'SOP Class UID'),
    sopInstanceUid: uid(Tag.SOPInstanceUID, 0x00020003, 'SOP Instance UID'),
    transferSyntaxUid: file.transferSyntaxUid,
    body: bytes.subarray(file.datasetOffset),
  };
}

class DimseSender implements Sender {
  constructor(
    private readonly d: Extract<Destination, { type: 'dimse' }>,
    private readonly callingAe: string,
    private readonly timeoutMs = 30_000,
  ) {}

  send(objects: OutgoingObject[]): Promise<SendOutcome[]> {
    return new Promise((resolve) => {
      const outcomes: (SendOutcome | undefined)[] = objects.map(() => undefined);
      const client = new dimse.Client();
      const pending = new Map<object, { index: number; stored: StoredObject }>();
      const contexts = new Set<string>();
      objects.forEach((o, i) => {
        try {
          const stored = readStoredObject(o.path);
          const ds = new dimse.Dataset({ SOPClassUID: stored.sopClassUid, SOPInstanceUID: stored.sopInstanceUid }, stored.transferSyntaxUid);
          (ds as unknown as { getDenaturalizedDataset: () => Buffer }).getDenaturalizedDataset = () => stored.body;
          const request = new dimse.requests.CStoreRequest(ds);
          request.on('response', (response: InstanceType<typeof dimse.responses.CStoreResponse>) => {
            const status = response.getStatus();
            // 0xB000-0xBFFF are warnings: the object was stored.
            outcomes[i] =
              status === 0 || (status >= 0xb000 && status <= 0xbfff)
                ? { ok: true }
                : { ok: false, error: `C-STORE status 0x${status.toString(16).padStart(4, '0')}` };
          });
          client.addRequest(request);
          pending.set(request, { index: i, stored });
          // The library proposes only Implicit/Explicit VR LE for a class (plus the file's own syntax if encapsulated):
          // a context with exactly the file's syntax lets the peer take the object as it is.
          const key = `${stored.sopClassUid} ${stored.transferSyntaxUid}`;
          if (!contexts.has(key)) {
            contexts.add(key);
            client.addAdditionalPresentationContext(new dimse.association.PresentationContext(0, stored.sopClassUid, stored.transferSyntaxUid), true);
          }
        } catch (e) {
          outcomes[i] = { ok: false, error: `cannot send ${o.path}: ${(e as Error).message}` };
        }
      });
      if (pending.size === 0) {
        resolve(outcomes.map((o) => o!));
        return;
      }
      // Emitted before the library starts sending: drop every request the peer would make the library transcode.
      client.on('associationAccepted', (association: InstanceType<typeof dimse.association.Association>) => {
        const requests = (client as unknown as { requests: object[] }).requests;
        const keep = requests.filter((request) => {
          const p = pending.get(request)!;
          const pc = association.getAcceptedPresentationContextFromRequest(request as never);
          const accepted = pc?.getAcceptedTransferSyntaxUid();
          if (accepted === p.stored.transferSyntaxUid) return true;
          outcomes[p.index] = {
            ok: false,
            error: pc
              ? `the destination did not accept SOP class ${p.stored.sopClassUid} in the syntax it is stored in (${p.stored.transferSyntaxUid}); objects are not transcoded`
              : `the destination accepted no presentation context for SOP class ${p.stored.sopClassUid} (${p.stored.transferSyntaxUid})`,
          };
          return false;
        });
        requests.splice(0, requests.length, ...keep);
      });
      let networkError: string | undefined;
      client.on('associationRejected', (r: { result: number; source: number; reason: number }) => {
        networkError = `association rejected (result ${r.result}, source ${r.source}, reason ${r.reason})`;
      });
      client.on('networkError', (e: Error) => {
        networkError ??= `network error: ${e.message.replace(/^\s*->\s*/, '')}`;
      });
      client.on('closed', () =>
        resolve(outcomes.map((o) => o ?? { ok: false, error: networkError ?? 'no response from the destination' })),
      );
      client.send(this.d.host, this.d.port, this.d.callingAeTitle ?? this.callingAe, this.d.calledAeTitle, {
        connectTimeout: this.timeoutMs,
        associationTimeout: this.timeoutMs,
        pduTimeout: this.timeoutMs,
      });
    });
  }
}

/** A DICOM JSON attribute, as STOW-RS responses carry them (PS3.18 F.2). */
type JsonAttr = { Value?: unknown[] };
type JsonDataset = Record<string, JsonAttr>;

/**
 * STOW-RS (PS3.18 10.5): all objects of a send in one multipart/related request. Written on fetch rather than a
 * DICOMweb client library: the request is a few lines, and the libraries for Node need XMLHttpRequest shims.
 */
class StowRsSender implements Sender {
  constructor(private readonly d: Extract<Destination, { type: 'stow-rs' }>) {}

  async send(objects: OutgoingObject[]): Promise<SendOutcome[]> {
    const boundary = `pmct-${randomUUID()}`;
    const chunks: Buffer[] = [];
    for (const o of objects) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), readFileSync(o.path), Buffer.from('\r\n'));
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`));
    const headers: Record<string, string> = {
      'Content-Type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
      Accept: 'application/dicom+json',
    };
    const auth = this.d.auth;
    if (auth && 'bearer' in auth) headers.Authorization = `Bearer ${auth.bearer}`;
    else if (auth) headers.Authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
    let res: Response;
    try {
      res = await fetch(`${this.d.url.replace(/\/+$/, '')}/studies`, {
        method: 'POST',
        headers,
        body: Buffer.concat(chunks),
        signal: AbortSignal.timeout(this.d.timeoutSeconds * 1000),
      });
    } catch (e) {
      const cause = (e as { cause?: Error }).cause?.message;
      return objects.map(() => ({ ok: false, error: `STOW-RS request failed: ${(e as Error).message}${cause ? ` (${cause})` : ''}` }));
    }
    const text = await res.text();
    if (res.status !== 200 && res.status !== 202) {
      return objects.map(() => ({ ok: false, error: `STOW-RS answered HTTP ${res.status}: ${text.replace(/\s+/g, ' ').slice(0, 200)}` }));
    }
    // 200: all stored. 202: some failed, listed in the Failed SOP Sequence (0008,1198) with a Failure Reason.
    const failed = new Map<string, number>();
    if (res.status === 202) {
      let body: JsonDataset | JsonDataset[] = {};
      try {
        body = JSON.parse(text) as JsonDataset | JsonDataset[];
      } catch {
        // an empty or non-JSON 202 says nothing more than "not all stored": every object counts as failed
      }
      const root = Array.isArray(body) ? body[0] : body;
      for (const item of (root?.['00081198']?.Value ?? []) as JsonDataset[]) {
        failed.set(String(item['00081155']?.Value?.[0]), Number(item['00081197']?.Value?.[0] ?? 0));
      }
      if (failed.size === 0) return objects.map(() => ({ ok: false, error: 'STOW-RS answered 202 without saying which objects failed' }));
    }
    return objects.map((o) =>
      failed.has(o.sopInstanceUid)
        ? { ok: false, error: `STOW-RS failure reason 0x${failed.get(o.sopInstanceUid)!.toString(16).padStart(4, '0')}` }
        : { ok: true },
    );
  }
}

export function createSender(d: Destination, callingAe: string): Sender {
  switch (d.type) {
    case 'folder':
      return new FolderSender(d.path);
    case 'dimse':
      return new DimseSender(d, callingAe);
    case 'stow-rs':
      return new StowRsSender(d);
  }
}
