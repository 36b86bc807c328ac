/**
 * The file name an image reference reports, from which the result's `<stem>_seg` name is made
 * (spec/nim-api.md, "Inference response"). It becomes part of a file name on the server and in
 * a Content-Disposition header, so it never holds a path separator or a control character.
 * @module
 */
import { basename } from 'node:path';

/** The name used when a reference has none (`https://host/`, a path ending in `/`). */
export const DEFAULT_IMAGE_NAME = 'image';

/**
 * The last segment of the URL path, percent-decoded, or undefined when there is none.
 * @example
 * nameFromUrl(new URL('https://h/studies/ct%201.nii.gz?sig=x')); // 'ct 1.nii.gz'
 */
export function nameFromUrl(url: URL): string | undefined {
  const segment = url.pathname.split('/').pop() ?? '';
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // A malformed escape (%zz): keep the segment as it is.
  }
  return cleanName(decoded);
}

/** The base name of a local path, or undefined when there is none. */
export function nameFromPath(path: string): string | undefined {
  return cleanName(basename(path));
}

function cleanName(raw: string): string | undefined {
  // A decoded %2F or a backslash would make a path of it: keep what follows the last one.
  // eslint-disable-next-line no-control-regex
  const name = (raw.split(/[/\\]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return name === '' || name === '.' || name === '..' ? undefined : name;
}
