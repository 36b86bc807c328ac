/**
 * Click-to-segment for any object (a VISTA3D label or a zero-shot one): competitive seeded region
 * growing from the positive and negative clicks.
 *
 * - Intensity models. Positive clicks pool the voxels of a 3 mm ball around each click into one
 *   robust model (median μ, σ = 1.4826·MAD; robust to a click near an edge). Each negative click has
 *   its own median. σ is at least the window's noise level (from neighbour differences: a ball of a
 *   few dozen voxels underestimates it). The tolerance is 3σ, at least 0.5% of the window's 1–99% intensity range (a
 *   noiseless image still grows, and the floor scales with the modality).
 * - Growth. One priority flood (a bucket queue over 256 cost levels up to the tolerance) runs two
 *   fronts: positive, whose cost at a voxel is |I − μ|, and negative, whose cost is the distance to
 *   the nearest negative median. A voxel's priority is the largest cost on the path that reached it
 *   (minimax, as in watershed flooding), and the first front to pop it owns it. So each voxel goes
 *   to the click whose path to it stays most similar to that click's tissue; across a weak edge the
 *   other side is cheaper for the negative front, and inside a homogeneous region where both fronts
 *   are equally cheap, equal priorities spread breadth-first and the region is split half-way along
 *   the path (geodesically) between the clicks. This is a "random-walker-lite": deterministic, one
 *   pass, no linear system.
 * - Leak control. The positive volume V(t) at cost level t is watched once the object should be
 *   mostly filled (t ≥ 1.5σ): when it grows by more than 25% within an eighth of the tolerance, the
 *   flood has broken through a weak edge into something bigger, and the region is cut back to the
 *   level before; positive-owned voxels within 2 mm of the cut region are then given back, which
 *   restores the object's noisy rim at the price of a thin layer over the contact.
 * - Window. The flood runs in a box of ±R mm around the positive clicks (R = 40 mm, or more for
 *   clicks far apart); when the object reaches the box's side, R doubles (up to 160 mm and 32 M
 *   voxels) and it runs again.
 * - Clean-up: an opening of about one voxel (at least 1 mm) removes one-voxel strands, 3D holes
 *   are filled (not where the negative front owns the voxels), and only the components holding a
 *   positive click are kept.
 * @module
 */
import type { PointPrompt } from '../engine.js';
import { VoxgateError } from '../../errors.js';
import type { VoxelArray } from '../../volume/datatype.js';
import { BucketQueue } from './bucket-queue.js';
import { selectComponents } from './components.js';
import { fillHoles3d } from './fill-holes.js';
import type { Box, Grid } from './grid.js';
import { boxDims, cropArray, spacingOf } from './grid.js';
import type { RobustStats } from './intensity.js';
import { quantileSorted, robustStats } from './intensity.js';
import { open } from './morphology.js';

const SAMPLE_RADIUS_MM = 4;
const K_SIGMA = 3;
const LEVELS = 256;
const START_RADIUS_MM = 40;
const MAX_RADIUS_MM = 160;
/** How far (mm) a leak cut gives back the object's rim. */
const RECOVERY_MM = 2;
/** A window never grows past this many voxels (a click in air or a huge leak stays bounded). */
const MAX_WINDOW_VOXELS = 32 * 1024 * 1024;

export interface PointResult {
  /** The object, on the full grid. */
  readonly mask: Uint8Array;
  /** The box the last flood ran in. */
  readonly window: Box;
  readonly model: RobustStats;
  readonly tolerance: number;
}

