/**
 * Opens the `image` of a NIM inference request (spec/nim-api.md): an http(s) URL, a `file:` URL
 * or a plain absolute path, as a byte stream for the decoder. What a reference may reach is the
 * operator's policy: local files only below `--allow-path` folders, URLs only to public hosts
 * unless `--allow-host` names them. Every refusal is a VoxgateError:
 * VXG_ERR_IMAGE_URL (cannot be used), VXG_ERR_IMAGE_FETCH (could not be fetched) or
 * VXG_ERR_IMAGE_TOO_LARGE.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { VoxgateError } from '../errors.js';
import { openFileImage } from './file-source.js';
import { openHttpImage } from './http-source.js';
import { DEFAULT_IMAGE_NAME, nameFromPath } from './image-name.js';

export type { PathPurpose } from './allowed-paths.js';
export { resolveAllowedPath } from './allowed-paths.js';

export interface ImageSourcePolicy {
  /** Absolute folders below which files may be read (and local_working_dir written). */
  allowPaths: readonly string[];
  /**
   * Hosts that may be fetched even though they are not public: names (`pacs.local`,
   * `*.hospital.org`), IPs, `host:port`, `[v6]:port`, CIDR ranges (`10.0.0.0/8`).
   */
  allowHosts: readonly string[];
  /** Cap on the bytes of a download or file. */
  maxImageBytes: number;
  /** One deadline for a whole download: lookups, connects, redirects, headers and body. */
  timeoutMs: number;
  /** Redirects followed at most; 5 when not given. */
  maxRedirects?: number;
}

export const DEFAULT_MAX_REDIRECTS = 5;

/** An image being fetched. Iterate `body` once; call `close()` when done (or to give up). */
export interface FetchedImage {
  /** The file name, e.g. `ct.nii.gz`: the last segment of the URL path or the file's base name, else `image`. */
  name: string;
  /** Where it comes from, safe to log or show: a URL without credentials or query, or the path. */
  source?: string;
  body: AsyncIterable<Uint8Array>;
  /** The size announced (Content-Length) or the file's size, when known. */
  size?: number;
  close(): void;
}

/**
 * Opens `ref` under `policy`. Resolves once the source is known to be usable (a file opened, an
 * HTTP response with a 2xx status); the body then streams, and is cut with
 * VXG_ERR_IMAGE_TOO_LARGE past `maxImageBytes` or VXG_ERR_IMAGE_FETCH past `timeoutMs`.
 * @example
 * const image = await openImage('https://data.example.org/ct.nii.gz', policy);
 * try {
 *   for await (const chunk of image.body) hash.update(chunk);
 * } finally {
 *   image.close();
 * }
 */
export async function openImage(ref: string, policy: ImageSourcePolicy, signal?: AbortSignal): Promise<FetchedImage> {
  signal?.throwIfAborted();
  const text = typeof ref === 'string' ? ref.trim() : '';
  if (text === '') throw new VoxgateError('VXG_ERR_IMAGE_URL', 'the image reference is empty; give an http(s) URL or an absolute file path');
  const fileOptions = { allowPaths: policy.allowPaths, maxImageBytes: policy.maxImageBytes, signal };
  if (text.startsWith('/')) return openFileImage(text, nameFromPath(text) ?? DEFAULT_IMAGE_NAME, fileOptions);

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new VoxgateError('VXG_ERR_IMAGE_URL', 'the image reference is neither a URL nor an absolute path (relative paths are not accepted)');
  }
  switch (url.protocol) {
    case 'http:':
    case 'https:':
      return openHttpImage(url, {
        allowHosts: policy.allowHosts,
        maxImageBytes: policy.maxImageBytes,
        timeoutMs: policy.timeoutMs,
        maxRedirects: policy.maxRedirects ?? DEFAULT_MAX_REDIRECTS,
        signal,
      });
    case 'file:': {
      let path: string;
      try {
        path = fileURLToPath(url);
      } catch (err) {
        throw new VoxgateError('VXG_ERR_IMAGE_URL', 'a file: URL must name a path on this server, like file:///data/ct.nii.gz', { cause: err });
      }
      return openFileImage(path, nameFromPath(path) ?? DEFAULT_IMAGE_NAME, fileOptions);
    }
    default:
      throw new VoxgateError('VXG_ERR_IMAGE_URL', `scheme ${url.protocol} is not supported; use http, https or a file path below an allowed folder`);
  }
}
