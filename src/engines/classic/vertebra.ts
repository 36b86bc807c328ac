/**
 * One vertebra out of the spine's bone (a click labelled as a vertebra, point-prompt.ts). The
 * skeleton joins the vertebrae through the discs' bony rims and the ribs' joints, so the bone piece
 * under such a click is the spine with the ribs' heads. The discs are found along the column under
 * the click: in the axial slices through a vertebral body, the bone covers the whole disc of
 * BODY_RADIUS_MM around the click; at a disc only the endplates' rim and the arch do (patient C:
 * T12's body 1.00 in every slice, the discs above and below 0.57 and 0.31–0.59). The vertebra is the
 * piece between the nearest slice below and the nearest above where that cover falls under
 * DISC_COVER, within PROCESS_REACH_MM of the click across the column (the ribs leave the spine
 * there), its component under the click. A click whose own slice is not covered (in an arch, or in
 * a body the bone does not fill) finds no column: the piece is left as it is.
 *
 * Patient C, a click in T12's body: Dice 0.573 for the spine's piece → 0.678 (the posterior arch of
 * T11, which lies beside T12's body, stays: the cut is by slices).
 *
 * Where the discs are as dense as the bodies, the cover finds none: an osteopenic spine (patient B's
 * CTA: T12's cancellous bone ~110 HU, its discs 105–145 HU in the column, 1.5 mm slices that cut
 * the endplates) is filled as bone through its discs, and the cover stays over DISC_COVER for 60 mm.
 * A column taller than MAX_BODY_MM is then cut at the endplates instead (endplateBound): along the
 * column, the mean intensity rises at each endplate (B: 206 and 210 HU against the body's ~118) and
 * falls into the disc beyond it (113 and 130 HU); the vertebra ends half-way down that fall.
 *
 * Such a body may not be bone at all: its cortex open behind (a posterior wall under the bone
 * threshold over 15 mm, B's T12), its marrow not a hole the skeleton's filling sees, a click in it
 * is on no bone. vertebralBody finds it: what around the click is enclosed by bone in the axial
 * plane (7 of 8 directions meet bone within ENCLOSED_MM: enclosure.ts) and, in the mean of its
 * neighbourhood, marrow rather than the canal's CSF and cord (MARROW_OR_CANAL_HU).
 *
 * Last, what hangs on the vertebra by a neck and is thicker than any part of it is left out
 * (withoutThickBlobs): in a click's window the skeleton may hold a vessel that touches the spine
 * (patient B's lower aorta, outside the blood pool). The neck's depth, NECK_MM, was chosen on B:
 * at 3 mm the aorta stayed joined to T12's body (its first click 0.697), at 4.5 mm it parts (0.804),
 * at 6 mm the body's own deeper parts part too (0.747).
 * @module
 */
import type { Dims } from '../../volume/volume.js';
import type { VoxelArray } from '../../volume/datatype.js';
import { objectDepth } from './click-split.js';
import { listComponents, selectComponents } from './components.js';
import type { PlaneGeometry } from './circle-hough.js';
import { enclosedInPlane } from './enclosure.js';
import { fillHoles3d } from './fill-holes.js';
import { boundingBox, boxDims, boxToGrid, cropArray, gridToBox, padBox, stridesOf, voxelCoords } from './grid.js';
import { dilate } from './morphology.js';
import { planeAxes } from './slices.js';

/** Radius (mm) of the disc around the click, across the column, whose cover by bone tells body from disc. */
const BODY_RADIUS_MM = 12;
/** A click's own slice must be covered at least this much: a click in a vertebral body. */
const BODY_COVER = 0.9;
/** Below this cover a slice is a disc. */
const DISC_COVER = 0.7;
/** How far (mm) across the column from the click the vertebra reaches (its processes; the ribs beyond). */
const PROCESS_REACH_MM = 40;
/** The tallest vertebral body with its endplates (mm; a lumbar one is ~30): a column the cover finds taller holds discs it did not see. */
const MAX_BODY_MM = 40;
/** An endplate rises at least this far (HU) over the body's level in the column's mean (B: 88–92 HU; the mean of ~200 voxels varies by ~5 HU slice to slice). */
const ENDPLATE_RISE_HU = 40;
/** The body's level is the median of the column's means within this distance (mm) of the click. */
const LEVEL_REACH_MM = 5;
/** How far (mm) in the axial plane a vertebral body's cortex may lie from a voxel it encloses: across the body (a lumbar one is ~50 mm wide; B's T12 ~30 mm, and a voxel by one wall reaches the other). */
const ENCLOSED_MM = 50;
/**
 * Marrow, not the spinal canal: the mean (HU) of the voxels that are not bone within MEAN_RADIUS_MM
 * in the axial plane, half-way from CSF and cord (~20 HU) to an osteopenic body's cancellous bone
 * (~100 HU; B's T12 runs from 13 to 328 HU voxel to voxel, so one voxel tells nothing).
 */