export function segmentFromPoints(data: VoxelArray, grid: Grid, prompt: PointPrompt): PointResult {
  const { dims } = grid;
  const positives = prompt.points.filter((_, n) => prompt.pointLabels[n] !== 0);
  const negatives = prompt.points.filter((_, n) => prompt.pointLabels[n] === 0);
  if (positives.length === 0) {
    throw new VoxgateError('VXG_ERR_PROMPT_INVALID', 'Point prompts need at least one positive point (point label 1) inside the object.');
  }
  for (const p of prompt.points) {
    if (!p.every((v, a) => Number.isInteger(v) && v >= 0 && v < dims[a])) {
      throw new VoxgateError('VXG_ERR_PROMPT_POINT_OUTSIDE', `Point [${p.join(', ')}] is not a voxel of this ${dims.join('×')} image.`);
    }
  }
  const spacing = spacingOf(grid);
  const flat = (p: readonly number[]): number => p[0] + dims[0] * (p[1] + dims[1] * p[2]);
  const model = robustStats(sampleBalls(data, grid, positives));
  const negMedians = negatives.map((p) => robustStats(sampleBalls(data, grid, [p])).median);

  let spread = 0;
  for (const a of positives) for (const b of positives) spread = Math.max(spread, Math.hypot(...[0, 1, 2].map((x) => (a[x] - b[x]) * spacing[x])));
  let radius = Math.max(START_RADIUS_MM, spread / 2 + 30);
  for (;;) {
    const lo = [0, 1, 2].map((a) => Math.max(0, Math.min(...positives.map((p) => p[a])) - Math.ceil(radius / spacing[a])));
    const hi = [0, 1, 2].map((a) => Math.min(dims[a] - 1, Math.max(...positives.map((p) => p[a])) + Math.ceil(radius / spacing[a])));
    const window: Box = { min: lo as [number, number, number], max: hi as [number, number, number] };
    const sub = cropArray(data, dims, window);
    const wd = boxDims(window);
    const local = (p: readonly number[]): number => p[0] - lo[0] + wd[0] * (p[1] - lo[1] + wd[1] * (p[2] - lo[2]));
    const inWindow = (p: readonly number[]): boolean => [0, 1, 2].every((a) => p[a] >= lo[a] && p[a] <= hi[a]);
    const sigma = Math.max(model.sigma, windowNoise(sub));
    const tolerance = Math.max(K_SIGMA * sigma, 0.005 * windowRange(sub), 1e-6);
    const grown = competitiveGrow(
      sub,
      wd,
      positives.map(local),
      negatives.filter(inWindow).map(local),
      { ...model, sigma },
      negMedians.filter((_, n) => inWindow(negatives[n])),
      tolerance,
      Math.max(1, Math.round(RECOVERY_MM / Math.min(...spacing))),
    );
    const smooth = Math.max(1, Math.min(...spacing) * 1.01);
    let region = open(grown.positive, wd, spacing, smooth);
    const seeds = positives.map(local);
    if (!seeds.some((s) => region[s] !== 0)) region = grown.positive;
    region = fillHoles3d(region, wd);
    for (let p = 0; p < region.length; p++) if (grown.negative[p] !== 0) region[p] = 0;
    region = selectComponents(region, wd, seeds, 6);

    const touches = touchesInnerFace(region, wd, window, dims);
    const nextVoxels = wd.reduce((n, d, a) => n * Math.min(dims[a], 2 * d), 1);
    if (touches && radius < MAX_RADIUS_MM && nextVoxels <= MAX_WINDOW_VOXELS) {
      radius *= 2;
      continue;
    }
    const mask = new Uint8Array(data.length);
    for (let k = 0, s = 0; k < wd[2]; k++) {
      for (let j = 0; j < wd[1]; j++) {
        const row = flat([lo[0], lo[1] + j, lo[2] + k]);
        for (let i = 0; i < wd[0]; i++, s++) if (region[s] !== 0) mask[row + i] = 1;
      }
    }
    return { mask, window, model, tolerance };
  }
}

/** Intensities in a ball of SAMPLE_RADIUS_MM (at least the 6-neighbourhood) around each point. */
function sampleBalls(data: VoxelArray, grid: Grid, points: readonly (readonly number[])[]): Float64Array {
  const { dims } = grid;
  const spacing = spacingOf(grid);
  const r = Math.max(SAMPLE_RADIUS_MM, Math.max(...spacing) * 1.01);
  const radii = spacing.map((s) => Math.floor(r / s));
  const values: number[] = [];
  for (const p of points) {
    for (let dk = -radii[2]; dk <= radii[2]; dk++) {
      for (let dj = -radii[1]; dj <= radii[1]; dj++) {
        for (let di = -radii[0]; di <= radii[0]; di++) {
          if ((di * spacing[0]) ** 2 + (dj * spacing[1]) ** 2 + (dk * spacing[2]) ** 2 > r * r) continue;
          const i = p[0] + di, j = p[1] + dj, k = p[2] + dk;
          if (i < 0 || j < 0 || k < 0 || i >= dims[0] || j >= dims[1] || k >= dims[2]) continue;
          values.push(data[i + dims[0] * (j + dims[1] * k)]);
        }
      }
    }
  }
  return Float64Array.from(values);
}

/**
 * The image noise σ in a window: 1.4826 · median |I(p) − I(p+1)| / √2 over neighbours along the
 * first axis. Differences cancel the anatomy except at edges, which the median ignores; this guards
 * the seed model's σ, which a small ball estimates poorly.
 */
function windowNoise(sub: VoxelArray): number {
  const stride = Math.max(1, Math.floor(sub.length / 20000));
  const diffs = new Float64Array(Math.ceil((sub.length - 1) / stride));
  let t = 0;
  for (let p = 0; p + 1 < sub.length; p += stride) diffs[t++] = Math.abs(sub[p + 1] - sub[p]);
  const used = diffs.subarray(0, t).sort();
  return (1.4826 * quantileSorted(used, 0.5)) / Math.SQRT2;
}

/** The 1st–99th percentile spread of a window (from a strided sample). */
function windowRange(sub: VoxelArray): number {
  const stride = Math.max(1, Math.floor(sub.length / 20000));
  const sample = new Float64Array(Math.ceil(sub.length / stride));
  for (let p = 0, t = 0; p < sub.length; p += stride, t++) sample[t] = sub[p];
  sample.sort();
  return quantileSorted(sample, 0.99) - quantileSorted(sample, 0.01);
}

interface Grown {
  readonly positive: Uint8Array;
  readonly negative: Uint8Array;
}

