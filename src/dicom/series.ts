/**
 * From parsed files to image stacks: which files are images, which are skipped and why, and how
 * the frames group into series (SeriesInstanceUID), then stacks (one ImageOrientationPatient and
 * one Rows × Columns within a series). Also the `SourceSeries` description a volume carries back
 * to whoever writes derived objects (DICOM SEG) for it.
 * @module
 */
import type { NaturalizedDataset } from 'dcmjs';
import { VoxgateError, isVoxgateError } from '../errors.js';
import type { Vec3 } from '../volume/affine.js';
import type { ImageFrame } from './image-frames.js';
import { imageFramesOf, isClassicMultiFrame } from './image-frames.js';
import { pixelFormatOf, unsupportedPixelReason } from './pixel-data.js';
import type { Part10File } from './read-part10.js';
import { nonImageSopClass } from './sop-classes.js';
import { Tag } from './tags.js';

/** A file left out, and why (the reason starts with nothing patient-related: file name and cause). */
export interface SkippedFile {
  readonly file: string;
  readonly reason: string;
}

/** One source image frame of a volume, as a DICOM SEG or other derived object references it. */
export interface SourceSlice {
  /** The file's name as given (relative path for folders). */
  readonly file: string;
  readonly sopClassUID: string;
  readonly sopInstanceUID: string;
  /** 1-based frame number within a multi-frame source (ReferencedFrameNumber); 1 for single-frame images. */
  readonly frameNumber: number;
  readonly numberOfFrames: number;
  /** ImagePositionPatient of the frame (LPS mm). */
  readonly position: Vec3;
  /** The source dataset as dcmjs naturalises it, pixel data left out; parsed on first call, then kept. */
  dataset(): NaturalizedDataset;
}

/**
 * The series a volume was read from: what a DICOM SEG writer needs to reference it. Voxel
 * (i, j, k) of the volume is column i, row Rows − 1 − j of `slices[k]` (see docs/dicom.md), unless
 * `resampled`.
 */
export interface SourceSeries {
  /** The stack id (`listDicomSeries` ids; the SeriesInstanceUID when the series is one stack). */
  readonly id: string;
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID: string;
  readonly frameOfReferenceUID: string;
  readonly modality: string;
  readonly seriesNumber: number | undefined;
  readonly seriesDescription: string | undefined;
  readonly rows: number;
  readonly columns: number;
  readonly imageOrientationPatient: readonly number[];
  /** [between rows, between columns] mm. */
  readonly pixelSpacing: readonly [number, number];
  /** SliceThickness of the first slice (not the spacing, which the affine's k axis carries). */
  readonly sliceThickness: number | undefined;
  /** Always true: volume row j is DICOM row Rows − 1 − j (rows stored bottom-up, as dcm2niix does). */
  readonly flipRows: true;
  /** The source frames sorted along the slice normal; `slices[k]` is volume slice k unless `resampled`. */
  readonly slices: readonly SourceSlice[];
  /** True when irregular slices were resampled: volume slices then lie between source frames. */
  readonly resampled: boolean;
  /**
   * Patient, Clinical Trial Subject, General Study, Patient Study and Clinical Trial Study module
   * attributes of the first slice (naturalised; SpecificCharacterSet included), for copying into
   * derived objects. Patient data: never log it.
   */
  readonly patientStudy: NaturalizedDataset;
}

/** A listed stack: what `listDicomSeries` returns (no patient data). */
export interface SeriesSummary {
  /** Pass as `series` to read this stack. `SeriesInstanceUID`, or `SeriesInstanceUID#n` when a series holds several stacks. */
  readonly id: string;
  readonly seriesInstanceUID: string;
  readonly studyInstanceUID: string;
  readonly modality: string;
  readonly seriesNumber: number | undefined;
  readonly seriesDescription: string | undefined;
  readonly rows: number;
  readonly columns: number;
  readonly imageOrientationPatient: readonly number[];
  readonly frames: number;
  readonly files: number;
}

