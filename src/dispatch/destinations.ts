/**
 * Where results go: a local folder (the embedded default, so the node needs no PACS) or a DICOM node by C-STORE
 * (dcmjs-dimse). Each send reports per object whether it was delivered.
 */
import { copyFileSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Destination } from '../config/config.js';
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

/**
 * The data set bytes of a Part 10 file (after the meta group), sent as they are: dcmjs-dimse would otherwise
 * re-encode the parsed data set, and the node's objects must reach the PACS byte-exact (copied patient strings
 * keep their source character set).
 */
function datasetBytes(file: Buffer): Buffer {
  if (file.length < 144 || file.toString('latin1', 128, 132) !== 'DICM') throw new Error('not a Part 10 file');
  const groupLength = file.readUInt32LE(140);
  return file.subarray(144 + groupLength);
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
      objects.forEach((o, i) => {
        let request;
        try {
          const bytes = readFileSync(o.path);
          const ds = dimse.Dataset.fromFile(o.path);
          if (!ds) throw new Error('dcmjs-dimse could not read it');
          const raw = datasetBytes(bytes);
          (ds as unknown as { getDenaturalizedDataset: () => Buffer }).getDenaturalizedDataset = () => raw;
          request = new dimse.requests.CStoreRequest(ds);
        } catch (e) {
          outcomes[i] = { ok: false, error: `cannot read ${o.path}: ${(e as Error).message}` };
          return;
        }
        request.on('response', (response: InstanceType<typeof dimse.responses.CStoreResponse>) => {
          const status = response.getStatus();
          // 0xB000-0xBFFF are warnings: the object was stored.
          outcomes[i] =
            status === 0 || (status >= 0xb000 && status <= 0xbfff)
              ? { ok: true }
              : { ok: false, error: `C-STORE status 0x${status.toString(16).padStart(4, '0')}` };
        });
        client.addRequest(request);
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

export function createSender(d: Destination, callingAe: string): Sender {
  return d.type === 'folder' ? new FolderSender(d.path) : new DimseSender(d, callingAe);
}
