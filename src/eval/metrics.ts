/**
 * Segmentation agreement metrics for the evaluation (`npm run eval`): Dice and the 95th-percentile
 * symmetric surface distance (HD95) in world millimetres. Pure functions on masks (0 / non-0) that
 * share one grid.
 *
 * HD95 follows MedPy's `hd95`: the surface of a mask is its voxels with a 6-neighbour outside it
 * (the grid's border counts as outside); the distances from every surface voxel of A to the nearest
 * surface voxel of B and from B's to A's are pooled, and the 95th percentile (linear interpolation,
 * as numpy's default) is taken. Distances are between voxel centres, in mm through the affine.
 * @module
 */
import type { Affine } from '../volume/affine.js';
import { orthogonalSpacing, squaredDistanceTransform } from '../volume/distance-transform.js';
import type { Dims } from '../volume/volume.js';

export interface MaskGrid {
  readonly dims: Dims;
  readonly affine: Affine;
}

/**
 * Sørensen–Dice coefficient 2|A∩B| / (|A| + |B|); 1 when both masks are empty.
 * @example
 * dice(predicted, reference); // 0.91
 */
export function dice(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let inter = 0, na = 0, nb = 0;
  for (let p = 0; p < a.length; p++) {
    const x = a[p] !== 0, y = b[p] !== 0;
    if (x) na++;
    if (y) nb++;
    if (x && y) inter++;
  }
  return na + nb === 0 ? 1 : (2 * inter) / (na + nb);
}

/** Voxels of `mask` with at least one 6-neighbour outside it (or on the grid's border). */
export function surfaceOf(mask: ArrayLike<number>, dims: Dims): Uint8Array {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  const out = new Uint8Array(nx * ny * nz);
  for (let k = 0, p = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        if (mask[p] === 0) continue;
        const edge =
          i === 0 || j === 0 || k === 0 || i === nx - 1 || j === ny - 1 || k === nz - 1 ||
          mask[p - 1] === 0 || mask[p + 1] === 0 || mask[p - nx] === 0 || mask[p + nx] === 0 || mask[p - nxy] === 0 || mask[p + nxy] === 0;
        if (edge) out[p] = 1;
      }
    }
  }
  return out;
}

/**
 * Distances (mm) from each surface voxel of `from` to the nearest surface voxel of `to`, in
 * flat-index order; empty when either mask is empty.
 */
export function directedSurfaceDistances(from: ArrayLike<number>, to: ArrayLike<number>, grid: MaskGrid): Float64Array {
  const spacing = orthogonalSpacing(grid.affine);
  const sFrom = surfaceOf(from, grid.dims);
  const sTo = surfaceOf(to, grid.dims);
  if (sTo.indexOf(1) < 0) return new Float64Array(0);
  const d2 = squaredDistanceTransform(sTo, grid.dims, spacing);
  const out: number[] = [];
  for (let p = 0; p < sFrom.length; p++) if (sFrom[p] !== 0) out.push(Math.sqrt(d2[p]));
  return Float64Array.from(out);
}

/**
 * The 95th percentile of the pooled symmetric surface distances (mm): 0 when both masks are empty,
 * Infinity when exactly one is.
 * @example
 * hd95(predicted, reference, { dims: ct.dims, affine: ct.affine }); // 2.1 (mm)
 */
export function hd95(a: ArrayLike<number>, b: ArrayLike<number>, grid: MaskGrid): number {
  return surfaceDistancePercentile(a, b, grid, 95);
}

/** The `percentile` (0–100) of the pooled symmetric surface distances; 100 gives the Hausdorff distance. */
export function surfaceDistancePercentile(a: ArrayLike<number>, b: ArrayLike<number>, grid: MaskGrid, percentile: number): number {
  const emptyA = isEmpty(a);
  const emptyB = isEmpty(b);
  if (emptyA && emptyB) return 0;
  if (emptyA || emptyB) return Infinity;
  const ab = directedSurfaceDistances(a, b, grid);
  const ba = directedSurfaceDistances(b, a, grid);
  const pooled = new Float64Array(ab.length + ba.length);
  pooled.set(ab);
  pooled.set(ba, ab.length);
  pooled.sort();
  return percentileSorted(pooled, percentile / 100);
}

/** Linear-interpolated quantile q ∈ [0, 1] of sorted values (numpy's default method). */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const x = q * (n - 1);
  const lo = Math.floor(x);
  const hi = Math.min(n - 1, lo + 1);
  if (sorted[lo] === sorted[hi]) return sorted[lo]; // also Infinity, without ∞ − ∞
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
}

/** Median of a list (NaN for an empty one); non-finite values count as larger than any number. */
export function median(values: readonly number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((x, y) => x - y);
  return percentileSorted(sorted, 0.5);
}

function isEmpty(mask: ArrayLike<number>): boolean {
  for (let p = 0; p < mask.length; p++) if (mask[p] !== 0) return false;
  return true;
}

/** Where a prediction's wrong voxels lie relative to the other mask (boundaryErrors). */
export interface BoundaryErrors {
  readonly truePositives: number;
  /** Predicted, not in the reference, and sharing a face with it. */
  readonly falsePositivesAtEdge: number;
  readonly falsePositivesAway: number;
  /** In the reference, not predicted, and sharing a face with the prediction. */
  readonly falseNegativesAtEdge: number;
  readonly falseNegativesAway: number;
  /** Dice with every error at the edge put right: what is left is the error no boundary convention explains. */
  readonly diceWithEdgeRight: number;
}

/**
 * The wrong voxels of `predicted` against `reference`, split by whether they touch the other mask
 * (a face neighbour): a one-voxel disagreement along the boundary (partial volume, a reference drawn
 * on a coarser grid) is at the edge; a leak or a missed part is mostly away from it. More clicks
 * rarely lift an error that is all at the edge: a simulated corrective click goes to the deepest
 * point of the largest error region, and a shell one voxel thick has no depth.
 * @example
 * boundaryErrors(predicted, reference, ct.dims).diceWithEdgeRight; // 0.97 for patient C's right rib 10 at 0.815
 */
export function boundaryErrors(predicted: ArrayLike<number>, reference: ArrayLike<number>, dims: Dims): BoundaryErrors {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  let tp = 0, fpEdge = 0, fpAway = 0, fnEdge = 0, fnAway = 0;
  for (let k = 0, p = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        const x = predicted[p] !== 0, y = reference[p] !== 0;
        if (x === y) {
          if (x) tp++;
          continue;
        }
        // The mask this voxel is wrong against: the reference for a false positive, the prediction for a false negative.
        const other = x ? reference : predicted;
        const touches =
          (i > 0 && other[p - 1] !== 0) || (i < nx - 1 && other[p + 1] !== 0) ||
          (j > 0 && other[p - nx] !== 0) || (j < ny - 1 && other[p + nx] !== 0) ||
          (k > 0 && other[p - nxy] !== 0) || (k < nz - 1 && other[p + nxy] !== 0);
        if (x) {
          if (touches) fpEdge++;
          else fpAway++;
        } else if (touches) fnEdge++;
        else fnAway++;
      }
    }
  }
  // Put right, the false negatives at the edge become true positives and the false positives there go.
  const agreed = tp + fnEdge;
  const total = 2 * agreed + fpAway + fnAway;
  return {
    truePositives: tp,
    falsePositivesAtEdge: fpEdge,
    falsePositivesAway: fpAway,
    falseNegativesAtEdge: fnEdge,
    falseNegativesAway: fnAway,
    diceWithEdgeRight: total === 0 ? 1 : (2 * agreed) / total,
  };
}
