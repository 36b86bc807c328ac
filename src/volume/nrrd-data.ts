/**
 * The byte-level stages of NRRD reading: finding the end of the text header, skipping lines, and
 * decoding the gzip, ascii and hex encodings of the data that follows it. Each writes straight into
 * the one buffer the caller sized from the header.
 * @module
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { VoxgateError } from '../errors.js';
import type { ByteReader } from './byte-reader.js';
import type { DataType, VoxelArray } from './datatype.js';
import { valueRange } from './datatype.js';
import { parseNumber } from './nrrd-header.js';

/** A header longer than this without its blank line is refused (it is not a NRRD header). */
export const MAX_NRRD_HEADER_BYTES = 1 << 20;

/** How far past the declared data a gzip stream is inflated to tell corruption from a lying header. */
const EXCESS_PROBE_BYTES = 1 << 20;

const GZIP_CHUNK = 1 << 20;
const NEWLINE = 0x0a;

/**
 * Reads the header's text up to and including the blank line that ends it, and returns it without
 * that blank line. A file that ends first is truncated, unless its header names a detached data file.
 */
export async function readHeaderText(reader: ByteReader): Promise<string> {
  for (let window = 4096; ; window *= 2) {
    const head = await reader.peek(Math.min(window, MAX_NRRD_HEADER_BYTES));
    const end = blankLineEnd(head);
    if (end !== undefined) {
      const bytes = await reader.read(end.next);
      return Buffer.from(bytes.buffer, bytes.byteOffset, end.text).toString('latin1');
    }
    if (head.length < window) {
      const text = Buffer.from(head.buffer, head.byteOffset, head.length).toString('latin1');
      if (/^\s*data\s*file\s*:/im.test(text)) {
        throw new VoxgateError(
          'VXG_ERR_VOLUME_FORMAT',
          'This NRRD header (.nhdr) keeps its voxel data in a separate file; send a single .nrrd with attached data instead.',
        );
      }
      throw new VoxgateError(
        'VXG_ERR_VOLUME_TRUNCATED',
        `The file ends after ${head.length} bytes, inside its NRRD header (no blank line ends it).`,
      );
    }
    if (window >= MAX_NRRD_HEADER_BYTES) {
      throw new VoxgateError(
        'VXG_ERR_VOLUME_HEADER',
        `The NRRD header has no blank line within its first ${MAX_NRRD_HEADER_BYTES} bytes; it is not a NRRD header Voxgate reads.`,
      );
    }
  }
}

/** Where the first empty line ends: `text` = length of the header before it, `next` = first data byte. */
function blankLineEnd(bytes: Uint8Array): { text: number; next: number } | undefined {
  for (let n = bytes.indexOf(NEWLINE); n >= 0 && n + 1 < bytes.length; n = bytes.indexOf(NEWLINE, n + 1)) {
    if (bytes[n + 1] === NEWLINE) return { text: n, next: n + 2 };
    if (bytes[n + 1] === 0x0d && bytes[n + 2] === NEWLINE) return { text: n, next: n + 3 };
  }
  return undefined;
}

/** Skips `count` lines (NRRD `line skip`), many lines per look at the data. */
export async function skipLines(reader: ByteReader, count: number): Promise<void> {
  let left = count;
  while (left > 0) {
    const chunk = await reader.peek(64 * 1024);
    if (chunk.length === 0) {
      throw new VoxgateError('VXG_ERR_VOLUME_TRUNCATED', `The file ends within the ${count} lines its NRRD "line skip" names.`);
    }
    let consumed = chunk.length;
    for (let n = chunk.indexOf(NEWLINE); n >= 0; n = chunk.indexOf(NEWLINE, n + 1)) {
      if (--left === 0) {
        consumed = n + 1;
        break;
      }
    }
    await reader.skip(consumed);
  }
}

/**
 * Inflates the gzip stream that makes up the rest of the reader: `byteSkip` decoded bytes dropped,
 * then `target` filled. Returns how many bytes of `target` were filled when the stream ended (less
 * than its length: the caller reports the truncation). The stream is read to its end so that its
 * CRC is checked; decoded bytes beyond `target` stop it (VXG_ERR_VOLUME_HEADER after a bounded
 * probe, VXG_ERR_VOLUME_TOO_LARGE once `decodedBefore` + all decoded bytes pass the reader's limit),
 * so a gzip bomb is never inflated in full. `label` names the declared data in messages ("512×512×3 int16").
 */
