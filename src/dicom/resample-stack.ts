/**
 * Resampling an irregular stack (missing slices, uneven gaps, gantry tilt) onto the regular grid
 * series-geometry.ts describes: output slice m lies at m · Δs along the slice normal from the first
 * slice; its voxels are interpolated linearly between the two source slices around that position.
 * Each source slice is read at its own in-plane offset (bilinear in-plane when a gantry tilt moved
 * it off the normal through the first slice; voxels it does not cover take the stack's minimum,
 * i.e. air / background). Output voxels that coincide with a source slice copy it exactly.
 * Integer types are rounded half up, as resample.ts does.
 * @module
 */
import type { VoxelArray } from '../volume/datatype.js';
import { VoxelArrayOf, dataTypeOf } from '../volume/datatype.js';
import type { StackGeometry } from './series-geometry.js';

/**
 * `source` holds the sorted frames as slices (Columns × Rows × frames, rows flipped as in the
 * volume); returns the Columns × Rows × geometry.dims[2] volume.
 */
export function resampleStack(source: VoxelArray, geometry: StackGeometry): VoxelArray {
  const [nx, ny, slices] = geometry.dims;
  const plane = nx * ny;
  const { along, offAxis, sliceSpacing } = geometry;
  const [dr, dc] = geometry.pixelSpacing;
  const type = dataTypeOf(source);
  const out = new VoxelArrayOf[type](plane * slices);
  const round = type === 'float32' || type === 'float64' ? (v: number): number => v : (v: number): number => Math.floor(v + 0.5);
  const tilted = offAxis.some(([a, b]) => a !== 0 || b !== 0);
  let fill = Infinity;
  if (tilted) for (let p = 0; p < source.length; p++) if (source[p] < fill) fill = source[p];

  /** Source slice s read at output voxel (i, j): its pixel (i − a/Δc, j + b/Δr), bilinear. */
  const sample = (s: number, i: number, j: number): number => {
    const x = i - offAxis[s][0] / dc;
    const y = j + offAxis[s][1] / dr; // j counts rows upwards (flipped), DICOM rows downwards
    if (x < -0.5 || y < -0.5 || x > nx - 0.5 || y > ny - 0.5) return fill;
    const cx = Math.min(Math.max(x, 0), nx - 1);
    const cy = Math.min(Math.max(y, 0), ny - 1);
    const x0 = Math.min(Math.floor(cx), nx - 2 < 0 ? 0 : nx - 2);
    const y0 = Math.min(Math.floor(cy), ny - 2 < 0 ? 0 : ny - 2);
    const x1 = Math.min(x0 + 1, nx - 1);
    const y1 = Math.min(y0 + 1, ny - 1);
    const wx = cx - x0;
    const wy = cy - y0;
    const base = s * plane;
    const a = source[base + y0 * nx + x0] + wx * (source[base + y0 * nx + x1] - source[base + y0 * nx + x0]);
    const b = source[base + y1 * nx + x0] + wx * (source[base + y1 * nx + x1] - source[base + y1 * nx + x0]);
    return a + wy * (b - a);
  };

  let s = 0;
  const last = along.length - 1;
  for (let m = 0; m < slices; m++) {
    const t = m === slices - 1 ? along[last] : m * sliceSpacing;
    while (s < last - 1 && along[s + 1] <= t) s++;
    const w = Math.min(1, Math.max(0, (t - along[s]) / (along[s + 1] - along[s])));
    const dst = m * plane;
    if (!tilted) {
      const a0 = s * plane;
      const b0 = (s + 1) * plane;
      if (w === 0) out.set(source.subarray(a0, a0 + plane) as never, dst);
      else if (w === 1) out.set(source.subarray(b0, b0 + plane) as never, dst);
      else for (let p = 0; p < plane; p++) out[dst + p] = round(source[a0 + p] + w * (source[b0 + p] - source[a0 + p]));
      continue;
    }
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const a = w === 1 ? 0 : sample(s, i, j);
        const b = w === 0 ? 0 : sample(s + 1, i, j);
        out[dst + j * nx + i] = round(w === 0 ? a : w === 1 ? b : a + w * (b - a));
      }
    }
  }
  return out;
}
