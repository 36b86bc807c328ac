/**
 * A byte stream handed to the decoder with a size cap: the bytes are counted as they pass, and one
 * byte over the cap stops the transfer, whatever a header claimed beforehand.
 * @module
 */
import type { Readable } from 'node:stream';
import type { VoxgateError } from '../errors.js';

export interface CappedBodyOptions {
  /** Most bytes allowed; one more throws `tooLarge()`. */
  maxBytes: number;
  tooLarge: () => VoxgateError;
  /** Turns a stream error into the error the consumer sees. */
  translate: (err: unknown) => unknown;
  /** Runs once when the body ends, fails or is abandoned (timers, listeners). */
  finish: () => void;
}

/** A closable byte body: iterate it, or call `close()` to abandon it. Both may happen. */
export interface CappedBody {
  body: AsyncIterable<Uint8Array>;
  close(): void;
}

/** Wraps `stream`; the stream is destroyed when the body ends, fails, is over the cap or is closed. */
export function cappedBody(stream: Readable, options: CappedBodyOptions): CappedBody {
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    options.finish();
  };
  // An error after close() (a timeout firing on a stream nobody reads) must not become an
  // uncaught 'error' event; readers still see it through the iterator.
  stream.on('error', () => {});
  async function* body(): AsyncGenerator<Uint8Array> {
    let received = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Uint8Array>) {
        received += chunk.length;
        if (received > options.maxBytes) throw options.tooLarge();
        yield chunk;
      }
    } catch (err) {
      throw options.translate(err);
    } finally {
      stream.destroy();
      finish();
    }
  }
  return {
    body: body(),
    close() {
      stream.destroy();
      finish();
    },
  };
}
