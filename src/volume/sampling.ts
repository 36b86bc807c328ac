/**
 * The voxel loops behind resampling: fill an output grid by sampling a source grid through an index
 * map (output voxel index → source continuous voxel index, a row-major 4×4 affine).
 *
 * Two paths. When every source axis depends on exactly one output axis (the grids' axes are
 * parallel, possibly permuted or flipped: always the case for `resample`, which keeps directions),
 * the map is separable and each axis gets a precomputed table of source offsets and weights, so the
 * inner loop is loads and multiply-adds only. Otherwise (oblique grids) each row starts from the
 * mapped row origin and steps along i by a constant vector (x0 + i·dx: one multiply-add per
 * coordinate, no drift, no 4×4 product per voxel).
 *
 * Conventions, shared by both paths:
 * - A voxel index is the voxel's centre; voxel i covers [i − 0.5, i + 0.5).
 * - Nearest rounds half up (towards +∞) as ITK's `RoundHalfIntegerUp` does, after adding
 *   {@link TIE_TOLERANCE}: a position meant to be exactly on a half (1 mm → 2 mm grids) but a few
 *   ulps below it from the affine arithmetic still rounds the same way every time.
 * - A position is inside the source when its nearest voxel exists, i.e. it lies in the source's
 *   voxel extent [−0.5, n − 0.5) on every axis. Outside, `fill` is written when given; otherwise
 *   positions are clamped to the edge (nearest takes the edge voxel; linear clamps the continuous
 *   index to [0, n − 1], so the half voxel beyond the edge centres repeats the edge value).
 * - Linear is trilinear, evaluated as a + w·(b − a) in float64 so that a constant region stays
 *   exactly constant; integer outputs are rounded with `Math.round` (half up). A convex combination
 *   never leaves the input's range, so an integer output of the input's type cannot overflow.
 *   Float32 outputs along the source's own axes (flips allowed), clamped, go through a WebAssembly
 *   SIMD kernel in float32 arithmetic instead (sampling-simd.ts; ~3× faster, same up to float32
 *   rounding), where the runtime has one.
 * @module
 */
import { VoxgateError } from '../errors.js';
import type { Affine } from './affine.js';
import type { VoxelArray } from './datatype.js';
import { dataTypeOf, valueRange } from './datatype.js';
import type { Dims } from './volume.js';
import { sliceRange } from './volume.js';
import { linearSimd, nearestBytesSimd } from './sampling-simd.js';

export type Interpolation = 'linear' | 'nearest';

/**
 * Added before rounding to the nearest voxel: far below any meaningful distance (a micrometre on a
 * 1 mm grid), far above the rounding noise of an inverted affine (~1e-12 voxel).
 */
export const TIE_TOLERANCE = 1e-6;

/** Source offsets are Int32 tables: a source must have fewer voxels than this. */
export const MAX_SAMPLED_VOXELS = 2 ** 31 - 1;

export interface SampleSpec {
  readonly source: VoxelArray;
  readonly sourceDims: Dims;
  /** Output voxel index → source continuous voxel index (row-major 4×4). */
  readonly map: Affine;
  readonly out: VoxelArray;
  readonly outDims: Dims;
  readonly interpolation: Interpolation;
  /** Written where the position is outside the source; omitted: clamp to the edge. */
  readonly fill?: number;
  /**
   * Only output slices k0 ≤ k < k1 (the rest of `out` untouched), e.g. to share one grid between
   * threads; the values are those of the whole-grid call. Default: all.
   */
  readonly slices?: readonly [number, number];
}

/**
 * Fills `spec.out` by sampling `spec.source` (see the module notes for the conventions).
 * @example
 * // 2× nearest downsampling along i of a 4×1×1 row: output voxel p reads source voxel 2p + 1.
 * const out = new Uint8Array(2);
 * sampleInto({ source: Uint8Array.of(1, 2, 3, 4), sourceDims: [4, 1, 1], out, outDims: [2, 1, 1],
 *   map: [2, 0, 0, 0.5, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], interpolation: 'nearest' });
 * // out = [2, 4]
 */
