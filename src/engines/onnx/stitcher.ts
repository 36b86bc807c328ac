/**
 * Stitching window outputs into a region, memory-bounded: windows arrive k-row by k-row
 * (windowOrigins order), so only a band one window deep along k is ever live. Each accumulated
 * channel has one preallocated Float32Array of region i × j × roi k voxels (plus one for the weight
 * sum when the activation needs it), used as a ring over k: when the next row of windows starts at
 * k = s, every slice below s is final, goes to the sink (activation → labels) and its ring slot is
 * zeroed for the slice roi k further on.
 *
 * Memory: (channels [+1]) × region i × region j × roi k × 4 bytes, whatever the image depth — e.g.
 * 3 channels on a 256 × 256 region with 96-deep windows: 75 MiB; 117 channels on 300 × 300 × 96:
 * 4 GiB (accumulating all channels is unavoidable for softmax, whose argmax needs every channel).
 *
 * The bands live in one WebAssembly memory with a SIMD multiply-add (simd-kernel.ts; plus one
 * window slice of each channel staged there, and the weights) where it fits in 2 GiB; plain arrays and the
 * JavaScript loops below otherwise. Both round the same way, so the labels do not depend on which ran.
 * @module
 */
import type { Dims } from '../../volume/volume.js';
import type { ScratchBuffers } from '../../volume/scratch-buffers.js';
import type { KernelMemory } from './simd-kernel.js';
import { createKernelMemory, keptKernelMemory } from './simd-kernel.js';
import type { Triple } from './windows.js';

/**
 * Receives one final slice k of the region (region-relative): per accumulated channel the blended
 * sum Σ w·score over region i × j (i fastest), and Σ w when kept (undefined means "all 1").
 * `rows` [j0, j1): only those region rows are final (and read); default all. `kernel`: where the
 * channels live in kernel memory (SIMD path), two planes there the sink may use for an argmax.
 */
export type SliceSink = (k: number, channels: readonly Float32Array[], weightSum: Float32Array | undefined, rows?: readonly [number, number], kernel?: SinkKernel) => void;

/** Kernel memory holding the channel planes, and two free planes of region i × j in it (float32 indices). */
export interface SinkKernel {
  readonly memory: KernelMemory;
  readonly best: number;
  readonly winner: number;
}

export interface StitcherOptions {
  /** Region size (i, j, k) the windows tile. */
  readonly region: Dims;
  readonly roi: Dims;
  /** Output channels to accumulate, by index into the network's channels. */
  readonly channels: readonly number[];
  /** The network's channel count (the output tensor's second dimension). */
  readonly totalChannels: number;
  /** Blending weight per window voxel (importanceMap); undefined: every voxel weighs 1. */
  readonly weights?: Float32Array;
  /** Keep Σ w per voxel (needed to threshold blended scores; an argmax does not need it). */
  readonly weightSum: boolean;
  /** False: plain arrays and the JavaScript loops even where the SIMD kernel is available (tests compare the two). */
  readonly simd?: boolean;
  /** Where the kernel memory comes from and goes back to (kept for the next request); default: a new one. */
  readonly scratch?: ScratchBuffers;
}

/**
 * @example
 * const stitcher = new WindowStitcher({ region, roi, channels: [0, 1, 2], totalChannels: 3, weights, weightSum: false }, sink);
 * for (const [b, origin] of batchOrigins.entries()) stitcher.add(output, b, origin);
 * stitcher.finish();
 */
export class WindowStitcher {
  readonly #options: StitcherOptions;
  readonly #sink: SliceSink;
  readonly #bands: Float32Array[];
  readonly #weightSum?: Float32Array;
  readonly #plane: number;
  readonly #simd?: SimdLayout;
  readonly #sinkKernel?: SinkKernel;
  /** Slices below this are final and have gone to the sink. */
  #done = 0;
  /** In the last k row of windows: rows below this, of every slice from #done on, have gone to the sink. */
  #rowsDone = 0;

