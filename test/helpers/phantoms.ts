/**
 * Synthetic CT phantoms with known answers, for the classic engine's tests and benchmarks.
 *
 * The phantom is defined in RAS world millimetres (x right, y anterior, z superior) and sampled at
 * the voxel centres of a grid whose affine can be RAS, LPS, flipped along k, permuted, oblique or
 * anisotropic. The non-oblique variants sample exactly the same world points, and the noise is a
 * function of the world position, so a segmentation that reasons in world space must give the same
 * voxels (up to order) on each of them. 'prone' is the patient lying face down: the scanner's grid
 * is the LPS one (DICOM's patient axes turn with the patient: rows run to the patient's right,
 * columns to the front), and the table is in front of the body, its only difference in world space.
 *
 * Anatomy (scale 1, mm): a body ellipsoid (semi-axes 100 × 70 × 200, 40 HU) in air (−1000); two lungs
 * (−850) with small vessels; a trachea (lumen −1000, radius 7) from the top of the field of view
 * down to a carina at z = 40, splitting into two bronchi that run into the lungs; a spine (cortex 700,
 * marrow 150, spinal canal 20) and eight ribs (700); a contrast-filled aorta (300) that is not bone;
 * the table's top shell (300) under the body; in the abdomen a sphere of 120 HU and, in a pad of fat
 * (−100), two touching blobs of 60 and 80 HU.
 * @module
 */
import type { Affine } from '../../src/volume/affine.js';
import { affineFrom, multiply } from '../../src/volume/affine.js';
import type { Volume } from '../../src/volume/volume.js';
import { createVolume } from '../../src/volume/volume.js';

export type PhantomOrientation = 'RAS' | 'LPS' | 'flipK' | 'permuted' | 'oblique' | 'prone';

export interface PhantomOptions {
  /** Multiplies every length of the anatomy and the field of view (default 1). */
  readonly scale?: number;
  /** Voxel spacing in mm along the base (RAS) grid's axes; default 2 mm isotropic. */
  readonly spacing?: readonly [number, number, number];
  readonly orientation?: PhantomOrientation;
  /** Standard deviation of the Gaussian noise in HU (default 10). */
  readonly noise?: number;
  /** Base grid size; by default the field of view (220 × 168 × 160 mm × scale) divided by the spacing. */
  readonly dims?: readonly [number, number, number];
  /** Also build the ground-truth masks (default true). */
  readonly masks?: boolean;
}

export interface PhantomMasks {
  readonly body: Uint8Array;
  readonly lung: Uint8Array;
  readonly airway: Uint8Array;
  readonly trachea: Uint8Array;
  readonly bone: Uint8Array;
  readonly sphere: Uint8Array;
  readonly blobA: Uint8Array;
  readonly blobB: Uint8Array;
}

export interface Phantom {
  readonly volume: Volume<Int16Array>;
  readonly masks: PhantomMasks;
  /** World → voxel for the sample points tests click on. */
  readonly voxelOf: (world: readonly [number, number, number]) => [number, number, number];
  /** World positions (mm) of landmarks, scaled. */
  readonly landmarks: {
    readonly sphere: readonly [number, number, number];
    readonly sphereRadius: number;
    readonly blobA: readonly [number, number, number];
    readonly blobB: readonly [number, number, number];
    readonly blobRadius: number;
  };
}

const FOV_MIN = [-110, -88, -80] as const;
const FOV_MAX = [110, 80, 80] as const;

const enum Tag {
  None = 0,
  Body = 1,
  Lung = 2,
  Airway = 3,
  Trachea = 4,
  Bone = 5,
  Sphere = 6,
  BlobA = 7,
  BlobB = 8,
}

