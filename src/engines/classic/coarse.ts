/**
 * A coarser grid for work that does not need full resolution (the body outline): integer block
 * factors per axis chosen from the spacing, the coarse grid's affine (block centres), and the
 * fine → coarse index maps.
 * @module
 */
import type { Dims } from '../../volume/volume.js';
import type { Grid } from './grid.js';
import { spacingOf } from './grid.js';

export interface CoarseGrid extends Grid {
  /** Block size per axis (fine voxels per coarse voxel). */
  readonly factors: readonly [number, number, number];
  /** Coarse index of each fine index, per axis. */
  readonly maps: readonly [Int32Array, Int32Array, Int32Array];
}

/** Blocks of about `targetMm` per axis (never finer than the image). */
export function coarseGrid(grid: Grid, targetMm: number): CoarseGrid {
  const spacing = spacingOf(grid);
  const factors = spacing.map((s) => Math.max(1, Math.round(targetMm / s))) as [number, number, number];
  const dims = grid.dims.map((n, a) => Math.ceil(n / factors[a])) as unknown as Dims;
  const a = grid.affine;
  // Coarse voxel c is centred on fine coordinate c·f + (f − 1)/2.
  const affine = [...a];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) affine[r * 4 + c] = a[r * 4 + c] * factors[c];
    affine[r * 4 + 3] = a[r * 4 + 3] + a[r * 4] * (factors[0] - 1) / 2 + a[r * 4 + 1] * (factors[1] - 1) / 2 + a[r * 4 + 2] * (factors[2] - 1) / 2;
  }
  const maps = grid.dims.map((n, ax) => Int32Array.from({ length: n }, (_, i) => Math.floor(i / factors[ax]))) as unknown as [Int32Array, Int32Array, Int32Array];
  return { dims, affine, factors, maps };
}
