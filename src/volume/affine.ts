/**
 * 4×4 affine matrices (row-major, 16 numbers) that map voxel indices (i, j, k) to world millimetres.
 * Voxgate's world is RAS+ as in NIfTI and nibabel: x grows towards the patient's Right, y towards
 * Anterior, z towards Superior. DICOM and most NRRD files use LPS+ (x and y negated): `flipXY`
 * converts between the two.
 * @module
 */
import { VoxgateError } from '../errors.js';

/** Row-major 4×4 matrix; the last row is always [0, 0, 0, 1]. */
export type Affine = readonly number[];
export type Vec3 = readonly [number, number, number];

export const IDENTITY: Affine = Object.freeze([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);

/** Builds an affine from a 3×3 linear part (rows) and a translation. */
export function affineFrom(linear: readonly (readonly number[])[], translation: readonly number[]): Affine {
  return [
    linear[0][0], linear[0][1], linear[0][2], translation[0],
    linear[1][0], linear[1][1], linear[1][2], translation[1],
    linear[2][0], linear[2][1], linear[2][2], translation[2],
    0, 0, 0, 1,
  ];
}

/** The affine as four rows, the shape nibabel and JSON summaries use. */
export function affineRows(a: Affine): number[][] {
  return [a.slice(0, 4), a.slice(4, 8), a.slice(8, 12), a.slice(12, 16)];
}

export function multiply(a: Affine, b: Affine): Affine {
  const out = new Array<number>(16);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      out[r * 4 + c] = a[r * 4] * b[c] + a[r * 4 + 1] * b[4 + c] + a[r * 4 + 2] * b[8 + c] + a[r * 4 + 3] * b[12 + c];
    }
  }
  return out;
}

export function apply(a: Affine, p: Vec3): [number, number, number] {
  return [
    a[0] * p[0] + a[1] * p[1] + a[2] * p[2] + a[3],
    a[4] * p[0] + a[5] * p[1] + a[6] * p[2] + a[7],
    a[8] * p[0] + a[9] * p[1] + a[10] * p[2] + a[11],
  ];
}

/** Determinant of the 3×3 linear part. */
export function determinant3(a: Affine): number {
  return (
    a[0] * (a[5] * a[10] - a[6] * a[9]) -
    a[1] * (a[4] * a[10] - a[6] * a[8]) +
    a[2] * (a[4] * a[9] - a[5] * a[8])
  );
}

/** Throws VXG_ERR_VOLUME_AFFINE unless every entry is finite and the linear part is invertible. */
export function assertValidAffine(a: Affine, what = 'affine'): void {
  if (a.length !== 16 || a.some((v) => !Number.isFinite(v))) {
    throw new VoxgateError('VXG_ERR_VOLUME_AFFINE', `The ${what} has non-finite entries; the file's orientation fields are broken.`);
  }
  const scale = Math.max(...columnNorms(a), 1e-300);
  if (!(Math.abs(determinant3(a)) > 1e-12 * scale * scale * scale)) {
    throw new VoxgateError('VXG_ERR_VOLUME_AFFINE', `The ${what} is singular (its axes are parallel or zero); the file's orientation fields are broken.`);
  }
}

export function invert(a: Affine): Affine {
  const det = determinant3(a);
  if (!(Math.abs(det) > 0) || !Number.isFinite(det)) {
    throw new VoxgateError('VXG_ERR_VOLUME_AFFINE', 'The affine is singular and cannot be inverted.');
  }
  const [a00, a01, a02, t0, a10, a11, a12, t1, a20, a21, a22, t2] = a;
  const i00 = (a11 * a22 - a12 * a21) / det;
  const i01 = (a02 * a21 - a01 * a22) / det;
  const i02 = (a01 * a12 - a02 * a11) / det;
  const i10 = (a12 * a20 - a10 * a22) / det;
  const i11 = (a00 * a22 - a02 * a20) / det;
  const i12 = (a02 * a10 - a00 * a12) / det;
  const i20 = (a10 * a21 - a11 * a20) / det;
  const i21 = (a01 * a20 - a00 * a21) / det;
  const i22 = (a00 * a11 - a01 * a10) / det;
  return [
    i00, i01, i02, -(i00 * t0 + i01 * t1 + i02 * t2),
    i10, i11, i12, -(i10 * t0 + i11 * t1 + i12 * t2),
    i20, i21, i22, -(i20 * t0 + i21 * t1 + i22 * t2),
    0, 0, 0, 1,
  ];
}

/** Lengths of the three voxel axes in millimetres (the voxel spacing). */
export function columnNorms(a: Affine): [number, number, number] {
  return [0, 1, 2].map((c) => Math.hypot(a[c], a[4 + c], a[8 + c])) as [number, number, number];
}

/**
 * Flips the first two world axes: turns an LPS affine (DICOM, most NRRD) into RAS (NIfTI) and back.
 */
export function flipXY(a: Affine): Affine {
  return [
    -a[0], -a[1], -a[2], -a[3],
    -a[4], -a[5], -a[6], -a[7],
    a[8], a[9], a[10], a[11],
    0, 0, 0, 1,
  ];
}

export type AxisCode = 'L' | 'R' | 'P' | 'A' | 'I' | 'S';

/**
 * The anatomical direction each voxel axis points to, as nibabel's `aff2axcodes` reports it
 * (('R','A','S') = canonical: i grows towards Right, j Anterior, k Superior). Each voxel axis takes
 * the world axis it has the largest component on (greedy, without reuse).
 */
export function axisCodes(a: Affine): [AxisCode, AxisCode, AxisCode] {
  const positive: AxisCode[] = ['R', 'A', 'S'];
  const negative: AxisCode[] = ['L', 'P', 'I'];
  const norms = columnNorms(a);
  const out: AxisCode[] = [];
  const freeRows = new Set([0, 1, 2]);
  const freeCols = new Set([0, 1, 2]);
  // Like nibabel's io_orientation: take the largest (column-normalised) entry first, so an oblique
  // axis is given to the world axis it is closest to.
  while (freeCols.size > 0) {
    let best = [-1, -1];
    let bestAbs = -1;
    for (const r of freeRows) {
      for (const c of freeCols) {
        const v = Math.abs(a[r * 4 + c]) / (norms[c] || 1);
        if (v > bestAbs) {
          bestAbs = v;
          best = [r, c];
        }
      }
    }
    const [r, c] = best;
    out[c] = a[r * 4 + c] >= 0 ? positive[r] : negative[r];
    freeRows.delete(r);
    freeCols.delete(c);
  }
  return out as [AxisCode, AxisCode, AxisCode];
}

/** Largest absolute difference between two affines' entries. */
export function maxAbsDifference(a: Affine, b: Affine): number {
  let m = 0;
  for (let n = 0; n < 16; n++) m = Math.max(m, Math.abs(a[n] - b[n]));
  return m;
}
