/**
 * Where a click's flood stops (point-prompt.ts). A minimax priority flood passes through nested
 * regions R(t), one per cost level t (`histogram[t]`: the voxels it reached at level t; `level` and
 * `owner`: per window voxel the level it was reached at and by which front, 1 being the click's).
 * Each limit here returns the last level at which R(t) is still a plausible object — a jump in its
 * volume, a volume too large for how deep the click sits in it, a jump in its volume per depth³ —
 * or the last level when the limit never bites. Pure functions of those arrays.
 * @module
 */
import { voxelCoords } from './grid.js';

/** Depth of a click in a region (clickDepths): the largest ball around it that is at least half region, in 0.5 mm steps up to 40 mm. */
const DEPTH_INSIDE_FRACTION = 0.5;
/** A region is solid around its click up to the radius where the balls are at least this much region (clickDepths). */
const SOLID_FRACTION = 0.75;
/** Levels by which the depth lags the volume in sizeCut (a leak's jump is judged by the depth before it). */
const DEPTH_LAG = 8;
const DEPTH_STEP_MM = 0.5;
const DEPTH_MAX_MM = 40;
/** Largest volume an object may have for the depth of its clicks, in units of depth³ (see sizeCut). */
export const SIZE_RATIO = 200;
/**
 * A flood whose volume per depth³ grows more than this many times within COMPACTNESS_SPAN_SIGMA of
 * tolerance has broken out of its object (compactnessCut).
 */
const COMPACTNESS_JUMP = 3;
const COMPACTNESS_SPAN_SIGMA = 0.2;

/**
 * The last level before the positive volume jumps: once t ≥ 1.5σ (a smoothed CT region is full by
 * then), R growing by more than 25 % within an eighth of the levels is a flood through a weak edge;
 * the last level (histogram.length − 1) if it never does. `sigmaLevels`: the click's σ in levels.
 */
export function leakCut(histogram: Float64Array, sigmaLevels: number): number {
  const levels = histogram.length;
  const cumulative = new Float64Array(levels);
  let sum = 0;
  for (let b = 0; b < levels; b++) cumulative[b] = sum += histogram[b];
  const width = levels >> 3;
  const start = Math.max(1, Math.ceil(1.5 * sigmaLevels));
  for (let b = start + width; b < levels; b++) {
    const before = cumulative[b - width];
    if (cumulative[b] > 1.25 * before + 20) return b - width;
  }
  return levels - 1;
}

export interface ClickDepths {
  /** Per level: the radius (mm) of the largest ball around a click that is at least half region. */
  readonly depth: Float64Array;
  /** Per level: the radius (mm) up to which every ball around a click is at least SOLID_FRACTION region. */
  readonly solid: Float64Array;
}

/**
 * The depth of the clicks in the positive region at each level t: the radius d of the largest ball
 * around a click that is at least DEPTH_INSIDE_FRACTION region at t (robust to the noise holes of a
 * region still filling in), the largest over the clicks, in DEPTH_STEP_MM steps up to DEPTH_MAX_MM;
 * and how far around a click the region is solid. `seeds`: the clicks (window indices); `levels`:
 * the flood's number of cost levels.
 */
export function clickDepths(level: Uint8Array, owner: Uint8Array, dims: readonly [number, number, number], spacing: readonly number[], seeds: readonly number[], levels: number): ClickDepths {
  const [nx, ny] = dims;
  const shells = Math.ceil(DEPTH_MAX_MM / DEPTH_STEP_MM);
  const depth = new Float64Array(levels);
  const solid = new Float64Array(levels);
  for (const seed of seeds) {
    const [i0, j0, k0] = voxelCoords(seed, dims);
    // counts[shell · (levels + 1) + level]: voxels at that distance from the seed and that level (levels: never positive).
    const counts = new Float64Array(shells * (levels + 1));
    // Only the ball of DEPTH_MAX_MM around the seed counts: each row is scanned over its chord.
    const r2 = DEPTH_MAX_MM * DEPTH_MAX_MM;
    for (let k = 0; k < dims[2]; k++) {
      const dz2 = ((k - k0) * spacing[2]) ** 2;
      for (let j = 0; j < ny; j++) {
        const dyz2 = dz2 + ((j - j0) * spacing[1]) ** 2;
        if (dyz2 >= r2) continue;
        const half = Math.floor(Math.sqrt(r2 - dyz2) / spacing[0]);
        const row = nx * (j + ny * k);
        for (let i = Math.max(0, i0 - half); i <= Math.min(nx - 1, i0 + half); i++) {
          const shell = Math.floor(Math.sqrt(dyz2 + ((i - i0) * spacing[0]) ** 2) / DEPTH_STEP_MM);
          const p = row + i;
          if (shell < shells) counts[shell * (levels + 1) + (owner[p] === 1 ? level[p] : levels)]++;
        }
      }
    }
    const total = new Float64Array(shells);
    for (let sh = 0; sh < shells; sh++) for (let l = 0; l <= levels; l++) total[sh] += counts[sh * (levels + 1) + l];
    const inside = new Float64Array(shells);
    for (let t = 0; t < levels; t++) {
      let ballIn = 0;
      let ballAll = 0;
      let d = 0;
      let full = 0;
      let solidSoFar = true;
      for (let sh = 0; sh < shells; sh++) {
        inside[sh] += counts[sh * (levels + 1) + t];
        ballIn += inside[sh];
        ballAll += total[sh];
        if (ballAll > 0 && ballIn >= DEPTH_INSIDE_FRACTION * ballAll) d = (sh + 1) * DEPTH_STEP_MM;
        if (solidSoFar && ballAll > 0 && ballIn >= SOLID_FRACTION * ballAll) full = (sh + 1) * DEPTH_STEP_MM;
        else if (ballAll > 0) solidSoFar = false;
      }
      depth[t] = Math.max(depth[t], d);
      solid[t] = Math.max(solid[t], full);
    }
  }
  return { depth, solid };
}