export function sampleInto(spec: SampleSpec): void {
  const { source, sourceDims, out, outDims } = spec;
  if (source.length !== sourceDims[0] * sourceDims[1] * sourceDims[2] || out.length !== outDims[0] * outDims[1] * outDims[2]) {
    throw new VoxgateError('VXG_ERR_VOLUME_GRID_MISMATCH', 'Sampling arrays do not match their dimensions.');
  }
  if (source.length > MAX_SAMPLED_VOXELS) {
    throw new VoxgateError('VXG_ERR_VOLUME_TOO_LARGE', `A ${sourceDims.join('×')} image is too large to resample (at most ${MAX_SAMPLED_VOXELS} voxels).`);
  }
  if (spec.fill !== undefined) assertFits(spec.fill, out);
  const range = sliceRange(spec.slices, outDims[2]);
  if (range[1] <= range[0]) return;
  const axes = separableAxes(spec.map, outDims);
  if (axes === undefined) {
    if (spec.interpolation === 'nearest') sampleNearestGeneral(spec, range);
    else sampleLinearGeneral(spec, range, isIntegerArray(out));
    return;
  }
  const clamp = spec.fill === undefined;
  // Output axis a along source axis a (flips allowed): the WebAssembly kernels' case (sampling-simd.ts).
  const ownAxes = axes[0] === 0 && axes[1] === 1 && axes[2] === 2;
  if (spec.interpolation === 'linear') {
    const tables = axes.map((r, c) => linearTable(spec.map, r, c, outDims[c], sourceDims, clamp));
    // Every position on a voxel centre (same spacing, whole-voxel shifts): linear is a copy.
    if (tables.some((t) => t.weight.some((w) => w !== 0))) {
      if (ownAxes && clamp && out instanceof Float32Array && linearSimd(source, sourceDims, out, outDims, range, tables)) return;
      linearSeparable(source, out, outDims, range, tables, spec.fill ?? 0, isIntegerArray(out));
      return;
    }
  }
  const tables = axes.map((r, c) => nearestTable(spec.map, r, c, outDims[c], sourceDims, clamp));
  if (ownAxes && clamp && source instanceof Uint8Array && out instanceof Uint8Array && nearestBytesSimd(source, sourceDims, out, outDims, range, tables.map((t) => t.offset))) return;
  nearestSeparable(source, out, outDims, range, tables, spec.fill ?? 0);
}

/** The output slices a loop covers, [k0, k1). */
type Range = readonly [number, number];

/** Throws VXG_ERR_VOLUME_DATATYPE unless `value` is stored exactly in `out`'s type. */
export function assertFits(value: number, out: VoxelArray): void {
  const dataType = dataTypeOf(out);
  const [lo, hi] = valueRange(dataType);
  // Float outputs take any number, NaN included (a common "no data" marker in float images).
  const ok = !Number.isFinite(lo) || (Number.isInteger(value) && value >= lo && value <= hi);
  if (!ok) {
    throw new VoxgateError('VXG_ERR_VOLUME_DATATYPE', `Fill value ${value} does not fit in ${dataType} (${lo}..${hi}).`);
  }
}

function isIntegerArray(a: VoxelArray): boolean {
  return !(a instanceof Float32Array || a instanceof Float64Array);
}

/**
 * For each source axis r, the one output axis it depends on; undefined when the map mixes axes.
 * An entry counts as zero when it moves positions by under 1e-7 voxel across the whole output grid
 * (the rounding noise of an inverted affine between parallel grids).
 */
function separableAxes(map: Affine, outDims: Dims): [number, number, number] | undefined {
  const axisOf: number[] = [];
  for (let r = 0; r < 3; r++) {
    let best = 0;
    for (let c = 1; c < 3; c++) if (Math.abs(map[r * 4 + c]) > Math.abs(map[r * 4 + best])) best = c;
    for (let c = 0; c < 3; c++) {
      if (c !== best && Math.abs(map[r * 4 + c]) * Math.max(outDims[c] - 1, 1) > 1e-7) return undefined;
    }
    if (axisOf.includes(best)) return undefined;
    axisOf.push(best);
  }
  // Returned per output axis c: the source axis r that follows it.
  const sourceOf = [0, 0, 0];
  axisOf.forEach((c, r) => (sourceOf[c] = r));
  return sourceOf as [number, number, number];
}

interface NearestTable {
  /** Source flat offset along this axis, or -1 outside (fill mode only). */
  readonly offset: Int32Array;
}

export interface LinearTable {
  /** Offsets of the lower and upper neighbour, or lower = -1 outside (fill mode only). */
  readonly lower: Int32Array;
  readonly upper: Int32Array;
  readonly weight: Float64Array;
}

