/**
 * Binary morphology in millimetres: dilation, erosion, opening and closing by a ball of radius
 * `r` mm, which on an anisotropic grid is an ellipsoid of per-axis voxel radii `r / spacing`.
 *
 * Why distance-based and separable: a voxel is in the dilation of X when its Euclidean distance to
 * X is ≤ r, and the squared distance separates into per-axis terms (d² = dx² + dy² + dz²), so three
 * 1D passes give the exact ball whatever the spacing, in O(N·(Ry + Rz)) instead of O(N·R³). The
 * first pass is two linear sweeps; the other two take a windowed minimum over ±R voxels. Squared
 * distances are stored quantised in a Uint16Array relative to r² (4096 = on the sphere), which is
 * half the memory of floats and makes the result independent of the order of the axes (the sums are
 * exact integers), so a permuted or flipped grid gives the same voxels.
 *
 * Masks hold 0 and 1. Work is restricted to the mask's bounding box (grown by the radius). Treating the outside of the
 * grid as background (`outside: 0`, the classic default) shaves structures cut by the field of
 * view; `open` and `close` treat it as continuing (`outside: 1`), which keeps closing extensive.
 * @module
 */
import type { Dims } from '../../volume/volume.js';
import type { Box } from './grid.js';
import { boundingBox, cropArray, padBox } from './grid.js';

export type Spacing = readonly [number, number, number];

export interface MorphologyOptions {
  /** What voxels beyond the grid count as for an erosion: 0 background (default), 1 foreground. */
  readonly outside?: 0 | 1;
}

const SCALE = 4096;
const INF = 65535;

/** Per-axis voxel radius of a ball of `radiusMm`. */
export function voxelRadii(spacing: Spacing, radiusMm: number): [number, number, number] {
  return [0, 1, 2].map((a) => Math.floor(radiusMm / spacing[a] + 1e-9)) as [number, number, number];
}

/** X ⊕ B(r): voxels within `radiusMm` of the mask. */
export function dilate(mask: Uint8Array, dims: Dims, spacing: Spacing, radiusMm: number): Uint8Array {
  const radii = voxelRadii(spacing, radiusMm);
  if (radii[0] + radii[1] + radii[2] === 0) return mask.slice();
  return dilateInto(mask, new Uint8Array(mask.length), dims, spacing, radiusMm, {});
}

/** X ⊖ B(r): voxels whose whole ball lies inside the mask. */
export function erode(mask: Uint8Array, dims: Dims, spacing: Spacing, radiusMm: number, options: MorphologyOptions = {}): Uint8Array {
  const radii = voxelRadii(spacing, radiusMm);
  if (radii[0] + radii[1] + radii[2] === 0) return mask.slice();
  return erodeInto(mask, new Uint8Array(mask.length), dims, spacing, radiusMm, options, {});
}

/** Opening (erode then dilate): removes parts thinner than 2r, smooths convex corners. */
export function open(mask: Uint8Array, dims: Dims, spacing: Spacing, radiusMm: number): Uint8Array {
  const radii = voxelRadii(spacing, radiusMm);
  if (radii[0] + radii[1] + radii[2] === 0) return mask.slice();
  // The dilation is written over the erosion it reads (see dilateInto), with the erosion's distances' memory.
  const work: Work = {};
  const eroded = erodeInto(mask, new Uint8Array(mask.length), dims, spacing, radiusMm, { outside: 1 }, work);
  return dilateInto(eroded, eroded, dims, spacing, radiusMm, work);
}