  constructor(options: StitcherOptions, sink: SliceSink) {
    const [rx, ry, rz] = options.roi;
    const [bx, by] = options.region;
    if ([0, 1, 2].some((a) => options.region[a] < options.roi[a])) {
      throw new RangeError(`Region ${options.region.join('×')} is smaller than the window ${options.roi.join('×')}; pad it first.`);
    }
    this.#options = options;
    this.#sink = sink;
    const plane = bx * by;
    this.#plane = plane;
    const bandFloats = plane * rz;
    const roiVoxels = rx * ry * rz;
    const { channels, weights } = options;
    // Each alloc may round up by 3 floats to 16 bytes: room for that is asked too.
    const bands = channels.length + (options.weightSum ? 1 : 0);
    const kernelMemory = (floats: number): KernelMemory | undefined => (options.scratch ? keptKernelMemory(options.scratch, floats) : createKernelMemory(floats));
    // Plus two planes for the sink's argmax.
    const memory = options.simd === false ? undefined : kernelMemory(bands * bandFloats + channels.length * rx * ry + (weights ? roiVoxels : 0) + rx * ry + 2 * plane + 4 * (bands + 5));
    if (memory) {
      const view = (at: number, length: number): Float32Array => memory.f32.subarray(at, at + length);
      const bandAt = channels.map(() => memory.alloc(bandFloats));
      const sumAt = options.weightSum ? memory.alloc(bandFloats) : -1;
      const stagingAt = memory.alloc(channels.length * rx * ry);
      const weightsAt = weights ? memory.alloc(roiVoxels) : -1;
      const onesAt = memory.alloc(rx * ry);
      if (weights) memory.f32.set(weights, weightsAt);
      memory.f32.fill(1, onesAt, onesAt + rx * ry);
      this.#simd = { memory, bandAt, sumAt, stagingAt, weightsAt, onesAt };
      this.#sinkKernel = { memory, best: memory.alloc(plane), winner: memory.alloc(plane) };
      this.#bands = bandAt.map((at) => view(at, bandFloats));
      if (options.weightSum) this.#weightSum = view(sumAt, bandFloats);
    } else {
      this.#bands = channels.map(() => new Float32Array(bandFloats));
      if (options.weightSum) this.#weightSum = new Float32Array(bandFloats);
    }
  }

