/**
 * Peripheral-contrast choice of a flood's level (Hojjatoleslami & Kittler, "Region growing: a new
 * approach", IEEE TIP 7(7), 1998): of the nested regions R(t) a minimax flood passes through (R(t):
 * the voxels it reached at cost level ≤ t), the one whose boundary lies on the strongest edges. A
 * click in a rib's marrow (40–130 HU) floods with a tolerance of hundreds of HU, from a model whose
 * spread its 4 mm ball took from the cortex and the muscle around it; the region grows through the
 * marrow to the cortex's outer edge (a strong edge, 100–160 HU/mm), then through gaps in the cortex
 * into the muscle, whose boundary is noise (10–30 HU/mm). The leak and size limits of
 * point-prompt.ts stop such a flood only once it is 2–30 times the rib; the boundary's mean gradient
 * peaks at the rib's surface.
 * @module
 */
import type { Box } from './grid.js';

/**
 * Smallest share by which the boundary's mean gradient must fall after its peak (within the levels
 * allowed) for the peak to count: an organ among organs of its own intensity has a flat profile
 * (noise edges all along, C's liver: 6.4 → 5.6 HU/mm), a rib's drops sixfold.
 */
const PEAK_DROP = 1.15;
/** Of levels whose score is within this share of the best, the highest wins (the fuller region). */
const NEAR_BEST = 0.95;
/** A region's boundary is scored only from the volume of a ball of this many (largest) voxels' radius: a few voxels are all boundary. */
const MIN_RADIUS_VOXELS = 2;

/**
 * The level at or below `upTo` whose region R(t) has the largest mean gradient magnitude (central
 * differences in mm of `data`) over its inner boundary, or `levels − 1` (no cut) when the profile
 * has no clear peak (it falls by less than PEAK_DROP after its peak). `owner` is 1 where the
 * positive front took the voxel, `level` its level there, `histogram` the positive voxels per level.
 * Each positive voxel is on R(t)'s boundary from its own level up to the largest level among its six
 * neighbours (a neighbour never positive, or beyond the window, counts as never reached): difference
 * arrays over the levels, one pass over `within` (a box holding every voxel that `owner` marks; the
 * window by default).
 * @example
 * const cut = Math.min(leakAndSizeCut, contrastCut(smoothed, dims, spacing, owner, level, histogram, leakAndSizeCut, 256));
 */
export function contrastCut(
  data: ArrayLike<number>,
  dims: readonly [number, number, number],
  spacing: readonly number[],
  owner: Uint8Array,
  level: Uint8Array,
  histogram: Float64Array,
  upTo: number,
  levels: number,
  within: Box = { min: [0, 0, 0], max: [dims[0] - 1, dims[1] - 1, dims[2] - 1] },
): number {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  /** The six face neighbours, as index offsets. */
  const steps = [-1, 1, -nx, nx, -nxy, nxy];
  const sumG = new Float64Array(levels + 1);
  const count = new Float64Array(levels + 1);
  const hx = 1 / (2 * spacing[0]);
  const hy = 1 / (2 * spacing[1]);
  const hz = 1 / (2 * spacing[2]);
  const top = upTo;
  for (let k = within.min[2]; k <= within.max[2]; k++) {
    for (let j = within.min[1]; j <= within.max[1]; j++) {
      for (let i = within.min[0], p = i + nx * (j + ny * k); i <= within.max[0]; i++, p++) {
        if (owner[p] !== 1) continue;
        const l = level[p];
        // Only regions up to `upTo` are scored: a voxel above it never counts.
        if (l > top) continue;
        let g = 0;
        let m: number;
        if (i === 0 || j === 0 || k === 0 || i === nx - 1 || j === ny - 1 || k === nz - 1) m = levels;
        else {
          m = l;
          for (const step of steps) {
            const q = p + step;
            const lq = owner[q] === 1 ? level[q] : levels;
            if (lq > m) m = lq;
          }
          if (m <= l) continue;
          const gx = (data[p + 1] - data[p - 1]) * hx;
          const gy = (data[p + nx] - data[p - nx]) * hy;
          const gz = (data[p + nxy] - data[p - nxy]) * hz;
          g = Math.sqrt(gx * gx + gy * gy + gz * gz);
        }
        sumG[l] += g;
        sumG[m] -= g;
        count[l]++;
        count[m]--;
      }
    }
  }
  const smallest = (4 / 3) * Math.PI * (MIN_RADIUS_VOXELS * Math.max(...spacing)) ** 3 / (spacing[0] * spacing[1] * spacing[2]);
  const score = new Float64Array(top + 1).fill(-1);
  let g = 0;
  let c = 0;
  let volume = 0;
  let best = -1;
  for (let t = 0; t <= top; t++) {
    g += sumG[t];
    c += count[t];
    volume += histogram[t];
    if (c > 0 && volume >= smallest) score[t] = g / c;
    if (score[t] > best) best = score[t];
  }
  if (best <= 0) return levels - 1;
  let at = top;
  while (at > 0 && !(score[at] >= NEAR_BEST * best)) at--;
  if (at === top) return top;
  let after = Infinity;
  for (let t = at + 1; t <= top; t++) if (score[t] >= 0 && score[t] < after) after = score[t];
  return best >= PEAK_DROP * after ? at : levels - 1;
}
