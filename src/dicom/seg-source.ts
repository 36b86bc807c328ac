/**
 * What the DICOM SEG writer and reader need to know about the source series a label map was made
 * from: the identifiers a SEG copies (study, frame of reference, patient/study attributes), the
 * instances its frames reference, and the pixel grid. The series reader's `SourceSeries` maps onto
 * this in a few lines; tests build it from synthetic data or from files.
 *
 * Grid convention (the one Voxgate's DICOM volumes use):
 * - voxel i is the DICOM column (ImageOrientationPatient's first direction cosine, PixelSpacing[1]);
 * - voxel j is the DICOM row (the second direction cosine, PixelSpacing[0]), counted from the
 *   first row unless `flipRows` says the volume stores rows bottom-up (j = Rows − 1 − row, as
 *   dcm2niix and NIfTI-minded readers do);
 * - voxel k is `slices[k]`: the volume's slice order, whatever order the files came in.
 * @module
 */
import { VoxgateError } from '../errors.js';
import type { Affine, Vec3 } from '../volume/affine.js';
import { affineFrom, apply, flipXY } from '../volume/affine.js';

/** One source image (or one frame of a multi-frame source image) = one k slice of the volume. */
export interface SegSourceSlice {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** ImagePositionPatient (LPS mm): the centre of the slice's first transmitted pixel (row 0, column 0). */
  readonly imagePositionPatient: Vec3;
  /** 1-based frame number when the slice is a frame of a multi-frame source (Enhanced CT/MR). */
  readonly referencedFrameNumber?: number;
}

/** Patient and study attributes a SEG copies from its source, under their DICOM keywords (PS3.6). */
export const PatientStudyKeywords = [
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'PatientSex',
  'StudyDate',
  'StudyTime',
  'StudyID',
  'AccessionNumber',
  'ReferringPhysicianName',
  'StudyDescription',
] as const;
export type PatientStudyKeyword = (typeof PatientStudyKeywords)[number];

/** The source series of a segmentation. */
export interface SegSourceSeries {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly frameOfReferenceUid: string;
  /** Values as read (decoded strings); absent or empty ones are written empty (they are Type 2). */
  readonly patientStudy: Readonly<Partial<Record<PatientStudyKeyword, string>>>;
  readonly rows: number;
  readonly columns: number;
  /** Row direction cosines (towards increasing column), then column direction cosines (increasing row), LPS. */
  readonly imageOrientationPatient: readonly [number, number, number, number, number, number];
  /** PixelSpacing as DICOM orders it: [between rows (mm), between columns (mm)]. */
  readonly pixelSpacing: readonly [number, number];
  /** SliceThickness of the source, when it has one; the SEG otherwise uses the spacing between slices. */
  readonly sliceThickness?: number;
  /** The slices in volume k order. */
  readonly slices: readonly SegSourceSlice[];
  /** True when the volume's j axis runs from the last DICOM row to the first (j = Rows − 1 − row). */
  readonly flipRows: boolean;
}

/** The pixel grid of a source series: what mapping SEG frames onto a volume needs. */
export type SegGrid = Pick<
  SegSourceSeries,
  'rows' | 'columns' | 'imageOrientationPatient' | 'pixelSpacing' | 'sliceThickness' | 'slices' | 'flipRows'
> & { readonly frameOfReferenceUid?: string };

/** Where voxel row j of the volume lies in the DICOM frame. */
export function dicomRowOf(source: Pick<SegSourceSeries, 'rows' | 'flipRows'>, j: number): number {
  return source.flipRows ? source.rows - 1 - j : j;
}

/**
 * The RAS+ affine of the volume on the source grid under the convention above: the affine a label
 * map written against `source` must have. The k axis runs from the first slice's position to the
 * last's (one slice: along the normal, SliceThickness or 1 mm apart).
 * @example
 * const labels = createLabelVolume({ dims: [s.columns, s.rows, s.slices.length], affine: segSourceAffine(s), source: { format: 'dicom' } });
 */
