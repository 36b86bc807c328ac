/**
 * The spinal cord (VISTA3D 121), as the spinal canal less a rim of cerebrospinal fluid. The cord
 * (~35 HU) and the fluid around it (~10 HU) differ by less than CT noise, but the canal that holds
 * both is unmistakable: in an axial slice through a vertebra's arch it is a hole in the bone.
 *
 * 1. Canal sections. In axial slices every 2 mm, within ±45 mm (left–right) of the body's midline
 *    and from 10 mm in front of its centre to 150 mm behind it, the 4-connected regions of soft
 *    tissue and fluid (−500…100 HU, not bone) that do not reach that window's side, 50–600 mm², with a
 *    mean ≤ 50 HU (not a disc, 70–100 HU, nor marrow) and at least 70 % of their rim on bone: holes
 *    in a vertebra. The largest per slice.
 * 2. One canal. Sections more than 10 mm from their median centre are dropped (a long bone's fatty
 *    marrow, an arm's humerus beside the trunk).
 * 3. Between arches — at the discs and the intervertebral foramina the canal opens to the sides —
 *    and up to 15 mm beyond the first and last arch, each slice (searched or not) without a section
 *    of its own takes the nearest slice's, where its own voxels are −30…100 HU and not bone.
 * 4. The cord: the canal eroded in-plane by 1 mm (at least a pixel), the fluid's rim.
 *
 * Patient C of the shared data (20 slices of 2 mm): arches in 9 slices; Dice 0.842 against the
 * reference's cord (the canal itself 0.818). On a CT that shows no vertebral arch the mask is empty.
 * @module
 */
import type { VoxelArray } from '../../volume/datatype.js';
import type { Affine } from '../../volume/affine.js';
import { apply, invert } from '../../volume/affine.js';
import type { Grid } from './grid.js';
import { maskCentre } from './grid.js';
import type { AxialFrame } from './tube-track.js';
import { axialFrame } from './tube-track.js';

const SEARCH_EVERY_MM = 2;
const WINDOW_HALF_WIDTH_MM = 45;
const WINDOW_BACK_MM = 150;
const WINDOW_FRONT_MM = 10;
const MIN_HU = -500;
const MAX_HU = 100;
const MIN_AREA_MM2 = 50;
const MAX_AREA_MM2 = 600;
const MAX_MEAN_HU = 50;
const MIN_BONE_RIM = 0.7;
const MAX_OFF_MEDIAN_MM = 10;
const EXTEND_MM = 15;
const FILL_MIN_HU = -30;
const RIM_MM = 1;

interface CanalSection {
  /** Plane pixels (u + nu·v). */
  readonly pixels: Int32Array;
  /** World centre (x, y). */
  readonly x: number;
  readonly y: number;
}

/**
 * The spinal cord's voxels (flat indices), from `bone` (the skeleton mask). A list, not a mask: a
 * thin tube, or nothing, where a mask of the grid's size would be paged in to be written and read.
 */
export function segmentSpinalCord(data: VoxelArray, grid: Grid, body: Uint8Array, bone: Uint8Array): Int32Array {
  const cord: number[] = [];
  const centre = maskCentre(body, grid);
  if (!centre) return new Int32Array(0);
  const frame = axialFrame(grid);
  const toVoxel = invert(grid.affine);
  const sections = new Map<number, CanalSection>();
  const scratch = new SectionScratch(frame.plane(0).nu * frame.plane(0).nv);
  // Every SEARCH_EVERY_MM a slice: the canal changes slowly, and the slices between take the nearest.
  const every = Math.max(1, Math.round(SEARCH_EVERY_MM / frame.ds));
  for (let s = 0; s < frame.count; s += every) {
    const found = canalSection(data, body, bone, frame, s, centre, toVoxel, scratch);
    if (found) sections.set(s, found);
  }
  if (sections.size === 0) return new Int32Array(0);

  // One canal: the sections near the median centre.
  const median = (values: number[]): number => values.sort((a, b) => a - b)[values.length >> 1];
  const mx = median([...sections.values()].map((c) => c.x));
  const my = median([...sections.values()].map((c) => c.y));
  for (const [s, c] of sections) if (Math.hypot(c.x - mx, c.y - my) > MAX_OFF_MEDIAN_MM) sections.delete(s);
  const found = [...sections.keys()];
  if (found.length === 0) return new Int32Array(0);

  // Each slice: its own section, or the nearest slice's where its voxels are fluid or tissue.
  const plane = frame.plane(0);
  const reach = Math.round(EXTEND_MM / frame.ds);
  const canal = new Uint8Array(plane.nu * plane.nv);
  for (let s = 0; s < frame.count; s++) {
    const nearest = found.reduce((a, b) => (Math.abs(b - s) < Math.abs(a - s) ? b : a));
    if (Math.abs(nearest - s) > reach) continue;
    const { base, su, sv } = frame.plane(s);
    const onGrid = (q: number): number => base + (q % plane.nu) * su + Math.floor(q / plane.nu) * sv;
    canal.fill(0);
    for (const q of (sections.get(nearest) as CanalSection).pixels) {
      const p = onGrid(q);
      if (bone[p] === 0 && data[p] >= FILL_MIN_HU && data[p] < MAX_HU) canal[q] = 1;
    }
    erodeInPlane(canal, plane.nu, plane.nv, Math.max(1, Math.round(RIM_MM / Math.min(plane.du, plane.dv))));
    for (let q = canal.indexOf(1); q >= 0; q = canal.indexOf(1, q + 1)) cord.push(onGrid(q));
  }
  return Int32Array.from(cord);
}