/** Closing (dilate then erode): fills gaps and dents narrower than 2r. Never removes a voxel. */
export function close(mask: Uint8Array, dims: Dims, spacing: Spacing, radiusMm: number): Uint8Array {
  const radii = voxelRadii(spacing, radiusMm);
  if (radii[0] + radii[1] + radii[2] === 0) return mask.slice();
  const bounds = boundingBox(mask, dims);
  if (!bounds) return new Uint8Array(mask.length);
  // The erosion's box is at most the dilation's grown by one voxel: one distance array serves both.
  const work: Work = { q: new Uint16Array(voxelCount(padBox(padBox(bounds, radii, dims), [1, 1, 1], dims))) };
  const dilated = dilateInto(mask, new Uint8Array(mask.length), dims, spacing, radiusMm, work);
  const closed = erodeInto(dilated, dilated, dims, spacing, radiusMm, { outside: 1 }, work);
  // Only where the mask is set: writing every voxel would make every page of `closed` resident.
  for (let p = mask.indexOf(1); p >= 0; p = mask.indexOf(1, p + 1)) closed[p] = 1;
  return closed;
}

/**
 * The closing of `mask` written over it (the mask is returned): as `close`, without a second
 * full-grid mask. Only the mask's bounds are copied, for the final union with the original.
 */
export function closeInPlace(mask: Uint8Array, dims: Dims, spacing: Spacing, radiusMm: number): Uint8Array {
  const radii = voxelRadii(spacing, radiusMm);
  const bounds = boundingBox(mask, dims);
  if (radii[0] + radii[1] + radii[2] === 0 || !bounds) return mask;
  const original = cropArray(mask, dims, bounds);
  const work: Work = { q: new Uint16Array(voxelCount(padBox(padBox(bounds, radii, dims), [1, 1, 1], dims))) };
  dilateInto(mask, mask, dims, spacing, radiusMm, work);
  erodeInto(mask, mask, dims, spacing, radiusMm, { outside: 1 }, work);
  const [bx, by, bz] = [0, 1, 2].map((a) => bounds.max[a] - bounds.min[a] + 1);
  const [nx, ny] = dims;
  for (let k = 0, o = 0; k < bz; k++) {
    for (let j = 0; j < by; j++) {
      const row = bounds.min[0] + (bounds.min[1] + j) * nx + (bounds.min[2] + k) * nx * ny;
      for (let i = 0; i < bx; i++, o++) if (original[o] !== 0) mask[row + i] = 1;
    }
  }
  return mask;
}

/** Memory one morphology call hands to the next: the squared distances (any length that is large enough). */
interface Work {
  q?: Uint16Array;
}

function voxelCount(box: Box): number {
  return (box.max[0] - box.min[0] + 1) * (box.max[1] - box.min[1] + 1) * (box.max[2] - box.min[2] + 1);
}

/**
 * The dilation of `mask` written into `out` (zero outside the mask's bounds; `out` may be `mask`
 * itself, since the distances are computed before anything is written). Radii must not all be 0.
 */
function dilateInto(mask: Uint8Array, out: Uint8Array, dims: Dims, spacing: Spacing, radiusMm: number, work: Work): Uint8Array {
  const radii = voxelRadii(spacing, radiusMm);
  const bounds = boundingBox(mask, dims);
  if (!bounds) return out;
  const box = padBox(bounds, radii, dims);
  const edges = [false, false, false, false, false, false];
  if (byRows(mask, out, dims, spacing, radiusMm, radii, box, false, edges)) return out;
  const q = squaredDistances(mask, dims, spacing, radiusMm, radii, box, false, edges, work);
  writeThreshold(q, out, dims, box, false);
  return out;
}

/** The erosion of `mask` written into `out`, as dilateInto. */
function erodeInto(mask: Uint8Array, out: Uint8Array, dims: Dims, spacing: Spacing, radiusMm: number, options: MorphologyOptions, work: Work): Uint8Array {
  const radii = voxelRadii(spacing, radiusMm);
  const bounds = boundingBox(mask, dims);
  if (!bounds) return out;
  // One voxel of margin so the box edge is background unless it is the grid's edge.
  const box = padBox(bounds, [1, 1, 1], dims);
  const outsideFg = (options.outside ?? 0) === 0;
  const edges = [0, 1, 2].flatMap((a) => [
    box.min[a] > 0 || outsideFg,
    box.max[a] < dims[a] - 1 || outsideFg,
  ]);
  if (byRows(mask, out, dims, spacing, radiusMm, radii, box, true, edges)) return out;
  const q = squaredDistances(mask, dims, spacing, radiusMm, radii, box, true, edges, work);
  writeThreshold(q, out, dims, box, true);
  return out;
}