const MARROW_OR_CANAL_HU = 60;
const MEAN_RADIUS_MM = 3;
/** Depth (mm) under which a vertebra's parts meet at necks (withoutThickBlobs): a neck under 9 mm across. */
const NECK_MM = 4.5;
/**
 * A part at least this deep (mm) that meets the body only at a neck is no part of the vertebra: the
 * arch and its processes are at most ~10 mm thick (5 mm deep); an enhanced aorta that the skeleton
 * took where it touches the spine is ~10 mm deep.
 */
const BLOB_MM = 6;
/** The grid (mm) those depths are judged on: axes finer than this are sampled every n-th voxel. */
const DEPTH_GRID_MM = 1.5;

/**
 * The vertebra under the click `at` in `piece` (the bone's component under it; window arrays, i
 * fastest), `values` the image there, `axis` the array axis nearest superior. Returns a new mask,
 * or `piece` itself when the click is not in a vertebral body.
 * @example
 * const vertebra = vertebraOf(piece, raw, wd, spacing, 2, at);
 */
export function vertebraOf(
  piece: Uint8Array,
  values: VoxelArray,
  dims: Dims,
  spacing: readonly [number, number, number],
  axis: 0 | 1 | 2,
  at: number,
): Uint8Array {
  const strides = stridesOf(dims);
  const c = voxelCoords(at, dims);
  const [ua, va] = planeAxes(axis);
  const cover = (slice: number, radius: number, count: (p: number) => void): void => {
    const ru = Math.floor(radius / spacing[ua]);
    const rv = Math.floor(radius / spacing[va]);
    for (let v = Math.max(0, c[va] - rv); v <= Math.min(dims[va] - 1, c[va] + rv); v++) {
      for (let u = Math.max(0, c[ua] - ru); u <= Math.min(dims[ua] - 1, c[ua] + ru); u++) {
        if (((u - c[ua]) * spacing[ua]) ** 2 + ((v - c[va]) * spacing[va]) ** 2 > radius * radius) continue;
        count(slice * strides[axis] + u * strides[ua] + v * strides[va]);
      }
    }
  };
  // The mean of `array` over the disc of BODY_RADIUS_MM around the column in a slice: of the bone,
  // its cover; of the image, the column's profile.
  const discMean = (array: ArrayLike<number>, slice: number): number => {
    let sum = 0;
    let all = 0;
    cover(slice, BODY_RADIUS_MM, (p) => {
      all++;
      sum += array[p];
    });
    return all > 0 ? sum / all : 0;
  };
  const covered = (slice: number): number => discMean(piece, slice);
  if (covered(c[axis]) < BODY_COVER) return piece;
  let lo = c[axis];
  while (lo > 0 && covered(lo - 1) >= DISC_COVER) lo--;
  let hi = c[axis];
  while (hi < dims[axis] - 1 && covered(hi + 1) >= DISC_COVER) hi++;
  if ((hi - lo + 1) * spacing[axis] > MAX_BODY_MM) {
    // Discs as dense as the bodies: cut at the endplates, when both are found. The profile is read
    // only within MAX_BODY_MM of the click (endplateBound).
    const most = Math.round(MAX_BODY_MM / spacing[axis]);
    const profile = new Float64Array(dims[axis]);
    for (let slice = Math.max(0, c[axis] - most); slice <= Math.min(dims[axis] - 1, c[axis] + most); slice++) profile[slice] = discMean(values, slice);
    const reach = Math.round(LEVEL_REACH_MM / spacing[axis]);
    const near = [...profile.subarray(Math.max(0, c[axis] - reach), c[axis] + reach + 1)].sort((a, b) => a - b);
    const level = near[near.length >> 1];
    const below = endplateBound(profile, c[axis], -1, level, most);
    const above = endplateBound(profile, c[axis], 1, level, most);
    if (below !== undefined && above !== undefined) {
      lo = below;
      hi = above;
    }
  }
  const out = new Uint8Array(piece.length);
  for (let slice = lo; slice <= hi; slice++) {
    cover(slice, PROCESS_REACH_MM, (p) => {
      out[p] = piece[p];
    });
  }
  return withoutThickBlobs(selectComponents(out, dims, [at], 6), dims, spacing, at);
}

/**
 * The vertebra `vertebra` (window arrays) without what hangs on it by a neck and is thicker than any
 * of its own parts: the parts of it deeper than NECK_MM, each one piece, are its body (the one the
 * click `at` is in) and the thicker parts of its arch (under BLOB_MM deep); one at least BLOB_MM
 * deep is something the skeleton joined to it — patient B's lower aorta, outside the blood pool,
 * enhanced to ~230 HU and taken as bone where a bridge of partial volume joins it to T12's body in
 * a click's window (2 839 voxels of the first click's answer). Such a part goes with what lies
 * within NECK_MM of its deep core (its rim); the rest keeps the piece under the click. A click less
 * than NECK_MM deep leaves the vertebra as it is.
 */