/**
 * The highest level at which the positive region is still plausible for the depth of its click
 * (clickDepths): its volume at most SIZE_RATIO · d³, the depth taken DEPTH_LAG levels earlier so
 * that a leak is judged by the depth before it. A click put inside an object sits some depth d deep
 * in it; a flood that has broken into the body around a thin object (a rib, a vessel) keeps that d
 * but gains orders of magnitude of volume. The ratio allows elongated objects (a vessel of radius d
 * is π·d²·length, i.e. length ≈ 60·d for 200). Regions still sparse (the click not yet two voxels
 * deep) or smaller than a two-voxel depth allows are never judged — unless the click sits in a thin
 * object: one its flood never surrounds solidly (`solid`) two voxels of the coarsest axis deep at any
 * level. A region filling in becomes solid once its noise holes close (C's liver by 1.9σ, the MR
 * liver at 1.1σ); a click in a gland or a vessel one or two voxels thick never does, however far the
 * flood goes (the MR example's right adrenal gland, 91 voxels of 3 mm: solid 4 mm around its click
 * while its flood took 67 684 voxels, a third of the image). Such a region is judged from the start:
 * it may not pass the volume a two-voxel depth allows.
 */
export function sizeCut(histogram: Float64Array, { depth, solid }: ClickDepths, spacing: readonly number[]): number {
  const levels = histogram.length;
  const voxelMm3 = spacing[0] * spacing[1] * spacing[2];
  // A region still filling in (sparse, its clicks seemingly shallow) is never judged: only from a
  // volume that a depth of two voxels allows.
  const twoVoxels = solidRadius(spacing);
  const smallest = SIZE_RATIO * twoVoxels ** 3;
  const established = 2 * Math.min(...spacing);
  const thin = Math.max(...solid) < twoVoxels;
  let volume = 0;
  let cut = 0;
  for (let t = 0; t < levels; t++) {
    volume += histogram[t] * voxelMm3;
    const before = depth[Math.max(0, t - DEPTH_LAG)];
    if (volume <= SIZE_RATIO * before ** 3 || volume <= smallest || (before < established && !thin)) cut = t;
    else break;
  }
  return cut;
}

/**
 * The last level before the region's volume per depth³ (V/d³, clickDepths) jumps COMPACTNESS_JUMP-fold
 * within COMPACTNESS_SPAN_SIGMA of tolerance, once the region is solid (`solid`) two voxels of the
 * coarsest axis around its click; the last level if it never does. While a region fills its object, its
 * depth grows with its volume (V/d³ falls or holds); a flood that breaks through a weak edge into a
 * neighbour of the object's intensity gains volume at once and little depth. A region still sparse
 * with noise gains volume before depth too (a phantom sphere's flood, 1.5 mm voxels: 46 → 150
 * voxels at a depth of 3 mm), hence the solid test, not the depth. The leak cut (leakCut) looks for jumps only from
 * 1.5σ, where a noisy region is full; on an unsmoothed image (MR at 3 mm) floods break out before
 * that (the MR example's aorta at 1.0–1.2σ: 44 → 154 mL, depth 20 → 22 mm, for an 18 mL aorta), and
 * the size limit lets them grow to 200·d³. A kidney filling in goes from 4 to 20 mL as its depth goes
 * from 4 to 14.5 mm: V/d³ falls.
 */
export function compactnessCut(histogram: Float64Array, { depth, solid }: ClickDepths, spacing: readonly number[], sigmaLevels: number): number {
  const levels = histogram.length;
  const span = Math.max(1, Math.round(COMPACTNESS_SPAN_SIGMA * sigmaLevels));
  const established = solidRadius(spacing);
  const volume = new Float64Array(levels);
  for (let t = 0, v = 0; t < levels; t++) volume[t] = v += histogram[t];
  for (let t = 0; t + span < levels; t++) {
    if (solid[t] < established) continue;
    if (volume[t + span] / depth[t + span] ** 3 > COMPACTNESS_JUMP * (volume[t] / depth[t] ** 3)) return t;
  }
  return levels - 1;
}

/**
 * Two voxels of the coarsest axis (mm): how far around its click a region must be solid before the
 * compactness jump judges it, and ever be so for it not to be a thin object (sizeCut); also the
 * depth whose SIZE_RATIO·d³ is the smallest volume sizeCut judges.
 */
export function solidRadius(spacing: readonly number[]): number {
  return 2 * Math.max(...spacing);
}
