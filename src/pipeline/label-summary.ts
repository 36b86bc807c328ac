/**
 * Per-label statistics of a label map: voxel count, volume in mL and bounding box (voxel indices).
 * @module
 */
import { determinant3 } from '../volume/affine.js';
import type { LabelVolume } from '../volume/volume.js';
import { labelName } from './labels.js';

export interface LabelStatistics {
  name: string;
  voxels: number;
  volume_ml: number;
  /** Inclusive voxel-index bounds, file order. */
  bbox: { min: [number, number, number]; max: [number, number, number] };
}

/** Statistics of every non-zero label (255 "not computed" included, named so). */
export function summarizeLabels(labels: LabelVolume, names: Readonly<Record<number, string>> = {}): Record<string, LabelStatistics> {
  const [nx, ny, nz] = labels.dims;
  const data = labels.data;
  const count = new Map<number, number>();
  const min = new Map<number, [number, number, number]>();
  const max = new Map<number, [number, number, number]>();
  let n = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        const v = data[n];
        if (v === 0) continue;
        const c = count.get(v);
        if (c === undefined) {
          count.set(v, 1);
          min.set(v, [i, j, k]);
          max.set(v, [i, j, k]);
          continue;
        }
        count.set(v, c + 1);
        const lo = min.get(v)!;
        const hi = max.get(v)!;
        if (i < lo[0]) lo[0] = i;
        if (j < lo[1]) lo[1] = j;
        if (i > hi[0]) hi[0] = i;
        if (j > hi[1]) hi[1] = j;
        hi[2] = k;
      }
    }
  }
  const voxelMm3 = Math.abs(determinant3(labels.affine));
  const out: Record<string, LabelStatistics> = {};
  for (const [label, voxels] of [...count].sort((a, b) => a[0] - b[0])) {
    out[String(label)] = {
      name: names[label] ?? labelName(label) ?? (label === 255 ? 'not computed' : `label ${label}`),
      voxels,
      // mm³ rounded to whole µL, then mL.
      volume_ml: Math.round(voxels * voxelMm3) / 1000,
      bbox: { min: min.get(label)!, max: max.get(label)! },
    };
  }
  return out;
}