function withoutThickBlobs(vertebra: Uint8Array, dims: Dims, spacing: readonly [number, number, number], at: number): Uint8Array {
  // Judged on every n-th voxel along an axis finer than DEPTH_GRID_MM: depths of NECK_MM and BLOB_MM
  // need no finer grid, and on the bench's 0.7 mm CT the distance transform of a labelled click's
  // vertebra took 95–160 ms of its 1 s.
  const step = spacing.map((s) => Math.max(1, Math.floor(DEPTH_GRID_MM / s))) as [number, number, number];
  const sampled = step.every((n) => n === 1) ? { mask: vertebra, dims, cellOf: (p: number) => p } : subsample(vertebra, dims, step);
  const sd = sampled.dims;
  const measured = objectDepth(sampled.mask, sd, [spacing[0] * step[0], spacing[1] * step[1], spacing[2] * step[2]]);
  if (!measured) return vertebra;
  const { box, depth } = measured;
  const bd = boxDims(box);
  const clicked = gridToBox(box, sd)(sampled.cellOf(at));
  if (depth[clicked] < NECK_MM) return vertebra;
  const deep = Uint8Array.from(depth, (d) => (d >= NECK_MM ? 1 : 0));
  const parts = listComponents(deep, bd, 6, (voxels) => {
    let most = 0;
    let holds = false;
    for (const b of voxels) {
      most = Math.max(most, depth[b]);
      holds ||= b === clicked;
    }
    return { most, holds };
  });
  const foreignCells = new Set<number>();
  const toSampled = boxToGrid(box, sd);
  for (const c of parts.list) {
    if (c.stats.holds || c.stats.most < BLOB_MM) continue;
    for (const b of parts.voxels.subarray(c.offset, c.offset + c.size)) foreignCells.add(toSampled(b));
  }
  if (foreignCells.size === 0) return vertebra;
  // Back on the window: the voxels each foreign sample stands for, and what lies within NECK_MM.
  const foreign = new Uint8Array(vertebra.length);
  for (let p = vertebra.indexOf(1); p >= 0; p = vertebra.indexOf(1, p + 1)) if (foreignCells.has(sampled.cellOf(p))) foreign[p] = 1;
  const gone = dilate(foreign, dims, spacing, NECK_MM);
  const kept = vertebra.slice();
  for (let p = 0; p < kept.length; p++) kept[p] &= gone[p] ^ 1;
  return selectComponents(kept, dims, [at], 6);
}

/** Every `step`-th voxel of `mask` along each axis (the first of each block), and the sample each voxel of `dims` falls in. */
function subsample(mask: Uint8Array, dims: Dims, step: readonly [number, number, number]): { mask: Uint8Array; dims: Dims; cellOf: (p: number) => number } {
  const sd = [0, 1, 2].map((a) => Math.ceil(dims[a] / step[a])) as unknown as Dims;
  const out = new Uint8Array(sd[0] * sd[1] * sd[2]);
  for (let k = 0, c = 0; k < sd[2]; k++) {
    for (let j = 0; j < sd[1]; j++) {
      const row = dims[0] * (j * step[1] + dims[1] * k * step[2]);
      for (let i = 0; i < sd[0]; i++, c++) out[c] = mask[row + i * step[0]];
    }
  }
  const cellOf = (p: number): number => {
    const [i, j, k] = voxelCoords(p, dims);
    return Math.floor(i / step[0]) + sd[0] * (Math.floor(j / step[1]) + sd[1] * Math.floor(k / step[2]));
  };
  return { mask: out, dims: sd, cellOf };
}

/**
 * Where a vertebral body ends along its column (slices of `profile`, the column's mean intensity),
 * going from the click's slice `from` in direction `dir`: past the first slice ENDPLATE_RISE_HU over
 * the body's `level` (the endplate), up to its peak, then down into the disc to the lowest slice
 * before the profile rises again; the body ends at the last slice still half-way or more from that
 * low to the peak. Undefined when there is no such endplate within `most` slices (MAX_BODY_MM), or
 * no fall of ENDPLATE_RISE_HU after it (a disc beyond the image's end, noise on the endplate's flank).
 */
function endplateBound(profile: Float64Array, from: number, dir: 1 | -1, level: number, most: number): number | undefined {
  const inside = (s: number): boolean => s >= 0 && s < profile.length && Math.abs(s - from) <= most;
  let s = from;
  while (inside(s) && profile[s] < level + ENDPLATE_RISE_HU) s += dir;
  if (!inside(s)) return undefined;
  while (inside(s + dir) && profile[s + dir] >= profile[s]) s += dir;
  const peak = s;
  while (inside(s + dir) && profile[s + dir] <= profile[s]) s += dir;
  const disc = s;
  if (profile[peak] - profile[disc] < ENDPLATE_RISE_HU) return undefined;
  const half = (profile[peak] + profile[disc]) / 2;
  let end = peak;
  while (profile[end + dir] >= half) end += dir;
  return end;
}

