/**
 * DICOM files or a folder of them → one `Volume`, with the series it came from, the files left out
 * and why, and the warnings a user should see. The one entry point the CLI (`voxgate convert`),
 * the API and the DIMSE receiver share.
 *
 * Conventions (voxel order, LPS → RAS, what is refused): see series-geometry.ts and docs/dicom.md.
 * @module
 */
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { VoxgateError, isVoxgateError } from '../errors.js';
import { DEFAULT_MAX_DECODED_BYTES } from '../volume/byte-reader.js';
import type { Volume } from '../volume/volume.js';
import { createVolume } from '../volume/volume.js';
import { initCodecs } from './codecs.js';
import { readPart10 } from './read-part10.js';
import type { Part10File } from './read-part10.js';
import { resampleStack } from './resample-stack.js';
import type { ImageStack, SeriesSummary, SkippedFile, SourceSeries } from './series.js';
import { collectFrames, groupStacks, selectStack, sourceSeriesOf, summarize } from './series.js';
import { stackGeometry } from './series-geometry.js';
import { assembleStack } from './series-volume.js';
import { Tag, isNativeSyntax } from './tags.js';

/** A file given by its bytes; `name` is what errors and skip reasons call it. */
export interface DicomInputFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Files, or the path of a folder read recursively (or of one file). */
export type DicomInput = string | readonly DicomInputFile[];

export interface ReadDicomOptions {
  /**
   * The stack to read: a stack id from {@link listDicomSeries} or a SeriesInstanceUID. Default: the
   * series with the most frames (refused when it mixes orientations or sizes).
   */
  readonly series?: string;
  /**
   * Resample a stack with missing slices, uneven gaps or gantry tilt onto a regular grid (linear
   * along the stack, bilinear in-plane for tilt) and say so in `warnings`, instead of refusing it
   * with VXG_ERR_DICOM_SERIES_INCONSISTENT.
   */
  readonly resampleIrregular?: boolean;
  /** Largest volume to build, in bytes (default 1.5e9, as for NIfTI / NRRD): VXG_ERR_VOLUME_TOO_LARGE above it. */
  readonly maxDecodedBytes?: number;
}

export interface DicomSeriesResult {
  readonly volume: Volume;
  readonly series: SourceSeries;
  /** Files not used, each with the reason (file name first). Duplicates and other series are not listed. */
  readonly skipped: readonly SkippedFile[];
  readonly warnings: readonly string[];
}

/**
 * Reads a DICOM series into a volume.
 * @example
 * const { volume, series, skipped, warnings } = await readDicomSeries('/data/study1/CT');
 * volume.dims;            // [512, 512, 300]
 * series.slices[0].sopInstanceUID; // the source of voxel slice k = 0
 */
export async function readDicomSeries(input: DicomInput, options: ReadDicomOptions = {}): Promise<DicomSeriesResult> {
  const { stacks, skipped, where } = await readStacks(input);
  if (stacks.length === 0) throw noImages(where, skipped);
  const stack = selectStack(stacks, options.series);
  return { ...(await stackToVolume(stack, options)), skipped };
}

/**
 * {@link readDicomSeries} on a folder, read recursively (or on one file).
 * @example
 * const { volume, warnings } = await readDicomFolder('/incoming/1.2.840…', { series: '1.2.840…', resampleIrregular: true });
 */
export function readDicomFolder(folder: string, options: ReadDicomOptions = {}): Promise<DicomSeriesResult> {
  return readDicomSeries(folder, options);
}

/**
 * The image stacks among the files (largest series first) and the files skipped, without decoding
 * pixels.
 * @example
 * const { series } = await listDicomSeries('/data/study1');
 * await readDicomSeries('/data/study1', { series: series[1].id });
 */
export async function listDicomSeries(input: DicomInput): Promise<{ series: SeriesSummary[]; skipped: readonly SkippedFile[] }> {
  const { stacks, skipped } = await readStacks(input);
  return { series: stacks.map(summarize).sort((a, b) => b.frames - a.frames), skipped };
}

async function readStacks(input: DicomInput): Promise<{ stacks: ImageStack[]; skipped: SkippedFile[]; where: string }> {
  const skipped: SkippedFile[] = [];
  const parsed: Part10File[] = [];
  const parse = (name: string, bytes: Uint8Array): void => {
    try {
      parsed.push(readPart10(name, bytes));
    } catch (err) {
      // A file no check foresaw must still be skipped with a reason, not end the whole read.
      skipped.push({ file: name, reason: isVoxgateError(err) ? err.message : `${name}: malformed DICOM (${(err as Error).message})` });
    }
  };
  let where: string;
  if (typeof input === 'string') {
    where = input;
    // A single file is a folder of one (an Enhanced CT/MR holds a whole volume).
    const single = (await stat(input)).isFile();
    const root = single ? path.dirname(input) : input;
    const files = single ? [input] : await listFiles(input);
    await forEachLimit(files, READ_CONCURRENCY, async (file) => {
      const name = path.relative(root, file).split(path.sep).join('/');
      const read = await readIfDicom(file);
      if (read.bytes) parse(name, read.bytes);
      else skipped.push({ file: name, reason: `${name}: ${read.reason}` });
    });
  } else {
    where = `the ${input.length} files given`;
    for (const file of input) parse(file.name, file.bytes);
  }
  // Folder reads finish in any order: sort so that "first" (duplicates, the dataset a SEG copies) is stable.
  parsed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const { frames, skipped: notImages } = collectFrames(parsed);
  skipped.push(...notImages);
  skipped.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { stacks: groupStacks(frames), skipped, where };
}

