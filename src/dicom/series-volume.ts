/**
 * Voxels of a stack: frames decoded to stored values, RescaleSlope / RescaleIntercept applied
 * (Hounsfield units for CT), rows flipped (j = Rows − 1 − r, see series-geometry.ts), written into
 * one preallocated array.
 *
 * Output type: int16 when every slope and intercept is an integer and every value fits (CT);
 * otherwise uint16, then int32, for integer results that do not fit int16; float32 when a slope or
 * intercept is fractional (PET, some MR). The type is chosen optimistically: int16 is written with
 * a range check and the stack is written again, wider, only when a value does not fit.
 *
 * Fast path: native little-endian 16-bit frames whose stored bits fill the 16 bits are copied row by
 * row (one `TypedArray.set` per row, no per-pixel JavaScript), with the rescale in the same pass
 * only when slope or intercept is not (1, 0).
 * @module
 */
import type { DataType, VoxelArray } from '../volume/datatype.js';
import { HOST_LITTLE_ENDIAN, VoxelArrayOf, valueRange } from '../volume/datatype.js';
import type { ImageFrame } from './image-frames.js';
import type { StoredArray } from './pixel-data.js';
import { decodeFrame, needsBitFix, rawFrame, storedView } from './pixel-data.js';

/** Stored values of a frame: a view on the file where possible, else a decoded copy. */
export function storedValues(frame: ImageFrame): StoredArray {
  const { format } = frame;
  if (!needsBitFix(format)) {
    const raw = rawFrame(frame.file, format, frame.frameIndex);
    const bytesPer = format.bitsAllocated / 8;
    if (raw.kind === 'native' && (raw.littleEndian === HOST_LITTLE_ENDIAN || bytesPer === 1) && raw.bytes.byteOffset % bytesPer === 0) {
      return storedView(raw.bytes, format);
    }
  }
  return decodeFrame(frame.file, format, frame.frameIndex);
}

class DoesNotFit extends Error {}

type Output = Exclude<DataType, 'int8' | 'uint8' | 'uint32' | 'float64'>;

/**
 * Writes `frames` (in k order, one per slice) into a new array of Columns × Rows × frames voxels.
 * @example
 * const { data } = assembleStack(geometry.sorted); // Int16Array of HU for a CT
 */
export function assembleStack(frames: readonly ImageFrame[]): { data: VoxelArray } {
  const integral = frames.every((f) => Number.isInteger(f.rescaleSlope) && Number.isInteger(f.rescaleIntercept));
  // Stored values are read once per frame and kept (views for native data) so a retry does not decode again.
  const stored: (StoredArray | undefined)[] = new Array(frames.length);
  const get = (k: number): StoredArray => (stored[k] ??= storedValues(frames[k]));
  const order: Output[] = integral ? ['int16', 'uint16', 'int32', 'float32'] : ['float32'];
  for (const type of order) {
    try {
      return { data: write(frames, get, type) };
    } catch (err) {
      if (!(err instanceof DoesNotFit)) throw err;
    }
  }
  throw new Error('unreachable: float32 always fits');
}

function write(frames: readonly ImageFrame[], get: (k: number) => StoredArray, type: Output): VoxelArray {
  const { rows, columns } = frames[0].format;
  const plane = rows * columns;
  get(0); // the first frame's pixel data must hold Rows × Columns values before the volume is allocated
  const out = new VoxelArrayOf[type](plane * frames.length);
  const [lo, hi] = valueRange(type);
  for (let k = 0; k < frames.length; k++) {
    const src = get(k);
    const { rescaleSlope: slope, rescaleIntercept: intercept } = frames[k];
    const base = k * plane;
    let fits = true;
    if (slope === 1 && intercept === 0 && src.constructor === out.constructor) {
      for (let r = 0; r < rows; r++) out.set(src.subarray(r * columns, (r + 1) * columns) as never, base + (rows - 1 - r) * columns);
    } else if (out instanceof Int16Array && src instanceof Int16Array && slope === 1) {
      fits = int16PlusToInt16(src, out, rows, columns, base, intercept);
    } else if (out instanceof Int16Array && src instanceof Int16Array) {
      fits = int16ToInt16(src, out, rows, columns, base, slope, intercept);
    } else if (out instanceof Int16Array && src instanceof Uint16Array) {
      fits = uint16ToInt16(src, out, rows, columns, base, slope, intercept);
    } else {
      fits = anyToAny(src, out, rows, columns, base, slope, intercept, type === 'float32' ? -Infinity : lo, type === 'float32' ? Infinity : hi);
    }
    if (!fits) throw new DoesNotFit();
  }
  return out;
}

// One kernel per pair of array types, so that each loop sees one element type and V8 compiles it
// to plain loads and stores (a loop fed several typed-array types runs several times slower).
// Each rescales, flips rows, and tracks the range of the results; false when one leaves the type.

/** The common CT case (signed stored values, slope 1, integer intercept) in int32 arithmetic. */
function int16PlusToInt16(src: Int16Array, out: Int16Array, rows: number, columns: number, base: number, intercept: number): boolean {
  const add = intercept | 0;
  let outside = 0;
  for (let r = 0; r < rows; r++) {
    const s0 = r * columns;
    const d0 = base + (rows - 1 - r) * columns;
    for (let c = 0; c < columns; c++) {
      const v = (src[s0 + c] + add) | 0;
      out[d0 + c] = v;
      outside |= (v + 32768) >>> 16; // non-zero exactly when v is outside [−32768, 32767]
    }
  }
  return outside === 0;
}

function int16ToInt16(src: Int16Array, out: Int16Array, rows: number, columns: number, base: number, slope: number, intercept: number): boolean {
  let min = 0;
  let max = 0;
  for (let r = 0; r < rows; r++) {
    const s0 = r * columns;
    const d0 = base + (rows - 1 - r) * columns;
    for (let c = 0; c < columns; c++) {
      const v = src[s0 + c] * slope + intercept;
      out[d0 + c] = v;
      if (v < min) min = v;
      else if (v > max) max = v;
    }
  }
  return min >= -32768 && max <= 32767;
}

function uint16ToInt16(src: Uint16Array, out: Int16Array, rows: number, columns: number, base: number, slope: number, intercept: number): boolean {
  let min = 0;
  let max = 0;
  for (let r = 0; r < rows; r++) {
    const s0 = r * columns;
    const d0 = base + (rows - 1 - r) * columns;
    for (let c = 0; c < columns; c++) {
      const v = src[s0 + c] * slope + intercept;
      out[d0 + c] = v;
      if (v < min) min = v;
      else if (v > max) max = v;
    }
  }
  return min >= -32768 && max <= 32767;
}

function anyToAny(src: StoredArray, out: VoxelArray, rows: number, columns: number, base: number, slope: number, intercept: number, lo: number, hi: number): boolean {
  let min = Infinity;
  let max = -Infinity;
  for (let r = 0; r < rows; r++) {
    const s0 = r * columns;
    const d0 = base + (rows - 1 - r) * columns;
    for (let c = 0; c < columns; c++) {
      const v = src[s0 + c] * slope + intercept;
      out[d0 + c] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return min >= lo && max <= hi;
}
