/**
 * Intensity facts the classic engine relies on: whether an image can be CT in Hounsfield units,
 * and robust statistics of a sample.
 * @module
 */
import { VoxgateError } from '../../errors.js';
import type { VoxelArray } from '../../volume/datatype.js';

/** HU below which a voxel can only be air (or lung); every CT of a body has some. */
const AIR_HU = -500;

/**
 * Throws VXG_ERR_IMAGE_NOT_CT when the intensities cannot be Hounsfield units: no voxel below
 * −500 (no air anywhere) with a minimum of −100 or more (MR, PET, unscaled CT stored 0…4095), or
 * floating-point values all within 0…1 (a normalised image).
 */
export function assertCtHounsfield(data: VoxelArray): void {
  let min = Infinity;
  let max = -Infinity;
  for (let p = 0; p < data.length; p++) {
    const v = data[p];
    if (v < AIR_HU) return; // air: HU thresholds make sense
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const isFloat = data instanceof Float32Array || data instanceof Float64Array;
  const normalised = isFloat && min >= 0 && max <= 1;
  if (min >= -100 || normalised) {
    throw new VoxgateError(
      'VXG_ERR_IMAGE_NOT_CT',
      `The classic engine segments classes from CT Hounsfield units, but this image's intensities run from ${round(min)} to ${round(max)} with no voxel below ${AIR_HU} (air)` +
        `${normalised ? ' and look normalised to 0…1' : ''}: it looks like MR, PET or CT without its rescale. Use point prompts for such images.`,
    );
  }
}

function round(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}

export interface RobustStats {
  readonly median: number;
  /** 1.4826 × median absolute deviation: the standard deviation for normal data, robust to outliers. */
  readonly sigma: number;
  readonly count: number;
}

/** Median and MAD-based sigma of `values` (which is sorted in place). */
export function robustStats(values: Float64Array): RobustStats {
  const n = values.length;
  if (n === 0) return { median: 0, sigma: 0, count: 0 };
  values.sort();
  const median = quantileSorted(values, 0.5);
  const dev = new Float64Array(n);
  for (let t = 0; t < n; t++) dev[t] = Math.abs(values[t] - median);
  dev.sort();
  return { median, sigma: 1.4826 * quantileSorted(dev, 0.5), count: n };
}

/** Linear-interpolated quantile of sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const x = q * (n - 1);
  const lo = Math.floor(x);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (x - lo);
}
