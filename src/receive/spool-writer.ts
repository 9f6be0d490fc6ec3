/**
 * A Writable that streams one C-STORE data set into a temporary Part 10 file: a file meta header first, then the
 * data set bytes exactly as received. It hashes while writing and fsyncs at the end, so the caller can promise
 * durability. A write error (e.g. ENOSPC) does not break the DIMSE stream: the writer keeps accepting and
 * discarding the rest of the object and reports the error at the end, so the SCP can answer a failure status
 * instead of leaving the association hanging.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

export interface SpooledFile {
  tmpPath: string;
  size: number;
  sha256: string;
}

/** FileHandle.write may write less than asked (a nearly full disk does this without an error): loop until done. */
async function writeFully(fh: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, offset, chunk.length - offset);
    if (bytesWritten === 0) throw Object.assign(new Error('no bytes written'), { code: 'ENOSPC' });
    offset += bytesWritten;
  }
}

export class SpoolWriter extends Writable {
  private handle: Promise<FileHandle>;
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  error: Error | undefined;
  private readonly done: Promise<SpooledFile>;

  constructor(
    readonly tmpPath: string,
    header: Uint8Array,
  ) {
    super({ highWaterMark: 1 << 20 });
    this.handle = open(tmpPath, 'wx');
    this.handle.catch((e: Error) => (this.error ??= e));
    this.write(header);
    this.done = new Promise((resolve, reject) => {
      this.once('finish', () => {
        this.closeDurably().then(
          () => (this.error ? reject(this.error) : resolve({ tmpPath, size: this.size, sha256: this.hash.digest('hex') })),
          reject,
        );
      });
      this.once('error', reject);
    });
    this.done.catch(() => undefined);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (error?: Error | null) => void): void {
    if (this.error) return cb();
    this.hash.update(chunk);
    this.size += chunk.length;
    this.handle
      .then((fh) => writeFully(fh, chunk))
      .then(
        () => cb(),
        (e: Error) => {
          this.error ??= e;
          cb();
        },
      );
  }

  private async closeDurably(): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await this.handle;
    } catch {
      return;
    }
    try {
      if (!this.error) await fh.sync();
    } catch (e) {
      this.error ??= e as Error;
    } finally {
      await fh.close().catch(() => undefined);
    }
    if (this.error) await unlink(this.tmpPath).catch(() => undefined);
  }

  /** Resolves when every byte is written and fsynced; rejects (temp file removed) on any write error. */
  finished(): Promise<SpooledFile> {
    return this.done;
  }

  /** Abandons the object (association aborted mid-transfer): the temp file is removed. */
  async discard(): Promise<void> {
    this.error ??= new Error('discarded');
    if (!this.writableEnded) this.end();
    await this.done.catch(() => undefined);
    await unlink(this.tmpPath).catch(() => undefined);
  }
}