function competitiveGrow(
  data: VoxelArray,
  dims: readonly [number, number, number],
  positives: readonly number[],
  negatives: readonly number[],
  model: RobustStats,
  negMedians: readonly number[],
  tolerance: number,
  recoveryLayers: number,
): Grown {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  const n = data.length;
  const owner = new Uint8Array(n); // 0 none, 1 positive, 2 negative
  const pushed = new Uint8Array(n); // bit 1 positive, bit 2 negative
  const level = new Uint8Array(n);
  const histogram = new Float64Array(LEVELS);
  const queue = new BucketQueue(LEVELS);
  const scale = (LEVELS - 1) / tolerance;
  const mu = model.median;
  const cost = (v: number, front: number): number => {
    if (front === 1) return Math.abs(v - mu);
    let best = Infinity;
    for (const m of negMedians) best = Math.min(best, Math.abs(v - m));
    return best;
  };
  for (const p of negatives) {
    pushed[p] |= 2;
    queue.push(p, 0, 2);
  }
  for (const p of positives) {
    pushed[p] |= 1;
    queue.push(p, 0, 1);
  }
  const offsets = [-1, 1, -nx, nx, -nxy, nxy];
  while (queue.size > 0) {
    const p = queue.pop();
    if (owner[p] !== 0) continue;
    const front = queue.tag;
    const b = queue.level;
    owner[p] = front;
    level[p] = b;
    if (front === 1) histogram[b]++;
    const k = (p / nxy) | 0;
    const r = p - k * nxy;
    const j = (r / nx) | 0;
    const i = r - j * nx;
    for (let t = 0; t < 6; t++) {
      if (t === 0 && i === 0) continue;
      if (t === 1 && i === nx - 1) continue;
      if (t === 2 && j === 0) continue;
      if (t === 3 && j === ny - 1) continue;
      if (t === 4 && k === 0) continue;
      if (t === 5 && k === nz - 1) continue;
      const q = p + offsets[t];
      if (owner[q] !== 0 || (pushed[q] & front) !== 0) continue;
      const c = cost(data[q], front);
      if (c > tolerance) continue;
      pushed[q] |= front;
      queue.push(q, Math.floor(c * scale), front);
    }
  }
  const cut = leakCut(histogram, model.sigma * scale);
  const positive = new Uint8Array(n);
  const negative = new Uint8Array(n);
  const frontier: number[] = [];
  for (let p = 0; p < n; p++) {
    if (owner[p] === 1 && level[p] <= cut) {
      positive[p] = 1;
      frontier.push(p);
    } else if (owner[p] === 2) negative[p] = 1;
  }
  if (cut < LEVELS - 1) {
    // The cut also dropped the object's own rim (voxels whose noise put them above the cut level):
    // give back positive-owned voxels within a few layers of the cut region. Across the weak edge
    // this adds only those few layers over the contact, not the neighbour behind it.
    let layer = frontier;
    for (let step = 0; step < recoveryLayers; step++) {
      const next: number[] = [];
      for (const p of layer) {
        const k = (p / nxy) | 0;
        const r = p - k * nxy;
        const j = (r / nx) | 0;
        const i = r - j * nx;
        for (let t = 0; t < 6; t++) {
          if ((t === 0 && i === 0) || (t === 1 && i === nx - 1) || (t === 2 && j === 0) || (t === 3 && j === ny - 1) || (t === 4 && k === 0) || (t === 5 && k === nz - 1)) continue;
          const q = p + offsets[t];
          if (owner[q] === 1 && positive[q] === 0) {
            positive[q] = 1;
            next.push(q);
          }
        }
      }
      layer = next;
    }
  }
  return { positive, negative };
}

/** The last level before the positive volume jumps (see the module comment); LEVELS − 1 if it never does. */
function leakCut(histogram: Float64Array, sigmaLevels: number): number {
  const cumulative = new Float64Array(LEVELS);
  let sum = 0;
  for (let b = 0; b < LEVELS; b++) cumulative[b] = sum += histogram[b];
  const width = LEVELS >> 3;
  const start = Math.max(1, Math.ceil(1.5 * sigmaLevels));
  for (let b = start + width; b < LEVELS; b++) {
    const before = cumulative[b - width];
    if (cumulative[b] > 1.25 * before + 20) return b - width;
  }
  return LEVELS - 1;
}

/** Whether the region reaches a side of the window that is not the image's border. */
function touchesInnerFace(region: Uint8Array, wd: readonly number[], window: Box, dims: readonly number[]): boolean {
  const faces = [0, 1, 2].flatMap((a) => [
    window.min[a] > 0 ? { a, at: 0 } : undefined,
    window.max[a] < dims[a] - 1 ? { a, at: wd[a] - 1 } : undefined,
  ]).filter((f) => f !== undefined);
  if (faces.length === 0) return false;
  for (let k = 0, p = 0; k < wd[2]; k++) {
    for (let j = 0; j < wd[1]; j++) {
      for (let i = 0; i < wd[0]; i++, p++) {
        if (region[p] === 0) continue;
        const c = [i, j, k];
        for (const f of faces) if (c[f.a] === f.at) return true;
      }
    }
  }
  return false;
}
