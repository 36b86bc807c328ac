/**
 * Writes one DICOM instance to disk while its bytes arrive (a WADO-RS part, a C-STORE dataset): to
 * `<final>.partial` first, renamed to the final name only once complete and flushed, so a folder
 * never holds a half-written `.dcm` that a retry would take for a retrieved instance.
 *
 * Chunks are gathered up to 1 MiB and written with one writev: a CT slice (~0.5 MiB, arriving in
 * 64 KiB socket reads) costs one open, one write, one close and one rename, not a dozen writes.
 * Memory stays bounded by that buffer, whatever the instance's size.
 *
 * A file that never grew past that buffer is written at `finish` with synchronous calls (open,
 * writev, close, rename into the page cache: ~0.1–0.3 ms of the event loop for 1 MiB). The four
 * thread-pool round trips they replace cost more than that in latency on a busy machine, and a
 * C-STORE sender waits for each instance's response before sending the next (bench/dicom-node.ts).
 * @module
 */
import { closeSync, openSync, renameSync, unlinkSync, writevSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isUid } from './part10.js';

const FLUSH_BYTES = 1 << 20;

/** `<dir>/<sopInstanceUid>.dcm`; throws on a value that is not a UID (never a raw string in a path). */
export function instancePath(dir: string, sopInstanceUid: string): string {
  if (!isUid(sopInstanceUid)) throw new TypeError('not a UID');
  return path.join(dir, `${sopInstanceUid}.dcm`);
}

/** A file written in order, with bounded buffering, that becomes visible on {@link finish}. */
export class InstanceFile {
  readonly path: string;
  readonly #partial: string;
  #handle: Promise<FileHandle> | undefined;
  #buffered: Uint8Array[] = [];
  #bufferedBytes = 0;
  #bytes = 0;
  /** The flush in progress: writes are ordered behind it. */
  #flushing: Promise<void> = Promise.resolve();

  /**
   * @param options.staged false: write straight to `finalPath`, no `.partial` and rename — for a
   *   private staging folder nobody reads before `finish` resolves (the store SCP's), where the
   *   rename is pure cost (ext4 takes ~0.5 ms for it on a busy machine).
   */
  constructor(finalPath: string, options: { readonly staged?: boolean } = {}) {
    this.path = finalPath;
    this.#partial = options.staged === false ? finalPath : `${finalPath}.partial`;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Appends `chunk` (kept by reference until written: do not reuse its memory). */
  async write(chunk: Uint8Array): Promise<void> {
    this.#buffered.push(chunk);
    this.#bufferedBytes += chunk.length;
    this.#bytes += chunk.length;
    if (this.#bufferedBytes >= FLUSH_BYTES) await this.#flush();
  }

  /** Writes what is buffered, closes and renames into place; resolves with the final path. */
  async finish(): Promise<string> {
    if (!this.#handle && this.#bufferedBytes === this.#bytes) {
      this.#finishSync();
      return this.path;
    }
    await this.#flush();
    const handle = await this.#open();
    await handle.close();
    this.#handle = undefined;
    if (this.#partial !== this.path) await rename(this.#partial, this.path);
    return this.path;
  }

  /** Stops writing and removes the partial file. Never throws. */
  async discard(): Promise<void> {
    this.#buffered = [];
    await this.#flushing.catch(() => undefined);
    if (this.#handle) {
      await this.#handle.then((h) => h.close()).catch(() => undefined);
      this.#handle = undefined;
    }
    await unlink(this.#partial).catch(() => undefined);
  }

  /** The whole file is still in memory (at most 1 MiB): one synchronous open, writev, close and rename. */
  #finishSync(): void {
    const chunks = this.#buffered;
    this.#buffered = [];
    this.#bufferedBytes = 0;
    const fd = openSync(this.#partial, 'w');
    try {
      let pending = chunks;
      while (pending.length > 0) pending = skipBytes(pending, writevSync(fd, pending));
    } catch (err) {
      closeSync(fd);
      try {
        unlinkSync(this.#partial);
      } catch {
        // already gone
      }
      throw err;
    }
    closeSync(fd);
    if (this.#partial !== this.path) renameSync(this.#partial, this.path);
  }

  #open(): Promise<FileHandle> {
    this.#handle ??= open(this.#partial, 'w');
    return this.#handle;
  }

  #flush(): Promise<void> {
    const chunks = this.#buffered;
    this.#buffered = [];
    this.#bufferedBytes = 0;
    this.#flushing = this.#flushing.then(async () => {
      if (chunks.length === 0) {
        await this.#open();
        return;
      }
      const handle = await this.#open();
      let pending = chunks;
      while (pending.length > 0) {
        const { bytesWritten } = await handle.writev(pending);
        pending = skipBytes(pending, bytesWritten);
      }
    });
    return this.#flushing;
  }
}

/** `chunks` without their first `count` bytes (after a short writev). */
function skipBytes(chunks: Uint8Array[], count: number): Uint8Array[] {
  let left = count;
  let i = 0;
  while (i < chunks.length && left >= chunks[i].length) left -= chunks[i++].length;
  if (i === chunks.length) return [];
  return [chunks[i].subarray(left), ...chunks.slice(i + 1)];
}
