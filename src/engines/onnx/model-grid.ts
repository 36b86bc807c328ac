/**
 * The image on the grid a network expects, and the way back: reorient (exact axis permutation and
 * flips, src/volume/reorient.ts) to the model's axis code, resample (trilinear, src/volume/resample.ts)
 * to its spacing, as float32; and for the labels computed there, nearest neighbour back onto the
 * reoriented grid and the inverse permutation onto the input grid, so the result has the input's
 * dims and affine exactly.
 * @module
 */
import type { Vec3 } from '../../volume/affine.js';
import { columnNorms } from '../../volume/affine.js';
import type { Grid } from '../../volume/resample.js';
import { resample, resampleGrid, resampleToGrid } from '../../volume/resample.js';
import type { Orientation, OrientationTransform } from '../../volume/reorient.js';
import { orientationTransform, reorient } from '../../volume/reorient.js';
import type { Volume } from '../../volume/volume.js';
import { ScratchBuffers } from '../../volume/scratch-buffers.js';
import { createVolume, voxelCount } from '../../volume/volume.js';

/** Spacings within this relative difference count as equal: no resampling (float32 pixdim noise). */
export const SPACING_TOLERANCE = 1e-4;

export interface ModelGrid extends Grid {
  /** The image on this grid, float32, i fastest (raw intensities: the transform comes later). */
  readonly data: Float32Array;
  /** Input grid → reoriented grid. */
  readonly transform: OrientationTransform;
  /** The reoriented input grid (before resampling). */
  readonly reoriented: Grid;
  /** False when the image already had the model's spacing (the model grid is the reoriented grid). */
  readonly resampled: boolean;
}

/**
 * Brings `volume` to the model's orientation and spacing (null: keep the image's) as float32;
 * `volume` is not modified. The working arrays and the result's data are the ones kept in
 * `scratch` (valid until its next use); without it, new arrays.
 * @example
 * const grid = toModelGrid(ct, ['R', 'A', 'S'], [1.5, 1.5, 1.5]);
 */
export function toModelGrid(volume: Volume, orientation: Orientation, spacing: Vec3 | null, scratch = new ScratchBuffers(0)): ModelGrid {
  // Kept memory for the reoriented voxels only where they move (reorient returns the input otherwise).
  const moves = !orientationTransform(volume.dims, volume.affine, orientation).isIdentity;
  const into = moves ? scratch.array('model-grid.oriented', volume.dataType, volume.data.length) : undefined;
  const { volume: oriented, transform } = reorient(volume, orientation, { into });
  const current = columnNorms(oriented.affine);
  const resampled = spacing !== null && [0, 1, 2].some((a) => Math.abs(current[a] - spacing[a]) > SPACING_TOLERANCE * spacing[a]);
  const reoriented: Grid = { dims: oriented.dims, affine: oriented.affine };
  if (resampled) {
    const data = scratch.array<Float32Array>('model-grid.data', 'float32', voxelCount(resampleGrid(reoriented, spacing).dims));
    const { volume: out } = resample(oriented, { spacing, interpolation: 'linear', dataType: 'float32', into: data });
    return { dims: out.dims, affine: out.affine, data, transform, reoriented, resampled };
  }
  // A copy even for float32 input: the intensity transform works in place, the caller's image stays.
  const data = scratch.array<Float32Array>('model-grid.data', 'float32', volume.data.length);
  data.set(oriented.data);
  return { dims: oriented.dims, affine: oriented.affine, data, transform, reoriented, resampled };
}

/**
 * Labels computed on `grid` (model grid, i fastest) → labels in the input volume's layout: a new
 * array, or `labels` itself where the model grid is the input grid.
 * Resampled grids map back by nearest neighbour in world coordinates, clamped at the edge: the model
 * grid covers the input's extent up to rounding of its size, and an input voxel in that sliver takes
 * the edge label rather than 255.
 */
export function labelsToInput(labels: Uint8Array, grid: ModelGrid, scratch = new ScratchBuffers(0)): Uint8Array {
  const identity = grid.transform.isIdentity;
  let onReoriented = labels;
  if (grid.resampled) {
    const source = createVolume(grid.dims, labels, grid.affine);
    // Kept memory only where the inverse permutation follows: the caller gets a new array either way.
    const into = identity ? undefined : scratch.array<Uint8Array>('model-grid.labels-reoriented', 'uint8', voxelCount(grid.reoriented.dims));
    onReoriented = resampleToGrid(source, grid.reoriented, { interpolation: 'nearest', into }).data as Uint8Array;
  }
  return identity ? onReoriented : grid.transform.invert(onReoriented);
}
