/**
 * Voxel-grid geometry for the classic engine's algorithms: spacing, which array axis points
 * superior, world coordinates, bounding boxes, crops. Algorithms never assume an axis order: they ask
 * the affine (RAS+ millimetres, src/volume/affine.ts) which way is up and how far apart voxels are.
 * @module
 */
import type { Affine } from '../../volume/affine.js';
import { apply, columnNorms, determinant3 } from '../../volume/affine.js';
import type { VoxelArray } from '../../volume/datatype.js';
import { dataTypeOf, VoxelArrayOf } from '../../volume/datatype.js';
import type { Dims } from '../../volume/volume.js';

/** The geometry algorithms need: array shape and voxel → RAS mm map. */
export interface Grid {
  readonly dims: Dims;
  readonly affine: Affine;
}

/** Inclusive voxel bounds `[i0, j0, k0]`–`[i1, j1, k1]`. */
export interface Box {
  readonly min: readonly [number, number, number];
  readonly max: readonly [number, number, number];
}

/** Voxel spacing in mm along the three array axes. */
export function spacingOf(grid: Grid): [number, number, number] {
  return columnNorms(grid.affine);
}

/** Element strides of the three array axes (`i`, `j`, `k`). */
export function stridesOf(dims: Dims): [number, number, number] {
  return [1, dims[0], dims[0] * dims[1]];
}

/**
 * The array axis closest to the patient's superior direction, and whether increasing the index on
 * it goes superior (+1) or inferior (−1). "Axial slices" are the planes across that axis.
 */
export function superiorAxis(grid: Grid): { axis: 0 | 1 | 2; sign: 1 | -1 } {
  const a = grid.affine;
  const norms = columnNorms(a);
  let axis: 0 | 1 | 2 = 2;
  let best = -1;
  for (const c of [0, 1, 2] as const) {
    const cos = Math.abs(a[8 + c]) / norms[c];
    if (cos > best) {
      best = cos;
      axis = c;
    }
  }
  return { axis, sign: a[8 + axis] >= 0 ? 1 : -1 };
}

/**
 * Tight bounds of the voxels equal to 1 (every mask in the classic engine holds 0 and 1), or
 * undefined for an empty mask. Empty stretches are skipped with the native `indexOf`, so a sparse
 * mask costs little more than a memchr over it.
 */
export function boundingBox(mask: Uint8Array, dims: Dims): Box | undefined {
  const [nx, ny] = dims;
  const nxy = nx * ny;
  let i0 = Infinity, j0 = Infinity, k0 = Infinity, i1 = -1, j1 = -1, k1 = -1;
  let p = mask.indexOf(1);
  while (p >= 0) {
    const row = p - (p % nx);
    const k = Math.floor(row / nxy);
    const j = (row - k * nxy) / nx;
    const first = p - row;
    const last = mask.lastIndexOf(1, row + nx - 1) - row;
    if (first < i0) i0 = first;
    if (last > i1) i1 = last;
    if (j < j0) j0 = j;
    if (j > j1) j1 = j;
    if (k < k0) k0 = k;
    if (k > k1) k1 = k;
    p = mask.indexOf(1, row + nx);
  }
  if (i1 < 0) return undefined;
  return { min: [i0, j0, k0], max: [i1, j1, k1] };
}

/** `box` grown by `margin` voxels per axis, clipped to the grid. */
export function padBox(box: Box, margin: readonly [number, number, number], dims: Dims): Box {
  return {
    min: [0, 1, 2].map((a) => Math.max(0, box.min[a] - margin[a])) as [number, number, number],
    max: [0, 1, 2].map((a) => Math.min(dims[a] - 1, box.max[a] + margin[a])) as [number, number, number],
  };
}

export function boxDims(box: Box): Dims {
  return [box.max[0] - box.min[0] + 1, box.max[1] - box.min[1] + 1, box.max[2] - box.min[2] + 1];
}

/** The grid of a sub-box: same world positions, origin moved to the box's first voxel. */
export function cropGrid(grid: Grid, box: Box): Grid {
  const a = grid.affine;
  const [i, j, k] = box.min;
  const affine = [...a];
  affine[3] = a[0] * i + a[1] * j + a[2] * k + a[3];
  affine[7] = a[4] * i + a[5] * j + a[6] * k + a[7];
  affine[11] = a[8] * i + a[9] * j + a[10] * k + a[11];
  return { dims: boxDims(box), affine };
}