/** A ball with more rows than this (along axes 1 and 2) goes by squared distances instead of by rows. */
const MAX_BALL_ROWS = 96;

/** The quantised squared distance of offset d (voxels) along one axis, as the distance passes use it. */
function axisTable(spacing: number, radiusMm: number, radius: number): Uint16Array {
  const t = new Uint16Array(radius + 2);
  for (let d = 0; d <= radius; d++) t[d] = Math.min(INF, Math.round(((d * spacing) ** 2 / (radiusMm * radiusMm)) * SCALE));
  t[radius + 1] = INF;
  return t;
}

/**
 * Dilation (or, with `invert`, erosion) of `mask` over `box` into `out`, by the rows of the ball:
 * the ball of the quantised distances (the offsets whose per-axis terms sum to at most r²) is, for
 * each row offset (dj, dk), an interval of i offsets ±a. Rows of the box are packed 32 voxels to a
 * word, dilated along i by each a that occurs, and OR-ed over the ball's rows: the voxels the
 * squared-distance passes give, at a fraction of their work. False when the ball has too many rows
 * (the caller then takes the distance passes).
 *
 * The feature set is mask = 1 (mask = 0 for `invert`); beyond a box face the voxels are feature
 * where `edges` says so (as in squaredDistances), and a row outside the box is feature when a face
 * it lies beyond is. The result is feature-within-the-ball for a dilation, its complement for an
 * erosion.
 */
function byRows(
  mask: Uint8Array,
  out: Uint8Array,
  dims: Dims,
  spacing: Spacing,
  radiusMm: number,
  radii: readonly [number, number, number],
  box: Box,
  invert: boolean,
  edges: readonly boolean[],
): boolean {
  const [t0, t1, t2] = [0, 1, 2].map((a) => axisTable(spacing[a], radiusMm, radii[a]));
  const ball: { dj: number; dk: number; a: number }[] = [];
  for (let dk = -radii[2]; dk <= radii[2]; dk++) {
    for (let dj = -radii[1]; dj <= radii[1]; dj++) {
      const base = t1[Math.abs(dj)] + t2[Math.abs(dk)];
      if (base > SCALE) continue;
      let a = 0;
      while (a < radii[0] && base + t0[a + 1] <= SCALE) a++;
      ball.push({ dj, dk, a });
    }
  }
  if (ball.length > MAX_BALL_ROWS) return false;
  const [nx, ny] = dims;
  const bx = box.max[0] - box.min[0] + 1;
  const by = box.max[1] - box.min[1] + 1;
  const bz = box.max[2] - box.min[2] + 1;
  const words = (bx + 31) >>> 5;
  const rows = by * bz;
  const want = invert ? 0 : 1;
  // Bits of the last word beyond the box: what lies beyond the high i face.
  const tail = bx & 31 ? ~0 << (bx & 31) : 0;
  const lowFill = edges[0] ? ~0 : 0;
  const highFill = edges[1] ? ~0 : 0;
  const packed = new Int32Array(rows * words);
  for (let k = 0, r = 0; k < bz; k++) {
    for (let j = 0; j < by; j++, r++) {
      const src = box.min[0] + (box.min[1] + j) * nx + (box.min[2] + k) * nx * ny;
      const w0 = r * words;
      for (let w = 0; w < words; w++) {
        let bits = 0;
        const i0 = w << 5;
        const n = Math.min(32, bx - i0);
        for (let b = 0; b < n; b++) if (mask[src + i0 + b] === want) bits |= 1 << b;
        packed[w0 + w] = bits;
      }
      packed[w0 + words - 1] = (packed[w0 + words - 1] & ~tail) | (highFill & tail);
    }
  }
  // Each row dilated along i by every a the ball uses, one step (±1) at a time.
  const maxA = Math.max(...ball.map((b) => b.a));
  const byA: Int32Array[] = [packed];
  const row = new Int32Array(words);
  for (let a = 1; a <= maxA; a++) {
    const prev = byA[a - 1];
    const next = new Int32Array(rows * words);
    for (let r = 0; r < rows; r++) {
      const w0 = r * words;
      for (let w = 0; w < words; w++) row[w] = prev[w0 + w];
      for (let w = 0; w < words; w++) {
        const x = row[w];
        const lower = w > 0 ? row[w - 1] : lowFill;
        const upper = w < words - 1 ? row[w + 1] : highFill;
        next[w0 + w] = x | (x << 1) | (lower >>> 31) | (x >>> 1) | (upper << 31);
      }
      next[w0 + words - 1] = (next[w0 + words - 1] & ~tail) | (highFill & tail);
    }
    byA.push(next);
  }
  const inside = invert ? 0 : 1;
  const outside = 1 - inside;
  const acc = new Int32Array(words);
  for (let k = 0, r = 0; k < bz; k++) {
    for (let j = 0; j < by; j++, r++) {
      acc.fill(0);
      let all = false;
      for (const { dj, dk, a } of ball) {
        const jj = j + dj;
        const kk = k + dk;
        if (jj < 0 || jj >= by || kk < 0 || kk >= bz) {
          if ((jj < 0 && edges[2]) || (jj >= by && edges[3]) || (kk < 0 && edges[4]) || (kk >= bz && edges[5])) {
            all = true;
            break;
          }
          continue;
        }
        const src = byA[a];
        const s0 = (kk * by + jj) * words;
        for (let w = 0; w < words; w++) acc[w] |= src[s0 + w];
      }
      const d = box.min[0] + (box.min[1] + j) * nx + (box.min[2] + k) * nx * ny;
      if (all) {
        out.fill(inside, d, d + bx);
        continue;
      }
      for (let w = 0; w < words; w++) {
        const bits = acc[w];
        const i0 = w << 5;
        const n = Math.min(32, bx - i0);
        if (bits === 0) out.fill(outside, d + i0, d + i0 + n);
        else if (bits === ~0) out.fill(inside, d + i0, d + i0 + n);
        else for (let b = 0; b < n; b++) out[d + i0 + b] = (bits >>> b) & 1 ? inside : outside;
      }
    }
  }
  return true;
}