async function stackToVolume(stack: ImageStack, options: ReadDicomOptions): Promise<Omit<DicomSeriesResult, 'skipped'>> {
  const geometry = stackGeometry(stack.frames, options);
  // Worst case, float32 (4 bytes) per voxel; checked before anything is allocated.
  const voxels = geometry.dims[0] * geometry.dims[1] * Math.max(geometry.dims[2], geometry.sorted.length);
  const max = options.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
  if (voxels * 4 > max) {
    throw new VoxgateError(
      'VXG_ERR_VOLUME_TOO_LARGE',
      `Series ${stack.id} would decode to ${geometry.dims.join('×')} voxels (up to ${(voxels * 4 / 1e9).toFixed(2)} GB), over the ${(max / 1e9).toFixed(2)} GB limit.`,
    );
  }
  if (geometry.sorted.some((f) => !isNativeSyntax(f.file.transferSyntaxUID))) await initCodecs();
  const { data: stacked } = assembleStack(geometry.sorted);
  const data = geometry.irregular ? resampleStack(stacked, geometry) : stacked;
  const volume = createVolume(geometry.dims, data, geometry.affine, { format: 'dicom' });
  const warnings = [...geometry.warnings];
  const first = geometry.sorted[0].file;
  const imageType = first.dataset.strings(Tag.ImageType) ?? [];
  if (imageType.includes('MOSAIC')) {
    warnings.push(`${first.name}: a Siemens mosaic (ImageType MOSAIC): its tiles are read as one ${geometry.dims[0]}×${geometry.dims[1]} image, not de-mosaicked into slices.`);
  }
  const series = sourceSeriesOf(stack, geometry.sorted, geometry.irregular !== null, warnings);
  return { volume, series, warnings };
}

function noImages(where: string, skipped: readonly SkippedFile[]): VoxgateError {
  if (skipped.length === 0) return new VoxgateError('VXG_ERR_DICOM_NO_IMAGES', `No files in ${where}.`);
  const shown = skipped.slice(0, 5).map((s) => s.reason);
  return new VoxgateError(
    'VXG_ERR_DICOM_NO_IMAGES',
    `No DICOM image series in ${where}: all ${skipped.length} file${skipped.length === 1 ? ' was' : 's were'} skipped (${shown.join('; ')}${skipped.length > shown.length ? `; and ${skipped.length - shown.length} more` : ''}).`,
  );
}

const READ_CONCURRENCY = 16;

/** Regular files below `folder`, recursively, sorted; symbolic links are not followed. */
async function listFiles(folder: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(full);
    }
  };
  await walk(folder);
  return out.sort();
}

/**
 * Reads a file when its first bytes can be DICOM (preamble + "DICM", or a group 0002 / 0008
 * element at byte 0). Files over 64 MiB are checked before they are read, so a video or archive
 * lying in the folder is never loaded.
 */
async function readIfDicom(file: string): Promise<{ bytes: Uint8Array; reason?: undefined } | { bytes?: undefined; reason: string }> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size <= WHOLE_READ_BYTES) {
      // Small enough to read at once (every image file): one read, then the same check.
      const bytes = Buffer.allocUnsafeSlow(size);
      const read = bytes.subarray(0, await readFully(handle, bytes, 0));
      return looksLikeDicom(read) ? { bytes: read } : { reason: notDicomReason(size) };
    }
    const head = Buffer.alloc(132);
    if (!looksLikeDicom(head.subarray(0, await readFully(handle, head, 0)))) return { reason: notDicomReason(size) };
    const bytes = Buffer.allocUnsafeSlow(size);
    head.copy(bytes, 0);
    // A file that shrank while being read ends early: the parser reports the truncation.
    return { bytes: bytes.subarray(0, await readFully(handle, bytes, head.length)) };
  } finally {
    await handle.close();
  }
}

/** Files up to this size are read whole before their first bytes are checked. */
const WHOLE_READ_BYTES = 64 * 1024 * 1024;

function looksLikeDicom(head: Uint8Array): boolean {
  const dicm = head.length >= 132 && head[128] === 0x44 && head[129] === 0x49 && head[130] === 0x43 && head[131] === 0x4d;
  const bare = head.length >= 8 && head[1] === 0 && head[3] === 0 && (head[0] === 0x02 || head[0] === 0x08);
  return dicm || bare;
}

function notDicomReason(size: number): string {
  return `not a DICOM file (${size < 132 ? `only ${size} bytes` : 'no "DICM" marker at byte 128'})`;
}

/** Reads into `buffer` from byte `from` to its end or the end of the file; returns the bytes filled. */
async function readFully(handle: Awaited<ReturnType<typeof open>>, buffer: Buffer, from: number): Promise<number> {
  let at = from;
  while (at < buffer.length) {
    const { bytesRead } = await handle.read(buffer, at, buffer.length - at, at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return at;
}

async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
