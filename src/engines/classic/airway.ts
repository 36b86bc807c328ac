/**
 * Airway (trachea and bronchi) by explosion-controlled region growing, after Mori et al. (1996):
 *
 * 1. Seed: going from the top of the scan down through axial slices (planes across the array axis
 *    closest to superior), the first air component (< −900 HU) inside the body that looks like a
 *    trachea — 40–1200 mm², round, near the body's left–right middle — and stays so for 20 mm below.
 *    Round-and-persistent skips the slit of the glottis and lateral lung apices; it must also have
 *    lungs below it (air on both sides within 120 mm), which rules out a column of bowel gas.
 * 2. Growth: a priority flood from the seed, in order of the minimax HU along the path, so the region
 *    at threshold T is exactly the connected part of {HU ≤ T} that contains the seed. It may not go
 *    above the seed slice (no larynx, mouth or nose) nor leave the body. The volume is checked every
 *    10 HU from −950 up: when it grows by more than half plus 1 mL within one step, the flood has
 *    leaked into lung parenchyma, and the region is cut back to the previous step's.
 * 3. Trachea: going down from the seed, the last slice where the airway is one piece; the first
 *    slices where it is two pieces for ≥ 3 mm are the carina. Airway voxels from the seed down to the
 *    carina are the trachea. Without a split the whole airway is taken as trachea.
 * @module
 */
import type { VoxelArray } from '../../volume/datatype.js';
import { BucketQueue } from './bucket-queue.js';
import { fillHolesSlicewise } from './fill-holes.js';
import { darkLumenRim } from './half-maximum.js';
import type { Grid } from './grid.js';
import { spacingOf, stridesOf, superiorAxis, voxelVolume } from './grid.js';
import type { SliceLabels } from './slices.js';
import { labelSlice, planeAxes, SliceScratch } from './slices.js';

export interface AirwayResult {
  readonly airway: Uint8Array;
  readonly trachea: Uint8Array;
  /** Whether a trachea seed was found (when not, both masks are empty). */
  readonly found: boolean;
  /** The HU threshold the growth stopped at. */
  readonly threshold: number;
  /** Whether a carina split was found. */
  readonly carina: boolean;
}

const SEED_AIR_HU = -900;
const LUNG_AIR_HU = -400;
const LOW = -1024;
const HIGH = -500;
const BASE = -950;
const STEP = 10;
/** Layers the lumen may gain out to its half maximum (a point spread of up to ~1 mm puts the growth's threshold two voxels inside). */
const RIM_LAYERS = 3;

export function segmentAirway(data: VoxelArray, grid: Grid, body: Uint8Array): AirwayResult {
  const n = data.length;
  const empty: AirwayResult = { airway: new Uint8Array(n), trachea: new Uint8Array(n), found: false, threshold: BASE, carina: false };
  const seed = findTracheaSeed(data, grid, body);
  if (!seed) return empty;
  const { axis, sign } = superiorAxis(grid);
  const grown = grow(data, grid, body, seed.voxels, axis, sign, seed.slice);
  const spacing = spacingOf(grid);
  const [ua, va] = planeAxes(axis);
  const airway = fillHolesSlicewise(grown.mask, grid.dims, axis, { maxArea: Math.ceil(30 / (spacing[ua] * spacing[va])) });
  // The growth's threshold lies inside a blurred lumen's edge: out to half-way to the wall (half-maximum.ts).
  darkLumenRim(airway, data, grid.dims, body, axis, RIM_LAYERS);
  const { trachea, carina } = splitTrachea(airway, grid, axis, sign, seed.slice);
  return { airway, trachea, found: true, threshold: grown.threshold, carina };
}

interface Seed {
  readonly slice: number;
  readonly voxels: number[];
}

/** Slices from superior to inferior. */
function* downwards(count: number, sign: 1 | -1, from?: number): Generator<number> {
  if (sign > 0) for (let s = from ?? count - 1; s >= 0; s--) yield s;
  else for (let s = from ?? 0; s < count; s++) yield s;
}