export function segSourceAffine(source: SegGrid): Affine {
  assertSegSource(source);
  const [rx, ry, rz, cx, cy, cz] = source.imageOrientationPatient;
  const [rowSpacing, columnSpacing] = source.pixelSpacing;
  const first = source.slices[0].imagePositionPatient;
  const n = source.slices.length;
  let kAxis: Vec3;
  if (n > 1) {
    const last = source.slices[n - 1].imagePositionPatient;
    kAxis = [(last[0] - first[0]) / (n - 1), (last[1] - first[1]) / (n - 1), (last[2] - first[2]) / (n - 1)];
  } else {
    const normal = cross([rx, ry, rz], [cx, cy, cz]);
    const t = source.sliceThickness ?? 1;
    kAxis = [normal[0] * t, normal[1] * t, normal[2] * t];
  }
  const iAxis: Vec3 = [rx * columnSpacing, ry * columnSpacing, rz * columnSpacing];
  let jAxis: Vec3 = [cx * rowSpacing, cy * rowSpacing, cz * rowSpacing];
  let origin: Vec3 = first;
  if (source.flipRows) {
    const down = source.rows - 1;
    origin = [first[0] + jAxis[0] * down, first[1] + jAxis[1] * down, first[2] + jAxis[2] * down];
    jAxis = [-jAxis[0], -jAxis[1], -jAxis[2]];
  }
  const lps = affineFrom(
    [
      [iAxis[0], jAxis[0], kAxis[0]],
      [iAxis[1], jAxis[1], kAxis[1]],
      [iAxis[2], jAxis[2], kAxis[2]],
    ],
    origin,
  );
  return flipXY(lps).map((v) => (v === 0 ? 0 : v)); // -0 → 0, as createVolume stores it
}

/**
 * Largest distance (mm) between where two affines put the grid's corner voxels: how far apart two
 * descriptions of one grid are.
 */
export function gridCornerDistance(a: Affine, b: Affine, dims: readonly [number, number, number]): number {
  let worst = 0;
  for (const i of [0, dims[0] - 1]) {
    for (const j of [0, dims[1] - 1]) {
      for (const k of [0, dims[2] - 1]) {
        const p = apply(a, [i, j, k]);
        const q = apply(b, [i, j, k]);
        worst = Math.max(worst, Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]));
      }
    }
  }
  return worst;
}

/** The slice normal (row cosines × column cosines), LPS. */
export function sliceNormal(iop: SegSourceSeries['imageOrientationPatient']): Vec3 {
  return cross([iop[0], iop[1], iop[2]], [iop[3], iop[4], iop[5]]);
}

/** Throws VXG_ERR_SEG_SOURCE_MISMATCH when the source cannot describe a grid. */
export function assertSegSource(source: SegGrid): void {
  const bad = (what: string): never => {
    throw new VoxgateError('VXG_ERR_SEG_SOURCE_MISMATCH', `The source series cannot describe a grid: ${what}.`);
  };
  if (!Number.isInteger(source.rows) || source.rows < 1 || !Number.isInteger(source.columns) || source.columns < 1) bad(`Rows ${source.rows}, Columns ${source.columns}`);
  if (source.rows > 0xffff || source.columns > 0xffff) bad(`Rows ${source.rows}, Columns ${source.columns} exceed 65535`);
  if (source.slices.length < 1) bad('it has no slices');
  if (source.imageOrientationPatient.length !== 6 || source.imageOrientationPatient.some((v) => !Number.isFinite(v))) bad('ImageOrientationPatient is not six numbers');
  const normal = sliceNormal(source.imageOrientationPatient);
  if (!(Math.hypot(...normal) > 0.5)) bad('ImageOrientationPatient does not hold two orthogonal unit vectors');
  if (source.pixelSpacing.length !== 2 || source.pixelSpacing.some((v) => !(v > 0) || !Number.isFinite(v))) bad('PixelSpacing is not two positive numbers');
  for (const [k, slice] of source.slices.entries()) {
    if (slice.imagePositionPatient.length !== 3 || slice.imagePositionPatient.some((v) => !Number.isFinite(v))) bad(`slice ${k} has no ImagePositionPatient`);
  }
}

function cross(a: Vec3, b: Vec3): [number, number, number] {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}