export function buildPhantom(options: PhantomOptions = {}): Phantom {
  const scale = options.scale ?? 1;
  const spacing = options.spacing ?? [2, 2, 2];
  const noise = options.noise ?? 10;
  const withMasks = options.masks ?? true;
  const center = [0, 1, 2].map((a) => ((FOV_MIN[a] + FOV_MAX[a]) / 2) * scale);
  const baseDims = options.dims ?? ([0, 1, 2].map((a) => Math.round(((FOV_MAX[a] - FOV_MIN[a]) * scale) / spacing[a])) as [number, number, number]);
  const origin = [0, 1, 2].map((a) => center[a] - ((baseDims[a] - 1) / 2) * spacing[a]);
  const base = affineFrom(
    [
      [spacing[0], 0, 0],
      [0, spacing[1], 0],
      [0, 0, spacing[2]],
    ],
    origin,
  );
  const { affine, dims } = orient(base, baseDims, options.orientation ?? 'RAS', center);
  const prone = options.orientation === 'prone';

  const n = dims[0] * dims[1] * dims[2];
  const data = new Int16Array(n);
  const tags = withMasks ? new Uint8Array(n) : undefined;
  const body = withMasks ? new Uint8Array(n) : undefined;
  const a = affine;
  const inv = 1 / scale;
  let p = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, p++) {
        const x = a[0] * i + a[1] * j + a[2] * k + a[3];
        const y = a[4] * i + a[5] * j + a[6] * k + a[7];
        const z = a[8] * i + a[9] * j + a[10] * k + a[11];
        const s = sample(x * inv, y * inv, z * inv, prone);
        data[p] = Math.round(s.hu + (noise > 0 ? noise * gaussian(x, y, z) : 0));
        if (tags) tags[p] = s.tag;
        if (body) body[p] = s.body ? 1 : 0;
      }
    }
  }
  const mask = (...wanted: Tag[]): Uint8Array => {
    const m = new Uint8Array(n);
    if (tags) for (let q = 0; q < n; q++) m[q] = wanted.includes(tags[q]) ? 1 : 0;
    return m;
  };
  const masks: PhantomMasks = {
    body: body ?? new Uint8Array(0),
    lung: mask(Tag.Lung),
    airway: mask(Tag.Airway, Tag.Trachea),
    trachea: mask(Tag.Trachea),
    bone: mask(Tag.Bone),
    sphere: mask(Tag.Sphere),
    blobA: mask(Tag.BlobA),
    blobB: mask(Tag.BlobB),
  };
  const invA = invert3(affine);
  return {
    volume: createVolume(dims, data, affine),
    masks,
    voxelOf: (w) => {
      const d = [w[0] - a[3], w[1] - a[7], w[2] - a[11]];
      return [0, 1, 2].map((r) => Math.round(invA[r * 3] * d[0] + invA[r * 3 + 1] * d[1] + invA[r * 3 + 2] * d[2])) as [number, number, number];
    },
    landmarks: {
      sphere: SPHERE.map((v) => v * scale) as [number, number, number],
      sphereRadius: 12 * scale,
      blobA: BLOB_A.map((v) => v * scale) as [number, number, number],
      blobB: BLOB_B.map((v) => v * scale) as [number, number, number],
      blobRadius: 12 * scale,
    },
  };
}

