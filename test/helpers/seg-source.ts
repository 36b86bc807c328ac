/**
 * Source series for the SEG tests: synthetic ones (any size and orientation), and ones read from
 * real DICOM files with dcmjs, independently of Voxgate's series reader.
 * @module
 */
import { readFile } from 'node:fs/promises';
import dcmjs from 'dcmjs';
import type { SegSourceSeries, SegSourceSlice } from '../../src/dicom/seg-source.js';
import { segSourceAffine, sliceNormal } from '../../src/dicom/seg-source.js';
import type { Vec3 } from '../../src/volume/affine.js';
import type { LabelVolume } from '../../src/volume/volume.js';
import { createLabelVolume } from '../../src/volume/volume.js';

const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

export interface SyntheticSourceOptions {
  readonly rows: number;
  readonly columns: number;
  readonly slices: number;
  /** Row then column direction cosines (LPS); default axial. */
  readonly imageOrientationPatient?: SegSourceSeries['imageOrientationPatient'];
  /** [between rows, between columns]; default [0.8, 0.7]. */
  readonly pixelSpacing?: readonly [number, number];
  /** Distance between slices along the normal; negative for slices stored against the normal. */
  readonly sliceStep?: number;
  readonly origin?: Vec3;
  readonly flipRows?: boolean;
  readonly patientSex?: string;
}

/** A synthetic CT series: UIDs under 2.25, slice k at origin + k·step·normal. */
export function syntheticSegSource(options: SyntheticSourceOptions): SegSourceSeries {
  const iop = options.imageOrientationPatient ?? [1, 0, 0, 0, 1, 0];
  const normal = sliceNormal(iop);
  const step = options.sliceStep ?? 1.25;
  const origin = options.origin ?? [-120.5, -99.25, 40];
  const slices: SegSourceSlice[] = Array.from({ length: options.slices }, (_, k) => ({
    sopClassUid: CT_IMAGE_STORAGE,
    sopInstanceUid: `2.25.1000000000000${k + 1}`,
    imagePositionPatient: [origin[0] + normal[0] * step * k, origin[1] + normal[1] * step * k, origin[2] + normal[2] * step * k],
  }));
  return {
    studyInstanceUid: '2.25.111111111111111111',
    seriesInstanceUid: '2.25.222222222222222222',
    frameOfReferenceUid: '2.25.333333333333333333',
    patientStudy: {
      PatientName: 'Doe^Jane',
      PatientID: 'VXG-0001',
      PatientBirthDate: '19700101',
      PatientSex: options.patientSex ?? 'F',
      StudyDate: '20240102',
      StudyTime: '101112',
      StudyID: 'S1',
      AccessionNumber: 'ACC1',
      ReferringPhysicianName: '',
      StudyDescription: 'CT abdomen',
    },
    rows: options.rows,
    columns: options.columns,
    imageOrientationPatient: iop,
    pixelSpacing: options.pixelSpacing ?? [0.8, 0.7],
    sliceThickness: Math.abs(step),
    slices,
    flipRows: options.flipRows ?? false,
  };
}

/** A label map on the grid of `source`. */
export function labelsOn(source: SegSourceSeries, data: Uint8Array | Uint16Array | Int16Array): LabelVolume {
  return createLabelVolume({ dims: [source.columns, source.rows, source.slices.length], affine: segSourceAffine(source), source: { format: 'dicom' } }, data);
}

/**
 * The source series of single-frame image files, read with dcmjs; slices sorted along the normal
 * (ascending projection of ImagePositionPatient), rows not flipped.
 */
export async function segSourceFromFiles(paths: readonly string[]): Promise<SegSourceSeries> {
  const datasets = await Promise.all(
    paths.map(async (p) => {
      const bytes = await readFile(p);
      const dict = dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), { untilTag: '7FE00010' });
      return dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict);
    }),
  );
  const first = datasets[0];
  const iop = (first.ImageOrientationPatient as number[]).map(Number) as unknown as SegSourceSeries['imageOrientationPatient'];
  const normal = sliceNormal(iop);
  const along = (d: Record<string, unknown>): number => {
    const p = (d.ImagePositionPatient as number[]).map(Number);
    return p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2];
  };
  const sorted = [...datasets].sort((a, b) => along(a) - along(b));
  const text = (v: unknown): string => {
    if (v === undefined || v === null) return '';
    if (Array.isArray(v)) return text(v[0]);
    if (typeof v === 'object' && 'Alphabetic' in v) return String((v as { Alphabetic: string }).Alphabetic);
    return String(v);
  };
  return {
    studyInstanceUid: text(first.StudyInstanceUID),
    seriesInstanceUid: text(first.SeriesInstanceUID),
    frameOfReferenceUid: text(first.FrameOfReferenceUID),
    patientStudy: {
      PatientName: text(first.PatientName),
      PatientID: text(first.PatientID),
      PatientBirthDate: text(first.PatientBirthDate),
      PatientSex: text(first.PatientSex),
      StudyDate: text(first.StudyDate),
      StudyTime: text(first.StudyTime),
      StudyID: text(first.StudyID),
      AccessionNumber: text(first.AccessionNumber),
      ReferringPhysicianName: text(first.ReferringPhysicianName),
    },
    rows: Number(first.Rows),
    columns: Number(first.Columns),
    imageOrientationPatient: iop,
    pixelSpacing: (first.PixelSpacing as number[]).map(Number) as unknown as [number, number],
    sliceThickness: first.SliceThickness === undefined ? undefined : Number(first.SliceThickness),
    slices: sorted.map((d) => ({
      sopClassUid: text(d.SOPClassUID),
      sopInstanceUid: text(d.SOPInstanceUID),
      imagePositionPatient: (d.ImagePositionPatient as number[]).map(Number) as unknown as Vec3,
    })),
    flipRows: false,
  };
}
