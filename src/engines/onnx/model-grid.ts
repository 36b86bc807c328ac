/**
 * The image on the grid a network expects, and the way back: reorient (exact axis permutation and
 * flips, src/volume/reorient.ts) to the model's axis code, resample (trilinear, src/volume/sampling.ts)
 * to its spacing, as float32, optionally with the intensity transform applied on the way; and for
 * the labels computed there, the input grid's labels, so the result has the input's dims and
 * affine exactly.
 *
 * Every pass here touches tens of megabytes, so each goes straight from the input's layout: a
 * resampled grid samples the input image through the composed map (model voxel → reoriented voxel
 * → input voxel; a permutation composed with a diagonal map is still separable), and its labels go
 * back by nearest neighbour straight onto the input grid, never through a reoriented copy.
 * @module
 */
import type { Vec3 } from '../../volume/affine.js';
import { columnNorms, multiply } from '../../volume/affine.js';
import type { Grid } from '../../volume/resample.js';
import { resampleGrid, resampleToGrid } from '../../volume/resample.js';
import { sampleInto } from '../../volume/sampling.js';
import type { Orientation, OrientationTransform } from '../../volume/reorient.js';
import { orientationTransform } from '../../volume/reorient.js';
import type { Volume } from '../../volume/volume.js';
import { ScratchBuffers } from '../../volume/scratch-buffers.js';
import { createVolume, voxelCount } from '../../volume/volume.js';
import type { IntensitySpec } from './model-package.js';
import { applyIntensity, toModelIntensities } from './intensity.js';

/** Spacings within this relative difference count as equal: no resampling (float32 pixdim noise). */
export const SPACING_TOLERANCE = 1e-4;

export interface ModelGrid extends Grid {
  /** The image on this grid, float32, i fastest: raw intensities, or transformed when asked. */
  readonly data: Float32Array;
  /** The input volume's grid. */
  readonly input: Grid;
  /** Input grid → reoriented grid. */
  readonly transform: OrientationTransform;
  /** The reoriented input grid (before resampling). */
  readonly reoriented: Grid;
  /** False when the image already had the model's spacing (the model grid is the reoriented grid). */
  readonly resampled: boolean;
}

/**
 * Brings `volume` to the model's orientation and spacing (null: keep the image's) as float32, with
 * `intensity` applied when given (raw intensities otherwise); `volume` is not modified. The working
 * arrays and the result's data are the ones kept in `scratch` (valid until its next use); without
 * it, new arrays.
 * @example
 * const grid = toModelGrid(ct, ['R', 'A', 'S'], [1.5, 1.5, 1.5]);
 */
export function toModelGrid(volume: Volume, orientation: Orientation, spacing: Vec3 | null, scratch = new ScratchBuffers(0), intensity?: IntensitySpec): ModelGrid {
  const transform = orientationTransform(volume.dims, volume.affine, orientation);
  const reoriented: Grid = { dims: transform.outputDims, affine: transform.outputAffine(volume.affine) };
  const input: Grid = { dims: volume.dims, affine: volume.affine };
  const current = columnNorms(reoriented.affine);
  const resampled = spacing !== null && [0, 1, 2].some((a) => Math.abs(current[a] - spacing[a]) > SPACING_TOLERANCE * spacing[a]);
  if (resampled) {
    const grid = resampleGrid(reoriented, spacing);
    const data = scratch.array<Float32Array>('model-grid.data', 'float32', voxelCount(grid.dims));
    sampleInto({
      source: volume.data,
      sourceDims: volume.dims,
      map: multiply(transform.outputToInput, grid.outputToInput),
      out: data,
      outDims: grid.dims,
      interpolation: 'linear',
    });
    if (intensity) applyIntensity(data, intensity);
    return { dims: grid.dims, affine: grid.affine, data, input, transform, reoriented, resampled };
  }
  // Kept memory for the reoriented voxels only where they move; an identity reads the input as it is.
  const into = transform.isIdentity ? undefined : scratch.array('model-grid.oriented', volume.dataType, volume.data.length);
  const oriented = into ? transform.apply(volume.data, into) : volume.data;
  // A copy even for float32 input: the intensity transform works in place, the caller's image stays.
  const data = scratch.array<Float32Array>('model-grid.data', 'float32', volume.data.length);
  if (intensity) toModelIntensities(oriented, intensity, data);
  else data.set(oriented);
  return { ...reoriented, data, input, transform, reoriented, resampled };
}

/** What mapping labels back needs of a ModelGrid: plain fields, so it can be sent to another thread. */
export type LabelGrid = Pick<ModelGrid, 'dims' | 'affine' | 'input' | 'resampled' | 'transform'>;

/** A share of the work: part `index` of `count` (0 ≤ index < count), split along slices. */
export type WorkShare = readonly [index: number, count: number];

/**
 * Labels computed on `grid` (model grid, i fastest) → labels in the input volume's layout, in
 * `into` (the input's voxel count) or a new array; never `labels` itself. With `share`, only that
 * part of the result is written (into `into`): threads that each do one share write disjoint
 * slices, together the whole result.
 * Resampled grids map back by nearest neighbour in world coordinates, clamped at the edge: the model
 * grid covers the input's extent up to rounding of its size, and an input voxel in that sliver takes
 * the edge label rather than 255.
 */
export function labelsToInput(labels: Uint8Array, grid: LabelGrid, into?: Uint8Array, share: WorkShare = [0, 1]): Uint8Array {
  const out = into ?? new Uint8Array(voxelCount(grid.input.dims));
  if (grid.resampled) {
    // Split along the input grid's k: each share writes whole planes of the result.
    const slices = shareOf(grid.input.dims[2], share);
    resampleToGrid(createVolume(grid.dims, labels, grid.affine), grid.input, { interpolation: 'nearest', into: out, slices });
    return out;
  }
  // Split along the model grid's k (the one the permutation walks), whatever input axis it is.
  return grid.transform.invert(labels, out, shareOf(grid.dims[2], share));
}

/** Slices [k0, k1) of `n` for `share`, as even as whole slices allow. */
function shareOf(n: number, [index, count]: WorkShare): [number, number] {
  return [Math.floor((n * index) / count), Math.floor((n * (index + 1)) / count)];
}