/** The grid variant: a voxel permutation/flip of the base grid (same world points) or a rotation. */
function orient(base: Affine, dims: readonly [number, number, number], orientation: PhantomOrientation, center: number[]): { affine: Affine; dims: [number, number, number] } {
  const [n0, n1, n2] = dims;
  // M maps new voxel coordinates to old (base) voxel coordinates.
  let m: Affine;
  let out: [number, number, number] = [n0, n1, n2];
  switch (orientation) {
    case 'RAS':
      return { affine: base, dims: out };
    case 'LPS':
    case 'prone':
      m = affineFrom([[-1, 0, 0], [0, -1, 0], [0, 0, 1]], [n0 - 1, n1 - 1, 0]);
      break;
    case 'flipK':
      m = affineFrom([[1, 0, 0], [0, 1, 0], [0, 0, -1]], [0, 0, n2 - 1]);
      break;
    case 'permuted':
      // new i runs along old k (superior), new j along old i, new k along old j (flipped).
      m = affineFrom([[0, 1, 0], [0, 0, -1], [1, 0, 0]], [0, n1 - 1, 0]);
      out = [n2, n0, n1];
      break;
    case 'oblique': {
      const rx = (12 * Math.PI) / 180;
      const rz = (8 * Math.PI) / 180;
      const rotX = affineFrom([[1, 0, 0], [0, Math.cos(rx), -Math.sin(rx)], [0, Math.sin(rx), Math.cos(rx)]], [0, 0, 0]);
      const rotZ = affineFrom([[Math.cos(rz), -Math.sin(rz), 0], [Math.sin(rz), Math.cos(rz), 0], [0, 0, 1]], [0, 0, 0]);
      const toOrigin = affineFrom([[1, 0, 0], [0, 1, 0], [0, 0, 1]], center.map((c) => -c));
      const back = affineFrom([[1, 0, 0], [0, 1, 0], [0, 0, 1]], center);
      return { affine: multiply(back, multiply(rotZ, multiply(rotX, multiply(toOrigin, base)))), dims: out };
    }
  }
  return { affine: multiply(base, m), dims: out };
}

const SPHERE = [45, 10, -66] as const;
const BLOB_A = [-50, 5, -68] as const;
const BLOB_B = [-30, 5, -68] as const;
const RIB_Z = [-35, -5, 25, 55];

interface Sample {
  hu: number;
  tag: Tag;
  body: boolean;
}

const out: Sample = { hu: 0, tag: Tag.None, body: false };

