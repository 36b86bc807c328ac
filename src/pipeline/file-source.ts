/**
 * Opens an image file below an allowed folder for streaming.
 *
 * The path is checked on its real path (allowed-paths.ts), then opened without following a final
 * symbolic link, and on Linux the opened descriptor's own path (/proc/self/fd) is checked again:
 * a link swapped in between the check and the open cannot lead out of the allowed folders.
 * @module
 */
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, readlink } from 'node:fs/promises';
import { VoxgateError, isVoxgateError } from '../errors.js';
import { isBelowAny, realRootsOf, resolveAllowedPath } from './allowed-paths.js';
import { cappedBody } from './capped-body.js';
import { formatBytes } from './fetch-messages.js';
import type { FetchedImage } from './image-source.js';

export interface FileSourceOptions {
  allowPaths: readonly string[];
  maxImageBytes: number;
  signal?: AbortSignal;
}

/** Opens `path` (absolute, as the client gave it) for reading; `name` is the file name to report. */
export async function openFileImage(path: string, name: string, options: FileSourceOptions): Promise<FetchedImage> {
  const real = await resolveAllowedPath(path, options.allowPaths, 'read');
  options.signal?.throwIfAborted();
  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    handle = await open(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch (err) {
    throw new VoxgateError('VXG_ERR_IMAGE_FETCH', `the image file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  try {
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (opened !== undefined && !isBelowAny(opened, await realRootsOf(options.allowPaths))) {
      throw new VoxgateError('VXG_ERR_IMAGE_URL', `the image path ${path} changed while it was opened; it now leads outside the allowed folders`);
    }
    const info = await handle.stat();
    if (!info.isFile()) throw new VoxgateError('VXG_ERR_IMAGE_URL', `the image path ${path} is not a regular file`);
    if (info.size > options.maxImageBytes) throw tooLarge(path, info.size, options.maxImageBytes);

    const stream = handle.createReadStream({ autoClose: true, highWaterMark: 1 << 20 });
    const onAbort = () => stream.destroy(options.signal?.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const { body, close } = cappedBody(stream, {
      maxBytes: options.maxImageBytes,
      tooLarge: () => tooLarge(path, undefined, options.maxImageBytes),
      translate: (err) =>
        options.signal?.aborted
          ? options.signal.reason
          : isVoxgateError(err)
            ? err
            : new VoxgateError('VXG_ERR_IMAGE_FETCH', `reading the image file ${path} failed (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err }),
      finish: () => options.signal?.removeEventListener('abort', onAbort),
    });
    return { name, source: path, size: info.size, body, close };
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
}

function tooLarge(path: string, size: number | undefined, max: number): VoxgateError {
  const what = size === undefined ? 'grew larger than' : `is ${formatBytes(size)}, over`;
  return new VoxgateError('VXG_ERR_IMAGE_TOO_LARGE', `the image file ${path} ${what} the ${formatBytes(max)} limit (--max-image-bytes)`);
}
