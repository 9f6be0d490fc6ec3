/**
 * The DIMSE SCP: C-ECHO and C-STORE on a configured host/port/AE title, built on dcmjs-dimse.
 *
 * dcmjs-dimse's `Server.listen` binds every interface and buffers whole objects in memory, so we run our own
 * net.Server on the configured host and stream each data set to a temporary file (SpoolWriter). A C-STORE is
 * answered Success only after the file is fsynced and the `commit` callback (rename + database row) returned;
 * anything else gets a failure status so the sender keeps its copy and retries.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import dimse from '../dicom/dimse.js';
import { SopClass, SUPPORTED_SYNTAXES, syntaxName } from '../dicom/constants.js';
import { fileMetaHeader } from '../dicom/meta.js';
import type { Logger } from '../log/logger.js';
import { SpoolWriter, type SpooledFile } from './spool-writer.js';

const { Scp, Dataset } = dimse;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason, Status } = dimse.constants;
type Association = InstanceType<typeof dimse.association.Association>;
type PresentationContext = InstanceType<typeof dimse.association.PresentationContext>;
type CStoreRequest = InstanceType<typeof dimse.requests.CStoreRequest>;
type CEchoRequest = InstanceType<typeof dimse.requests.CEchoRequest>;

/** DIMSE status codes the node answers with (PS3.4 Annex B / C). */
export const StoreStatus = Object.freeze({
  Success: 0x0000,
  OutOfResources: 0xa700,
  DataSetDoesNotMatchSopClass: 0xa900,
  CannotUnderstand: 0xc000,
});

/** Storage SOP classes: every Part 4 storage class is received; routing decides later what is analysed. */
const STORAGE_PREFIX = '1.2.840.10008.5.1.4.1.1.';

export interface ReceivedObject extends SpooledFile {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntaxUid: string;
  callingAeTitle: string;
}

export interface ScpOptions {
  host: string;
  port: number;
  aeTitle: string;
  allowedCallingAeTitles: readonly string[];
  maxPduLength: number;
  /** Where temporary files are written (same file system as the spool, so the rename is atomic). */
  tmpDir: string;
  logger: Logger;
  /**
   * Makes a fully written temporary file permanent (rename, database row) and returns the DIMSE status to
   * answer. Throwing answers OutOfResources.
   */
  commit: (obj: ReceivedObject) => Promise<number> | number;
  /** Optional gate checked at association time (e.g. disk space); a string refuses the association with it. */
  refuseAssociation?: () => string | undefined;
}

export function callingAeAllowed(allowed: readonly string[], callingAe: string): boolean {
  const ae = callingAe.trim();
  return allowed.some((a) => a === '*' || a.trim() === ae);
}

/** First proposed transfer syntax the node can decode, in the sender's order (keeps compressed data as sent). */
export function chooseTransferSyntax(proposed: readonly string[]): string | undefined {
  return proposed.find((ts) => SUPPORTED_SYNTAXES.has(ts));
}

class StoreScp extends Scp {
  private current: { writer: SpoolWriter; request: CStoreRequest; ts: string } | undefined;
  private callingAe = '';

  constructor(
    socket: net.Socket,
    private readonly opts: ScpOptions,
    private readonly assocId: string,
  ) {
    super(socket, { associationTimeout: 60_000, pduTimeout: 60_000 });
    socket.on('close', () => void this.current?.writer.discard());
  }