/** The phantom at world point (x, y, z) in scale-1 millimetres; the table in front of the body when `prone`. */
function sample(x: number, y: number, z: number, prone: boolean): Sample {
  out.hu = -1000;
  out.tag = Tag.None;
  out.body = false;
  const inBody = (x / 100) ** 2 + (y / 70) ** 2 + (z / 200) ** 2 <= 1;
  if (!inBody) {
    const fromTable = prone ? -y : y;
    if (fromTable >= -80 && fromTable <= -77) out.hu = 300; // table top shell
    return out;
  }
  out.body = true;
  out.hu = 40;
  out.tag = Tag.Body;
  const aortaD2 = (x + 28) ** 2 + (y + 22) ** 2;
  // Lungs, carved away from the aorta.
  const lx = x > 0 ? x - 46 : x + 46;
  if ((lx / 28) ** 2 + ((y - 3) / 35) ** 2 + ((z - 10) / 60) ** 2 <= 1 && aortaD2 > 13 * 13) {
    out.tag = Tag.Lung;
    const vessel =
      lx * lx + (y - 3) ** 2 + (z - 10) ** 2 <= 16 ||
      (lx - 8) ** 2 + (y + 10) ** 2 + (z - 30) ** 2 <= 16 ||
      (lx + 6) ** 2 + (y - 15) ** 2 + (z + 20) ** 2 <= 16;
    out.hu = vessel ? 40 : -850;
  }
  // A pad of fat around the two blobs, so only the edge between them is weak.
  if (((x + 40) / 27) ** 2 + ((y - 5) / 20) ** 2 + ((z + 68) / 17) ** 2 <= 1) out.hu = -100;
  if (aortaD2 <= 81) {
    out.hu = 300;
    out.tag = Tag.Body;
  }
  // Spine: vertebral body (cortex and marrow) and the arch around the spinal canal.
  const vb = x * x + (y + 32) ** 2;
  if (vb <= 13 * 13) {
    out.hu = vb >= 10 * 10 ? 700 : 150;
    out.tag = Tag.Bone;
  }
  const arch = x * x + (y + 52) ** 2;
  if (arch <= 9 * 9) {
    out.hu = arch >= 5 * 5 ? 700 : 20;
    out.tag = arch >= 5 * 5 ? Tag.Bone : Tag.Body;
  }
  // Ribs: tubes of radius 4 along an elliptic arc on each side, open at the front and back.
  for (const rz of RIB_Z) {
    const dz = z - rz;
    if (dz * dz > 16) continue;
    const t = Math.atan2(y / 57, x / 86);
    const deg = (t * 180) / Math.PI;
    const onArc = (deg >= -70 && deg <= 60) || deg >= 120 || deg <= -110;
    if (!onArc) continue;
    const d2 = (x - 86 * Math.cos(t)) ** 2 + (y - 57 * Math.sin(t)) ** 2 + dz * dz;
    if (d2 <= 16) {
      out.hu = 700;
      out.tag = Tag.Bone;
    }
  }
  // Airway: walls first, then lumens.
  const trachea = x * x + (y - 15) ** 2;
  const carina = [0, 15, 40] as const;
  // The terminal bronchi have no wall at their far end: their lumen opens into the lung there, as
  // small airways do at CT resolution, so a region grown with too high a threshold leaks.
  const segments = [
    { a: carina, b: [40, 5, 12], r: 4.5, open: false },
    { a: carina, b: [-40, 5, 12], r: 4.5, open: false },
    { a: [40, 5, 12], b: [50, 0, -10], r: 3, open: true },
    { a: [-40, 5, 12], b: [-50, 0, -10], r: 3, open: true },
  ] as const;
  let wall = z >= 40 && trachea <= 9.5 * 9.5;
  let lumen = false;
  const tracheaLumen = z >= 40 && trachea <= 49;
  if (z < 46 && z > -16) {
    for (const s of segments) {
      const [d2, t] = segmentDistance2(x, y, z, s.a, s.b);
      if (d2 <= (s.r + 2) ** 2 && !(s.open && t >= 1)) wall = true;
      if (d2 <= s.r * s.r) lumen = true;
    }
  }
  if (wall && !tracheaLumen && !lumen) {
    out.hu = 40;
    if (out.tag === Tag.Body || out.tag === Tag.Bone) out.tag = Tag.Body;
  }
  if (tracheaLumen) {
    out.hu = -1000;
    out.tag = Tag.Trachea;
  } else if (lumen) {
    out.hu = -1000;
    out.tag = Tag.Airway;
  }
  // Abdominal sphere and blobs (B drawn last: it wins where they overlap).
  if ((x - SPHERE[0]) ** 2 + (y - SPHERE[1]) ** 2 + (z - SPHERE[2]) ** 2 <= 144) {
    out.hu = 120;
    out.tag = Tag.Sphere;
  }
  if ((x - BLOB_A[0]) ** 2 + (y - BLOB_A[1]) ** 2 + (z - BLOB_A[2]) ** 2 <= 144) {
    out.hu = 60;
    out.tag = Tag.BlobA;
  }
  if ((x - BLOB_B[0]) ** 2 + (y - BLOB_B[1]) ** 2 + (z - BLOB_B[2]) ** 2 <= 144) {
    out.hu = 80;
    out.tag = Tag.BlobB;
  }
  return out;
}

/** Squared distance to segment ab, and the parameter of the nearest point (0 at a, 1 at b). */
function segmentDistance2(x: number, y: number, z: number, a: readonly number[], b: readonly number[]): [number, number] {
  const ux = b[0] - a[0], uy = b[1] - a[1], uz = b[2] - a[2];
  const wx = x - a[0], wy = y - a[1], wz = z - a[2];
  const len2 = ux * ux + uy * uy + uz * uz;
  const raw = (wx * ux + wy * uy + wz * uz) / len2;
  const t = Math.max(0, Math.min(1, raw));
  return [(wx - t * ux) ** 2 + (wy - t * uy) ** 2 + (wz - t * uz) ** 2, raw];
}

