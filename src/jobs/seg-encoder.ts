/**
 * The infer step's DICOM SEG: the series reader's `SourceSeries` (src/dicom/series.ts) mapped onto
 * what the SEG writer takes (`SegSourceSeries`, src/dicom/seg-source.ts), then `createSegmentation`.
 * @module
 */
import type { PatientStudyKeyword, SegSourceSeries } from '../dicom/seg-source.js';
import { PatientStudyKeywords } from '../dicom/seg-source.js';
import { createSegmentation } from '../dicom/seg-writer.js';
import type { SourceSeries } from '../dicom/series.js';
import { VoxgateError } from '../errors.js';
import type { SegEncoder } from './dicom-segmenter.js';

/** A naturalised value as text: PN objects by their alphabetic form, multi-values by their first. */
function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.length > 0 ? textOf(value[0]) : undefined;
  if (value && typeof value === 'object' && 'Alphabetic' in value) return textOf((value as { Alphabetic: unknown }).Alphabetic);
  return undefined;
}

/** What the SEG writer needs of a series the reader read (voxel j is DICOM row Rows − 1 − j there). */
export function segSourceOf(series: SourceSeries): SegSourceSeries {
  if (series.resampled) {
    // Resampled volume slices lie between source frames: a SEG could not reference them.
    throw new VoxgateError('VXG_ERR_SEG_SOURCE_MISMATCH', `Series ${series.seriesInstanceUID} was resampled onto a regular grid; a DICOM SEG cannot reference its slices.`);
  }
  const iop = series.imageOrientationPatient;
  const patientStudy: Partial<Record<PatientStudyKeyword, string>> = {};
  for (const keyword of PatientStudyKeywords) {
    const value = textOf(series.patientStudy[keyword]);
    if (value !== undefined) patientStudy[keyword] = value;
  }
  return {
    studyInstanceUid: series.studyInstanceUID,
    seriesInstanceUid: series.seriesInstanceUID,
    frameOfReferenceUid: series.frameOfReferenceUID,
    patientStudy,
    rows: series.rows,
    columns: series.columns,
    imageOrientationPatient: [iop[0], iop[1], iop[2], iop[3], iop[4], iop[5]],
    pixelSpacing: series.pixelSpacing,
    ...(series.sliceThickness === undefined ? {} : { sliceThickness: series.sliceThickness }),
    slices: series.slices.map((slice) => ({
      sopClassUid: slice.sopClassUID,
      sopInstanceUid: slice.sopInstanceUID,
      imagePositionPatient: slice.position,
      ...(slice.numberOfFrames > 1 ? { referencedFrameNumber: slice.frameNumber } : {}),
    })),
    flipRows: series.flipRows,
  };
}

/** The SEG encoder jobs use: Voxgate's writer with the job-derived UIDs (so a resumed job writes the same instance). */
export const encodeDicomSeg: SegEncoder = (labels, series, options) =>
  createSegmentation(labels, segSourceOf(series), {
    algorithmName: options.algorithmName,
    algorithmVersion: options.algorithmVersion,
    sopInstanceUid: options.sopInstanceUid,
    seriesInstanceUid: options.seriesInstanceUid,
    ...(options.labelNames ? { labelNames: options.labelNames } : {}),
  });