  override associationRequested(association: Association): void {
    const { opts } = this;
    this.callingAe = association.getCallingAeTitle().trim();
    const called = association.getCalledAeTitle().trim();
    const log = { assoc: this.assocId, callingAe: this.callingAe, calledAe: called };
    if (called !== opts.aeTitle) {
      opts.logger.warn('association refused: called AE title is not this node', log);
      this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
      return;
    }
    if (!callingAeAllowed(opts.allowedCallingAeTitles, this.callingAe)) {
      opts.logger.warn('association refused: calling AE title not in receive.allowedCallingAeTitles', log);
      this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized);
      return;
    }
    const refusal = opts.refuseAssociation?.();
    if (refusal) {
      opts.logger.warn(`association refused: ${refusal}`, log);
      this.sendAssociationReject(RejectResult.Transient, RejectSource.ServiceProviderPresentation, RejectReason.LocalLimitExceeded);
      return;
    }
    for (const { context } of association.getPresentationContexts()) {
      this.negotiate(context);
    }
    association.setMaxPduLength(opts.maxPduLength);
    opts.logger.info('association accepted', log);
    this.sendAssociationAccept();
  }

  private negotiate(pc: PresentationContext): void {
    const abstract = pc.getAbstractSyntaxUid();
    if (abstract !== SopClass.Verification && !abstract.startsWith(STORAGE_PREFIX)) {
      pc.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
      return;
    }
    const ts = chooseTransferSyntax(pc.getTransferSyntaxUids());
    if (ts) pc.setResult(PresentationContextResult.Accept, ts);
    else {
      this.opts.logger.info('presentation context refused: no decodable transfer syntax', {
        assoc: this.assocId,
        proposed: pc.getTransferSyntaxUids().map((u) => `${u} (${syntaxName(u)})`),
      });
      pc.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
    }
  }

  override associationReleaseRequested(): void {
    this.sendAssociationReleaseResponse();
  }

  override abort(): void {
    void this.current?.writer.discard();
    this.current = undefined;
  }

  override cEchoRequest(request: CEchoRequest, callback: (r: InstanceType<typeof dimse.responses.CEchoResponse>) => void): void {
    const response = dimse.responses.CEchoResponse.fromRequest(request);
    response.setStatus(Status.Success);
    callback(response);
  }

  override createStoreWritableStream(pc: PresentationContext, request: CStoreRequest): Writable {
    const ts = pc.getAcceptedTransferSyntaxUid() ?? '';
    const header = fileMetaHeader({
      sopClassUid: request.getAffectedSopClassUid(),
      sopInstanceUid: request.getAffectedSopInstanceUid(),
      transferSyntaxUid: ts,
      sourceAeTitle: this.callingAe,
    });
    const writer = new SpoolWriter(join(this.opts.tmpDir, `${randomUUID()}.part`), header);
    this.current = { writer, request, ts };
    return writer;
  }

  override createDatasetFromStoreWritableStream(
    _writable: Writable,
    pc: PresentationContext,
    callback: (ds: InstanceType<typeof Dataset>) => void,
  ): void {
    // The data set stays on disk; the request carries an empty one and cStoreRequest reads `this.current`.
    callback(new Dataset({}, pc.getAcceptedTransferSyntaxUid()));
  }

  override cStoreRequest(request: CStoreRequest, callback: (r: InstanceType<typeof dimse.responses.CStoreResponse>) => void): void {
    const current = this.current;
    this.current = undefined;
    const answer = (status: number, comment?: string) => {
      const response = dimse.responses.CStoreResponse.fromRequest(request);
      response.setStatus(status);
      if (comment) response.setErrorComment(comment.slice(0, 64));
      callback(response);
    };
    const sop = request.getAffectedSopInstanceUid();
    if (!current) {
      answer(StoreStatus.OutOfResources, 'no data set received');
      return;
    }
    current.writer
      .finished()
      .then((spooled) =>
        this.opts.commit({
          ...spooled,
          sopClassUid: request.getAffectedSopClassUid(),
          sopInstanceUid: sop,
          transferSyntaxUid: current.ts,
          callingAeTitle: this.callingAe,
        }),
      )
      .then(
        (status) => answer(status),
        (e: NodeJS.ErrnoException) => {
          this.opts.logger.error('C-STORE not made durable: answered Out of Resources', {
            assoc: this.assocId,
            sopInstanceUid: sop,
            error: e.code ?? e.message,
          });
          answer(StoreStatus.OutOfResources, `not stored: ${e.code ?? e.message}`);
        },
      );
  }
}

export interface RunningScp {
  port: number;
  close(): Promise<void>;
}

/** Starts the SCP; resolves once it listens (port 0 picks a free port). */
export async function startScp(opts: ScpOptions): Promise<RunningScp> {
  mkdirSync(opts.tmpDir, { recursive: true });
  let counter = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    const scp = new StoreScp(socket, opts, `a${++counter}`);
    (scp as unknown as { connected: boolean }).connected = true;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  if (opts.allowedCallingAeTitles.includes('*')) {
    opts.logger.warn('receive.allowedCallingAeTitles allows any calling AE title; list your scanners to restrict it');
  }
  opts.logger.info('DICOM SCP listening', { host: opts.host, port: address.port, aeTitle: opts.aeTitle });
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
