/**
 * Working memory an engine keeps from one request to the next. Touching freshly allocated memory
 * is expensive: on the 2-core benchmark machines the first write to a new 52 MB float32 grid takes
 * ~137 ms (page faults, ~2.6 ms per MB) and the second ~2 ms — more than the stitching it feeds.
 * The onnx engine's large per-request arrays (the image on the model grid, its label map, the
 * window batch, the stitching bands) come from here and stay for the next request of that size.
 *
 * What is kept is bounded (`maxBytes`, 1 GiB by default): an array that would exceed it is used
 * once and left to the garbage collector. Arrays returned to a caller never come from here.
 * @module
 */
import type { DataType, VoxelArray } from '../../volume/datatype.js';
import { VoxelArrayOf } from '../../volume/datatype.js';
import type { KernelMemory } from './simd-kernel.js';
import { createKernelMemory } from './simd-kernel.js';

const GiB = 2 ** 30;

/** One kept array or kernel memory per purpose. Not for concurrent requests: give each its own. */
export class ScratchBuffers {
  readonly maxBytes: number;
  readonly #arrays = new Map<string, VoxelArray>();
  #kernel?: { readonly memory: KernelMemory; readonly floats: number };

  constructor(maxBytes = GiB) {
    this.maxBytes = maxBytes;
  }

  /** Bytes kept now. */
  get bytes(): number {
    let total = this.#kernel ? this.#kernel.floats * 4 : 0;
    for (const array of this.#arrays.values()) total += array.byteLength;
    return total;
  }

  /**
   * An array of `length` voxels of `dataType` for `purpose`, with whatever values it had the last
   * time (not zeroed); the one kept for `purpose` when it is large enough. `shared`: a view of a
   * SharedArrayBuffer (another thread writes it).
   */
  array<T extends VoxelArray>(purpose: string, dataType: DataType, length: number, shared = false): T {
    const kept = this.#arrays.get(purpose);
    const fits = kept && kept instanceof VoxelArrayOf[dataType] && kept.length >= length && kept.buffer instanceof SharedArrayBuffer === shared;
    if (fits) return kept.subarray(0, length) as T;
    if (kept) this.#arrays.delete(purpose);
    const Type = VoxelArrayOf[dataType];
    const array = (shared ? new Type(new SharedArrayBuffer(length * Type.BYTES_PER_ELEMENT)) : new Type(length)) as T;
    if (this.bytes + array.byteLength <= this.maxBytes) this.#arrays.set(purpose, array);
    return array;
  }

  /** Kernel memory of at least `floats` float32s, allocator reset (see createKernelMemory). */
  kernelMemory(floats: number): KernelMemory | undefined {
    const kept = this.#kernel;
    if (kept && kept.floats >= floats) {
      kept.memory.reset();
      return kept.memory;
    }
    this.#kernel = undefined;
    const memory = createKernelMemory(floats);
    if (memory && this.bytes + floats * 4 <= this.maxBytes) this.#kernel = { memory, floats };
    return memory;
  }

  /** Lets everything kept go. */
  clear(): void {
    this.#arrays.clear();
    this.#kernel = undefined;
  }
}
