/**
 * Where the network looks: the region of the model grid it covers (whole grid, a foreground box or
 * a fixed shape, padded where smaller than a window), the windows that tile it, and the blending
 * weights. Conventions follow MONAI's `sliding_window_inference` so that a MONAI model sees the
 * windows it was validated with: scan interval ⌊roi·(1 − overlap)⌋ (the roi itself where the region
 * is exactly one window), the last window on each axis shifted back to end at the region's end, and
 * a separable Gaussian importance map with σ = sigma_scale·roi, clamped below at max(min, 1e-3).
 * @module
 */
import type { Dims } from '../../volume/volume.js';

export type Triple = [number, number, number];

/** A box of voxels on a grid: `start` may be negative and `start + size` beyond the grid (padding). */
export interface Box {
  readonly start: Triple;
  readonly size: Triple;
}

/** The whole grid. */
export function wholeBox(dims: Dims): Box {
  return { start: [0, 0, 0], size: [dims[0], dims[1], dims[2]] };
}

/**
 * A box of `shape` centred on `box`: cropped where `box` is larger (start + ⌊(n − s)/2⌋), padded
 * where it is smaller (⌊(s − n)/2⌋ before, the rest after), as MONAI's centre crop and symmetric pad.
 * @example
 * centredBox(wholeBox([300, 256, 200]), [256, 256, 256]); // { start: [22, 0, -28], size: [256, 256, 256] }
 */
export function centredBox(box: Box, shape: Dims): Box {
  const start = [0, 1, 2].map((a) => box.start[a] + Math.floor((box.size[a] - shape[a]) / 2)) as Triple;
  return { start, size: [shape[0], shape[1], shape[2]] };
}

/** `box` grown symmetrically (⌊d/2⌋ before) to at least `minimum` on each axis: MONAI pads a small image to one window. */
export function padBox(box: Box, minimum: Dims): Box {
  const start = [...box.start] as Triple;
  const size = [...box.size] as Triple;
  for (let a = 0; a < 3; a++) {
    if (size[a] < minimum[a]) {
      start[a] -= Math.floor((minimum[a] - size[a]) / 2);
      size[a] = minimum[a];
    }
  }
  return { start, size };
}

/**
 * The bounding box of voxels above `threshold`, grown by `margin` voxels and clipped to the grid;
 * undefined when no voxel is above it.
 */
export function foregroundBox(data: ArrayLike<number>, dims: Dims, threshold: number, margin: number): Box | undefined {
  const [nx, ny, nz] = dims;
  const lo: Triple = [nx, ny, nz];
  const hi: Triple = [-1, -1, -1];
  let n = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      let first = -1;
      let last = -1;
      for (let i = 0; i < nx; i++, n++) {
        if (data[n] > threshold) {
          if (first < 0) first = i;
          last = i;
        }
      }
      if (first < 0) continue;
      if (first < lo[0]) lo[0] = first;
      if (last > hi[0]) hi[0] = last;
      if (j < lo[1]) lo[1] = j;
      if (j > hi[1]) hi[1] = j;
      if (k < lo[2]) lo[2] = k;
      hi[2] = k;
    }
  }
  if (hi[0] < 0) return undefined;
  const start = [0, 1, 2].map((a) => Math.max(0, lo[a] - margin)) as Triple;
  const end = [0, 1, 2].map((a) => Math.min(dims[a], hi[a] + 1 + margin));
  return { start, size: [end[0] - start[0], end[1] - start[1], end[2] - start[2]] };
}

/**
 * Window starts along one axis of length `size` (≥ roi): MONAI's scan interval and
 * `dense_patch_slices`, the last window aligned to the end.
 * @example
 * scanStarts(256, 96, 0.25); // [0, 72, 144, 160]
 */
export function scanStarts(size: number, roi: number, overlap: number): number[] {
  if (size <= roi) return [0];
  const interval = Math.max(1, Math.trunc(roi * (1 - overlap)));
  const starts: number[] = [];
  for (let s = 0; ; s += interval) {
    if (s + roi >= size) {
      starts.push(size - roi);
      return starts;
    }
    starts.push(s);
  }
}

