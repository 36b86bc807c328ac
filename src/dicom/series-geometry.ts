/**
 * The geometry of a stack of DICOM frames, and the voxel convention Voxgate uses for it.
 *
 * DICOM (PS3.3 C.7.6.2.1.1): pixel (column c, row r) of a frame lies at
 *   IPP + c · Δc · rowDir + r · Δr · colDir          (LPS mm)
 * where IOP = rowDir \ colDir and PixelSpacing = Δr \ Δc (between rows, between columns).
 *
 * Voxgate's volume, as dcm2niix writes it (so the NIfTI of a converted series equals dcm2niix's):
 *   i = column c,  j = Rows − 1 − r (rows flipped),  k = slice index in ascending order of the
 *   position along the slice normal n = rowDir × colDir (IPP · n).
 * Hence, in LPS,
 *   P(i, j, k) = IPP₀ + (Rows − 1) · Δr · colDir + i · Δc · rowDir − j · Δr · colDir + k · Δs · n
 * with IPP₀ the first slice's position and Δs the slice spacing from the positions (never
 * SliceThickness, which differs from the spacing in overlapping or gapped reconstructions). The
 * volume's affine is that matrix with x and y negated (LPS → RAS).
 *
 * A stack is regular when every gap between neighbouring positions is within 1 % of the median
 * gap and every position lies on the line through IPP₀ along n (within 5 % of a pixel). Otherwise
 * it is refused with VXG_ERR_DICOM_SERIES_INCONSISTENT saying what is wrong (missing slices,
 * uneven gaps, gantry tilt), or, with `resampleIrregular`, described for resampling onto the
 * regular grid from the first to the last position — unless a gap is wider than four median gaps,
 * which no interpolation bridges honestly.
 * @module
 */
import { VoxgateError } from '../errors.js';
import type { Affine, Vec3 } from '../volume/affine.js';
import { flipXY } from '../volume/affine.js';
import type { ImageFrame } from './image-frames.js';

/** Relative tolerance on slice gaps (1 % of the median gap). */
export const GAP_TOLERANCE = 0.01;
/** Off-axis displacement that counts as gantry tilt, as a fraction of the smaller pixel spacing. */
export const TILT_TOLERANCE = 0.05;
/** Gaps wider than this many median gaps (three missing slices in a row) are not resampled. */
export const MAX_RESAMPLED_GAP = 4;
/** Positions closer than this fraction of the median gap (or 1 µm) along n are the same position. */
const SAME_POSITION = 1e-3;

export interface StackGeometry {
  /** Frames in k order (ascending IPP · n). */
  readonly sorted: readonly ImageFrame[];
  /** IPP · n − IPP₀ · n of each sorted frame, mm (0 for the first). */
  readonly along: readonly number[];
  /** In-plane offset of each sorted frame from the line through IPP₀ along n: [· rowDir, · colDir] mm. */
  readonly offAxis: readonly (readonly [number, number])[];
  readonly rowDir: Vec3;
  readonly colDir: Vec3;
  readonly normal: Vec3;
  /** [Δr, Δc]: between rows, between columns (mm). */
  readonly pixelSpacing: readonly [number, number];
  /** The regular slice spacing of the output grid (mm). */
  readonly sliceSpacing: number;
  /** Output dimensions [Columns, Rows, slices]. */
  readonly dims: readonly [number, number, number];
  /** Voxel (i, j, k) → RAS mm. */
  readonly affine: Affine;
  /** Null when the frames are the output slices; otherwise why and how they must be resampled. */
  readonly irregular: IrregularStack | null;
  readonly warnings: readonly string[];
}

export interface IrregularStack {
  /** What is wrong, for the error message or the warning. */
  readonly problem: string;
  readonly kind: 'gaps' | 'tilt' | 'gaps-and-tilt';
}

export interface GeometryOptions {
  readonly resampleIrregular?: boolean;
}

/**
 * Sorts, checks and places a stack of frames that share one orientation and size.
 * @example
 * const g = stackGeometry(frames); // g.affine: voxel (i, j, k) → RAS; g.sorted[k]: frame of slice k
 */
