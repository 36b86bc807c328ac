/**
 * Pixel data (PS3.5 §8, PS3.3 C.7.6.3) to stored values, frame by frame.
 *
 * - Native pixel data: frame f is bytes [f·size, (f+1)·size) of the value; big endian is swapped.
 * - Encapsulated pixel data: frames found through the Basic Offset Table, else the Extended Offset
 *   Table, else one frame = all fragments (single-frame) or one fragment per frame, else by the
 *   codestream start markers; then decoded by codecs.ts.
 * - BitsStored < BitsAllocated: the bits from HighBit − BitsStored + 1 to HighBit are the value;
 *   the others are masked off, and signed values (PixelRepresentation 1) are sign-extended from
 *   bit BitsStored − 1.
 * @module
 */
import { VoxgateError } from '../errors.js';
import { HOST_LITTLE_ENDIAN, swapBytes } from '../volume/datatype.js';
import type { FrameLayout } from './codecs.js';
import { canDecode, decodeEncodedFrame } from './codecs.js';
import type { DicomDataset } from './dataset.js';
import type { Part10File } from './read-part10.js';
import { Tag, TransferSyntax, isNativeSyntax } from './tags.js';

/** Stored values of one frame, in host byte order. */
export type StoredArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

export interface PixelFormat extends FrameLayout {
  readonly highBit: number;
  readonly numberOfFrames: number;
}

/** Why a file's pixels cannot become a volume, or undefined when they can. */
export function unsupportedPixelReason(format: PixelFormat | undefined): string | undefined {
  if (!format) return 'no Rows / Columns / BitsAllocated';
  if (format.samplesPerPixel !== 1) return `${format.samplesPerPixel} samples per pixel (${format.photometricInterpretation}): colour images are not volumes`;
  if (![8, 16, 32].includes(format.bitsAllocated)) return `BitsAllocated ${format.bitsAllocated} (only 8, 16 and 32 are read)`;
  if (!(format.bitsStored >= 1 && format.bitsStored <= format.bitsAllocated)) return `BitsStored ${format.bitsStored} with BitsAllocated ${format.bitsAllocated}`;
  if (!(format.highBit >= format.bitsStored - 1 && format.highBit < format.bitsAllocated)) return `HighBit ${format.highBit} with BitsStored ${format.bitsStored}`;
  if (format.rows < 1 || format.columns < 1) return `${format.rows} × ${format.columns} pixels`;
  return undefined;
}

/** The image pixel module of a dataset; undefined when Rows, Columns or BitsAllocated is missing. */
export function pixelFormatOf(dataset: DicomDataset): PixelFormat | undefined {
  const rows = dataset.number(Tag.Rows);
  const columns = dataset.number(Tag.Columns);
  const bitsAllocated = dataset.number(Tag.BitsAllocated);
  if (rows === undefined || columns === undefined || bitsAllocated === undefined) return undefined;
  const bitsStored = dataset.number(Tag.BitsStored) ?? bitsAllocated;
  return {
    rows,
    columns,
    bitsAllocated,
    bitsStored,
    highBit: dataset.number(Tag.HighBit) ?? bitsStored - 1,
    samplesPerPixel: dataset.number(Tag.SamplesPerPixel) ?? 1,
    pixelRepresentation: dataset.number(Tag.PixelRepresentation) ?? 0,
    planarConfiguration: dataset.number(Tag.PlanarConfiguration) ?? 0,
    photometricInterpretation: dataset.string(Tag.PhotometricInterpretation) ?? 'MONOCHROME2',
    numberOfFrames: Math.max(1, dataset.number(Tag.NumberOfFrames) ?? 1),
  };
}

/** Bytes of one frame of stored values. */
export function frameBytes(format: PixelFormat): number {
  return format.rows * format.columns * format.samplesPerPixel * (format.bitsAllocated / 8);
}

/**
 * One frame as it is in the file: native bytes (a view; `littleEndian` says their order) or an
 * encoded bitstream.
 */
export type RawFrame =
  | { readonly kind: 'native'; readonly bytes: Uint8Array; readonly littleEndian: boolean }
  | { readonly kind: 'encoded'; readonly bytes: Uint8Array };

