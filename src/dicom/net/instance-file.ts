/**
 * Writes one DICOM instance to disk while its bytes arrive (a WADO-RS part, a C-STORE dataset): to
 * `<final>.partial` first, renamed to the final name only once complete and flushed, so a folder
 * never holds a half-written `.dcm` that a retry would take for a retrieved instance.
 * @module
 */
import type { WriteStream } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { once } from 'node:events';
import { isUid } from './part10.js';

/** `<dir>/<sopInstanceUid>.dcm`; throws on a value that is not a UID (never a raw string in a path). */
export function instancePath(dir: string, sopInstanceUid: string): string {
  if (!isUid(sopInstanceUid)) throw new TypeError('not a UID');
  return path.join(dir, `${sopInstanceUid}.dcm`);
}

/** A file being written in order, with back-pressure, that becomes visible on {@link finish}. */
export class InstanceFile {
  readonly path: string;
  readonly #partial: string;
  readonly #stream: WriteStream;
  #bytes = 0;
  #failed: Error | undefined;

  constructor(finalPath: string) {
    this.path = finalPath;
    this.#partial = `${finalPath}.partial`;
    this.#stream = createWriteStream(this.#partial, { highWaterMark: 1 << 20 });
    this.#stream.on('error', (err) => {
      this.#failed = err;
    });
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Appends `chunk`; resolves at once unless the disk is behind (then on 'drain'). */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.#failed) throw this.#failed;
    this.#bytes += chunk.length;
    if (!this.#stream.write(chunk)) {
      await Promise.race([once(this.#stream, 'drain'), once(this.#stream, 'close')]);
      if (this.#failed) throw this.#failed;
    }
  }

  /** Flushes, closes and renames into place; resolves with the final path. */
  async finish(): Promise<string> {
    if (this.#failed) throw this.#failed;
    this.#stream.end();
    await once(this.#stream, 'close');
    if (this.#failed) throw this.#failed;
    await rename(this.#partial, this.path);
    return this.path;
  }

  /** Stops writing and removes the partial file. Never throws. */
  async discard(): Promise<void> {
    if (!this.#stream.closed) {
      this.#stream.destroy();
      await once(this.#stream, 'close').catch(() => undefined);
    }
    await unlink(this.#partial).catch(() => undefined);
  }
}