function strideOf(dims: Dims, r: number): number {
  return r === 0 ? 1 : r === 1 ? dims[0] : dims[0] * dims[1];
}

/** Nearest voxel of continuous index x, or -1 outside [0, n) when not clamping. */
function nearestIndex(x: number, n: number, clamp: boolean): number {
  const i = Math.floor(x + (0.5 + TIE_TOLERANCE));
  if (i >= 0 && i < n) return i;
  if (!clamp) return -1;
  return i < 0 ? 0 : n - 1;
}

function nearestTable(map: Affine, r: number, c: number, m: number, sourceDims: Dims, clamp: boolean): NearestTable {
  const scale = map[r * 4 + c];
  const shift = map[r * 4 + 3];
  const n = sourceDims[r];
  const stride = strideOf(sourceDims, r);
  const offset = new Int32Array(m);
  for (let p = 0; p < m; p++) {
    const i = nearestIndex(scale * p + shift, n, clamp);
    offset[p] = i < 0 ? -1 : i * stride;
  }
  return { offset };
}

function linearTable(map: Affine, r: number, c: number, m: number, sourceDims: Dims, clamp: boolean): LinearTable {
  const scale = map[r * 4 + c];
  const shift = map[r * 4 + 3];
  const n = sourceDims[r];
  const stride = strideOf(sourceDims, r);
  const lower = new Int32Array(m);
  const upper = new Int32Array(m);
  const weight = new Float64Array(m);
  for (let p = 0; p < m; p++) {
    const x = scale * p + shift;
    if (!clamp && nearestIndex(x, n, false) < 0) {
      lower[p] = -1;
      continue;
    }
    const xc = x < 0 ? 0 : x > n - 1 ? n - 1 : x;
    const i0 = Math.floor(xc);
    lower[p] = i0 * stride;
    if (i0 >= n - 1) {
      upper[p] = i0 * stride;
    } else {
      upper[p] = (i0 + 1) * stride;
      weight[p] = xc - i0;
    }
  }
  return { lower, upper, weight };
}

function nearestSeparable(source: VoxelArray, out: VoxelArray, outDims: Dims, [k0, k1]: Range, tables: NearestTable[], fill: number): void {
  const [m0, m1] = outDims;
  const tx = tables[0].offset;
  const ty = tables[1].offset;
  const tz = tables[2].offset;
  let o = k0 * m0 * m1;
  for (let k = k0; k < k1; k++) {
    const z = tz[k];
    for (let j = 0; j < m1; j++) {
      const y = ty[j];
      if (z < 0 || y < 0) {
        out.fill(fill, o, o + m0);
        o += m0;
        continue;
      }
      const base = z + y;
      for (let i = 0; i < m0; i++, o++) {
        const x = tx[i];
        out[o] = x < 0 ? fill : source[base + x];
      }
    }
  }
}

function linearSeparable(source: VoxelArray, out: VoxelArray, outDims: Dims, [k0, k1]: Range, tables: LinearTable[], fill: number, round: boolean): void {
  const [m0, m1] = outDims;
  const { lower: xa, upper: xb, weight: xw } = tables[0];
  const { lower: ya, upper: yb, weight: yw } = tables[1];
  const { lower: za, upper: zb, weight: zw } = tables[2];
  let o = k0 * m0 * m1;
  for (let k = k0; k < k1; k++) {
    const z0 = za[k];
    const z1 = zb[k];
    const wz = zw[k];
    for (let j = 0; j < m1; j++) {
      const y0 = ya[j];
      if (z0 < 0 || y0 < 0) {
        out.fill(fill, o, o + m0);
        o += m0;
        continue;
      }
      const y1 = yb[j];
      const wy = yw[j];
      const p00 = z0 + y0;
      const p01 = z0 + y1;
      const p10 = z1 + y0;
      const p11 = z1 + y1;
      for (let i = 0; i < m0; i++, o++) {
        const x0 = xa[i];
        if (x0 < 0) {
          out[o] = fill;
          continue;
        }
        const x1 = xb[i];
        const wx = xw[i];
        let a = source[p00 + x0];
        const v00 = a + wx * (source[p00 + x1] - a);
        a = source[p01 + x0];
        const v01 = a + wx * (source[p01 + x1] - a);
        a = source[p10 + x0];
        const v10 = a + wx * (source[p10 + x1] - a);
        a = source[p11 + x0];
        const v11 = a + wx * (source[p11 + x1] - a);
        const v0 = v00 + wy * (v01 - v00);
        const v1 = v10 + wy * (v11 - v10);
        const v = v0 + wz * (v1 - v0);
        out[o] = round ? Math.round(v) : v;
      }
    }
  }
}

