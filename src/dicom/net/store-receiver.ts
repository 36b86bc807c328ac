/**
 * Receives the datasets of incoming C-STORE requests straight to disk, for Voxgate's store SCP and
 * for the C-STORE sub-operations of a C-GET: {@link InstanceReceipt} writes a File Meta Information
 * built from the command (SOP Class/Instance UID, the accepted transfer syntax) and then the
 * dataset bytes as they come, so a file is never held whole in memory. The first bytes are kept to
 * read the Study and Series Instance UID for routing. The store SCP's upper layer feeds it PDV
 * fragments directly; dcmjs-dimse (C-GET) through the {@link ReceivingWritable} it asks for.
 * @module
 */
import { copyFile, link, unlink } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { InstanceFile, instancePath } from './instance-file.js';
import type { StudySeries } from './part10.js';
import { encodeFileMeta, isUid, readStudySeries } from './part10.js';

/** An instance received over DIMSE and written to disk. */
export interface ReceivedInstance {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly studyInstanceUid?: string;
  readonly seriesInstanceUid?: string;
  /** The Part 10 file. */
  readonly path: string;
  readonly bytes: number;
  readonly callingAeTitle: string;
  readonly calledAeTitle: string;
  /** Move Originator AE Title (0000,1030) of a C-STORE sent on behalf of a C-MOVE. */
  readonly moveOriginatorAeTitle?: string;
}

export interface ReceiptContext {
  readonly dir: string;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly callingAeTitle: string;
  readonly calledAeTitle: string;
  readonly moveOriginatorAeTitle?: string;
  /**
   * False when `dir` is a private staging folder whose files nobody reads before the receipt
   * completes (the store SCP's): the file is written under its final name, without a rename.
   */
  readonly staged?: boolean;
}

/** Bytes kept from the start of the file to find the Study/Series Instance UID. */
const HEAD_BYTES = 64 * 1024;

/**
 * One incoming dataset on its way to disk: a File Meta Information built from the command, then
 * the dataset bytes as they come ({@link write}), then {@link complete}. Used directly by the store
 * SCP's own upper layer (scp-association.ts) and through {@link ReceivingWritable} by dcmjs-dimse
 * (C-GET sub-operations).
 *
 * Chunks are kept by reference until written (InstanceFile's contract): a caller must not reuse
 * their memory. Socket reads never are, so the SCP passes slices of them without a copy.
 */
export class InstanceReceipt {
  readonly #context: ReceiptContext;
  readonly #file: InstanceFile | undefined;
  readonly #head: Uint8Array[] = [];
  #headBytes = 0;
  #metaLength = 0;
  #error: Error | undefined;

  constructor(context: ReceiptContext) {
    this.#context = context;
    if (!isUid(context.sopInstanceUid)) {
      // Never a raw string in a path: a C-STORE without a usable SOP Instance UID is refused.
      this.#error = new Error('the C-STORE request has no valid Affected SOP Instance UID');
      return;
    }
    this.#file = new InstanceFile(instancePath(context.dir, context.sopInstanceUid), { staged: context.staged ?? true });
    const meta = encodeFileMeta({
      sopClassUid: context.sopClassUid,
      sopInstanceUid: context.sopInstanceUid,
      transferSyntaxUid: context.transferSyntaxUid,
      sourceAeTitle: context.callingAeTitle,
    });
    this.#metaLength = meta.length;
    void this.write(meta);
  }

  /** Bytes written so far, File Meta Information included. */
  get bytes(): number {
    return this.#file?.bytes ?? 0;
  }

  /**
   * Appends dataset bytes. Resolves once they are buffered or written (a flush runs every MiB):
   * wait for it now and then, so that memory stays bounded. Never rejects: after a failure the
   * bytes are dropped and {@link complete} returns the error.
   */
  write(chunk: Uint8Array): Promise<void> {
    if (this.#error || !this.#file) return Promise.resolve();
    if (this.#headBytes < HEAD_BYTES) {
      const part = chunk.subarray(0, HEAD_BYTES - this.#headBytes);
      this.#head.push(part);
      this.#headBytes += part.length;
    }
    return this.#file.write(chunk).catch((err: unknown) => {
      this.#error ??= err instanceof Error ? err : new Error(String(err));
    });
  }

  /** Finishes the file; the instance, or the error that kept it from being stored (never rejects). */
  async complete(): Promise<ReceivedInstance | Error> {
    if (this.#error || !this.#file) {
      await this.#file?.discard();
      return this.#error ?? new Error('no file');
    }
    try {
      const path = await this.#file.finish();
      const { studyInstanceUid, seriesInstanceUid } = this.#studySeries();
      const c = this.#context;
      return {
        sopClassUid: c.sopClassUid,
        sopInstanceUid: c.sopInstanceUid,
        transferSyntaxUid: c.transferSyntaxUid,
        ...(isUid(studyInstanceUid) ? { studyInstanceUid } : {}),
        ...(isUid(seriesInstanceUid) ? { seriesInstanceUid } : {}),
        path,
        bytes: this.#file.bytes,
        callingAeTitle: c.callingAeTitle,
        calledAeTitle: c.calledAeTitle,
        ...(c.moveOriginatorAeTitle ? { moveOriginatorAeTitle: c.moveOriginatorAeTitle } : {}),
      };
    } catch (err) {
      await this.#file.discard();
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  /** Stops and removes the partial file (the association ended mid-dataset). Never throws. */
  async discard(): Promise<void> {
    await this.#file?.discard();
  }

  /** From the first dataset fragment when it holds both (nearly always), else from the kept head. */
  #studySeries(): StudySeries {
    const ts = this.#context.transferSyntaxUid;
    if (this.#head.length > 1) {
      const first = readStudySeries(this.#head[1], 0, ts);
      if (first.studyInstanceUid !== undefined && first.seriesInstanceUid !== undefined) return first;
    }
    return readStudySeries(Buffer.concat(this.#head, this.#headBytes), this.#metaLength, ts);
  }
}

/**
 * The Writable for one incoming dataset, for dcmjs-dimse ({@link Scp.createStoreWritableStream}).
 * `received` settles once the file is complete (or failed); it never rejects: a failure is the
 * error value, so the SCP can answer a failure status.
 */
export class ReceivingWritable extends Writable {
  readonly received: Promise<ReceivedInstance | Error>;
  #resolve!: (value: ReceivedInstance | Error) => void;
  readonly #receipt: InstanceReceipt;

  constructor(context: ReceiptContext) {
    super({ highWaterMark: 1 << 20 });
    this.received = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    this.#receipt = new InstanceReceipt(context);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // A failed write still calls back: keep consuming the PDVs; the C-STORE answer says it failed.
    void this.#receipt.write(chunk).then(() => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    void this.#receipt.complete().then((result) => {
      this.#resolve(result);
      callback();
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error) {
      void this.#receipt.discard();
      this.#resolve(error);
    }
    callback(error);
  }
}

/**
 * Puts a received instance into `destDir` as `<SOPInstanceUID>.dcm` (a hard link when on the same
 * file system, a copy otherwise); the original stays where it was.
 */
export async function placeInstance<T extends ReceivedInstance>(instance: T, destDir: string): Promise<T> {
  const target = instancePath(destDir, instance.sopInstanceUid);
  await unlink(target).catch(() => undefined);
  try {
    await link(instance.path, target);
  } catch {
    await copyFile(instance.path, target);
  }
  return { ...instance, path: target };
}
