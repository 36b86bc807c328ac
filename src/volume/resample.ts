/**
 * Resampling to a fixed spacing for engines, and mapping their label maps back onto the input grid.
 *
 * Grid convention ("align corners false", as ITK/SimpleITK resampling with a preserved extent and
 * PyTorch's `align_corners=False`): a voxel index is the voxel's centre, voxel i covers
 * [i − 0.5, i + 0.5). The resampled grid keeps the input's axis directions, takes the new spacing,
 * has m = round(n · oldSpacing / newSpacing) voxels per axis (at least 1) and keeps the centre of the
 * field of view, so when n · old = m · new the outer voxel edges of both grids coincide. Output voxel
 * p then sits at input continuous index (p − (m − 1)/2) · new/old + (n − 1)/2 on that axis.
 *
 * Sampling conventions (nearest rounds half up, edge clamping, fill outside) are in sampling.ts.
 * @module
 */
import { VoxgateError } from '../errors.js';
import type { Affine, Vec3 } from './affine.js';
import { apply, columnNorms, invert, multiply } from './affine.js';
import type { DataType, VoxelArray } from './datatype.js';
import { VoxelArrayOf, dataTypeOf } from './datatype.js';
import type { Interpolation } from './sampling.js';
import { MAX_SAMPLED_VOXELS, assertFits, sampleInto } from './sampling.js';
import type { Dims, Volume, VolumeSource } from './volume.js';
import { createVolume, voxelCount } from './volume.js';

export type { Interpolation } from './sampling.js';

/** Where voxels are: dimensions and the voxel-to-RAS affine. A `Volume` is one. */
export interface Grid {
  readonly dims: Dims;
  readonly affine: Affine;
}

/** The grid `resample` produced, with the exact index mappings between it and its input. */
export interface ResampledGrid extends Grid {
  /** Output voxel spacing in mm, as requested. */
  readonly spacing: Vec3;
  /** The grid that was resampled. */
  readonly input: Grid;
  /**
   * Output voxel index → input continuous voxel index: diagonal (axes keep their directions), the
   * mapping the sampler used. A point prompt goes the other way with `inputToOutput`.
   */
  readonly outputToInput: Affine;
  /** Input voxel index → output continuous voxel index (round for the nearest output voxel). */
  readonly inputToOutput: Affine;
}

export interface ResampleOptions {
  /** Output voxel spacing in mm along the input's voxel axes i, j, k. */
  readonly spacing: Vec3;
  /** `linear` (trilinear) for images, `nearest` for label maps. */
  readonly interpolation: Interpolation;
  /**
   * Output dimensions instead of round(n · old / new): the centre stays, the extent changes (a
   * smaller grid crops, a larger one pads by edge clamping) — e.g. to reach a multiple of a patch size.
   */
  readonly dims?: Dims;
  /**
   * Output type instead of the input's. By default the output keeps the input's type: float stays
   * float, integer linear results are rounded (CT int16 stays int16, a quarter of float64's memory).
   */
  readonly dataType?: 'float32' | 'float64';
  /**
   * The array to write into (reused working memory) instead of a new one: it must have the output
   * grid's voxel count and the output type.
   */
  readonly into?: VoxelArray;
}

export interface ResampleResult<T extends VoxelArray = VoxelArray> {
  readonly volume: Volume<T>;
  readonly grid: ResampledGrid;
}

/**
 * The grid of spacing `spacing` that covers the same extent as `input` with the same directions
 * and centre (see the module notes), without touching any voxels.
 * @example
 * const grid = resampleGrid(volume, [1.5, 1.5, 1.5]); // 512×512×300 at 0.7×0.7×1 → 239×239×200
 */