/** Frame `index` (0-based) of a file's pixel data, undecoded. */
export function rawFrame(file: Part10File, format: PixelFormat, index: number): RawFrame {
  const ref = file.dataset.elements.get(Tag.PixelData);
  if (!ref) throw new VoxgateError('VXG_ERR_DICOM_DECODE', `${file.name}: no pixel data.`);
  if (index < 0 || index >= format.numberOfFrames) throw new RangeError(`frame ${index} of ${format.numberOfFrames}`);
  const size = frameBytes(format);
  if (!ref.encapsulated) {
    if (!isNativeSyntax(file.transferSyntaxUID)) {
      throw new VoxgateError('VXG_ERR_DICOM_MALFORMED', `${file.name}: transfer syntax ${file.transferSyntaxUID} needs encapsulated pixel data, but the value has a defined length.`);
    }
    if (ref.length < size * format.numberOfFrames) {
      throw new VoxgateError(
        'VXG_ERR_DICOM_DECODE',
        `${file.name}: the pixel data holds ${ref.length} bytes, but ${format.numberOfFrames} frame(s) of ${format.rows} × ${format.columns} × ${format.bitsAllocated} bits need ${size * format.numberOfFrames}.`,
      );
    }
    const start = ref.offset + index * size;
    return { kind: 'native', bytes: file.dataset.bytes.subarray(start, start + size), littleEndian: file.dataset.littleEndian };
  }
  if (isNativeSyntax(file.transferSyntaxUID)) {
    throw new VoxgateError('VXG_ERR_DICOM_MALFORMED', `${file.name}: encapsulated pixel data in the native transfer syntax ${file.transferSyntaxUID}.`);
  }
  const frames = encapsulatedFrames(file, format.numberOfFrames, ref.encapsulated);
  return { kind: 'encoded', bytes: frames[index] };
}

const frameCache = new WeakMap<object, Uint8Array[]>();

function encapsulatedFrames(file: Part10File, count: number, data: { offsetTable: Uint8Array; fragments: readonly Uint8Array[] }): Uint8Array[] {
  let frames = frameCache.get(data);
  if (frames) return frames;
  const { offsetTable, fragments } = data;
  const fail = (why: string): never => {
    throw new VoxgateError('VXG_ERR_DICOM_DECODE', `${file.name}: cannot split the encapsulated pixel data into ${count} frames: ${why}.`);
  };
  if (fragments.length === 0) fail('there are no fragments');
  if (count === 1) {
    frames = [concat(fragments)];
  } else if (offsetTable.length >= 4 * count) {
    frames = byOffsets(fragments, readUint32s(offsetTable, count), fail);
  } else if (file.dataset.has(Tag.ExtendedOffsetTable)) {
    const table = file.dataset.value(Tag.ExtendedOffsetTable) ?? new Uint8Array();
    const offsets: number[] = [];
    const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
    for (let n = 0; n + 8 <= table.length && offsets.length < count; n += 8) offsets.push(Number(view.getBigUint64(n, true)));
    if (offsets.length !== count) fail(`the Extended Offset Table lists ${offsets.length} frames`);
    frames = byOffsets(fragments, offsets, fail);
  } else if (fragments.length === count) {
    frames = [...fragments];
  } else {
    frames = byStartMarkers(file.transferSyntaxUID, fragments, count) ?? fail(`${fragments.length} fragments and no offset table`);
  }
  frameCache.set(data, frames);
  return frames;
}

function readUint32s(bytes: Uint8Array, count: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, n) => view.getUint32(4 * n, true));
}

/** Offsets count from the first byte of the first fragment's item header (PS3.5 A.4). */
function byOffsets(fragments: readonly Uint8Array[], offsets: readonly number[], fail: (why: string) => never): Uint8Array[] {
  const starts: number[] = [];
  let at = 0;
  for (const fragment of fragments) {
    starts.push(at);
    at += 8 + fragment.length;
  }
  return offsets.map((offset, f) => {
    const first = starts.indexOf(offset);
    if (first < 0) fail(`offset ${offset} of frame ${f + 1} is not the start of a fragment`);
    const next = f + 1 < offsets.length ? offsets[f + 1] : at;
    const parts: Uint8Array[] = [];
    for (let n = first; n < fragments.length && starts[n] < next; n++) parts.push(fragments[n]);
    return concat(parts);
  });
}

