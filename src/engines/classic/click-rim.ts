/**
 * The rim a click's object gets back after its flood on a smoothed window (point-prompt.ts):
 * smoothing blurs the object's outer layer towards its surroundings, out of the flood's tolerance,
 * and the edge lies at half contrast between the object and what is around it.
 * @module
 */
import { boundingBox } from './grid.js';
import type { Dims } from '../../volume/volume.js';
import { robustStats } from './intensity.js';

/** Layers of raw-intensity rim given back after the smoothed flood (the blur's reach, see addRim). */
const RIM_LAYERS = 3;

/**
 * The median (smoothed) intensity of the surroundings: the layer RIM_LAYERS + 1 voxels outside
 * `region`, beyond the blurred edge (the negative front's voxels excluded). `rim` is the first
 * layer (forEachRimVoxel); each next layer is the unseen neighbours of the last one, as a voxel
 * touching the grown region touches either the region (then it was in the first layer) or the last
 * layer.
 */
export function outsideMedian(region: Uint8Array, negative: Uint8Array, values: ArrayLike<number>, wd: readonly number[], axes: readonly boolean[], rim: readonly number[]): number {
  if (rim.length === 0) return robustStats(new Float64Array(0)).median;
  const grown = region.slice();
  for (const p of rim) grown[p] = 1;
  let shell: readonly number[] = rim;
  for (let layer = 1; layer <= RIM_LAYERS; layer++) {
    const next: number[] = [];
    forEachNeighbour(shell, wd, axes, (q) => {
      if (grown[q] !== 0 || negative[q] !== 0) return;
      grown[q] = 1;
      next.push(q);
    });
    if (next.length === 0) break;
    shell = next;
  }
  return robustStats(Float64Array.from(shell, (p) => values[p])).median;
}

/**
 * Adds to `region`, RIM_LAYERS times, its 6-neighbours whose smoothed intensity is nearer a
 * positive click's median than the median of the surroundings and than every negative click's
 * median (`others`): the smoothing blurred the object's outer layer halfway towards its
 * surroundings, out of the flood's tolerance; the half-way point between object and surroundings is
 * where the edge is. The negative front's voxels are never added. `rim` is the region's first
 * outer layer; a voxel that fails the test fails it in every layer (it depends on the voxel's value
 * alone), so each next layer only tests the new neighbours of the voxels just added.
 */
export function addRim(
  region: Uint8Array,
  negative: Uint8Array,
  values: ArrayLike<number>,
  raw: ArrayLike<number>,
  rawTolerance: number,
  wd: readonly number[],
  axes: readonly boolean[],
  rim: readonly number[],
  medians: readonly number[],
  others: readonly number[],
): void {
  const tested = new Uint8Array(region.length);
  const nearest = (v: number): number => {
    let near = Infinity;
    for (const m of medians) near = Math.min(near, Math.abs(v - m));
    return near;
  };
  const closer = (v: number): boolean => {
    const near = nearest(v);
    for (const o of others) if (!(near < Math.abs(v - o))) return false;
    return true;
  };
  const passes = (p: number): boolean => closer(values[p]) || (nearest(raw[p]) <= rawTolerance && closer(raw[p]));
  let candidates: readonly number[] = rim;
  for (const p of rim) tested[p] = 1;
  for (let layer = 0; layer < RIM_LAYERS && candidates.length > 0; layer++) {
    const added = candidates.filter((p) => passes(p));
    for (const p of added) region[p] = 1;
    if (layer === RIM_LAYERS - 1) break;
    const next: number[] = [];
    forEachNeighbour(added, wd, axes, (q) => {
      if (tested[q] !== 0 || region[q] !== 0 || negative[q] !== 0) return;
      tested[q] = 1;
      next.push(q);
    });
    candidates = next;
  }
}

/** Calls `visit` for each neighbour of each voxel of `voxels` along one of `axes` (repeats included). */
function forEachNeighbour(voxels: readonly number[], wd: readonly number[], axes: readonly boolean[], visit: (q: number) => void): void {
  const [ax, ay, az] = axes;
  const [nx, ny, nz] = wd;
  const nxy = nx * ny;
  for (const p of voxels) {
    const k = (p / nxy) | 0;
    const r = p - k * nxy;
    const j = (r / nx) | 0;
    const i = r - j * nx;
    if (ax && i > 0) visit(p - 1);
    if (ax && i < nx - 1) visit(p + 1);
    if (ay && j > 0) visit(p - nx);
    if (ay && j < ny - 1) visit(p + nx);
    if (az && k > 0) visit(p - nxy);
    if (az && k < nz - 1) visit(p + nxy);
  }
}

/**
 * Calls `visit` for each voxel outside `region` (and not `negative`) that touches it along one of
 * `axes`; only the region's bounding box, one voxel wider, is scanned.
 */
export function forEachRimVoxel(region: Uint8Array, negative: Uint8Array, wd: readonly number[], axes: readonly boolean[], visit: (p: number) => void): void {
  const [ax, ay, az] = axes;
  const [nx, ny, nz] = wd;
  const nxy = nx * ny;
  const box = boundingBox(region, wd as Dims);
  if (!box) return;
  const lo = box.min.map((v) => Math.max(0, v - 1));
  const hi = box.max.map((v, a) => Math.min(wd[a] - 1, v + 1));
  for (let k = lo[2]; k <= hi[2]; k++) {
    for (let j = lo[1]; j <= hi[1]; j++) {
      for (let i = lo[0], p = lo[0] + nx * (j + ny * k); i <= hi[0]; i++, p++) {
        if (region[p] !== 0 || negative[p] !== 0) continue;
        const touches =
          (ax && ((i > 0 && region[p - 1] !== 0) || (i < nx - 1 && region[p + 1] !== 0))) ||
          (ay && ((j > 0 && region[p - nx] !== 0) || (j < ny - 1 && region[p + nx] !== 0))) ||
          (az && ((k > 0 && region[p - nxy] !== 0) || (k < nz - 1 && region[p + nxy] !== 0)));
        if (touches) visit(p);
      }
    }
  }
}