export function resampleGrid(input: Grid, spacing: Vec3, dims?: Dims): ResampledGrid {
  if (spacing.length !== 3 || spacing.some((s) => !(Number.isFinite(s) && s > 0))) {
    throw new VoxgateError('VXG_ERR_VOLUME_SPACING', `Resampling spacing ${spacing.join(' × ')} mm must be three finite positive numbers.`);
  }
  const inSpacing = columnNorms(input.affine);
  const outDims = dims ?? (input.dims.map((n, c) => Math.max(1, Math.round((n * inSpacing[c]) / spacing[c]))) as unknown as Dims);
  assertDims(outDims);
  const ratio = [0, 1, 2].map((c) => spacing[c] / inSpacing[c]);
  // Input continuous index of output voxel 0: keeps the centre (n − 1)/2 ↔ (m − 1)/2.
  const offset = [0, 1, 2].map((c) => (input.dims[c] - 1) / 2 - (ratio[c] * (outDims[c] - 1)) / 2);
  const a = input.affine;
  // Columns are direction · new spacing; (column / old) · new keeps an axis-aligned column exact, and
  // an unchanged spacing keeps the column itself.
  const column = (c: number): number[] =>
    spacing[c] === inSpacing[c] ? [a[c], a[4 + c], a[8 + c]] : [0, 4, 8].map((r) => (a[r + c] / inSpacing[c]) * spacing[c]);
  const [c0, c1, c2] = [column(0), column(1), column(2)];
  const origin = apply(a, offset as unknown as Vec3);
  const affine = zeroSigns([
    c0[0], c1[0], c2[0], origin[0],
    c0[1], c1[1], c2[1], origin[1],
    c0[2], c1[2], c2[2], origin[2],
    0, 0, 0, 1,
  ]);
  const outputToInput = zeroSigns([
    ratio[0], 0, 0, offset[0],
    0, ratio[1], 0, offset[1],
    0, 0, ratio[2], offset[2],
    0, 0, 0, 1,
  ]);
  const inputToOutput = zeroSigns([
    1 / ratio[0], 0, 0, -offset[0] / ratio[0],
    0, 1 / ratio[1], 0, -offset[1] / ratio[1],
    0, 0, 1 / ratio[2], -offset[2] / ratio[2],
    0, 0, 0, 1,
  ]);
  return {
    dims: [outDims[0], outDims[1], outDims[2]],
    affine,
    spacing: [spacing[0], spacing[1], spacing[2]],
    input: { dims: input.dims, affine: input.affine },
    outputToInput,
    inputToOutput,
  };
}

/**
 * Resamples `volume` to `options.spacing`, keeping directions, extent and centre. Linear clamps to
 * the edge beyond the outer voxel centres; nearest takes the nearest voxel (half up).
 * @example
 * const { volume: iso, grid } = resample(ct, { spacing: [1.5, 1.5, 1.5], interpolation: 'linear' });
 * const labels = await engine(iso);                       // on `grid`
 * const back = resampleLabelsTo(labels.data, grid, ct, { fill: 255 }); // on the CT's grid
 */
export function resample(volume: Volume, options: ResampleOptions): ResampleResult {
  assertInterpolation(options.interpolation);
  const grid = resampleGrid(volume, options.spacing, options.dims);
  const out = outputArray(options.dataType ?? volume.dataType, grid.dims, options.into);
  sampleInto({
    source: volume.data,
    sourceDims: volume.dims,
    map: grid.outputToInput,
    out,
    outDims: grid.dims,
    interpolation: options.interpolation,
  });
  return { volume: createVolume(grid.dims, out, grid.affine, derivedSource(volume.source)), grid };
}

export interface ResampleToGridOptions {
  readonly interpolation: Interpolation;
  /** Value for target voxels outside the source's voxel extent; omitted: clamp to the edge. */
  readonly fill?: number;
  /** Output type instead of the source's (see {@link ResampleOptions.dataType}). */
  readonly dataType?: 'float32' | 'float64';
  /** The array to write into instead of a new one (see {@link ResampleOptions.into}). */
  readonly into?: VoxelArray;
  /** Only target slices k0 ≤ k < k1, the rest of `into` untouched (to share a grid between threads). */
  readonly slices?: readonly [number, number];
}

/**
 * Resamples `volume` onto any `target` grid through world coordinates (target index → world →
 * source index). Parallel grids take the separable path, oblique ones the general path.
 * @example
 * const onFirst = resampleToGrid(secondSeries, firstSeries, { interpolation: 'linear', fill: -1024 });
 */