/** Copies the voxels of `box` out of `data` into a new array of the same type, or into `into` (that type, the box's size). */
export function cropArray<T extends VoxelArray>(data: T, dims: Dims, box: Box, into?: T): T {
  const [bx, by, bz] = boxDims(box);
  if (into && (into.length !== bx * by * bz || dataTypeOf(into) !== dataTypeOf(data))) throw new RangeError(`cropArray: the array to crop into must be ${dataTypeOf(data)} × ${bx * by * bz}.`);
  const out = into ?? (new VoxelArrayOf[dataTypeOf(data)](bx * by * bz) as T);
  const [, sy, sz] = stridesOf(dims);
  let o = 0;
  for (let k = box.min[2]; k <= box.max[2]; k++) {
    for (let j = box.min[1]; j <= box.max[1]; j++) {
      const start = box.min[0] + j * sy + k * sz;
      out.set(data.subarray(start, start + bx), o);
      o += bx;
    }
  }
  return out;
}

/**
 * Calls `visit(start, end)` for each row of `box` along the first axis, in index order: the voxels
 * start ≤ p < end of an array of `dims`. An empty box (a max below its min) has no rows.
 */
export function forEachBoxRow(box: Box, dims: Dims, visit: (start: number, end: number) => void): void {
  const [, sy, sz] = stridesOf(dims);
  for (let k = box.min[2]; k <= box.max[2]; k++) {
    for (let j = box.min[1]; j <= box.max[1]; j++) {
      const start = box.min[0] + j * sy + k * sz;
      visit(start, start + box.max[0] - box.min[0] + 1);
    }
  }
}

/** Writes the crop `src` (box-shaped) back into the full-grid `dest`. */
export function pasteArray(src: Uint8Array, dest: Uint8Array, dims: Dims, box: Box): void {
  const [bx] = boxDims(box);
  const [, sy, sz] = stridesOf(dims);
  let o = 0;
  for (let k = box.min[2]; k <= box.max[2]; k++) {
    for (let j = box.min[1]; j <= box.max[1]; j++) {
      dest.set(src.subarray(o, o + bx), box.min[0] + j * sy + k * sz);
      o += bx;
    }
  }
}

/**
 * Copies the voxels of `box` from `src` to `dest` (both full-grid): the rest of `dest` is not
 * touched, so its pages outside the box stay unallocated.
 */
export function copyBox(src: Uint8Array, dest: Uint8Array, dims: Dims, box: Box): void {
  const [bx] = boxDims(box);
  const [, sy, sz] = stridesOf(dims);
  for (let k = box.min[2]; k <= box.max[2]; k++) {
    for (let j = box.min[1]; j <= box.max[1]; j++) {
      const start = box.min[0] + j * sy + k * sz;
      dest.set(src.subarray(start, start + bx), start);
    }
  }
}

/**
 * Writes `label` into `labels` (full grid) where the box-shaped `mask` is 1 and `labels` is still 0
 * — or over any label with `overwrite` (a clicked object is the most specific thing a request says).
 */
export function pasteLabel(mask: Uint8Array, labels: Uint8Array, dims: Dims, box: Box, label: number, overwrite = false): void {
  const [bx, by] = boxDims(box);
  const [, sy, sz] = stridesOf(dims);
  // Row by row where the mask holds something, found with the native indexOf: most rows of a
  // structure's mask are empty, and `labels` is touched only where the mask is set.
  for (let p = mask.indexOf(1); p >= 0; ) {
    const o = p - (p % bx);
    const row = o / bx;
    const k = Math.floor(row / by);
    const d = box.min[0] + (box.min[1] + row - k * by) * sy + (box.min[2] + k) * sz - o;
    const end = o + bx;
    if (overwrite) {
      // Runs of 1 are filled natively (a clicked object's rows are mostly one or two runs).
      for (let q = p; q >= 0 && q < end; q = mask.indexOf(1, q)) {
        let stop = mask.indexOf(0, q);
        if (stop < 0 || stop > end) stop = end;
        labels.fill(label, d + q, d + stop);
        q = stop;
        if (q >= end) break;
      }
    } else {
      for (let q = p; q < end; q++) if (mask[q] !== 0 && labels[d + q] === 0) labels[d + q] = label;
    }
    p = mask.indexOf(1, end);
  }
}

/** The (i, j, k) voxel of flat index `p` on a grid of `dims` (i fastest). */
export function voxelCoords(p: number, dims: Dims): [number, number, number] {
  const nxy = dims[0] * dims[1];
  const k = Math.floor(p / nxy);
  const j = Math.floor((p - k * nxy) / dims[0]);
  return [p - k * nxy - j * dims[0], j, k];
}