/** Frames of one orientation and size within one series. */
export interface ImageStack {
  readonly id: string;
  readonly seriesInstanceUID: string;
  readonly frames: readonly ImageFrame[];
}

/** Stand-in for an empty SeriesInstanceUID (files whose UIDs were blanked still form one series). */
export const NO_SERIES_UID = 'no-series-uid';

/**
 * Keeps the frames of image files; skips non-image SOP classes, files without pixel data or with
 * pixels that are not a greyscale volume, duplicate SOP instances, frames without geometry.
 */
export function collectFrames(files: readonly Part10File[]): { frames: ImageFrame[]; skipped: SkippedFile[] } {
  const frames: ImageFrame[] = [];
  const skipped: SkippedFile[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    try {
      frames.push(...imageFramesOrSkip(file, seen, (reason) => skipped.push({ file: file.name, reason: `${file.name}: ${reason}` })));
    } catch (err) {
      // Sequences are parsed on first use: a damaged one surfaces here, and skips its file.
      if (!isVoxgateError(err)) throw err;
      skipped.push({ file: file.name, reason: err.message });
    }
  }
  return { frames, skipped };
}

/** The placed frames of an image file, or none (after calling `skip` with the reason). */
function imageFramesOrSkip(file: Part10File, seen: Map<string, string>, skip: (reason: string) => void): ImageFrame[] {
  const none: ImageFrame[] = [];
  const nonImage = nonImageSopClass(file.sopClassUID);
  if (nonImage) {
    skip(`not an image: SOP class ${file.sopClassUID} is ${nonImage}`);
    return none;
  }
  const ds = file.dataset;
  if (!ds.has(Tag.PixelData)) {
    skip(ds.has(Tag.FloatPixelData) || ds.has(Tag.DoubleFloatPixelData) ? 'float pixel data (parametric maps) is not read' : 'no pixel data');
    return none;
  }
  const format = pixelFormatOf(ds);
  const unsupported = unsupportedPixelReason(format);
  if (unsupported || !format) {
    skip(unsupported ?? 'no pixel format');
    return none;
  }
  if (file.sopInstanceUID !== '') {
    const first = seen.get(file.sopInstanceUID);
    if (first !== undefined) {
      skip(`duplicate of the SOP instance in ${first}`);
      return none;
    }
    seen.set(file.sopInstanceUID, file.name);
  }
  if (isClassicMultiFrame(file, format)) {
    skip(`${format.numberOfFrames} frames without per-frame positions (no functional groups): not a stack of slices`);
    return none;
  }
  const fileFrames = imageFramesOf(file, format);
  const placed = fileFrames.filter((f) => f.position && f.orientation && f.pixelSpacing);
  if (placed.length === 0) {
    skip('no ImagePositionPatient / ImageOrientationPatient / PixelSpacing: not placed in patient space');
    return none;
  }
  if (placed.length < fileFrames.length) {
    skip(`${fileFrames.length - placed.length} of ${fileFrames.length} frames lack a position, orientation or pixel spacing`);
    return none;
  }
  return placed;
}

/** Orientations closer than this (largest component difference) are one orientation. */
const ORIENTATION_TOLERANCE = 1e-4;

/** Groups frames by SeriesInstanceUID, then orientation and size, ordered by series then stack size. */
export function groupStacks(frames: readonly ImageFrame[]): ImageStack[] {
  const bySeries = new Map<string, ImageFrame[][]>();
  for (const frame of frames) {
    const uid = frame.file.dataset.string(Tag.SeriesInstanceUID) ?? '';
    let stacks = bySeries.get(uid);
    if (!stacks) bySeries.set(uid, (stacks = []));
    const orientation = frame.orientation ?? [];
    const stack = stacks.find((s) => {
      const first = s[0];
      return (
        first.format.rows === frame.format.rows &&
        first.format.columns === frame.format.columns &&
        (first.orientation ?? []).every((v, n) => Math.abs(v - orientation[n]) <= ORIENTATION_TOLERANCE)
      );
    });
    if (stack) stack.push(frame);
    else stacks.push([frame]);
  }
  const out: ImageStack[] = [];
  for (const [uid, stacks] of bySeries) {
    const id = uid || NO_SERIES_UID;
    stacks.sort((a, b) => b.length - a.length);
    stacks.forEach((stackFrames, n) => out.push({ id: stacks.length === 1 ? id : `${id}#${n + 1}`, seriesInstanceUID: uid, frames: stackFrames }));
  }
  return out;
}

