/**
 * Sequential reading of a volume file from memory or a stream, gunzipping on the fly when the bytes
 * start with the gzip magic. Codecs read the header into small buffers and the voxel data straight
 * into one preallocated buffer, so a 150 MB image is never held twice.
 * @module
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { VoxgateError } from '../errors.js';

/** Bytes of a file: all in memory, or a stream of chunks (a file stream, an HTTP body). */
export type ByteSource = Uint8Array | AsyncIterable<Uint8Array>;

/** 1.5e9 bytes: the default cap on decoded bytes (header + voxels) a reader will accept. */
export const DEFAULT_MAX_DECODED_BYTES = 1.5e9;

export interface ByteReaderOptions {
  /** Cap on decompressed bytes; more stops the stream (gzip bombs) with VXG_ERR_VOLUME_TOO_LARGE. */
  maxDecodedBytes?: number;
}

const GZIP_CHUNK = 1 << 20;

/** Pull-based reader over (possibly gzip-compressed) bytes. Always `close()` it. */
export class ByteReader {
  readonly compressed: boolean;
  readonly maxDecodedBytes: number;
  #chunks: AsyncIterator<Uint8Array>;
  #pending: Uint8Array = new Uint8Array(0);
  #consumed = 0;
  #done = false;
  #close: () => void;

  private constructor(chunks: AsyncIterator<Uint8Array>, compressed: boolean, max: number, close: () => void) {
    this.#chunks = chunks;
    this.compressed = compressed;
    this.maxDecodedBytes = max;
    this.#close = close;
  }

  /** Opens `source`, detecting gzip from its first two bytes. */
  static async open(source: ByteSource, options: ByteReaderOptions = {}): Promise<ByteReader> {
    const max = options.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
    const raw = source instanceof Uint8Array ? singleChunk(source) : source[Symbol.asyncIterator]();
    // Gather at least two bytes to look for the gzip magic (1f 8b).
    const head: Uint8Array[] = [];
    let headLength = 0;
    let rawDone = false;
    while (headLength < 2) {
      const next = await raw.next();
      if (next.done) {
        rawDone = true;
        break;
      }
      head.push(next.value);
      headLength += next.value.length;
    }
    const first = head.length === 1 ? head[0] : Buffer.concat(head);
    const rest = async function* (): AsyncGenerator<Uint8Array> {
      if (first.length > 0) yield first;
      if (rawDone) return;
      for (let next = await raw.next(); !next.done; next = await raw.next()) yield next.value;
    };
    if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
      const gunzip = createGunzip({ chunkSize: GZIP_CHUNK });
      const input = Readable.from(rest(), { objectMode: false });
      input.on('error', (err) => gunzip.destroy(err));
      input.pipe(gunzip);
      const close = (): void => {
        input.destroy();
        gunzip.destroy();
        void raw.return?.();
      };
      return new ByteReader(gunzip[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>, true, max, close);
    }
    return new ByteReader(rest(), false, max, () => void raw.return?.());
  }

  /** Bytes delivered so far (after decompression). */
  get position(): number {
    return this.#consumed;
  }

  async #fill(): Promise<boolean> {
    if (this.#done) return false;
    let next: IteratorResult<Uint8Array>;
    try {
      next = await this.#chunks.next();
    } catch (err) {
      throw mapStreamError(err, this.compressed);
    }
    if (next.done) {
      this.#done = true;
      return false;
    }
    this.#pending = this.#pending.length === 0 ? next.value : Buffer.concat([this.#pending, next.value]);
    return true;
  }

  #take(n: number): void {
    this.#consumed += n;
    if (this.#consumed > this.maxDecodedBytes) {
      throw new VoxgateError(
        'VXG_ERR_VOLUME_TOO_LARGE',
        `The image decodes to more than ${this.maxDecodedBytes} bytes, the configured limit; send a smaller image or raise the limit.`,
      );
    }
  }

  /** The next `n` bytes (fewer at end of data) without consuming them. */
  async peek(n: number): Promise<Uint8Array> {
    while (this.#pending.length < n && (await this.#fill()));
    return Uint8Array.from(this.#pending.subarray(0, Math.min(n, this.#pending.length)));
  }

  /**
   * Reads exactly `n` bytes into a new buffer (for headers). Returns fewer only at the end of data;
   * callers decide whether that is a truncation.
   */
  async read(n: number): Promise<Uint8Array> {
    while (this.#pending.length < n && (await this.#fill()));
    const out = this.#pending.subarray(0, Math.min(n, this.#pending.length));
    this.#pending = this.#pending.subarray(out.length);
    this.#take(out.length);
    return Uint8Array.from(out);
  }

  /** Discards `n` bytes; returns how many were there. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.#pending.length === 0 && !(await this.#fill())) break;
      const step = Math.min(left, this.#pending.length);
      this.#pending = this.#pending.subarray(step);
      this.#take(step);
      left -= step;
    }
    return n - left;
  }

  /** Fills `target` completely from the stream; returns the number of bytes written (less at end of data). */
  async readInto(target: Uint8Array): Promise<number> {
    let offset = 0;
    while (offset < target.length) {
      if (this.#pending.length === 0 && !(await this.#fill())) break;
      const step = Math.min(target.length - offset, this.#pending.length);
      target.set(this.#pending.subarray(0, step), offset);
      this.#pending = this.#pending.subarray(step);
      this.#take(step);
      offset += step;
    }
    return offset;
  }

  /**
   * The bytes not read yet, chunk by chunk as they arrive (no copies), for a codec that decodes them
   * itself: NRRD's gzip encoding starts after a plain-text header, where `open` cannot see it.
   * The chunks count against `maxDecodedBytes` as they are handed out; the reader ends at its end.
   * @example
   * for await (const chunk of reader.remaining()) gunzip.write(chunk);
   */
  async *remaining(): AsyncGenerator<Uint8Array> {
    while (this.#pending.length > 0 || (await this.#fill())) {
      const chunk = this.#pending;
      this.#pending = new Uint8Array(0);
      this.#take(chunk.length);
      yield chunk;
    }
  }

  /** True when no byte is left. Reads at most one more chunk; bounded. */
  async atEnd(): Promise<boolean> {
    while (this.#pending.length === 0) {
      if (!(await this.#fill())) return true;
    }
    return false;
  }

  close(): void {
    this.#close();
  }
}

async function* singleChunkGen(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

function singleChunk(bytes: Uint8Array): AsyncIterator<Uint8Array> {
  return singleChunkGen(bytes);
}

function mapStreamError(err: unknown, compressed: boolean): VoxgateError {
  if (err instanceof VoxgateError) return err;
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (compressed && (code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(message))) {
    return new VoxgateError('VXG_ERR_VOLUME_TRUNCATED', 'The gzip stream ends early: the file is truncated.', { cause: err });
  }
  if (compressed && typeof code === 'string' && code.startsWith('Z_')) {
    return new VoxgateError('VXG_ERR_VOLUME_CORRUPT', `The gzip stream is corrupt (${message}).`, { cause: err });
  }
  return new VoxgateError('VXG_ERR_VOLUME_CORRUPT', `The image could not be read: ${message}`, { cause: err });
}
