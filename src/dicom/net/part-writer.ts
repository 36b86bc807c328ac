/**
 * Writes the parts of a WADO-RS answer to `<destDir>/<SOPInstanceUID>.dcm`, each through
 * `<name>.partial` renamed once complete (the same promise as {@link InstanceFile}: a job folder
 * never holds a half-written `.dcm`).
 *
 * The bytes arrive as views of a connection's read buffer that the next read overwrites, so they
 * are copied into one 1 MiB buffer that the writer reuses for every part. A part that fits (a CT
 * slice is ~0.5 MiB) costs one synchronous open, write, close and rename at its end (~0.1–0.3 ms of
 * the event loop: the same trade as the store SCP's, docs/dicom-networking.md); a larger one is
 * written synchronously a MiB at a time. No promise, no thread-pool round trip, no allocation per
 * part: with 300 instances in a series those were most of the download's own CPU time.
 * @module
 */
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { instancePath } from './instance-file.js';
import { Part10Error, isUid, readFileMeta } from './part10.js';
import type { FileMeta } from './part10.js';

/** The part buffer: the largest instance written in one go, and the bound on memory per download. */
export const PART_BUFFER_BYTES = 1 << 20;
/** The File Meta Information of a part must be within its first bytes. */
const MAX_META_BYTES = 64 * 1024;

export interface WrittenPart {
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly transferSyntaxUid: string;
  /** `<destDir>/<sopInstanceUid>.dcm`. */
  readonly path: string;
  readonly bytes: number;
}

/**
 * One part at a time: `begin`, `write`… (copied), `end` → the file, or undefined when `accept`
 * turned the SOP Instance UID down (a duplicate, an instance to skip). `discard` removes the file
 * in progress. Every call is synchronous; file system errors are thrown as they are.
 */
export class PartWriter {
  readonly #buffer: Buffer;
  #fill = 0;
  #state: 'idle' | 'head' | 'write' | 'drop' = 'idle';
  #meta: FileMeta | undefined;
  #path = '';
  #fd = -1;
  #bytes = 0;

  /**
   * @param buffer at least 64 KiB (the File Meta Information is looked for within it); the writer
   *   owns it until its last `end` or `discard`.
   */
  constructor(
    private readonly destDir: string,
    private readonly accept: (sopInstanceUid: string) => boolean,
    buffer: Buffer = Buffer.allocUnsafeSlow(PART_BUFFER_BYTES),
  ) {
    if (buffer.length < MAX_META_BYTES) throw new RangeError('PartWriter: the buffer must hold 64 KiB');
    this.#buffer = buffer;
  }

  begin(): void {
    this.discard();
    this.#state = 'head';
  }

  write(chunk: Buffer): void {
    if (this.#state === 'drop' || this.#state === 'idle') return;
    this.#bytes += chunk.length;
    let data = chunk;
    if (this.#state === 'head') {
      const n = data.copy(this.#buffer, this.#fill);
      this.#fill += n;
      data = data.subarray(n);
      if (!this.#decide()) return; // more head needed (then nothing is left of the chunk), or dropped
    }
    this.#take(data);
  }

  /** The written instance, or undefined when the part was dropped. */
  end(): WrittenPart | undefined {
    if (this.#state === 'head') throw new Part10Error('a part ended before its file meta header did');
    if (this.#state !== 'write' || !this.#meta) {
      this.#state = 'idle';
      return undefined;
    }
    const partial = `${this.#path}.partial`;
    try {
      this.#flush();
      const fd = this.#fd;
      this.#fd = -1;
      closeSync(fd);
      renameSync(partial, this.#path);
    } catch (err) {
      this.discard();
      throw err;
    }
    const { sopInstanceUid, sopClassUid, transferSyntaxUid } = this.#meta;
    const written = { sopInstanceUid, sopClassUid, transferSyntaxUid, path: this.#path, bytes: this.#bytes };
    this.#reset();
    return written;
  }

  /** Drops the part in progress and removes its partial file. Never throws. */
  discard(): void {
    if (this.#fd >= 0) {
      try {
        closeSync(this.#fd);
      } catch {
        // closed anyway
      }
      this.#fd = -1;
    }
    if (this.#state === 'write') {
      try {
        unlinkSync(`${this.#path}.partial`);
      } catch {
        // never written, or already gone
      }
    }
    this.#reset();
  }

  #reset(): void {
    this.#state = 'idle';
    this.#fill = 0;
    this.#bytes = 0;
    this.#meta = undefined;
  }

  /** Copies `chunk` into the buffer, writing the buffer out whenever it fills. */
  #take(chunk: Buffer): void {
    let data = chunk;
    while (data.length > 0) {
      if (this.#fill === this.#buffer.length) this.#flush();
      const n = data.copy(this.#buffer, this.#fill);
      this.#fill += n;
      data = data.subarray(n);
    }
  }

  /** Reads the File Meta Information once it is in the buffer; true when the part is to be written. */
  #decide(): boolean {
    const meta = readFileMeta(this.#buffer.subarray(0, this.#fill));
    if (!meta) {
      if (this.#fill > MAX_META_BYTES) throw new Part10Error(`no complete file meta header in the first ${MAX_META_BYTES} bytes of a part`);
      return false;
    }
    if (!isUid(meta.sopInstanceUid)) throw new Part10Error('a part has a SOP Instance UID that is not a UID');
    if (!this.accept(meta.sopInstanceUid)) {
      this.#state = 'drop';
      this.#fill = 0;
      return false;
    }
    this.#meta = meta;
    this.#path = instancePath(this.destDir, meta.sopInstanceUid);
    this.#state = 'write';
    return true;
  }

  /** Writes what the buffer holds (opening the partial file first if needed). */
  #flush(): void {
    if (this.#fd < 0) this.#fd = openSync(`${this.#path}.partial`, 'w');
    let at = 0;
    while (at < this.#fill) at += writeSync(this.#fd, this.#buffer, at, this.#fill - at);
    this.#fill = 0;
  }
}