function findTracheaSeed(data: VoxelArray, grid: Grid, body: Uint8Array): Seed | undefined {
  const { dims } = grid;
  const { axis, sign } = superiorAxis(grid);
  const spacing = spacingOf(grid);
  const [ua, va] = planeAxes(axis);
  const pixelMm2 = spacing[ua] * spacing[va];
  const persistSlices = Math.max(2, Math.ceil(20 / spacing[axis]));
  const cache = new Map<number, SliceLabels>();
  const scratch = new SliceScratch();
  const air = (s: number): SliceLabels => {
    let l = cache.get(s);
    if (!l) {
      l = labelSlice(grid, axis, s, (p) => body[p] !== 0 && data[p] < SEED_AIR_HU, scratch);
      cache.set(s, l);
      if (cache.size > persistSlices + 4) {
        const oldest = cache.keys().next().value as number;
        scratch.release(cache.get(oldest)!);
        cache.delete(oldest);
      }
    }
    return l;
  };
  const st = stridesOf(dims);
  const tubeLike = (area: number, c: SliceLabels['components'][number], roundness: number): boolean => {
    const mm2 = area * pixelMm2;
    if (mm2 < 40 || mm2 > 1200) return false;
    const eu = (c.maxU - c.minU + 1) * spacing[ua];
    const ev = (c.maxV - c.minV + 1) * spacing[va];
    const d = Math.max(eu, ev);
    return Math.max(eu, ev) / Math.min(eu, ev) <= 2 && mm2 / (Math.PI * (d / 2) ** 2) >= roundness;
  };
  // World x of plane pixel (u, v) in slice s: x0(s) + xu·u + xv·v.
  const a = grid.affine;
  const xu = a[ua];
  const xv = a[va];
  const x0 = (s: number): number => a[axis] * s + a[3];
  for (const s of downwards(dims[axis], sign)) {
    const labels = air(s);
    const tubes = labels.components.filter((c) => tubeLike(c.area, c, 0.5));
    if (tubes.length === 0) continue;
    // The body's left–right extent in this slice.
    let minX = Infinity, maxX = -Infinity;
    for (let v = 0; v < dims[va]; v++) {
      for (let u = 0; u < dims[ua]; u++) {
        if (body[s * st[axis] + u * st[ua] + v * st[va]] === 0) continue;
        const x = x0(s) + xu * u + xv * v;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
      }
    }
    const midX = (minX + maxX) / 2;
    const halfWidth = (maxX - minX) / 2;
    const candidates = tubes
      .filter((c) => Math.abs(x0(s) + xu * c.cu + xv * c.cv - midX) <= 0.4 * halfWidth)
      .sort((p, q) => q.area - p.area);
    for (const c of candidates) {
      if (persists(c, s) && lungsBelow(s, x0(s) + xu * c.cu + xv * c.cv)) {
        const voxels: number[] = [];
        for (let n = 0; n < labels.labels.length; n++) {
          if (labels.labels[n] !== c.label) continue;
          const v = (n / labels.nu) | 0;
          voxels.push(s * st[axis] + (n - v * labels.nu) * st[ua] + v * st[va]);
        }
        return { slice: s, voxels };
      }
    }
  }
  return undefined;

  function persists(start: SliceLabels['components'][number], s0: number): boolean {
    let prev = start;
    let taken = 0;
    for (const s of downwards(dims[axis], sign, s0 - sign)) {
      if (taken++ >= persistSlices) return true;
      const labels = air(s);
      const u = Math.round(prev.cu);
      const v = Math.round(prev.cv);
      const label = labels.labels[u + v * labels.nu];
      const next = label > 0 ? labels.components[label - 1] : undefined;
      if (!next || !tubeLike(next.area, next, 0.35)) return false;
      if (Math.hypot((next.cu - prev.cu) * spacing[ua], (next.cv - prev.cv) * spacing[va]) > 10) return false;
      prev = next;
    }
    return taken >= persistSlices;
  }

  /**
   * A trachea has lungs below it: within 120 mm under the seed, some slice holds at least 20 cm² of
   * air (< −400 HU) in the body on each side of it. Keeps a column of bowel gas from being taken
   * for a trachea on an abdominal scan.
   */
  function lungsBelow(s0: number, seedX: number): boolean {
    const minPixels = 2000 / pixelMm2;
    const slices = Math.ceil(120 / spacing[axis]);
    let taken = 0;
    for (const s of downwards(dims[axis], sign, s0)) {
      if (taken++ > slices) break;
      let left = 0, right = 0;
      for (let v = 0; v < dims[va]; v++) {
        for (let u = 0; u < dims[ua]; u++) {
          const p = s * st[axis] + u * st[ua] + v * st[va];
          if (body[p] === 0 || data[p] >= LUNG_AIR_HU) continue;
          if (x0(s) + xu * u + xv * v < seedX) left++;
          else right++;
        }
      }
      if (left >= minPixels && right >= minPixels) return true;
    }
    return false;
  }
}