/** Groups fragments into frames where a fragment starts a codestream (JPEG SOI, JPEG 2000 SOC). */
function byStartMarkers(syntax: string, fragments: readonly Uint8Array[], count: number): Uint8Array[] | undefined {
  if (syntax === TransferSyntax.RLELossless || syntax === TransferSyntax.EncapsulatedUncompressedExplicitVRLittleEndian) return undefined;
  const groups: Uint8Array[][] = [];
  for (const fragment of fragments) {
    const starts = fragment[0] === 0xff && (fragment[1] === 0xd8 || fragment[1] === 0x4f);
    if (starts || groups.length === 0) groups.push([fragment]);
    else groups[groups.length - 1].push(fragment);
  }
  return groups.length === count ? groups.map(concat) : undefined;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** True when the stored values need masking or sign extension (stored bits narrower than allocated). */
export function needsBitFix(format: PixelFormat): boolean {
  return format.bitsStored < format.bitsAllocated;
}

/**
 * Frame `index` decoded to stored values in host byte order, bits outside BitsStored removed.
 * Requires initCodecs() for encapsulated syntaxes. Always a fresh array the caller may keep.
 * @example
 * const values = decodeFrame(file, pixelFormatOf(file.dataset)!, 0); // Int16Array of Rows × Columns
 */
export function decodeFrame(file: Part10File, format: PixelFormat, index: number): StoredArray {
  const raw = rawFrame(file, format, index);
  let bytes: Uint8Array;
  if (raw.kind === 'native') {
    bytes = raw.bytes.slice(); // aligned copy
    if (raw.littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(bytes, format.bitsAllocated / 8);
  } else if (file.transferSyntaxUID === TransferSyntax.EncapsulatedUncompressedExplicitVRLittleEndian) {
    bytes = raw.bytes.slice(0, frameBytes(format));
    if (bytes.length < frameBytes(format)) throw new VoxgateError('VXG_ERR_DICOM_DECODE', `${file.name}: frame ${index + 1} is shorter than Rows × Columns × BitsAllocated.`);
  } else {
    if (!canDecode(file.transferSyntaxUID)) {
      throw new VoxgateError('VXG_ERR_DICOM_UNSUPPORTED_SYNTAX', `${file.name}: transfer syntax ${file.transferSyntaxUID} is not one Voxgate decodes.`);
    }
    const decoded = decodeEncodedFrame(file.name, file.transferSyntaxUID, raw.bytes, format);
    bytes = decoded.byteOffset % 4 === 0 ? decoded : decoded.slice();
    if (!HOST_LITTLE_ENDIAN) swapBytes(bytes, format.bitsAllocated / 8);
  }
  const values = storedView(bytes, format);
  if (needsBitFix(format)) fixBits(values, format);
  return values;
}

/** An aligned byte buffer as the typed array of its stored values. */
export function storedView(bytes: Uint8Array, format: Pick<PixelFormat, 'bitsAllocated' | 'pixelRepresentation'>): StoredArray {
  const signed = format.pixelRepresentation === 1;
  const n = bytes.byteLength / (format.bitsAllocated / 8);
  switch (format.bitsAllocated) {
    case 8: return signed ? new Int8Array(bytes.buffer, bytes.byteOffset, n) : bytes;
    case 16: return signed ? new Int16Array(bytes.buffer, bytes.byteOffset, n) : new Uint16Array(bytes.buffer, bytes.byteOffset, n);
    default: return signed ? new Int32Array(bytes.buffer, bytes.byteOffset, n) : new Uint32Array(bytes.buffer, bytes.byteOffset, n);
  }
}

/** Keeps bits HighBit−BitsStored+1 … HighBit, shifted down; sign-extends signed values. */
export function fixBits(values: StoredArray, format: Pick<PixelFormat, 'bitsAllocated' | 'bitsStored' | 'highBit' | 'pixelRepresentation'>): void {
  const low = format.highBit - format.bitsStored + 1;
  const up = 32 - format.bitsStored - low; // moves the top stored bit to bit 31
  const down = 32 - format.bitsStored;
  const n = values.length;
  // Read each element as its unsigned bit pattern; the typed array's own type converts the result back.
  const width = format.bitsAllocated;
  const unsignedMask = width === 32 ? 0xffffffff : (1 << width) - 1;
  if (format.pixelRepresentation === 1) {
    for (let p = 0; p < n; p++) values[p] = (((values[p] & unsignedMask) << up) >> down);
  } else {
    for (let p = 0; p < n; p++) values[p] = (((values[p] & unsignedMask) << up) >>> down);
  }
}
