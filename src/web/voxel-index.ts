/**
 * World millimetres (RAS+) ↔ the file's voxel indices (i, j, k), the only coordinates the NIM API
 * takes for points (spec/nim-api.md: "zero-based voxel indices along the axes of the image array as
 * stored in the file, before any reorientation").
 *
 * The viewer (NiiVue) reorients every volume to RAS internally, so its own voxel coordinates are not
 * the file's. World millimetres are the same in both, so a click is taken in millimetres and mapped
 * back with the file's own affine (the 4×4 matrix that maps file-order indices to RAS mm). Pure: no
 * DOM, no NiiVue, so it runs (and is tested) in Node as well.
 * @module
 */

/** Row-major 4×4 matrix (16 numbers) or four rows of four; the last row is [0, 0, 0, 1]. */
export type AffineInput = readonly number[] | readonly (readonly number[])[];
export type Triple = readonly [number, number, number];

/** Flattens four rows (NiiVue's `hdr.affine`) or returns a 16-number array as it is. */
export function flatAffine(affine: AffineInput): number[] {
  const flat = (affine as readonly (number | readonly number[])[]).flatMap((v) => (typeof v === 'number' ? [v] : [...v]));
  if (flat.length !== 16 || flat.some((v) => !Number.isFinite(v))) {
    throw new RangeError('An affine needs 16 finite numbers (four rows of four).');
  }
  return flat;
}

/** (i, j, k) → RAS mm: `affine · [i, j, k, 1]`. */
export function voxelToWorld(affine: AffineInput, voxel: Triple): [number, number, number] {
  const a = flatAffine(affine);
  const [i, j, k] = voxel;
  return [
    a[0] * i + a[1] * j + a[2] * k + a[3],
    a[4] * i + a[5] * j + a[6] * k + a[7],
    a[8] * i + a[9] * j + a[10] * k + a[11],
  ];
}

/**
 * RAS mm → continuous file-order voxel coordinates: solves `affine · [i, j, k, 1] = mm` (Cramer's
 * rule on the 3×3 part; throws on a singular matrix, which a valid image never has).
 */
export function worldToVoxel(affine: AffineInput, mm: Triple): [number, number, number] {
  const a = flatAffine(affine);
  const [m00, m01, m02, t0, m10, m11, m12, t1, m20, m21, m22, t2] = a;
  const x = mm[0] - t0;
  const y = mm[1] - t1;
  const z = mm[2] - t2;
  const det = m00 * (m11 * m22 - m12 * m21) - m01 * (m10 * m22 - m12 * m20) + m02 * (m10 * m21 - m11 * m20);
  if (!(Math.abs(det) > 0) || !Number.isFinite(det)) throw new RangeError('The affine is singular: no voxel index for a world position.');
  return [
    (x * (m11 * m22 - m12 * m21) - m01 * (y * m22 - m12 * z) + m02 * (y * m21 - m11 * z)) / det,
    (m00 * (y * m22 - m12 * z) - x * (m10 * m22 - m12 * m20) + m02 * (m10 * z - y * m20)) / det,
    (m00 * (m11 * z - y * m21) - m01 * (m10 * z - y * m20) + x * (m10 * m21 - m11 * m20)) / det,
  ];
}

/**
 * The voxel (i, j, k) whose centre is nearest to `mm`, or `null` when it lies outside an image of
 * `dims`. Voxel centres sit at integer indices, so each coordinate rounds; a position on a boundary
 * between two voxels (x.5) rounds up, as Math.round does.
 * @example
 * // LPS-stored CT, 1.5 mm voxels: voxel (10, 20, 30) is at RAS (56.66, 225.66, 585.2)
 * fileVoxelIndex([-1.5,0,0,71.66, 0,-1.5,0,255.66, 0,0,1.5,540.2, 0,0,0,1], [56.66, 225.66, 585.2], [120, 126, 164]);
 * // → [10, 20, 30]
 */
export function fileVoxelIndex(affine: AffineInput, mm: Triple, dims: Triple): [number, number, number] | null {
  const continuous = worldToVoxel(affine, mm);
  // Clean up float noise (e.g. 9.9999999997) before rounding so that exact centres stay exact.
  const index = continuous.map((v) => Math.round(Math.round(v * 1e6) / 1e6)) as [number, number, number];
  for (let axis = 0; axis < 3; axis++) {
    if (index[axis] < 0 || index[axis] >= dims[axis]) return null;
  }
  return index;
}

/** Volume of one voxel in mm³: |det| of the affine's 3×3 part. */
export function voxelVolumeMm3(affine: AffineInput): number {
  const a = flatAffine(affine);
  return Math.abs(a[0] * (a[5] * a[10] - a[6] * a[9]) - a[1] * (a[4] * a[10] - a[6] * a[8]) + a[2] * (a[4] * a[9] - a[5] * a[8]));
}
