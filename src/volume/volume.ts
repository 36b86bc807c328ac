/**
 * The in-memory volume every codec produces and every engine consumes.
 * @module
 */
import { VoxgateError } from '../errors.js';
import type { Affine } from './affine.js';
import { assertValidAffine } from './affine.js';
import type { DataType, VoxelArray } from './datatype.js';
import { dataTypeOf } from './datatype.js';

export type Dims = readonly [number, number, number];

/**
 * NIfTI header fields that fix geometry. Kept verbatim from the file read so that a label map written
 * for that image carries the same qform and sform, codes and values, bit for bit.
 */
export interface NiftiGeometry {
  readonly version: 1 | 2;
  readonly qformCode: number;
  readonly sformCode: number;
  /** quatern_b, quatern_c, quatern_d, qoffset_x, qoffset_y, qoffset_z. */
  readonly quatern: readonly [number, number, number, number, number, number];
  /** pixdim[0..7]; pixdim[0] is qfac. */
  readonly pixdim: readonly number[];
  /** srow_x, srow_y, srow_z: 12 numbers. */
  readonly srow: readonly number[];
  readonly xyztUnits: number;
}

/** NRRD space facts kept so a NRRD written back uses the same `space` name. */
export interface NrrdGeometry {
  /** The `space` field as read, e.g. `left-posterior-superior`. */
  readonly space: string;
}

/** Where a volume came from; what a writer needs to keep. */
export interface VolumeSource {
  readonly format: 'nifti' | 'nrrd' | 'dicom' | 'derived';
  readonly nifti?: NiftiGeometry;
  readonly nrrd?: NrrdGeometry;
  /** Free-text description (NIfTI `descrip`); never patient data. */
  readonly description?: string;
}

/**
 * A 3D image: `data[i + nx * (j + ny * k)]` is voxel (i, j, k) in file order, and `affine` maps
 * (i, j, k) to RAS+ millimetres.
 */
export interface Volume<T extends VoxelArray = VoxelArray> {
  readonly dims: Dims;
  readonly data: T;
  readonly dataType: DataType;
  readonly affine: Affine;
  readonly source: VolumeSource;
}

/** A label map: integer voxel values are label indices (0 background, 255 "not computed"). */
export type LabelVolume = Volume<Uint8Array | Int16Array | Uint16Array>;

export function voxelCount(dims: Dims): number {
  return dims[0] * dims[1] * dims[2];
}

/**
 * Slices [k0, k1) of a grid `n` slices deep, checked (default: all of them); for loops that write
 * only part of a grid so that threads can share it.
 */
export function sliceRange(slices: readonly [number, number] | undefined, n: number): [number, number] {
  const [k0, k1] = slices ?? [0, n];
  if (!(Number.isInteger(k0) && Number.isInteger(k1) && k0 >= 0 && k1 <= n)) {
    throw new RangeError(`Output slices ${k0}..${k1} are not within the grid's ${n}.`);
  }
  return [k0, k1];
}

/** Builds a volume, checking the data length and the affine. */
export function createVolume<T extends VoxelArray>(
  dims: Dims,
  data: T,
  affine: Affine,
  source: VolumeSource = { format: 'derived' },
): Volume<T> {
  if (dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new VoxgateError('VXG_ERR_VOLUME_HEADER', `Image dimensions ${dims.join('×')} are not positive integers.`);
  }
  if (data.length !== voxelCount(dims)) {
    throw new VoxgateError(
      'VXG_ERR_VOLUME_HEADER',
      `Image has ${data.length} voxels but dimensions ${dims.join('×')} need ${voxelCount(dims)}.`,
    );
  }
  assertValidAffine(affine);
  return { dims: [dims[0], dims[1], dims[2]], data, dataType: dataTypeOf(data), affine: affine.map((v) => (v === 0 ? 0 : v)), source }; // -0 → 0
}

/** A label map on the grid of `image` (same dims, affine and source geometry). */
export function createLabelVolume(
  image: Pick<Volume, 'dims' | 'affine' | 'source'>,
  data: Uint8Array | Int16Array | Uint16Array = new Uint8Array(voxelCount(image.dims)),
): LabelVolume {
  return createVolume(image.dims, data, image.affine, image.source);
}

/** Flat index of voxel (i, j, k). */
export function voxelIndex(dims: Dims, i: number, j: number, k: number): number {
  return i + dims[0] * (j + dims[1] * k);
}
