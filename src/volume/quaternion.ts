/**
 * NIfTI qform quaternion ↔ matrix, as nifti1_io.c (`quatern_to_mat44`, `mat44_to_quatern`) and
 * nibabel define them.
 * @module
 */
import type { Affine } from './affine.js';

export interface QformParameters {
  /** quatern_b, quatern_c, quatern_d. */
  readonly b: number;
  readonly c: number;
  readonly d: number;
  readonly offset: readonly [number, number, number];
  /** Voxel sizes (pixdim[1..3]). */
  readonly pixdim: readonly [number, number, number];
  /** pixdim[0]: -1 flips the third axis; anything else counts as +1. */
  readonly qfac: number;
}

/**
 * The qform affine. Like nibabel: a = sqrt(1 - b² - c² - d²) (0 when that is slightly negative from
 * rounding), the quaternion normalised, voxel sizes taken as absolute values.
 */
export function qformToAffine(q: QformParameters): Affine {
  let { b, c, d } = q;
  const w2 = 1 - (b * b + c * c + d * d);
  let a: number;
  if (w2 < 0) {
    // Rounding of float32 fields: treat as a 180° rotation (a = 0) and renormalise b, c, d.
    const n = Math.sqrt(b * b + c * c + d * d);
    b /= n;
    c /= n;
    d /= n;
    a = 0;
  } else {
    a = Math.sqrt(w2);
  }
  const nq = a * a + b * b + c * c + d * d;
  const s = nq > 0 ? 2 / nq : 0;
  const r00 = 1 - s * (c * c + d * d);
  const r01 = s * (b * c - a * d);
  const r02 = s * (b * d + a * c);
  const r10 = s * (b * c + a * d);
  const r11 = 1 - s * (b * b + d * d);
  const r12 = s * (c * d - a * b);
  const r20 = s * (b * d - a * c);
  const r21 = s * (c * d + a * b);
  const r22 = 1 - s * (b * b + c * c);
  const dx = Math.abs(q.pixdim[0]);
  const dy = Math.abs(q.pixdim[1]);
  const dz = Math.abs(q.pixdim[2]) * (q.qfac < 0 ? -1 : 1);
  return [
    r00 * dx, r01 * dy, r02 * dz, q.offset[0],
    r10 * dx, r11 * dy, r12 * dz, q.offset[1],
    r20 * dx, r21 * dy, r22 * dz, q.offset[2],
    0, 0, 0, 1,
  ];
}

/**
 * Quaternion, offsets, voxel sizes and qfac that represent `affine` as closely as a qform can (a
 * qform cannot hold shear; the sform keeps the exact matrix). Follows nifti1_io's mat44_to_quatern.
 */
export function affineToQform(affine: Affine): QformParameters {
  let r11 = affine[0], r12 = affine[1], r13 = affine[2];
  let r21 = affine[4], r22 = affine[5], r23 = affine[6];
  let r31 = affine[8], r32 = affine[9], r33 = affine[10];
  let xd = Math.hypot(r11, r21, r31);
  let yd = Math.hypot(r12, r22, r32);
  let zd = Math.hypot(r13, r23, r33);
  if (xd === 0) { r11 = 1; r21 = 0; r31 = 0; xd = 1; }
  if (yd === 0) { r22 = 1; r12 = 0; r32 = 0; yd = 1; }
  if (zd === 0) { r33 = 1; r13 = 0; r23 = 0; zd = 1; }
  const dx = xd, dy = yd, dz = zd;
  r11 /= xd; r21 /= xd; r31 /= xd;
  r12 /= yd; r22 /= yd; r32 /= yd;
  r13 /= zd; r23 /= zd; r33 /= zd;
  // Orthogonalise (polar decomposition) so a slightly sheared matrix still gives the nearest rotation.
  [r11, r12, r13, r21, r22, r23, r31, r32, r33] = nearestOrthogonal([r11, r12, r13, r21, r22, r23, r31, r32, r33]);
  let zdet = r11 * r22 * r33 - r11 * r32 * r23 - r21 * r12 * r33 + r21 * r32 * r13 + r31 * r12 * r23 - r31 * r22 * r13;
  let qfac = 1;
  if (zdet <= 0) {
    qfac = -1;
    r13 = -r13; r23 = -r23; r33 = -r33;
    zdet = -zdet;
  }
  let a = r11 + r22 + r33 + 1;
  let b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = 0.25 * (r32 - r23) / a;
    c = 0.25 * (r13 - r31) / a;
    d = 0.25 * (r21 - r12) / a;
  } else {
    const xx = 1 + r11 - (r22 + r33);
    const yy = 1 + r22 - (r11 + r33);
    const zz = 1 + r33 - (r11 + r22);
    if (xx > 1) {
      b = 0.5 * Math.sqrt(xx);
      c = 0.25 * (r12 + r21) / b;
      d = 0.25 * (r13 + r31) / b;
      a = 0.25 * (r32 - r23) / b;
    } else if (yy > 1) {
      c = 0.5 * Math.sqrt(yy);
      b = 0.25 * (r12 + r21) / c;
      d = 0.25 * (r23 + r32) / c;
      a = 0.25 * (r13 - r31) / c;
    } else {
      d = 0.5 * Math.sqrt(zz);
      b = 0.25 * (r13 + r31) / d;
      c = 0.25 * (r23 + r32) / d;
      a = 0.25 * (r21 - r12) / d;
    }
    if (a < 0) { b = -b; c = -c; d = -d; }
  }
  return { b, c, d, offset: [affine[3], affine[7], affine[11]], pixdim: [dx, dy, dz], qfac };
}

/** Nearest orthogonal matrix (row-major 3×3) by iterating X ← (X + X⁻ᵀ)/2, as nifti1_io does. */
function nearestOrthogonal(m: number[]): number[] {
  let x = m.slice();
  for (let iter = 0; iter < 100; iter++) {
    const inv = invert3(x);
    if (!inv) return m;
    const next = x.map((v, n) => 0.5 * (v + inv[(n % 3) * 3 + Math.floor(n / 3)]));
    const delta = Math.max(...next.map((v, n) => Math.abs(v - x[n])));
    x = next;
    if (delta < 1e-15) break;
  }
  return x;
}

function invert3(m: number[]): number[] | undefined {
  const [a, b, c, d, e, f, g, h, i] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  if (det === 0 || !Number.isFinite(det)) return undefined;
  return [
    (e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det,
    (f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det,
    (d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det,
  ];
}
