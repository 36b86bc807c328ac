/**
 * Hole filling: background regions that cannot be reached from the outside. In 3D (6-connected
 * background) or slice by slice across one axis (4-connected background in each plane), where
 * "outside" is the border of the mask's bounding box (so an object cut by the field of view keeps
 * its open ends open). Slice-wise filling is what closes a body or a lung in each axial slice even
 * when the structure is open at the top of the scan; a size limit and a predicate keep it from
 * filling what only looks enclosed (a mediastinum between touching lungs, a spinal canal).
 * @module
 */
import type { Dims } from '../../volume/volume.js';
import type { Box } from './grid.js';
import { boundingBox, boxDims, copyBox, padBox, stridesOf } from './grid.js';
import { boxRuns, rootOf } from './runs.js';
import { planeAxes } from './slices.js';

/** Fills every 3D cavity of `mask` (returns a new mask). */
export function fillHoles3d(mask: Uint8Array, dims: Dims): Uint8Array {
  const out = mask.slice();
  const bounds = boundingBox(mask, dims);
  if (!bounds) return out;
  const box = padBox(bounds, [1, 1, 1], dims);
  const [bx, by, bz] = boxDims(box);
  const [, sy, sz] = stridesOf(dims);
  // The background's runs and their 6-connected components: those with a run on a face of the box
  // are outside, the others are cavities.
  const { start, end, rowFirst, parent } = boxRuns(mask, dims, box, false);
  const outside = new Uint8Array(parent.length);
  for (let k = 0, r = 0; k < bz; k++) {
    for (let j = 0; j < by; j++, r++) {
      const face = j === 0 || k === 0 || j === by - 1 || k === bz - 1;
      for (let t = rowFirst[r]; t < rowFirst[r + 1]; t++) if (face || start[t] === 0 || end[t] === bx) outside[rootOf(parent, t)] = 1;
    }
  }
  for (let k = 0, r = 0; k < bz; k++) {
    for (let j = 0; j < by; j++, r++) {
      const base = box.min[0] + (box.min[1] + j) * sy + (box.min[2] + k) * sz;
      for (let t = rowFirst[r]; t < rowFirst[r + 1]; t++) if (outside[rootOf(parent, t)] === 0) out.fill(1, base + start[t], base + end[t]);
    }
  }
  return out;
}

export interface SliceFillOptions {
  /** Largest hole (pixels) that is filled; larger ones stay open. */
  readonly maxArea?: number;
  /** Decides on each hole from its voxels (flat indices, valid only during the call). */
  readonly accept?: (voxels: Int32Array) => boolean;
}

/** Fills holes in each plane across `axis` (returns a new mask). */
export function fillHolesSlicewise(mask: Uint8Array, dims: Dims, axis: 0 | 1 | 2, options: SliceFillOptions = {}): Uint8Array {
  const bounds = boundingBox(mask, dims);
  const out = new Uint8Array(mask.length);
  if (!bounds) return out;
  // Only the rows of the bounds are copied (the rest is 0): a full copy would make every page of the
  // new mask resident.
  copyBox(mask, out, dims, bounds);
  return fillInPlace(out, dims, axis, bounds, options);
}

/**
 * Fills holes in each plane across `axis` of `mask` itself, and returns it: for a mask its caller
 * owns, without the copy. Gives what `fillHolesSlicewise` gives, since each plane's holes are found
 * from that plane alone before any of its voxels is written.
 */
export function fillHolesSlicewiseInPlace(mask: Uint8Array, dims: Dims, axis: 0 | 1 | 2, options: SliceFillOptions = {}): Uint8Array {
  const bounds = boundingBox(mask, dims);
  return bounds ? fillInPlace(mask, dims, axis, bounds, options) : mask;
}

function fillInPlace(mask: Uint8Array, dims: Dims, axis: 0 | 1 | 2, bounds: Box, options: SliceFillOptions): Uint8Array {
  const box = padBox(bounds, [1, 1, 1], dims);
  const strides = stridesOf(dims);
  const [ua, va] = planeAxes(axis);
  const su = strides[ua];
  const sv = strides[va];
  const u0 = box.min[ua];
  const v0 = box.min[va];
  const w = box.max[ua] - u0 + 1;
  const h = box.max[va] - v0 + 1;
  const maxArea = options.maxArea ?? Infinity;
  // 0 unvisited background, 1 foreground, 2 reached from outside or already decided.
  const state = new Uint8Array(w * h);
  const queue = new Int32Array(w * h);
  const voxels = new Int32Array(w * h);
  for (let s = box.min[axis]; s <= box.max[axis]; s++) {
    const base = s * strides[axis] + u0 * su + v0 * sv;
    let any = false;
    for (let y = 0, n = 0; y < h; y++) {
      const row = base + y * sv;
      for (let x = 0; x < w; x++, n++) {
        const fg = mask[row + x * su] !== 0;
        state[n] = fg ? 1 : 0;
        if (fg) any = true;
      }
    }
    if (!any) continue;
    // Outside: flood from every background pixel of the plane's border.
    let tail = 0;
    for (let x = 0; x < w; x++) {
      for (const y of h > 1 ? [0, h - 1] : [0]) {
        const n = x + y * w;
        if (state[n] === 0) {
          state[n] = 2;
          queue[tail++] = n;
        }
      }
    }
    for (let y = 1; y < h - 1; y++) {
      for (const x of w > 1 ? [0, w - 1] : [0]) {
        const n = x + y * w;
        if (state[n] === 0) {
          state[n] = 2;
          queue[tail++] = n;
        }
      }
    }
    flood2d(state, w, h, queue, 0, tail);
    // What is left unvisited are holes.
    for (let n = 0; n < w * h; n++) {
      if (state[n] !== 0) continue;
      state[n] = 2;
      queue[0] = n;
      const size = flood2d(state, w, h, queue, 0, 1);
      if (size > maxArea) continue;
      for (let t = 0; t < size; t++) {
        const m = queue[t];
        const y = (m / w) | 0;
        voxels[t] = base + (m - y * w) * su + y * sv;
      }
      const hole = voxels.subarray(0, size);
      if (options.accept && !options.accept(hole)) continue;
      for (let t = 0; t < size; t++) mask[hole[t]] = 1;
    }
  }
  return mask;
}

/** 4-connected flood of state-0 pixels from queue[head..tail); returns the queue's end. */
function flood2d(state: Uint8Array, w: number, h: number, queue: Int32Array, head: number, tail: number): number {
  while (head < tail) {
    const n = queue[head++];
    const y = (n / w) | 0;
    const x = n - y * w;
    if (x > 0 && state[n - 1] === 0) { state[n - 1] = 2; queue[tail++] = n - 1; }
    if (x < w - 1 && state[n + 1] === 0) { state[n + 1] = 2; queue[tail++] = n + 1; }
    if (y > 0 && state[n - w] === 0) { state[n - w] = 2; queue[tail++] = n - w; }
    if (y < h - 1 && state[n + w] === 0) { state[n + w] = 2; queue[tail++] = n + w; }
  }
  return tail;
}
