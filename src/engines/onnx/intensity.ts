/**
 * Intensity transforms a network was trained with, applied to the image on the model's grid (after
 * reorientation and resampling, before windows are cut and padded with 0).
 *
 * Clipping is branch-free (`clamp`): CT air sits at −1000 HU with noise on both sides of a typical
 * a_min of −1000, so a compare-and-branch clip mispredicts on about half the air voxels — a 5×
 * slower pass over a 52 MB grid. Integer images of 8 or 16 bits go through a table instead
 * (`toModelIntensities`): one load per voxel, fused with the conversion to float32.
 * @module
 */
import type { VoxelArray } from '../../volume/datatype.js';
import type { IntensitySpec } from './model-package.js';

/**
 * Transforms `data` in place:
 * - `scale-intensity-range` (MONAI ScaleIntensityRange): (x − a_min)/(a_max − a_min)·(b_max − b_min) + b_min, clipped to [b_min, b_max] when `clip`;
 * - `ct-zscore` (nnU-Net CTNormalization): clip to [lo, hi], then (x − mean)/std;
 * - `min-max`: (x − min)/(max − min) over the image, 0 everywhere when the image is constant;
 * - `none`: unchanged.
 * @example
 * applyIntensity(ct, { type: 'scale-intensity-range', a_min: -1000, a_max: 1000, b_min: 0, b_max: 1, clip: true });
 */
export function applyIntensity(data: Float32Array, spec: IntensitySpec): void {
  switch (spec.type) {
    case 'scale-intensity-range': {
      const scale = (spec.b_max - spec.b_min) / (spec.a_max - spec.a_min);
      const { a_min, b_min } = spec;
      if (!spec.clip) {
        for (let n = 0; n < data.length; n++) data[n] = (data[n] - a_min) * scale + b_min;
        return;
      }
      const lo = Math.min(spec.b_min, spec.b_max);
      const hi = Math.max(spec.b_min, spec.b_max);
      for (let n = 0; n < data.length; n++) data[n] = clamp((data[n] - a_min) * scale + b_min, lo, hi);
      return;
    }
    case 'ct-zscore': {
      const [lo, hi] = spec.clip;
      const { mean } = spec;
      const inv = 1 / spec.std;
      for (let n = 0; n < data.length; n++) data[n] = (clamp(data[n], lo, hi) - mean) * inv;
      return;
    }
    case 'min-max': {
      const [min, max] = extremes(data);
      if (!(max > min)) {
        data.fill(0);
        return;
      }
      const range = max - min;
      for (let n = 0; n < data.length; n++) data[n] = (data[n] - min) / range;
      return;
    }
    case 'none':
      return;
  }
}

/**
 * The transformed intensities of `source` (any voxel type, same length as `out`) in `out`, as
 * `out.set(source)` then {@link applyIntensity} would give them, in one pass: 8- and 16-bit integer
 * images through a table of every value they can hold (the table is transformed by
 * `applyIntensity` itself, so both ways agree bit for bit).
 * @example
 * toModelIntensities(ct.data, { type: 'ct-zscore', clip: [-1000, 1000], mean: 60, std: 150 }, grid);
 */
export function toModelIntensities(source: VoxelArray, spec: IntensitySpec, out: Float32Array): void {
  const range = tableRange(source, spec);
  if (range === undefined) {
    out.set(source);
    applyIntensity(out, spec);
    return;
  }
  const [first, last] = range;
  const table = new Float32Array(last - first + 1);
  for (let v = 0; v < table.length; v++) table[v] = first + v;
  applyIntensity(table, spec);
  for (let n = 0; n < out.length; n++) out[n] = table[source[n] - first];
}

/**
 * Clips `v` to [lo, hi] without a branch: max(v, lo) = (v + lo + |v − lo|)/2 and likewise for the
 * minimum. Exact at the bounds and for lo = 0; elsewhere within a float64 rounding of `v`, far
 * below the float32 step the result is stored with. (±∞ gives NaN, where a compare gave the bound:
 * no scanner writes infinities.)
 */
function clamp(v: number, lo: number, hi: number): number {
  const above = (v + lo + Math.abs(v - lo)) * 0.5;
  return (above + hi - Math.abs(above - hi)) * 0.5;
}

/** The integers a table must cover for `source`, or undefined where no table is used. */
function tableRange(source: VoxelArray, spec: IntensitySpec): readonly [number, number] | undefined {
  const small = source instanceof Uint8Array || source instanceof Int8Array || source instanceof Int16Array || source instanceof Uint16Array;
  if (!small || spec.type === 'none') return undefined;
  // min-max scales by the image's own extremes: the table holds exactly those values, so
  // applyIntensity on it finds the same min and max as on the image.
  if (spec.type === 'min-max') {
    const [min, max] = extremes(source);
    return max >= min ? [min, max] : undefined;
  }
  return source instanceof Uint8Array ? [0, 255] : source instanceof Int8Array ? [-128, 127] : source instanceof Int16Array ? [-32768, 32767] : [0, 65535];
}

function extremes(data: ArrayLike<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let n = 0; n < data.length; n++) {
    const x = data[n];
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return [min, max];
}