/**
 * The distance (mm, along the array axes with `spacing`) from voxel `at` (a flat index) to the
 * nearest voxel of `mask`; Infinity when the mask is empty, 0 when `at` is in it.
 */
export function distanceToMask(mask: Uint8Array, dims: Dims, spacing: readonly number[], at: number): number {
  const [ci, cj, ck] = voxelCoords(at, dims);
  let nearest = Infinity;
  for (let k = 0, p = 0; k < dims[2]; k++) {
    const dz = ((k - ck) * spacing[2]) ** 2;
    for (let j = 0; j < dims[1]; j++) {
      const dyz = dz + ((j - cj) * spacing[1]) ** 2;
      for (let i = 0; i < dims[0]; i++, p++) if (mask[p] !== 0) nearest = Math.min(nearest, dyz + ((i - ci) * spacing[0]) ** 2);
    }
  }
  return Math.sqrt(nearest);
}

/** Flat index on the grid of `dims` (a voxel inside `box`) → flat index in `box` (x fastest): boxToGrid's inverse. */
export function gridToBox(box: Box, dims: Dims): (p: number) => number {
  const [bx, by] = boxDims(box);
  return (p) => {
    const [i, j, k] = voxelCoords(p, dims);
    return i - box.min[0] + bx * (j - box.min[1] + by * (k - box.min[2]));
  };
}

/** Flat index in `box` (x fastest) → flat index on the grid of `dims` that holds the box. */
export function boxToGrid(box: Box, dims: Dims): (q: number) => number {
  const [bx, by] = boxDims(box);
  const bxy = bx * by;
  const [, sy, sz] = stridesOf(dims);
  const origin = box.min[0] + box.min[1] * sy + box.min[2] * sz;
  return (q) => {
    const k = Math.floor(q / bxy);
    const j = Math.floor((q - k * bxy) / bx);
    return origin + (q - k * bxy - j * bx) + j * sy + k * sz;
  };
}

/**
 * Writes `label` at the box's voxels `voxels` (flat indices in the box) of the full-grid `labels`,
 * where they are still background: `pasteLabel` for a structure given as a list of voxels.
 */
export function pasteVoxels(voxels: Int32Array, labels: Uint8Array, dims: Dims, box: Box, label: number): void {
  const at = boxToGrid(box, dims);
  for (let t = 0; t < voxels.length; t++) {
    const p = at(voxels[t]);
    if (labels[p] === 0) labels[p] = label;
  }
}

/**
 * Calls `visit` with each 6-neighbour of voxel p that lies inside a grid of `dims` (a box's dims for
 * a box-shaped mask). One function per grid, built once: the per-voxel call does the bounds tests.
 */
export function sixNeighbours(dims: Dims): (p: number, visit: (q: number) => void) => void {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  return (p, visit) => {
    const k = Math.floor(p / nxy);
    const j = Math.floor((p - k * nxy) / nx);
    const i = p - k * nxy - j * nx;
    if (i > 0) visit(p - 1);
    if (i < nx - 1) visit(p + 1);
    if (j > 0) visit(p - nx);
    if (j < ny - 1) visit(p + nx);
    if (k > 0) visit(p - nxy);
    if (k < nz - 1) visit(p + nxy);
  };
}

/** Volume of one voxel in mm³. */
export function voxelVolume(grid: Grid): number {
  return Math.abs(determinant3(grid.affine));
}

/**
 * World (RAS mm) centre of the voxels of `mask` equal to 1, or undefined for an empty mask. From the
 * runs of each row, found with one forward pass of the native indexOf (world position is linear in
 * i, j, k, so a run adds its length times its middle).
 */
export function maskCentre(mask: Uint8Array, grid: Grid): [number, number, number] | undefined {
  const [nx, ny] = grid.dims;
  let n = 0;
  let sumI = 0;
  let sumJ = 0;
  let sumK = 0;
  for (let p = mask.indexOf(1); p >= 0; ) {
    const row = Math.floor(p / nx);
    const end = (row + 1) * nx;
    let stop = mask.indexOf(0, p);
    if (stop < 0 || stop > end) stop = end;
    const len = stop - p;
    n += len;
    sumI += ((p + stop - 1) / 2 - row * nx) * len;
    sumJ += (row % ny) * len;
    sumK += Math.floor(row / ny) * len;
    p = mask.indexOf(1, stop);
  }
  return n === 0 ? undefined : apply(grid.affine, [sumI / n, sumJ / n, sumK / n]);
}