export function summarize(stack: ImageStack): SeriesSummary {
  const first = stack.frames[0];
  const ds = first.file.dataset;
  return {
    id: stack.id,
    seriesInstanceUID: stack.seriesInstanceUID,
    studyInstanceUID: ds.string(Tag.StudyInstanceUID) ?? '',
    modality: ds.string(Tag.Modality) ?? '',
    seriesNumber: ds.number(Tag.SeriesNumber),
    seriesDescription: ds.string(Tag.SeriesDescription),
    rows: first.format.rows,
    columns: first.format.columns,
    imageOrientationPatient: first.orientation ?? [],
    frames: stack.frames.length,
    files: new Set(stack.frames.map((f) => f.file)).size,
  };
}

function describe(stack: ImageStack): string {
  const s = summarize(stack);
  return `${s.id} (${s.frames} frame${s.frames === 1 ? '' : 's'}, ${s.columns}×${s.rows}, orientation ${s.imageOrientationPatient.map((v) => round(v)).join('\\')})`;
}

function round(v: number): string {
  return String(Math.round(v * 1e4) / 1e4);
}

/**
 * The stack to read: the one `series` names (a stack id or a SeriesInstanceUID), else the series
 * with the most frames. A series that holds several stacks (orientations or sizes) is refused
 * unless one stack is named.
 */
export function selectStack(stacks: readonly ImageStack[], series?: string): ImageStack {
  let candidates: ImageStack[];
  if (series !== undefined) {
    const exact = stacks.find((s) => s.id === series);
    if (exact) return exact;
    candidates = stacks.filter((s) => s.seriesInstanceUID === series || (series === NO_SERIES_UID && s.seriesInstanceUID === ''));
    if (candidates.length === 0) {
      throw new VoxgateError(
        'VXG_ERR_DICOM_SERIES_NOT_FOUND',
        `Series ${series} is not among the files read; they hold: ${stacks.map(describe).join('; ') || 'no image series'}.`,
      );
    }
  } else {
    const frameCount = new Map<string, number>();
    for (const s of stacks) frameCount.set(s.seriesInstanceUID, (frameCount.get(s.seriesInstanceUID) ?? 0) + s.frames.length);
    const [largest] = [...frameCount].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    candidates = stacks.filter((s) => s.seriesInstanceUID === largest);
  }
  if (candidates.length > 1) {
    throw new VoxgateError(
      'VXG_ERR_DICOM_SERIES_INCONSISTENT',
      `Series ${candidates[0].seriesInstanceUID || NO_SERIES_UID} mixes ${candidates.length} orientations or image sizes, which cannot form one volume: ` +
        `${candidates.map(describe).join('; ')}. Read one stack by its id (the series option).`,
    );
  }
  return candidates[0];
}

