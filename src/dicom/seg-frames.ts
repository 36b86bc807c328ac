/**
 * From a label map to the frames of a BINARY SEG: which labels are present on which slices (one
 * frame per segment and non-empty slice, segment-major then slice order, as highdicom orders
 * them), and the frames' bits packed straight into the output.
 *
 * PS3.5 §8.1.1: with BitsAllocated 1 the pixels of all frames form one bit stream, the first pixel
 * in the least significant bit of the first byte, and a frame starts where the previous one ends
 * (no padding between frames); only the whole is padded to an even length.
 * @module
 */
import { VoxgateError } from '../errors.js';
import type { Dims, LabelVolume } from '../volume/volume.js';

/** 255 marks voxels an engine did not compute; 0 is background. Neither becomes a segment. */
const NOT_COMPUTED = 255;

export interface FramePlan {
  /** The label of segment s (segment number s + 1), ascending. */
  readonly labels: readonly number[];
  /** Per frame: its segment index s (0-based). */
  readonly frameSegment: Int32Array;
  /** Per frame: its slice k. */
  readonly frameSlice: Int32Array;
  /** frameOf[s * nz + k]: the frame of segment s on slice k, or -1 when that slice is empty for it. */
  readonly frameOf: Int32Array;
}

/**
 * Finds the labels present on each slice, in one pass over the voxels.
 * @example
 * const plan = planFrames(labels); // plan.labels = [1, 3], plan.frameSlice.length = frames
 */
export function planFrames(labels: Pick<LabelVolume, 'data' | 'dims'>): FramePlan {
  const { data, dims } = labels;
  const [nx, ny, nz] = dims;
  const sliceSize = nx * ny;
  // stamp[v] = k + 1 once label v has been seen on slice k; slicesOf[v] lists the slices it is on.
  const stamp = new Int32Array(data instanceof Uint8Array ? 256 : 65536);
  const slicesOf = new Map<number, number[]>();
  for (let k = 0; k < nz; k++) {
    const mark = k + 1;
    const end = (k + 1) * sliceSize;
    for (let n = k * sliceSize; n < end; n++) {
      const v = data[n];
      if (v === 0 || stamp[v] === mark) continue;
      if (v < 0) {
        throw new VoxgateError('VXG_ERR_VOLUME_DATATYPE', `The label map holds the negative value ${v} at voxel ${voxelOf(n, dims).join(', ')}; labels are 0–65535.`);
      }
      stamp[v] = mark;
      if (v === NOT_COMPUTED) continue;
      let list = slicesOf.get(v);
      if (!list) slicesOf.set(v, (list = []));
      list.push(k);
    }
  }
  const present = [...slicesOf.keys()].sort((a, b) => a - b);
  if (present.length > 0xffff) {
    throw new VoxgateError('VXG_ERR_SEG_INVALID_OPTION', `The label map holds ${present.length} labels; a SEG holds at most 65535 segments.`);
  }
  let frames = 0;
  for (const v of present) frames += slicesOf.get(v)!.length;
  const frameSegment = new Int32Array(frames);
  const frameSlice = new Int32Array(frames);
  const frameOf = new Int32Array(present.length * nz).fill(-1);
  let f = 0;
  present.forEach((v, s) => {
    for (const k of slicesOf.get(v)!) {
      frameSegment[f] = s;
      frameSlice[f] = k;
      frameOf[s * nz + k] = f;
      f++;
    }
  });
  return { labels: present, frameSegment, frameSlice, frameOf };
}

/** Bytes the packed frames take: ⌈frames × rows × columns / 8⌉, rounded up to even. */
export function packedLength(frames: number, rows: number, columns: number): number {
  const bytes = Math.ceil((frames * rows * columns) / 8);
  return bytes + (bytes % 2);
}

/**
 * Sets the bits of every labelled voxel in `out` (zero-filled, `packedLength` bytes): voxel (i, j, k)
 * of segment s goes to frame frameOf[s·nz + k], pixel (row, column) = (flipRows ? ny−1−j : j, i).
 */
export function packFrames(labels: Pick<LabelVolume, 'data' | 'dims'>, plan: FramePlan, flipRows: boolean, out: Uint8Array): void {
  const { data, dims } = labels;
  const [nx, ny, nz] = dims;
  const framePixels = nx * ny;
  const segmentOf = new Int32Array(data instanceof Uint8Array ? 256 : 65536).fill(-1);
  plan.labels.forEach((v, s) => (segmentOf[v] = s));
  // Where each frame starts: a byte and a bit offset, so that no index exceeds 32 bits even when
  // frames × pixels does.
  const frames = plan.frameSlice.length;
  const startByte = new Float64Array(frames);
  const startBit = new Int32Array(frames);
  for (let f = 0; f < frames; f++) {
    const bit = f * framePixels;
    startByte[f] = Math.floor(bit / 8);
    startBit[f] = bit % 8;
  }
  const nSegments = plan.labels.length;
  const byteOnSlice = new Float64Array(nSegments);
  const bitOnSlice = new Int32Array(nSegments);
  for (let k = 0; k < nz; k++) {
    let any = false;
    for (let s = 0; s < nSegments; s++) {
      const f = plan.frameOf[s * nz + k];
      if (f >= 0) {
        any = true;
        byteOnSlice[s] = startByte[f];
        bitOnSlice[s] = startBit[f];
      }
    }
    if (!any) continue;
    for (let j = 0; j < ny; j++) {
      const row = flipRows ? ny - 1 - j : j;
      const pixelBase = row * nx;
      const voxelBase = (k * ny + j) * nx;
      for (let i = 0; i < nx; i++) {
        const v = data[voxelBase + i];
        if (v === 0) continue;
        const s = segmentOf[v];
        if (s < 0) continue; // 255, not computed
        const bit = bitOnSlice[s] + pixelBase + i;
        out[byteOnSlice[s] + (bit >>> 3)] |= 1 << (bit & 7);
      }
    }
  }
}

function voxelOf(n: number, dims: Dims): [number, number, number] {
  const i = n % dims[0];
  const j = Math.floor(n / dims[0]) % dims[1];
  return [i, j, Math.floor(n / (dims[0] * dims[1]))];
}