function grow(
  data: VoxelArray,
  grid: Grid,
  body: Uint8Array,
  seeds: readonly number[],
  axis: 0 | 1 | 2,
  sign: 1 | -1,
  seedSlice: number,
): { mask: Uint8Array; threshold: number } {
  const { dims } = grid;
  const [nx, ny] = dims;
  const nxy = nx * ny;
  const visited = new Uint8Array(data.length);
  const queue = new BucketQueue(HIGH - LOW + 1);
  const slack = 1000 / voxelVolume(grid); // 1 mL
  const hardCap = 0.3 * data.length;
  const bucketOf = (v: number): number => (v <= LOW ? 0 : Math.floor(v) - LOW);
  for (const p of seeds) {
    visited[p] = 1;
    queue.push(p, bucketOf(data[p]));
  }
  let popped: Int32Array = new Int32Array(1 << 16);
  let count = 0;
  let accepted = 0;
  let limit = Infinity;
  let nextCheck = BASE - LOW;
  let threshold = BASE;
  let exploded = false;
  const offsets = [-1, 1, -nx, nx, -nxy, nxy];
  while (queue.size > 0) {
    const p = queue.pop();
    const level = queue.level;
    while (level > nextCheck) {
      accepted = count;
      threshold = nextCheck + LOW;
      limit = 1.5 * accepted + slack;
      nextCheck += STEP;
    }
    if (count === popped.length) {
      const bigger = new Int32Array(popped.length * 2);
      bigger.set(popped);
      popped = bigger;
    }
    popped[count++] = p;
    if (count > limit || count > hardCap) {
      exploded = true;
      break;
    }
    const k = (p / nxy) | 0;
    const r = p - k * nxy;
    const j = (r / nx) | 0;
    const i = r - j * nx;
    const c = [i, j, k];
    for (let t = 0; t < 6; t++) {
      const a = t >> 1;
      const step = t & 1 ? 1 : -1;
      const nc = c[a] + step;
      if (nc < 0 || nc >= dims[a]) continue;
      if (a === axis && (sign > 0 ? nc > seedSlice : nc < seedSlice)) continue;
      const q = p + offsets[t];
      if (visited[q] !== 0 || body[q] === 0) continue;
      visited[q] = 1;
      const v = data[q];
      if (v >= HIGH) continue;
      queue.push(q, bucketOf(v));
    }
  }
  if (!exploded) {
    accepted = count;
    threshold = HIGH;
  }
  const mask = new Uint8Array(data.length);
  for (let t = 0; t < accepted; t++) mask[popped[t]] = 1;
  return { mask, threshold };
}

function splitTrachea(airway: Uint8Array, grid: Grid, axis: 0 | 1 | 2, sign: 1 | -1, seedSlice: number): { trachea: Uint8Array; carina: boolean } {
  const { dims } = grid;
  const spacing = spacingOf(grid);
  const [ua, va] = planeAxes(axis);
  const minArea = Math.max(2, Math.ceil(3 / (spacing[ua] * spacing[va])));
  const needed = Math.max(2, Math.ceil(3 / spacing[axis]));
  let lastSingle = seedSlice;
  let run = 0;
  let carina = false;
  const scratch = new SliceScratch();
  for (const s of downwards(dims[axis], sign, seedSlice)) {
    const slice = labelSlice(grid, axis, s, (p) => airway[p] !== 0, scratch);
    scratch.release(slice);
    const pieces = slice.components.filter((c) => c.area >= minArea).length;
    if (pieces === 0) break;
    if (pieces === 1) {
      run = 0;
      lastSingle = s;
    } else if (++run >= needed) {
      carina = true;
      break;
    }
  }
  const trachea = new Uint8Array(airway.length);
  if (!carina) {
    trachea.set(airway);
    return { trachea, carina };
  }
  const st = stridesOf(dims);
  const lo = Math.min(seedSlice, lastSingle);
  const hi = Math.max(seedSlice, lastSingle);
  for (let s = lo; s <= hi; s++) {
    for (let v = 0; v < dims[va]; v++) {
      for (let u = 0; u < dims[ua]; u++) {
        const p = s * st[axis] + u * st[ua] + v * st[va];
        trachea[p] = airway[p];
      }
    }
  }
  return { trachea, carina };
}
