/**
 * Receives the datasets of incoming C-STORE requests straight to disk, for Voxgate's store SCP and
 * for the C-STORE sub-operations of a C-GET: dcmjs-dimse hands each PDV to a Writable we give it
 * ({@link Scp.createStoreWritableStream}); ours writes a File Meta Information built from the
 * command (SOP Class/Instance UID, the accepted transfer syntax) and then the dataset bytes as
 * they come, so a file is never held whole in memory. The first bytes are kept to read the Study
 * and Series Instance UID for routing.
 * @module
 */
import { copyFile, link, unlink } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { InstanceFile, instancePath } from './instance-file.js';
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
   * False when `dir` is a private staging folder whose files nobody reads before `received`
   * settles (the store SCP's): the file is written under its final name, without a rename.
   */
  readonly staged?: boolean;
}

/** Bytes kept from the start of the file to find the Study/Series Instance UID. */
const HEAD_BYTES = 64 * 1024;

/**
 * The Writable for one incoming dataset. `received` settles once the file is complete (or failed);
 * it never rejects: a failure is the error value, so the SCP can answer a failure status.
 */
export class ReceivingWritable extends Writable {
  readonly received: Promise<ReceivedInstance | Error>;
  #resolve!: (value: ReceivedInstance | Error) => void;
  readonly #context: ReceiptContext;
  readonly #file: InstanceFile | undefined;
  readonly #head: Buffer[] = [];
  #headBytes = 0;
  #metaLength = 0;
  #error: Error | undefined;

  constructor(context: ReceiptContext) {
    super({ highWaterMark: 1 << 20 });
    this.#context = context;
    this.received = new Promise((resolve) => {
      this.#resolve = resolve;
    });
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
    this.#keep(meta);
    this.#file.write(meta).catch((err: unknown) => {
      this.#error ??= err instanceof Error ? err : new Error(String(err));
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#error || !this.#file) return callback();
    this.#keep(chunk);
    this.#file.write(chunk).then(
      () => callback(),
      (err: unknown) => {
        this.#error ??= err instanceof Error ? err : new Error(String(err));
        callback(); // keep consuming the PDVs; the C-STORE answer will say it failed
      },
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    void this.#complete().then((result) => {
      this.#resolve(result);
      callback();
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error) {
      void this.#file?.discard();
      this.#resolve(error);
    }
    callback(error);
  }

  async #complete(): Promise<ReceivedInstance | Error> {
    if (this.#error || !this.#file) {
      await this.#file?.discard();
      return this.#error ?? new Error('no file');
    }
    try {
      const path = await this.#file.finish();
      const head = Buffer.concat(this.#head, this.#headBytes);
      const { studyInstanceUid, seriesInstanceUid } = readStudySeries(head, this.#metaLength, this.#context.transferSyntaxUid);
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

  #keep(chunk: Buffer): void {
    if (this.#headBytes >= HEAD_BYTES) return;
    const part = chunk.subarray(0, HEAD_BYTES - this.#headBytes);
    this.#head.push(Buffer.from(part));
    this.#headBytes += part.length;
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
