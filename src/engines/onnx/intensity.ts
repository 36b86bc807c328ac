/**
 * Intensity transforms a network was trained with, applied in place to the float32 image on the
 * model's grid (after reorientation and resampling, before windows are cut and padded with 0).
 * @module
 */
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
      const lo = Math.min(spec.b_min, spec.b_max);
      const hi = Math.max(spec.b_min, spec.b_max);
      const { a_min, b_min, clip } = spec;
      for (let n = 0; n < data.length; n++) {
        const v = (data[n] - a_min) * scale + b_min;
        data[n] = clip ? (v < lo ? lo : v > hi ? hi : v) : v;
      }
      return;
    }
    case 'ct-zscore': {
      const [lo, hi] = spec.clip;
      const { mean } = spec;
      const inv = 1 / spec.std;
      for (let n = 0; n < data.length; n++) {
        const x = data[n];
        data[n] = ((x < lo ? lo : x > hi ? hi : x) - mean) * inv;
      }
      return;
    }
    case 'min-max': {
      let min = Infinity;
      let max = -Infinity;
      for (let n = 0; n < data.length; n++) {
        const x = data[n];
        if (x < min) min = x;
        if (x > max) max = x;
      }
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
