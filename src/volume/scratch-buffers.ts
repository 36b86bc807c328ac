/**
 * Working memory kept from one call to the next. Touching freshly allocated memory is expensive:
 * on the 2-core benchmark machines the first write to a new 52 MB float32 grid takes ~137 ms (page
 * faults, ~2.6 ms per MB) and the second ~2 ms — more than many of the loops that use it. The
 * engines' large temporaries (the onnx engine's model grid, label map, window batch and stitching
 * memory; the classic engine's click window, its smoothed copy and flood state) come from here
 * and stay for the next call of that size.
 *
 * What is kept is bounded (`maxBytes`, 1 GiB by default): anything that would exceed it is used
 * once and left to the garbage collector. Arrays returned to a caller must never come from here.
 * One request at a time: a second, concurrent one needs its own ScratchBuffers.
 * @module
 */
import type { DataType, VoxelArray } from './datatype.js';
import { VoxelArrayOf } from './datatype.js';

const GiB = 2 ** 30;

interface Kept {
  readonly value: unknown;
  readonly bytes: number;
}

/** One kept array or object per purpose. */
export class ScratchBuffers {
  readonly maxBytes: number;
  readonly #kept = new Map<string, Kept>();

  constructor(maxBytes = GiB) {
    this.maxBytes = maxBytes;
  }

  /** Bytes kept now. */
  get bytes(): number {
    let total = 0;
    for (const kept of this.#kept.values()) total += kept.bytes;
    return total;
  }

  /**
   * An array of `length` voxels of `dataType` for `purpose`, with whatever values it had the last
   * time (not zeroed); the one kept for `purpose` when it is large enough. `shared`: a view of a
   * SharedArrayBuffer (another thread writes it).
   */
  array<T extends VoxelArray>(purpose: string, dataType: DataType, length: number, shared = false): T {
    const Type = VoxelArrayOf[dataType];
    const kept = this.#kept.get(purpose)?.value;
    if (kept instanceof Type && kept.length >= length && kept.buffer instanceof SharedArrayBuffer === shared) return kept.subarray(0, length) as T;
    const array = (shared ? new Type(new SharedArrayBuffer(length * Type.BYTES_PER_ELEMENT)) : new Type(length)) as T;
    this.#keep(purpose, array, array.byteLength);
    return array;
  }

  /**
   * The object kept for `purpose` when `fits` accepts it, else a new one from `create` (undefined:
   * none could be made) of `bytes`, kept when within bounds.
   */
  object<T>(purpose: string, bytes: number, fits: (kept: T) => boolean, create: () => T | undefined): T | undefined {
    const kept = this.#kept.get(purpose)?.value as T | undefined;
    if (kept !== undefined && fits(kept)) return kept;
    const value = create();
    if (value !== undefined) this.#keep(purpose, value, bytes);
    else this.#kept.delete(purpose);
    return value;
  }

  /** Lets everything kept go. */
  clear(): void {
    this.#kept.clear();
  }

  #keep(purpose: string, value: unknown, bytes: number): void {
    this.#kept.delete(purpose);
    if (this.bytes + bytes <= this.maxBytes) this.#kept.set(purpose, { value, bytes });
  }
}