  /**
   * Adds window `b` of a batch output [batch, totalChannels, roi k, roi j, roi i] whose origin in
   * the region is `origin`. Windows must come in windowOrigins order (k rows never go back).
   */
  add(output: Float32Array, b: number, origin: Triple): void {
    const [x0, y0, z0] = origin;
    if (z0 < this.#done) throw new RangeError(`Window at k ${z0} comes after slice ${this.#done} was finished.`);
    this.#flush(z0);
    // The last k row of windows (it ends at the region's end): no window after it, so once a window
    // starts a new j row, the rows above that are final in every slice left. Sending them now
    // leaves less for `finish`, the part of the work nothing overlaps.
    if (z0 + this.#options.roi[2] === this.#options.region[2] && y0 > this.#rowsDone) {
      this.#sendRows(this.#rowsDone, y0);
      this.#rowsDone = y0;
    }
    if (this.#simd) {
      this.#addSimd(this.#simd, output, b, origin);
      return;
    }
    const [rx, ry, rz] = this.#options.roi;
    const [bx, by] = this.#options.region;
    const roiVoxels = rx * ry * rz;
    const { channels, totalChannels, weights } = this.#options;
    for (let c = 0; c < channels.length; c++) {
      const base = (b * totalChannels + channels[c]) * roiVoxels;
      if (weights) addWeighted(this.#bands[c], output, base, weights, this.#options.roi, bx, by, x0, y0, z0);
      else addPlain(this.#bands[c], output, base, this.#options.roi, bx, by, x0, y0, z0);
    }
    const sum = this.#weightSum;
    if (sum) {
      if (weights) addPlain(sum, weights, 0, this.#options.roi, bx, by, x0, y0, z0);
      else addOnes(sum, this.#options.roi, bx, by, x0, y0, z0);
    }
  }

  #addSimd(simd: SimdLayout, output: Float32Array, b: number, origin: Triple): void {
    const { roi, region, channels, totalChannels, weights } = this.#options;
    const [rx, ry, rz] = roi;
    const [bx, by] = region;
    const [x0, y0, z0] = origin;
    const { memory, bandAt, sumAt, stagingAt, weightsAt, onesAt } = simd;
    const slice = rx * ry;
    const roiVoxels = slice * rz;
    // Slice by slice: each channel's slice is copied in and blended while it is still in cache.
    // (Copying whole windows first had the multiply-add read them back from memory: per voxel and
    // channel 24 bytes of traffic instead of 12, on a loop bound by memory.)
    for (let z = 0; z < rz; z++) {
      const to = (((z0 + z) % rz) * by + y0) * bx + x0;
      const w = weights ? weightsAt + z * slice : onesAt;
      for (let c = 0; c < channels.length; c++) {
        const from = (b * totalChannels + channels[c]) * roiVoxels + z * slice;
        memory.f32.set(output.subarray(from, from + slice), stagingAt + c * slice);
        memory.madd(bandAt[c] + to, stagingAt + c * slice, w, rx, ry, bx);
      }
      if (sumAt >= 0) memory.madd(sumAt + to, w, onesAt, rx, ry, bx);
    }
  }

  /** Sends every slice not yet final to the sink; call after the last window. */
  finish(): void {
    // Nothing is blended into the bands after this: no need to zero them (kernel memory is zeroed
    // when it is handed out again).
    this.#sendRows(this.#rowsDone, this.#options.region[1]);
    this.#done = this.#options.region[2];
  }

  /** Rows [j0, j1) of every slice from #done to the region's end, to the sink. */
  #sendRows(j0: number, j1: number): void {
    if (j1 <= j0) return;
    const rows = [j0, j1] as const;
    for (let z = this.#done; z < this.#options.region[2]; z++) {
      const { views, sum } = this.#slice(z);
      this.#sink(z, views, sum, rows, this.#sinkKernel);
    }
  }

  /** Slice z's planes in the k ring: each band's, and Σ w's when kept. */
  #slice(z: number): { views: Float32Array[]; sum: Float32Array | undefined } {
    const plane = this.#plane;
    const from = (z % this.#options.roi[2]) * plane;
    return { views: this.#bands.map((band) => band.subarray(from, from + plane)), sum: this.#weightSum?.subarray(from, from + plane) };
  }

  #flush(until: number): void {
    for (let z = this.#done; z < until; z++) {
      const { views, sum } = this.#slice(z);
      this.#sink(z, views, sum, undefined, this.#sinkKernel);
      for (const view of views) view.fill(0);
      sum?.fill(0);
    }
    if (until > this.#done) this.#done = until;
  }
}

/** Where the SIMD path keeps its buffers in the kernel memory (float32 indices). */
interface SimdLayout {
  readonly memory: KernelMemory;
  readonly bandAt: readonly number[];
  /** Σ w band; −1 when not kept. */
  readonly sumAt: number;
  /** One window slice of each accumulated channel, copied out of the output tensor. */
  readonly stagingAt: number;
  /** The window's weights; −1 for constant blending (then the row of ones serves). */
  readonly weightsAt: number;
  /** rx × ry ones. */
  readonly onesAt: number;
}

/**
 * The one-window case (a fixed-shape model, or an image no larger than one window): the output
 * tensor is the result, so slices go to the sink as views into it, without a copy.
 */
export function sinkWholeWindow(output: Float32Array, b: number, options: Pick<StitcherOptions, 'roi' | 'channels' | 'totalChannels'>, sink: SliceSink): void {
  const [rx, ry, rz] = options.roi;
  const plane = rx * ry;
  const roiVoxels = plane * rz;
  for (let z = 0; z < rz; z++) {
    const views = options.channels.map((c) => {
      const from = (b * options.totalChannels + c) * roiVoxels + z * plane;
      return output.subarray(from, from + plane);
    });
    sink(z, views, undefined);
  }
}

// The accumulation kernels: one loop each, monomorphic, so V8 keeps them tight (the stitching's
// cost is these loops: channels × window voxels multiply-adds per window).

/** band[window voxel] += f32(source[base + voxel] · weights[voxel]), through the k ring (rounded as the SIMD kernel). */
function addWeighted(band: Float32Array, source: Float32Array, base: number, weights: Float32Array, roi: Dims, bx: number, by: number, x0: number, y0: number, z0: number): void {
  const [rx, ry, rz] = roi;
  let from = 0;
  for (let z = 0; z < rz; z++) {
    const slot = (z0 + z) % rz;
    for (let y = 0; y < ry; y++, from += rx) {
      const to = (slot * by + y0 + y) * bx + x0;
      for (let x = 0; x < rx; x++) band[to + x] += Math.fround(source[base + from + x] * weights[from + x]);
    }
  }
}

/** band[window voxel] += source[base + voxel]. */
function addPlain(band: Float32Array, source: Float32Array, base: number, roi: Dims, bx: number, by: number, x0: number, y0: number, z0: number): void {
  const [rx, ry, rz] = roi;
  let from = base;
  for (let z = 0; z < rz; z++) {
    const slot = (z0 + z) % rz;
    for (let y = 0; y < ry; y++, from += rx) {
      const to = (slot * by + y0 + y) * bx + x0;
      for (let x = 0; x < rx; x++) band[to + x] += source[from + x];
    }
  }
}

/** band[window voxel] += 1. */
function addOnes(band: Float32Array, roi: Dims, bx: number, by: number, x0: number, y0: number, z0: number): void {
  const [rx, ry, rz] = roi;
  for (let z = 0; z < rz; z++) {
    const slot = (z0 + z) % rz;
    for (let y = 0; y < ry; y++) {
      const to = (slot * by + y0 + y) * bx + x0;
      for (let x = 0; x < rx; x++) band[to + x] += 1;
    }
  }
}