/** Per-pixel memory of one slice's search, reused from slice to slice (fresh memory faults per page). */
class SectionScratch {
  readonly kind: Uint8Array;
  readonly hu: Float32Array;
  readonly stack: Int32Array;
  readonly members: Int32Array;
  constructor(pixels: number) {
    this.kind = new Uint8Array(pixels);
    this.hu = new Float32Array(pixels);
    this.stack = new Int32Array(pixels);
    this.members = new Int32Array(pixels);
  }
}

/** The largest hole of slice s that is a section of the spinal canal, if any. */
function canalSection(
  data: VoxelArray,
  body: Uint8Array,
  bone: Uint8Array,
  frame: AxialFrame,
  s: number,
  centre: readonly [number, number, number],
  toVoxel: Affine,
  scratch: SectionScratch,
): CanalSection | undefined {
  const plane = frame.plane(s);
  const { nu, nv, base, su, sv, du, dv } = plane;
  // The window: plane pixels whose world x is within the half-width of the midline and whose y is
  // behind the front limit, as a (u, v) box from the corners' voxel coordinates.
  const z = frame.world(s, 0, 0)[2];
  let u0 = nu, u1 = -1, v0 = nv, v1 = -1;
  for (const x of [centre[0] - WINDOW_HALF_WIDTH_MM, centre[0] + WINDOW_HALF_WIDTH_MM]) {
    for (const y of [centre[1] - WINDOW_BACK_MM, centre[1] + WINDOW_FRONT_MM]) {
      const ijk = apply(toVoxel, [x, y, z]);
      const u = ijk[frame.ua];
      const v = ijk[frame.va];
      u0 = Math.min(u0, Math.floor(u));
      u1 = Math.max(u1, Math.ceil(u));
      v0 = Math.min(v0, Math.floor(v));
      v1 = Math.max(v1, Math.ceil(v));
    }
  }
  u0 = Math.max(0, u0);
  v0 = Math.max(0, v0);
  u1 = Math.min(nu - 1, u1);
  v1 = Math.min(nv - 1, v1);
  if (u1 < u0 || v1 < v0) return undefined;
  const w = u1 - u0 + 1;
  const h = v1 - v0 + 1;
  // 1: soft tissue or fluid; 2: bone; 0: anything else (air, outside the body, brighter tissue).
  const { kind, hu, stack, members } = scratch;
  kind.fill(0, 0, w * h);
  for (let v = 0; v < h; v++) {
    for (let u = 0, p = base + u0 * su + (v0 + v) * sv, m = v * w; u < w; u++, p += su, m++) {
      if (bone[p] !== 0) kind[m] = 2;
      else if (body[p] !== 0 && data[p] >= MIN_HU && data[p] < MAX_HU) {
        kind[m] = 1;
        hu[m] = data[p];
      }
    }
  }
  let best: CanalSection | undefined;
  let bestArea = 0;
  for (let start = 0; start < w * h; start++) {
    if (kind[start] !== 1) continue;
    // Flooded pixels are marked 3, so each is visited once.
    kind[start] = 3;
    let top = 0;
    stack[top++] = start;
    let count = 0;
    let sum = 0;
    let rim = 0;
    let boneRim = 0;
    let atSide = false;
    while (top > 0) {
      const m = stack[--top];
      members[count++] = m;
      sum += hu[m];
      const u = m % w;
      const v = (m - u) / w;
      if (u === 0 || v === 0 || u === w - 1 || v === h - 1) {
        atSide = true;
        // Still flooded to its end, so that none of its pixels starts another region.
      }
      for (let d = 0; d < 4; d++) {
        const n = d === 0 ? (u > 0 ? m - 1 : -1) : d === 1 ? (u < w - 1 ? m + 1 : -1) : d === 2 ? (v > 0 ? m - w : -1) : v < h - 1 ? m + w : -1;
        if (n < 0) continue;
        const k = kind[n];
        if (k === 1) {
          kind[n] = 3;
          stack[top++] = n;
        } else if (k !== 3) {
          rim++;
          if (k === 2) boneRim++;
        }
      }
    }
    const area = count * du * dv;
    if (atSide || area < MIN_AREA_MM2 || area > MAX_AREA_MM2 || sum / count > MAX_MEAN_HU || boneRim < MIN_BONE_RIM * rim || area <= bestArea) continue;
    const pixels = new Int32Array(count);
    let cu = 0;
    let cv = 0;
    for (let t = 0; t < count; t++) {
      const u = members[t] % w;
      const v = (members[t] - u) / w;
      cu += u0 + u;
      cv += v0 + v;
      pixels[t] = u0 + u + (v0 + v) * nu;
    }
    const [x, y] = frame.world(s, cu / count, cv / count);
    best = { pixels, x, y };
    bestArea = area;
  }
  return best;
}

/** Erodes a plane mask (nu × nv, 0/1) by `r` pixels, 4-connected steps, in place. */
function erodeInPlane(mask: Uint8Array, nu: number, nv: number, r: number): void {
  for (let step = 0; step < r; step++) {
    const edge: number[] = [];
    for (let q = mask.indexOf(1); q >= 0; q = mask.indexOf(1, q + 1)) {
      const u = q % nu;
      const v = (q - u) / nu;
      if (u === 0 || v === 0 || u === nu - 1 || v === nv - 1 || mask[q - 1] === 0 || mask[q + 1] === 0 || mask[q - nu] === 0 || mask[q + nu] === 0) edge.push(q);
    }
    for (const q of edge) mask[q] = 0;
  }
}