export function resampleToGrid(volume: Volume, target: Grid, options: ResampleToGridOptions): Volume {
  assertInterpolation(options.interpolation);
  assertDims(target.dims);
  const out = outputArray(options.dataType ?? volume.dataType, target.dims, options.into, checkedCount(target.dims));
  if (options.fill !== undefined) assertFits(options.fill, out);
  sampleInto({
    source: volume.data,
    sourceDims: volume.dims,
    map: indexMap(volume, target),
    out,
    outDims: target.dims,
    interpolation: options.interpolation,
    fill: options.fill,
    slices: options.slices,
  });
  return createVolume(target.dims, out, target.affine, derivedSource(volume.source));
}

export interface ResampleLabelsOptions {
  /** Label for target voxels outside the source grid (default 0; engines pass 255, "not computed"). */
  readonly fill?: number;
}

/**
 * Maps a label map on grid `source` onto grid `target` by nearest neighbour in world coordinates —
 * the inverse step after an engine segmented a resampled (or otherwise regridded) image. Target
 * voxels whose centre falls outside the source's voxel extent get `fill`. Identical grids return a
 * copy. The result has the labels' type.
 * @example
 * const back = resampleLabelsTo(labels.data, grid, input, { fill: 255 });
 */
export function resampleLabelsTo<T extends VoxelArray>(labels: T, source: Grid, target: Grid, options: ResampleLabelsOptions = {}): T {
  if (labels.length !== voxelCount(source.dims)) {
    throw new VoxgateError(
      'VXG_ERR_VOLUME_GRID_MISMATCH',
      `Label map has ${labels.length} voxels but its grid ${source.dims.join('×')} needs ${voxelCount(source.dims)}.`,
    );
  }
  assertDims(target.dims);
  const fill = options.fill ?? 0;
  assertFits(fill, labels);
  const out = new VoxelArrayOf[dataTypeOf(labels)](voxelCount(target.dims));
  if (sameGrid(source, target)) {
    out.set(labels); // a copy, bit for bit (`slice` of a Buffer would be a view)
    return out as T;
  }
  sampleInto({
    source: labels,
    sourceDims: source.dims,
    map: indexMap(source, target),
    out,
    outDims: target.dims,
    interpolation: 'nearest',
    fill,
  });
  return out as T;
}

/** `into` when it fits the output grid and type, else a new array; `count` is the grid's voxel count. */
function outputArray(dataType: DataType, dims: Dims, into: VoxelArray | undefined, count = voxelCount(dims)): VoxelArray {
  if (!into) return new VoxelArrayOf[dataType](count);
  if (into.length !== count || dataTypeOf(into) !== dataType) {
    throw new RangeError(`Resampling into a ${dataTypeOf(into)} array of ${into.length} voxels; the ${dims.join('×')} grid needs ${dataType} × ${count}.`);
  }
  return into;
}

/** Target voxel index → source continuous voxel index: inv(source.affine) · target.affine. */
export function indexMap(source: Grid, target: Grid): Affine {
  return multiply(invert(source.affine), target.affine);
}

function sameGrid(a: Grid, b: Grid): boolean {
  return a.dims.every((n, c) => n === b.dims[c]) && a.affine.every((v, n) => v === b.affine[n]);
}

function assertInterpolation(interpolation: Interpolation): void {
  if (interpolation !== 'linear' && interpolation !== 'nearest') {
    throw new TypeError(`Unknown interpolation '${String(interpolation)}'; use 'linear' or 'nearest'.`);
  }
}

function assertDims(dims: Dims): void {
  if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new VoxgateError('VXG_ERR_VOLUME_HEADER', `Grid dimensions ${dims.join('×')} are not three positive integers.`);
  }
  checkedCount(dims);
}

function checkedCount(dims: Dims): number {
  const count = voxelCount(dims);
  if (!(count <= MAX_SAMPLED_VOXELS)) {
    throw new VoxgateError('VXG_ERR_VOLUME_TOO_LARGE', `A ${dims.join('×')} grid is too large to resample onto (at most ${MAX_SAMPLED_VOXELS} voxels).`);
  }
  return count;
}

/** -0 → 0, so affines compare and print cleanly. */
function zeroSigns(a: number[]): Affine {
  return a.map((v) => (v === 0 ? 0 : v));
}

/** New geometry: the file's NIfTI/NRRD geometry no longer describes these voxels. */
function derivedSource(source: VolumeSource): VolumeSource {
  return source.description === undefined ? { format: 'derived' } : { format: 'derived', description: source.description };
}