/** Keywords of the Patient, Clinical Trial Subject, General Study, Patient Study and Clinical Trial Study modules (PS3.3 C.7.1.1–C.7.2.3), plus SpecificCharacterSet. */
const PATIENT_STUDY_KEYWORDS = [
  'SpecificCharacterSet',
  // Patient (C.7.1.1)
  'PatientName', 'PatientID', 'IssuerOfPatientID', 'IssuerOfPatientIDQualifiersSequence', 'TypeOfPatientID', 'PatientBirthDate',
  'PatientBirthTime', 'PatientSex', 'QualityControlSubject', 'OtherPatientIDsSequence', 'OtherPatientNames', 'PatientComments',
  'PatientSpeciesDescription', 'PatientSpeciesCodeSequence', 'PatientBreedDescription', 'PatientBreedCodeSequence',
  'BreedRegistrationSequence', 'ResponsiblePerson', 'ResponsiblePersonRole', 'ResponsibleOrganization', 'PatientIdentityRemoved',
  'DeidentificationMethod', 'DeidentificationMethodCodeSequence',
  // Clinical Trial Subject (C.7.1.3)
  'ClinicalTrialSponsorName', 'ClinicalTrialProtocolID', 'ClinicalTrialProtocolName', 'ClinicalTrialSiteID', 'ClinicalTrialSiteName',
  'ClinicalTrialSubjectID', 'ClinicalTrialSubjectReadingID',
  // General Study (C.7.2.1)
  'StudyInstanceUID', 'StudyDate', 'StudyTime', 'ReferringPhysicianName', 'ReferringPhysicianIdentificationSequence', 'StudyID',
  'AccessionNumber', 'IssuerOfAccessionNumberSequence', 'StudyDescription', 'PhysiciansOfRecord', 'NameOfPhysiciansReadingStudy',
  'RequestingServiceCodeSequence', 'ProcedureCodeSequence', 'ReasonForPerformedProcedureCodeSequence',
  // Patient Study (C.7.2.2)
  'AdmittingDiagnosesDescription', 'PatientAge', 'PatientSize', 'PatientWeight', 'PatientSizeCodeSequence', 'Occupation',
  'AdditionalPatientHistory', 'PatientSexNeutered', 'PregnancyStatus',
  // Clinical Trial Study (C.7.2.3)
  'ClinicalTrialTimePointID', 'ClinicalTrialTimePointDescription', 'ConsentForClinicalTrialUseSequence',
] as const;

/**
 * The `SourceSeries` of a stack whose frames are sorted along the slice normal. `warnings` gets a
 * line when dcmjs cannot read the first slice's patient and study attributes (then left empty).
 */
export function sourceSeriesOf(stack: ImageStack, sorted: readonly ImageFrame[], resampled: boolean, warnings: string[]): SourceSeries {
  const first = sorted[0];
  const ds = first.file.dataset;
  const patientStudy: NaturalizedDataset = {};
  try {
    const natural = first.file.naturalized();
    for (const keyword of PATIENT_STUDY_KEYWORDS) {
      if (natural[keyword] !== undefined) patientStudy[keyword] = natural[keyword];
    }
  } catch (err) {
    if (!isVoxgateError(err)) throw err;
    warnings.push(`${err.message} The series' patient and study attributes are left empty.`);
  }
  return {
    id: stack.id,
    studyInstanceUID: ds.string(Tag.StudyInstanceUID) ?? '',
    seriesInstanceUID: stack.seriesInstanceUID,
    frameOfReferenceUID: ds.string(Tag.FrameOfReferenceUID) ?? '',
    modality: ds.string(Tag.Modality) ?? '',
    seriesNumber: ds.number(Tag.SeriesNumber),
    seriesDescription: ds.string(Tag.SeriesDescription),
    rows: first.format.rows,
    columns: first.format.columns,
    imageOrientationPatient: first.orientation ?? [],
    pixelSpacing: first.pixelSpacing ?? [1, 1],
    sliceThickness: first.sliceThickness,
    flipRows: true,
    slices: sorted.map((frame) => ({
      file: frame.file.name,
      sopClassUID: frame.file.sopClassUID,
      sopInstanceUID: frame.file.sopInstanceUID,
      frameNumber: frame.frameIndex + 1,
      numberOfFrames: frame.format.numberOfFrames,
      position: frame.position ?? [0, 0, 0],
      dataset: () => frame.file.naturalized(),
    })),
    resampled,
    patientStudy,
  };
}