export function stackGeometry(frames: readonly ImageFrame[], options: GeometryOptions = {}): StackGeometry {
  const first = frames[0];
  const iop = first.orientation ?? [];
  const rowDir = unit(iop.slice(0, 3), first);
  const colDir = unit(iop.slice(3, 6), first);
  if (Math.abs(dot(rowDir, colDir)) > 1e-3) {
    throw inconsistent(`${first.file.name}: ImageOrientationPatient ${iop.join('\\')} has row and column directions that are not perpendicular`);
  }
  const normal = unit(cross(rowDir, colDir), first);
  const pixelSpacing = first.pixelSpacing ?? [1, 1];
  for (const frame of frames) {
    const s = frame.pixelSpacing ?? [1, 1];
    if (Math.abs(s[0] - pixelSpacing[0]) > 1e-4 * pixelSpacing[0] || Math.abs(s[1] - pixelSpacing[1]) > 1e-4 * pixelSpacing[1]) {
      throw inconsistent(`The slices have different PixelSpacing (${pixelSpacing.join('\\')} in ${first.file.name}, ${s.join('\\')} in ${frame.file.name})`);
    }
  }
  const keyed = frames.map((frame) => ({ frame, t: dot(frame.position ?? [0, 0, 0], normal) }));
  keyed.sort((a, b) => a.t - b.t);
  const sorted = keyed.map((e) => e.frame);
  const origin = sorted[0].position ?? [0, 0, 0];
  const along = keyed.map((e) => e.t - keyed[0].t);
  const offAxis = sorted.map((frame): [number, number] => {
    const d = sub(frame.position ?? origin, origin);
    return [dot(d, rowDir), dot(d, colDir)];
  });
  const warnings: string[] = [];
  const n = sorted.length;

  let sliceSpacing: number;
  let slices = n;
  let irregular: IrregularStack | null = null;
  if (n === 1) {
    sliceSpacing = first.spacingBetweenSlices ?? first.sliceThickness ?? 1;
    if (!(sliceSpacing > 0)) sliceSpacing = 1;
    warnings.push(`A single slice: its thickness along k (${sliceSpacing} mm) comes from ${first.spacingBetweenSlices ? 'SpacingBetweenSlices' : first.sliceThickness ? 'SliceThickness' : 'nowhere (1 mm assumed)'}.`);
  } else {
    const gaps = along.slice(1).map((t, s) => t - along[s]);
    const median = [...gaps].sort((a, b) => a - b)[Math.floor((gaps.length - 1) / 2)];
    const sameAt = gaps.findIndex((g) => g <= Math.max(1e-3, SAME_POSITION * Math.abs(median)));
    if (sameAt >= 0) {
      throw inconsistent(
        `${sorted[sameAt].file.name} and ${sorted[sameAt + 1].file.name} lie at the same position along the slice normal ` +
          `(${fmt(along[sameAt] + keyed[0].t)} mm): the series holds several images per position (echoes, phases or repeats); ` +
          `split it before converting`,
      );
    }
    const problems: string[] = [];
    let kind: IrregularStack['kind'] | undefined;
    const uneven = gaps.map((g, s) => ({ g, s })).filter(({ g }) => Math.abs(g - median) > GAP_TOLERANCE * median);
    if (uneven.length > 0) {
      kind = 'gaps';
      const missing = uneven.filter(({ g }) => Math.round(g / median) >= 2 && Math.abs(g - Math.round(g / median) * median) <= GAP_TOLERANCE * median);
      const describeGap = ({ g, s }: { g: number; s: number }): string =>
        `${fmt(g)} mm between ${sorted[s].file.name} and ${sorted[s + 1].file.name}`;
      if (missing.length === uneven.length) {
        const count = missing.reduce((sum, { g }) => sum + Math.round(g / median) - 1, 0);
        problems.push(`${count} slice${count === 1 ? ' is' : 's are'} missing (the slices are ${fmt(median)} mm apart, but ${missing.slice(0, 3).map(describeGap).join('; ')}${missing.length > 3 ? '; …' : ''})`);
      } else {
        problems.push(`the slice gaps are uneven (median ${fmt(median)} mm, but ${uneven.slice(0, 3).map(describeGap).join('; ')}${uneven.length > 3 ? `; and ${uneven.length - 3} more` : ''})`);
      }
    }
    const tiltTolerance = TILT_TOLERANCE * Math.min(pixelSpacing[0], pixelSpacing[1]);
    const worst = offAxis.reduce((m, [a, b], s) => (Math.hypot(a, b) > m.d ? { d: Math.hypot(a, b), s } : m), { d: 0, s: 0 });
    if (worst.d > tiltTolerance) {
      kind = kind ? 'gaps-and-tilt' : 'tilt';
      const angle = (Math.atan2(worst.d, along[worst.s]) * 180) / Math.PI;
      problems.push(
        `the slice positions do not follow the slice normal: ${sorted[worst.s].file.name} is ${fmt(worst.d)} mm off the line through ` +
          `${sorted[0].file.name} (gantry tilt of about ${fmt(angle)}°)`,
      );
    }
    const total = along[n - 1];
    if (kind) {
      irregular = { problem: problems.join('; '), kind };
      if (!options.resampleIrregular) {
        throw inconsistent(
          `Irregular slices: ${irregular.problem}. Export the complete series, or allow resampling (resampleIrregular, --resample-irregular) to get a regular volume`,
        );
      }
      const widest = Math.max(...gaps);
      if (widest > MAX_RESAMPLED_GAP * median) {
        // Interpolating across a hole this wide would invent anatomy, not fill a missing slice.
        throw inconsistent(
          `Irregular slices: ${irregular.problem}. Not resampled: a gap of ${fmt(widest)} mm is more than ${MAX_RESAMPLED_GAP} times the ${fmt(median)} mm spacing`,
        );
      }
      slices = Math.max(2, Math.round(total / median) + 1);
      sliceSpacing = total / (slices - 1);
      warnings.push(
        `The slices are irregular: ${irregular.problem}. Resampled ${kind === 'tilt' ? 'in-plane (bilinear) ' : kind === 'gaps' ? 'linearly along the stack ' : 'linearly along the stack and in-plane '}` +
          `onto ${slices} slices ${fmt(sliceSpacing)} mm apart${kind === 'gaps' ? '' : ' on a grid orthogonal to the slices'}.`,
      );
    } else {
      // The mean gap puts the first and last slices exactly where their positions say.
      sliceSpacing = total / (n - 1);
    }
  }

  const [dr, dc] = pixelSpacing;
  const rows = first.format.rows;
  const lps: Affine = [
    dc * rowDir[0], -dr * colDir[0], sliceSpacing * normal[0], origin[0] + (rows - 1) * dr * colDir[0],
    dc * rowDir[1], -dr * colDir[1], sliceSpacing * normal[1], origin[1] + (rows - 1) * dr * colDir[1],
    dc * rowDir[2], -dr * colDir[2], sliceSpacing * normal[2], origin[2] + (rows - 1) * dr * colDir[2],
    0, 0, 0, 1,
  ];
  return {
    sorted,
    along,
    offAxis,
    rowDir,
    colDir,
    normal,
    pixelSpacing,
    sliceSpacing,
    dims: [first.format.columns, rows, slices],
    affine: flipXY(lps),
    irregular,
    warnings,
  };
}

function inconsistent(message: string): VoxgateError {
  return new VoxgateError('VXG_ERR_DICOM_SERIES_INCONSISTENT', `${message}.`);
}

function unit(v: readonly number[], frame: ImageFrame): Vec3 {
  const norm = Math.hypot(v[0], v[1], v[2]);
  if (!(Math.abs(norm - 1) < 1e-2)) {
    throw inconsistent(`${frame.file.name}: ImageOrientationPatient ${(frame.orientation ?? []).join('\\')} has a direction of length ${fmt(norm)}, not 1`);
  }
  return [v[0] / norm, v[1] / norm, v[2] / norm];
}

function dot(a: readonly number[], b: readonly number[]): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

function sub(a: readonly number[], b: readonly number[]): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

function fmt(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}