/**
 * Quantised squared distance (4096 = r²) from each voxel of `box` to the nearest "feature" voxel:
 * mask ≠ 0 (or mask = 0 when `invert`), counting the region beyond each box face as feature where
 * `edges[2a]` (low face of axis a) / `edges[2a+1]` (high face) says so.
 */
function squaredDistances(
  mask: Uint8Array,
  dims: Dims,
  spacing: Spacing,
  radiusMm: number,
  radii: readonly [number, number, number],
  box: Box,
  invert: boolean,
  edges: readonly boolean[],
  work: Work,
): Uint16Array {
  const [nx, ny] = dims;
  const nxy = nx * ny;
  const bx = box.max[0] - box.min[0] + 1;
  const by = box.max[1] - box.min[1] + 1;
  const bz = box.max[2] - box.min[2] + 1;
  const r2 = radiusMm * radiusMm;
  const table = (a: number): Uint16Array => {
    const t = new Uint16Array(radii[a] + 2);
    for (let d = 0; d <= radii[a]; d++) t[d] = Math.min(INF, Math.round(((d * spacing[a]) ** 2 / r2) * SCALE));
    t[radii[a] + 1] = INF;
    return t;
  };
  const [q0, q1, q2] = [table(0), table(1), table(2)];
  const [r0, r1, r2v] = radii;
  const want = invert ? 0 : 1;
  // Every element of the box is written by the first pass: kept memory needs no clearing.
  if (!work.q || work.q.length < bx * by * bz) work.q = new Uint16Array(bx * by * bz);
  const q = work.q.subarray(0, bx * by * bz);
  const left = new Int32Array(bx);

  // Pass 1 (axis 0): two sweeps per row give the distance in voxels to the nearest feature.
  for (let k = 0; k < bz; k++) {
    for (let j = 0; j < by; j++) {
      const src = box.min[0] + (box.min[1] + j) * nx + (box.min[2] + k) * nxy;
      const dst = (k * by + j) * bx;
      let last = edges[0] ? -1 : -1e9;
      for (let i = 0; i < bx; i++) {
        if (mask[src + i] === want) last = i;
        left[i] = i - last;
      }
      let next = edges[1] ? bx : 1e9;
      for (let i = bx - 1; i >= 0; i--) {
        if (mask[src + i] === want) next = i;
        const l = left[i];
        const d = l < next - i ? l : next - i;
        q[dst + i] = d <= r0 ? q0[d] : INF;
      }
    }
  }
  // Passes 2 and 3 (axes 1 and 2): windowed minimum of q + (d·s)².
  if (r1 > 0) windowPass(q, bx, by, bz, 1, r1, q1, edges[2], edges[3]);
  if (r2v > 0) windowPass(q, bx, by, bz, 2, r2v, q2, edges[4], edges[5]);
  return q;
}