function sampleNearestGeneral(spec: SampleSpec, [k0, k1]: Range): void {
  const { source, sourceDims, map: M, out, outDims } = spec;
  const [nx, ny, nz] = sourceDims;
  const [m0, m1] = outDims;
  const sy = nx;
  const sz = nx * ny;
  const clamp = spec.fill === undefined;
  const fill = spec.fill ?? 0;
  const half = 0.5 + TIE_TOLERANCE;
  const [dx, dy, dz] = [M[0], M[4], M[8]];
  let o = k0 * m0 * m1;
  for (let k = k0; k < k1; k++) {
    for (let j = 0; j < m1; j++) {
      const bx = M[1] * j + M[2] * k + M[3] + half;
      const by = M[5] * j + M[6] * k + M[7] + half;
      const bz = M[9] * j + M[10] * k + M[11] + half;
      for (let i = 0; i < m0; i++, o++) {
        let x = Math.floor(bx + dx * i);
        let y = Math.floor(by + dy * i);
        let z = Math.floor(bz + dz * i);
        if (x < 0 || x >= nx || y < 0 || y >= ny || z < 0 || z >= nz) {
          if (!clamp) {
            out[o] = fill;
            continue;
          }
          x = x < 0 ? 0 : x >= nx ? nx - 1 : x;
          y = y < 0 ? 0 : y >= ny ? ny - 1 : y;
          z = z < 0 ? 0 : z >= nz ? nz - 1 : z;
        }
        out[o] = source[x + sy * y + sz * z];
      }
    }
  }
}

function sampleLinearGeneral(spec: SampleSpec, [k0, k1]: Range, round: boolean): void {
  const { source, sourceDims, map: M, out, outDims } = spec;
  const [nx, ny, nz] = sourceDims;
  const [m0, m1] = outDims;
  const sy = nx;
  const sz = nx * ny;
  const clamp = spec.fill === undefined;
  const fill = spec.fill ?? 0;
  const half = 0.5 + TIE_TOLERANCE;
  const [dx, dy, dz] = [M[0], M[4], M[8]];
  let o = k0 * m0 * m1;
  for (let k = k0; k < k1; k++) {
    for (let j = 0; j < m1; j++) {
      const bx = M[1] * j + M[2] * k + M[3];
      const by = M[5] * j + M[6] * k + M[7];
      const bz = M[9] * j + M[10] * k + M[11];
      for (let i = 0; i < m0; i++, o++) {
        let x = bx + dx * i;
        let y = by + dy * i;
        let z = bz + dz * i;
        if (!clamp && (x + half < 0 || x + half >= nx || y + half < 0 || y + half >= ny || z + half < 0 || z + half >= nz)) {
          out[o] = fill;
          continue;
        }
        x = x < 0 ? 0 : x > nx - 1 ? nx - 1 : x;
        y = y < 0 ? 0 : y > ny - 1 ? ny - 1 : y;
        z = z < 0 ? 0 : z > nz - 1 ? nz - 1 : z;
        const i0 = Math.floor(x);
        const j0 = Math.floor(y);
        const k0 = Math.floor(z);
        const wx = x - i0;
        const wy = y - j0;
        const wz = z - k0;
        const ix = i0 < nx - 1 ? 1 : 0;
        const jy = j0 < ny - 1 ? sy : 0;
        const kz = k0 < nz - 1 ? sz : 0;
        const p00 = i0 + sy * j0 + sz * k0;
        const p01 = p00 + jy;
        const p10 = p00 + kz;
        const p11 = p10 + jy;
        let a = source[p00];
        const v00 = a + wx * (source[p00 + ix] - a);
        a = source[p01];
        const v01 = a + wx * (source[p01 + ix] - a);
        a = source[p10];
        const v10 = a + wx * (source[p10 + ix] - a);
        a = source[p11];
        const v11 = a + wx * (source[p11 + ix] - a);
        const v0 = v00 + wy * (v01 - v00);
        const v1 = v10 + wy * (v11 - v10);
        const v = v0 + wz * (v1 - v0);
        out[o] = round ? Math.round(v) : v;
      }
    }
  }
}