/**
 * The vertebral body around a click `at` that is on no bone (window arrays, i fastest; `bone` the
 * skeleton there, `values` the image, `axis` the array axis nearest superior): the 6-connected
 * voxels from the click that are not bone, are enclosed by it in their axial plane
 * (enclosedInPlane: 7 of the 8 directions meet bone within ENCLOSED_MM) and whose neighbourhood's
 * mean, bone left out, is marrow's (≥ MARROW_OR_CANAL_HU), walked within MAX_BODY_MM of the click
 * along the axis and 2·ENCLOSED_MM across it; with the holes that leaves in it and its cortex
 * (darker trabecular spaces) filled. Undefined when the click itself is not such a voxel.
 * @example
 * const body = vertebralBody(skeleton, raw, wd, spacing, 2, at); // bone ∪ body: the clicked vertebra's
 */
export function vertebralBody(bone: Uint8Array, values: VoxelArray, dims: Dims, spacing: readonly [number, number, number], axis: 0 | 1 | 2, at: number): Uint8Array | undefined {
  const strides = stridesOf(dims);
  const c = voxelCoords(at, dims);
  const [ua, va] = planeAxes(axis);
  const reach = [0, 1, 2].map((a) => Math.round((a === axis ? MAX_BODY_MM : 2 * ENCLOSED_MM) / spacing[a]));
  const within = (q: readonly number[]): boolean => q.every((x, a) => x >= 0 && x < dims[a] && Math.abs(x - c[a]) <= reach[a]);
  const mu = Math.round(MEAN_RADIUS_MM / spacing[ua]);
  const mv = Math.round(MEAN_RADIUS_MM / spacing[va]);
  const marrow = (p: number, q: readonly number[]): boolean => {
    let sum = 0;
    let all = 0;
    for (let v = Math.max(0, q[va] - mv); v <= Math.min(dims[va] - 1, q[va] + mv); v++) {
      for (let u = Math.max(0, q[ua] - mu); u <= Math.min(dims[ua] - 1, q[ua] + mu); u++) {
        const r = p + (u - q[ua]) * strides[ua] + (v - q[va]) * strides[va];
        if (bone[r] !== 0) continue;
        sum += values[r];
        all++;
      }
    }
    return all > 0 && sum >= MARROW_OR_CANAL_HU * all;
  };
  // Each axial slice's plane, built once: the walk looks at every voxel it reaches.
  const planes: PlaneGeometry[] = [];
  const planeOf = (slice: number): PlaneGeometry =>
    (planes[slice] ??= { nu: dims[ua], nv: dims[va], su: strides[ua], sv: strides[va], base: slice * strides[axis], du: spacing[ua], dv: spacing[va] });
  const accepts = (p: number): boolean => {
    const q = voxelCoords(p, dims);
    return bone[p] === 0 && within(q) && marrow(p, q) && enclosedInPlane(bone, planeOf(q[axis]), q[ua], q[va], ENCLOSED_MM);
  };
  if (!accepts(at)) return undefined;
  // 1: in the body; 2: looked at and not.
  const state = new Uint8Array(bone.length);
  state[at] = 1;
  const queue = [at];
  for (let h = 0; h < queue.length; h++) {
    const p = queue[h];
    const q = voxelCoords(p, dims);
    for (let a = 0; a < 3; a++) {
      for (const d of [-1, 1]) {
        if (q[a] + d < 0 || q[a] + d >= dims[a]) continue;
        const r = p + d * strides[a];
        if (state[r] !== 0) continue;
        state[r] = accepts(r) ? 1 : 2;
        if (state[r] === 1) queue.push(r);
      }
    }
  }
  const body = new Uint8Array(bone.length);
  for (const p of queue) body[p] = 1;
  // Its darker trabecular spaces are holes in it and its cortex: filled within the body's bounds
  // (the canal, open along the spine, reaches their ends and stays open).
  const box = padBox(boundingBox(body, dims)!, [1, 1, 1], dims);
  const bd = boxDims(box);
  const both = cropArray(body, dims, box);
  const cortex = cropArray(bone, dims, box);
  for (let b = 0; b < both.length; b++) both[b] |= cortex[b];
  const filled = fillHoles3d(both, bd);
  const toGrid = boxToGrid(box, dims);
  for (let b = 0; b < filled.length; b++) if (filled[b] !== 0 && both[b] === 0) body[toGrid(b)] = 1;
  return body;
}