/** A standard normal value that depends only on the world position (to 0.01 mm). */
function gaussian(x: number, y: number, z: number): number {
  const h1 = hash(Math.round(x * 100), Math.round(y * 100), Math.round(z * 100), 0x9e3779b9);
  const h2 = hash(Math.round(x * 100), Math.round(y * 100), Math.round(z * 100), 0x85ebca6b);
  const u1 = (h1 + 1) / 4294967297;
  const u2 = h2 / 4294967296;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

function hash(a: number, b: number, c: number, seed: number): number {
  let h = seed | 0;
  for (const v of [a, b, c]) {
    h = Math.imul(h ^ (v | 0), 0x27d4eb2d);
    h ^= h >>> 15;
    h = Math.imul(h, 0x165667b1);
    h ^= h >>> 13;
  }
  return h >>> 0;
}

function invert3(a: Affine): number[] {
  const [a00, a01, a02, , a10, a11, a12, , a20, a21, a22] = a;
  const det = a00 * (a11 * a22 - a12 * a21) - a01 * (a10 * a22 - a12 * a20) + a02 * (a10 * a21 - a11 * a20);
  return [
    (a11 * a22 - a12 * a21) / det, (a02 * a21 - a01 * a22) / det, (a01 * a12 - a02 * a11) / det,
    (a12 * a20 - a10 * a22) / det, (a00 * a22 - a02 * a20) / det, (a02 * a10 - a00 * a12) / det,
    (a10 * a21 - a11 * a20) / det, (a01 * a20 - a00 * a21) / det, (a00 * a11 - a01 * a10) / det,
  ];
}

/**
 * `values` (on `dims`, i fastest) as a scanner would show them: blurred by a Gaussian point spread
 * of `psfMm` (σ) along each axis `spacing` lists (an axis whose spread is 0 is left sharp), then
 * given Gaussian noise of `noiseHu` that is a function of the voxel's index (the same image every
 * run). Air outside the body (≤ −900 HU after the blur) stays noise-free, as the phantoms' does.
 */
export function imagedByScanner(values: ArrayLike<number>, dims: readonly [number, number, number], spacing: readonly [number, number, number], psfMm: readonly [number, number, number], noiseHu: number): Int16Array {
  let image = Float64Array.from(values);
  const strides = [1, dims[0], dims[0] * dims[1]];
  for (let a = 0; a < 3; a++) {
    if (psfMm[a] <= 0) continue;
    const sigma = psfMm[a] / spacing[a];
    const radius = Math.ceil(3 * sigma);
    const weights = Array.from({ length: 2 * radius + 1 }, (_, t) => Math.exp(-0.5 * ((t - radius) / sigma) ** 2));
    const out = new Float64Array(image.length);
    for (let p = 0; p < image.length; p++) {
      const at = Math.floor(p / strides[a]) % dims[a];
      let sum = 0;
      let total = 0;
      for (let t = Math.max(-radius, -at); t <= Math.min(radius, dims[a] - 1 - at); t++) {
        sum += weights[t + radius] * image[p + t * strides[a]];
        total += weights[t + radius];
      }
      out[p] = sum / total;
    }
    image = out;
  }
  return Int16Array.from(image, (v, p) => Math.round(v + (v > -900 && noiseHu > 0 ? noiseHu * gaussian(p, 0, 0) : 0)));
}

/** Sørensen–Dice coefficient of two masks (1 when both are empty). */
export function dice(a: Uint8Array, b: Uint8Array): number {
  let inter = 0, na = 0, nb = 0;
  for (let p = 0; p < a.length; p++) {
    const x = a[p] !== 0, y = b[p] !== 0;
    if (x) na++;
    if (y) nb++;
    if (x && y) inter++;
  }
  return na + nb === 0 ? 1 : (2 * inter) / (na + nb);
}

/** Voxels of `labels` equal to `value`, as a mask. */
export function labelMask(labels: ArrayLike<number>, value: number): Uint8Array {
  const m = new Uint8Array(labels.length);
  for (let p = 0; p < labels.length; p++) m[p] = labels[p] === value ? 1 : 0;
  return m;
}

export function countOf(mask: ArrayLike<number>): number {
  let n = 0;
  for (let p = 0; p < mask.length; p++) if (mask[p] !== 0) n++;
  return n;
}

/** Voxels set in both masks. */
export function overlap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let n = 0;
  for (let p = 0; p < a.length; p++) if (a[p] !== 0 && b[p] !== 0) n++;
  return n;
}
