/**
 * Local paths an API request may name: image files to read and `local_working_dir` folders to
 * write, both only below the folders the operator allows (`--allow-path`).
 *
 * Containment is decided on real paths (fs.realpath of the path and of each root), so `..` and
 * symbolic links that lead out of a root are refused, and a link inside a root that points to
 * another place inside it still works. Messages name the path the client gave, never the real
 * path or the roots, so that a client learns nothing about the server's folders.
 * @module
 */
import { lstat, mkdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { ErrorCode } from '../errors.js';
import { VoxgateError } from '../errors.js';

export type PathPurpose = 'read' | 'write';

/**
 * The real path of `path` when it lies below one of `roots`:
 * - `'read'`: an existing regular file (VXG_ERR_IMAGE_URL outside the roots, for a folder or a
 *   device; VXG_ERR_IMAGE_FETCH when it does not exist);
 * - `'write'`: a folder, created (with its parents) when missing (VXG_ERR_OUTPUT_PATH for anything
 *   that is not allowed or cannot be created).
 * @example
 * const dir = await resolveAllowedPath('/results/run-7', ['/results'], 'write'); // creates /results/run-7
 */
export async function resolveAllowedPath(path: string, roots: readonly string[], purpose: PathPurpose): Promise<string> {
  const fail = (code: ErrorCode, message: string, cause?: unknown) =>
    new VoxgateError(purpose === 'write' ? 'VXG_ERR_OUTPUT_PATH' : code, message, { cause });
  const what = purpose === 'read' ? 'the image path' : 'local_working_dir';
  if (typeof path !== 'string' || path === '') throw fail('VXG_ERR_IMAGE_URL', `${what} is empty`);
  if (path.includes('\0')) throw fail('VXG_ERR_IMAGE_URL', `${what} contains a NUL character`);
  if (!isAbsolute(path)) throw fail('VXG_ERR_IMAGE_URL', `${what} ${path} is not an absolute path`);

  const realRoots = await realRootsOf(roots);
  if (realRoots.length === 0) {
    throw fail(
      'VXG_ERR_IMAGE_URL',
      purpose === 'read'
        ? 'reading images from local paths is disabled: the operator allows no folder (--allow-path)'
        : 'local_working_dir is disabled: the operator allows no folder (--allow-path)',
    );
  }
  const outside = () =>
    fail('VXG_ERR_IMAGE_URL', `${what} ${path} is outside the folders the operator allows (--allow-path)`);

  const found = await realpathOfNearest(path);
  if (!isBelowAny(found.real, realRoots)) throw outside();

  if (purpose === 'read') {
    if (found.missing.length > 0) {
      throw found.stoppedBy === 'ENOENT' || found.stoppedBy === 'ENOTDIR'
        ? fail('VXG_ERR_IMAGE_FETCH', `the image file ${path} was not found`)
        : fail('VXG_ERR_IMAGE_FETCH', `the image file ${path} cannot be read (${found.stoppedBy})`);
    }
    const info = await stat(found.real);
    // Folders (a DICOM series) may be accepted later; until then say why it is refused.
    if (info.isDirectory()) throw fail('VXG_ERR_IMAGE_URL', `the image path ${path} is a folder; give the path of one image file`);
    if (!info.isFile()) throw fail('VXG_ERR_IMAGE_URL', `the image path ${path} is not a regular file`);
    return found.real;
  }

  if (found.missing.length === 0) {
    const info = await stat(found.real);
    if (!info.isDirectory()) throw fail('VXG_ERR_OUTPUT_PATH', `local_working_dir ${path} exists and is not a folder`);
    return found.real;
  }
  if (found.stoppedBy === 'dangling link') {
    throw fail('VXG_ERR_OUTPUT_PATH', `local_working_dir ${path} leads through a symbolic link to nowhere`);
  }
  try {
    await mkdir(found.real, { recursive: true });
  } catch (err) {
    throw fail('VXG_ERR_OUTPUT_PATH', `local_working_dir ${path} cannot be created (${errorCode(err)})`, err);
  }
  // Between the check and mkdir a link could have appeared in the missing part: check again.
  const created = await realpath(found.real).catch(() => found.real);
  if (!isBelowAny(created, realRoots)) throw outside();
  return created;
}

/** True when `path` is `root` or below it (both real, absolute paths). */
export function isBelow(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** True when `path` is below one of `roots`. */
export function isBelowAny(path: string, roots: readonly string[]): boolean {
  return roots.some((root) => isBelow(path, root));
}

/** The real paths of the roots that exist; a root that does not exist allows nothing. */
export async function realRootsOf(roots: readonly string[]): Promise<string[]> {
  const real = await Promise.all(roots.map((root) => realpath(resolve(root)).catch(() => undefined)));
  return real.filter((r): r is string => r !== undefined);
}

interface NearestReal {
  /** realpath of the nearest existing ancestor, joined with the missing components. */
  real: string;
  /** Components below that ancestor that do not exist (or could not be resolved). */
  missing: string[];
  /** Why the first missing component did not resolve: an errno code, or 'dangling link'. */
  stoppedBy?: string;
}

/**
 * Resolves as much of `path` as exists. The path is not normalised first, so `..` after a symbolic
 * link is resolved the way the kernel would; `..` can only be left in the missing part, where no
 * link can be, so joining it lexically is exact.
 */
async function realpathOfNearest(path: string): Promise<NearestReal> {
  const missing: string[] = [];
  let current = path;
  let stoppedBy: string | undefined;
  for (;;) {
    try {
      const real = await realpath(current);
      return { real: missing.length ? join(real, ...missing) : real, missing, stoppedBy };
    } catch (err) {
      const parent = dirname(current);
      if (parent === current) throw err;
      stoppedBy = errorCode(err);
      // A link whose target is missing: mkdir -p must not follow it to wherever it points.
      if (stoppedBy === 'ENOENT' && (await lstat(current).then(() => true, () => false))) stoppedBy = 'dangling link';
      missing.unshift(basename(current));
      current = parent;
    }
  }
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? 'error';
}