export async function gunzipInto(
  reader: ByteReader,
  target: Uint8Array,
  byteSkip: number,
  decodedBefore: number,
  label: string,
): Promise<number> {
  const gunzip = createGunzip({ chunkSize: GZIP_CHUNK });
  const input = Readable.from(reader.remaining(), { objectMode: false });
  input.on('error', (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  const probe = Math.max(EXCESS_PROBE_BYTES, target.length);
  let skipLeft = byteSkip;
  let filled = 0;
  let extra = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      let bytes: Uint8Array = chunk;
      if (skipLeft > 0) {
        const step = Math.min(skipLeft, bytes.length);
        skipLeft -= step;
        bytes = bytes.subarray(step);
      }
      const step = Math.min(bytes.length, target.length - filled);
      target.set(bytes.subarray(0, step), filled);
      filled += step;
      extra += bytes.length - step;
      if (decodedBefore + byteSkip + filled + extra > reader.maxDecodedBytes) {
        throw new VoxgateError(
          'VXG_ERR_VOLUME_TOO_LARGE',
          `The NRRD's gzip data decodes to more than ${reader.maxDecodedBytes} bytes, the configured limit; its header declares ${target.length} bytes (${label}).`,
        );
      }
      if (extra > probe) break;
    }
  } catch (err) {
    throw gzipError(err, filled, target.length, label);
  } finally {
    input.destroy();
    gunzip.destroy();
  }
  if (extra > 0) {
    throw new VoxgateError(
      'VXG_ERR_VOLUME_HEADER',
      `The NRRD's gzip data decodes to more than the ${target.length} bytes its header declares (${label}); its sizes or type are wrong.`,
    );
  }
  return filled;
}

function gzipError(err: unknown, filled: number, expected: number, label: string): VoxgateError {
  if (err instanceof VoxgateError) return err;
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(message)) {
    return new VoxgateError(
      'VXG_ERR_VOLUME_TRUNCATED',
      filled < expected
        ? `The NRRD's gzip data ends early: it decodes to ${filled} of the ${expected} bytes its header declares (${label}); the file is truncated.`
        : `The NRRD's gzip data ends before its end-of-stream trailer (all ${expected} bytes of ${label} decoded, checksum missing); the file is truncated.`,
      { cause: err },
    );
  }
  return new VoxgateError('VXG_ERR_VOLUME_CORRUPT', `The NRRD's gzip data is corrupt (${message}).`, { cause: err });
}

const SEPARATOR = new Uint8Array(256);
for (const c of ' \t\n\r\f\v,') SEPARATOR[c.charCodeAt(0)] = 1;
const MAX_TOKEN = 80;

/**
 * Parses NRRD `ascii` data (numbers separated by white space or commas) into `out`. Fewer numbers
 * than voxels is a truncation, more a lying header; a value that is not a number is corrupt, and one
 * outside the range of `dataType` does not fit it.
 */
export async function parseAsciiInto(reader: ByteReader, out: VoxelArray, dataType: DataType, label: string): Promise<void> {
  const [lo, hi] = valueRange(dataType);
  const integer = Number.isFinite(lo);
  let count = 0;
  let token = '';
  const store = (): void => {
    if (count === out.length) {
      throw new VoxgateError('VXG_ERR_VOLUME_HEADER', `The NRRD's ascii data holds more than the ${out.length} values its header declares (${label}); its sizes are wrong.`);
    }
    let v: number;
    try {
      v = parseNumber(token, 'ascii data');
    } catch (err) {
      throw new VoxgateError('VXG_ERR_VOLUME_CORRUPT', `The NRRD's ascii data has "${token}" at value ${count}, which is not a number.`, { cause: err });
    }
    if (integer && !(Number.isInteger(v) && v >= lo && v <= hi)) {
      throw new VoxgateError('VXG_ERR_VOLUME_DATATYPE', `The NRRD's ascii value ${token} at value ${count} is not a ${dataType} (${lo}..${hi}).`);
    }
    out[count++] = v;
    token = '';
  };
  for await (const chunk of reader.remaining()) {
    for (let n = 0; n < chunk.length; n++) {
      const b = chunk[n];
      if (SEPARATOR[b]) {
        if (token.length > 0) store();
      } else {
        if (token.length >= MAX_TOKEN) {
          throw new VoxgateError('VXG_ERR_VOLUME_CORRUPT', `The NRRD's ascii data has a token longer than ${MAX_TOKEN} characters at value ${count}.`);
        }
        token += String.fromCharCode(b);
      }
    }
  }
  if (token.length > 0) store();
  if (count < out.length) {
    throw new VoxgateError('VXG_ERR_VOLUME_TRUNCATED', `The NRRD's ascii data holds ${count} of the ${out.length} values its header declares (${label}); the file is truncated.`);
  }
}

/**
 * Decodes NRRD `hex` data (two hex digits a byte, white space ignored) into `target`. Returns the
 * number of bytes filled; more digits than bytes is a lying header, a non-hex character corrupt.
 */
export async function parseHexInto(reader: ByteReader, target: Uint8Array, label: string): Promise<number> {
  let filled = 0;
  let high = -1;
  for await (const chunk of reader.remaining()) {
    for (let n = 0; n < chunk.length; n++) {
      const b = chunk[n];
      const digit = b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x61 && b <= 0x66 ? b - 0x57 : b >= 0x41 && b <= 0x46 ? b - 0x37 : -1;
      if (digit < 0) {
        if (SEPARATOR[b] && b !== 0x2c) continue;
        throw new VoxgateError('VXG_ERR_VOLUME_CORRUPT', `The NRRD's hex data has a byte 0x${b.toString(16)} that is not a hex digit (after ${filled} bytes).`);
      }
      if (high < 0) {
        high = digit;
        continue;
      }
      if (filled === target.length) {
        throw new VoxgateError('VXG_ERR_VOLUME_HEADER', `The NRRD's hex data holds more than the ${target.length} bytes its header declares (${label}); its sizes or type are wrong.`);
      }
      target[filled++] = (high << 4) | digit;
      high = -1;
    }
  }
  return filled;
}