/** Window origins relative to the region, k outermost then j then i (the order they are run and stitched in). */
export function windowOrigins(region: Dims, roi: Dims, overlap: number): Triple[] {
  const [xs, ys, zs] = [0, 1, 2].map((a) => scanStarts(region[a], roi[a], overlap));
  const out: Triple[] = [];
  for (const z of zs) for (const y of ys) for (const x of xs) out.push([x, y, z]);
  return out;
}

/**
 * The blending weight of each window voxel, i fastest; undefined for constant blending (all 1).
 * Gaussian: ∏ₐ exp(−xₐ² / (2σₐ²)) with xₐ measured from the window centre (roi − 1)/2 and
 * σₐ = sigmaScale·roiₐ, clamped below at max(min, 1e-3) as MONAI's `compute_importance_map`, so the
 * corners still count where only one window covers the region's corner.
 */
export function importanceMap(roi: Dims, blend: 'constant' | 'gaussian', sigmaScale = 0.125): Float32Array | undefined {
  if (blend === 'constant') return undefined;
  const profiles = [0, 1, 2].map((a) => {
    const n = roi[a];
    const sigma = sigmaScale * n;
    return Float64Array.from({ length: n }, (_, p) => {
      const x = p - (n - 1) / 2;
      return Math.exp((x * x) / (-2 * sigma * sigma));
    });
  });
  const [gx, gy, gz] = profiles;
  const out = new Float32Array(roi[0] * roi[1] * roi[2]);
  let min = Infinity;
  let n = 0;
  for (let k = 0; k < roi[2]; k++) {
    for (let j = 0; j < roi[1]; j++) {
      const gjk = gy[j] * gz[k];
      for (let i = 0; i < roi[0]; i++, n++) {
        const w = Math.fround(gx[i] * gjk);
        out[n] = w;
        if (w < min) min = w;
      }
    }
  }
  const floor = Math.fround(Math.max(min, 1e-3));
  for (let p = 0; p < out.length; p++) if (out[p] < floor) out[p] = floor;
  return out;
}

/**
 * Copies the window of size `roi` whose first voxel is grid voxel `start` from `data` (a grid of
 * `dims`, i fastest) into `into` at `offset`, i fastest; voxels outside the grid are 0 (the
 * padding value, in the network's input units, as MONAI's constant padding).
 */
export function copyWindow(data: Float32Array, dims: Dims, start: Triple, roi: Dims, into: Float32Array, offset: number): void {
  const [nx, ny, nz] = dims;
  const [rx, ry, rz] = roi;
  const [sx, sy, sz] = start;
  const xa = Math.max(0, -sx);
  const xb = Math.min(rx, nx - sx);
  for (let z = 0; z < rz; z++) {
    const gz = sz + z;
    for (let y = 0; y < ry; y++) {
      const gy = sy + y;
      const row = offset + (z * ry + y) * rx;
      if (gz < 0 || gz >= nz || gy < 0 || gy >= ny || xb <= xa) {
        into.fill(0, row, row + rx);
        continue;
      }
      const from = (gz * ny + gy) * nx + sx;
      if (xa > 0) into.fill(0, row, row + xa);
      into.set(data.subarray(from + xa, from + xb), row + xa);
      if (xb < rx) into.fill(0, row + xb, row + rx);
    }
  }
}

/** Sets `value` on the voxels of `box` (clipped to the grid) that lie outside `region`. */
export function fillOutside(labels: Uint8Array, dims: Dims, box: Box, region: Box, value: number): void {
  const [nx, ny] = dims;
  const lo = [0, 1, 2].map((a) => Math.max(0, box.start[a]));
  const hi = [0, 1, 2].map((a) => Math.min(dims[a], box.start[a] + box.size[a]));
  const inside = (a: number, v: number): boolean => v >= region.start[a] && v < region.start[a] + region.size[a];
  for (let k = lo[2]; k < hi[2]; k++) {
    for (let j = lo[1]; j < hi[1]; j++) {
      const row = (k * ny + j) * nx;
      if (!inside(2, k) || !inside(1, j)) {
        labels.fill(value, row + lo[0], row + hi[0]);
        continue;
      }
      const r0 = Math.max(lo[0], region.start[0]);
      const r1 = Math.min(hi[0], region.start[0] + region.size[0]);
      if (r1 <= r0) {
        labels.fill(value, row + lo[0], row + hi[0]);
        continue;
      }
      labels.fill(value, row + lo[0], row + r0);
      labels.fill(value, row + r1, row + hi[0]);
    }
  }
}