/**
 * One windowed pass along axis 1 or 2. Whole rows along axis 0 (contiguous in memory) are processed
 * together so the inner loop streams through memory instead of striding across planes.
 */
function windowPass(
  q: Uint16Array,
  bx: number,
  by: number,
  bz: number,
  axis: 1 | 2,
  radius: number,
  table: Uint16Array,
  lowEdge: boolean,
  highEdge: boolean,
): void {
  const n = axis === 1 ? by : bz;
  const stride = axis === 1 ? bx : bx * by;
  const groups = axis === 1 ? bz : by;
  const groupStride = axis === 1 ? bx * by : bx;
  const buf = new Uint16Array(n * bx);
  const best = new Uint16Array(bx);
  const rowHasData = new Uint8Array(n);
  for (let g = 0; g < groups; g++) {
    const base = g * groupStride;
    let any = false;
    for (let t = 0; t < n; t++) {
      const row = q.subarray(base + t * stride, base + t * stride + bx);
      buf.set(row, t * bx);
      let has = 0;
      for (let i = 0; i < bx; i++) {
        if (row[i] !== INF) {
          has = 1;
          break;
        }
      }
      rowHasData[t] = has;
      if (has) any = true;
    }
    if (!any && !lowEdge && !highEdge) continue;
    for (let t = 0; t < n; t++) {
      let edge = INF;
      if (lowEdge && t + 1 <= radius) edge = table[t + 1];
      if (highEdge && n - t <= radius && table[n - t] < edge) edge = table[n - t];
      best.fill(edge);
      const lo = t - radius < 0 ? 0 : t - radius;
      const hi = t + radius >= n ? n - 1 : t + radius;
      for (let u = lo; u <= hi; u++) {
        if (rowHasData[u] === 0) continue;
        const add = table[u > t ? u - t : t - u];
        const off = u * bx;
        for (let i = 0; i < bx; i++) {
          const v = buf[off + i] + add;
          if (v < best[i]) best[i] = v;
        }
      }
      q.set(best, base + t * stride);
    }
  }
}

/** out = q ≤ r² over the box (dilation), or q > r² (erosion: outside the complement's dilation). */
function writeThreshold(q: Uint16Array, out: Uint8Array, dims: Dims, box: Box, beyond: boolean): void {
  const [nx, ny] = dims;
  const bx = box.max[0] - box.min[0] + 1;
  const by = box.max[1] - box.min[1] + 1;
  const bz = box.max[2] - box.min[2] + 1;
  let s = 0;
  for (let k = 0; k < bz; k++) {
    for (let j = 0; j < by; j++) {
      const d = box.min[0] + (box.min[1] + j) * nx + (box.min[2] + k) * nx * ny;
      if (beyond) for (let i = 0; i < bx; i++, s++) out[d + i] = q[s] > SCALE ? 1 : 0;
      else for (let i = 0; i < bx; i++, s++) out[d + i] = q[s] <= SCALE ? 1 : 0;
    }
  }
}
