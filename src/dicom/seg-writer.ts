/**
 * Label map → DICOM Segmentation (PS3.3 A.51, BINARY, C.8.20): one segment per label present,
 * one frame per segment and non-empty source slice, every frame referencing its source instance.
 * Conventions and fallbacks: docs/dicom-seg.md.
 * @module
 */
import { VoxgateError } from '../errors.js';
import { VERSION } from '../version.js';
import { columnNorms } from '../volume/affine.js';
import type { LabelVolume } from '../volume/volume.js';
import { packFrames, packedLength, planFrames } from './seg-frames.js';
import type { FramePlan } from './seg-frames.js';
import type { DataElement, DataSet, Vr } from './seg-part10.js';
import { element, encodePart10, sequence } from './seg-part10.js';
import type { CodedConcept, DescribeOptions, LabelDescription } from './seg-segments.js';
import { Concepts, describeLabel } from './seg-segments.js';
import type { PatientStudyKeyword, SegSourceSeries } from './seg-source.js';
import { gridCornerDistance, segSourceAffine, sliceNormal } from './seg-source.js';
import { Tag, Uid } from './seg-tags.js';
import { checkCodeString, checkPersonName, checkText, formatDA, formatDS, formatTM, isUid, uuidUid } from './seg-values.js';

export interface SegmentationOptions {
  /** The engine: SegmentAlgorithmName and AlgorithmName (e.g. `VISTA3D`, `classic`). */
  readonly algorithmName: string;
  /** AlgorithmVersion of the engine or model. */
  readonly algorithmVersion: string;
  /** AlgorithmFamilyCodeSequence (CID 7162); default DCM 123110 "Artificial Intelligence". */
  readonly algorithmFamily?: CodedConcept;
  /** SegmentLabel for labels the VISTA3D table does not name (zero-shot 133–254), or to rename one. */
  readonly labelNames?: DescribeOptions['labelNames'];
  /** SeriesDescription; default `<algorithmName> segmentation`. */
  readonly seriesDescription?: string;
  /** SeriesNumber; default 99. */
  readonly seriesNumber?: number;
  /** InstanceNumber; default 1. */
  readonly instanceNumber?: number;
  /** ContentLabel (CS); default `SEGMENTATION`. */
  readonly contentLabel?: string;
  /** ContentDescription; default `<algorithmName> <algorithmVersion> automatic segmentation`. */
  readonly contentDescription?: string;
  /** ContentCreatorName in PN form; default `Voxgate^Engine`. */
  readonly contentCreatorName?: string;
  /** ManufacturerModelName; default `Voxgate`. */
  readonly manufacturerModelName?: string;
  /** DeviceSerialNumber (the installation); default `0`. */
  readonly deviceSerialNumber?: string;
  /** SeriesInstanceUID to use (e.g. to add to an existing SEG series); default a new one. */
  readonly seriesInstanceUid?: string;
  /** SOPInstanceUID to use (e.g. to make a retry idempotent); default a new one. */
  readonly sopInstanceUid?: string;
  /** Content/series/instance date and time; default now. */
  readonly now?: Date;
}

/** The VR of each patient/study attribute copied from the source (PS3.6). */
const PATIENT_STUDY_VR: Record<PatientStudyKeyword, Vr> = {
  PatientName: 'PN',
  PatientID: 'LO',
  PatientBirthDate: 'DA',
  PatientSex: 'CS',
  StudyDate: 'DA',
  StudyTime: 'TM',
  StudyID: 'SH',
  AccessionNumber: 'SH',
  ReferringPhysicianName: 'PN',
  StudyDescription: 'LO',
};

/** A label map lies on its source grid when its corners are within this share of a voxel of where the source puts them. */
const GRID_TOLERANCE_VOXELS = 0.1;

/**
 * Writes `labels` (on the grid of `source`, see seg-source.ts) as a DICOM SEG Part 10 file in
 * Explicit VR Little Endian. Labels 0 and 255 are not segments.
 * @throws VXG_ERR_SEG_EMPTY when no voxel holds a label; VXG_ERR_SEG_SOURCE_MISMATCH when the
 *   label map is not on the source grid; VXG_ERR_SEG_INVALID_OPTION for names or UIDs DICOM cannot carry.
 * @example
 * const bytes = createSegmentation(labels, source, { algorithmName: 'VISTA3D', algorithmVersion: '0.5.2' });
 * await writeFile('seg.dcm', bytes);
 */
export function createSegmentation(labels: LabelVolume, source: SegSourceSeries, options: SegmentationOptions): Uint8Array {
  assertOnSourceGrid(labels, source);
  const plan = planFrames(labels);
  if (plan.labels.length === 0) {
    throw new VoxgateError('VXG_ERR_SEG_EMPTY', 'The label map holds no segment (every voxel is 0 or 255): there is no DICOM SEG to write.');
  }
  const segments = plan.labels.map((label) =>
    describeLabel(label, { labelNames: options.labelNames, patientSex: source.patientStudy.PatientSex }),
  );
  const sopInstanceUid = options.sopInstanceUid ?? uuidUid();
  const dataset = segmentationDataSet(source, options, segments, plan, sopInstanceUid);
  const frames = plan.frameSlice.length;
  return encodePart10(
    { sopClassUid: Uid.SegmentationStorage, sopInstanceUid, implementationVersionName: `VOXGATE_${VERSION}`.slice(0, 16) },
    dataset,
    {
      length: packedLength(frames, source.rows, source.columns),
      fill: (target) => packFrames(labels, plan, source.flipRows, target),
    },
  );
}

function assertOnSourceGrid(labels: LabelVolume, source: SegSourceSeries): void {
  const want = [source.columns, source.rows, source.slices.length];
  if (labels.dims.some((d, n) => d !== want[n])) {
    throw new VoxgateError(
      'VXG_ERR_SEG_SOURCE_MISMATCH',
      `The label map is ${labels.dims.join('×')} but the source series ${source.seriesInstanceUid} is ${want.join('×')} (columns × rows × slices).`,
    );
  }
  const expected = segSourceAffine(source);
  const off = gridCornerDistance(labels.affine, expected, labels.dims);
  const tolerance = GRID_TOLERANCE_VOXELS * Math.min(...columnNorms(expected));
  if (!(off <= tolerance)) {
    throw new VoxgateError(
      'VXG_ERR_SEG_SOURCE_MISMATCH',
      `The label map's affine puts its corners up to ${off.toFixed(3)} mm from where the source series ${source.seriesInstanceUid} puts them` +
        ` (allowed ${tolerance.toFixed(3)} mm${source.flipRows ? ', rows flipped' : ''}): it is not on the source grid.`,
    );
  }
}

function uid(what: string, value: string): string {
  if (!isUid(value)) throw new VoxgateError('VXG_ERR_SEG_INVALID_OPTION', `${what} ${JSON.stringify(value)} is not a DICOM UID.`);
  return value;
}

function code(concept: CodedConcept, extra: readonly DataElement[] = []): DataSet {
  return [
    element(Tag.CodeValue, 'SH', checkText('CodeValue', concept.CodeValue, 16)),
    element(Tag.CodingSchemeDesignator, 'SH', checkText('CodingSchemeDesignator', concept.CodingSchemeDesignator, 16)),
    element(Tag.CodeMeaning, 'LO', checkText('CodeMeaning', concept.CodeMeaning, 64)),
    ...extra,
  ];
}

function segmentItem(segment: LabelDescription, number: number, options: SegmentationOptions): DataSet {
  const typeModifier = segment.typeModifier ? [sequence(Tag.SegmentedPropertyTypeModifierCodeSequence, [code(segment.typeModifier)])] : [];
  const regionModifier = segment.anatomicRegionModifier ? [sequence(Tag.AnatomicRegionModifierSequence, [code(segment.anatomicRegionModifier)])] : [];
  return [
    element(Tag.SegmentNumber, 'US', [number]),
    element(Tag.SegmentLabel, 'LO', segment.name),
    element(Tag.SegmentAlgorithmType, 'CS', 'AUTOMATIC'),
    element(Tag.SegmentAlgorithmName, 'LO', options.algorithmName),
    sequence(Tag.SegmentationAlgorithmIdentificationSequence, [
      [
        sequence(Tag.AlgorithmFamilyCodeSequence, [code(options.algorithmFamily ?? Concepts.ArtificialIntelligence)]),
        element(Tag.AlgorithmName, 'LO', options.algorithmName),
        element(Tag.AlgorithmVersion, 'LO', options.algorithmVersion),
      ],
    ]),
    sequence(Tag.SegmentedPropertyCategoryCodeSequence, [code(segment.category)]),
    sequence(Tag.SegmentedPropertyTypeCodeSequence, [code(segment.type, typeModifier)]),
    ...(segment.anatomicRegion ? [sequence(Tag.AnatomicRegionSequence, [code(segment.anatomicRegion, regionModifier)])] : []),
    ...(segment.cielab ? [element(Tag.RecommendedDisplayCIELabValue, 'US', segment.cielab)] : []),
  ];
}

function segmentationDataSet(
  source: SegSourceSeries,
  options: SegmentationOptions,
  segments: readonly LabelDescription[],
  plan: FramePlan,
  sopInstanceUid: string,
): DataSet {
  const now = options.now ?? new Date();
  const algorithmName = checkText('algorithmName', options.algorithmName, 64);
  const algorithmVersion = checkText('algorithmVersion', options.algorithmVersion, 64);
  const seriesDescription = checkText('seriesDescription', options.seriesDescription ?? `${algorithmName} segmentation`.slice(0, 64), 64);
  const contentDescription = checkText(
    'contentDescription',
    options.contentDescription ?? `${algorithmName} ${algorithmVersion} automatic segmentation`.slice(0, 64),
    64,
  );
  const seriesNumber = integerOption('seriesNumber', options.seriesNumber ?? 99);
  const instanceNumber = integerOption('instanceNumber', options.instanceNumber ?? 1);
  const seriesInstanceUid = uid('seriesInstanceUid', options.seriesInstanceUid ?? uuidUid());
  const dimensionOrganizationUid = uuidUid();
  const frames = plan.frameSlice.length;

  const patientStudy = Object.entries(PATIENT_STUDY_VR)
    .filter(([keyword]) => keyword !== 'StudyDescription' || source.patientStudy.StudyDescription)
    .map(([keyword, vr]) => element(Tag[keyword as PatientStudyKeyword], vr, source.patientStudy[keyword as PatientStudyKeyword] ?? ''));

  const references = uniqueInstances(source);
  const iop = source.imageOrientationPatient;
  const spacing = spacingBetweenSlices(source);
  const thickness = source.sliceThickness ?? spacing;

  return [
    element(Tag.SpecificCharacterSet, 'CS', 'ISO_IR 192'),
    element(Tag.ImageType, 'CS', ['DERIVED', 'PRIMARY']),
    element(Tag.InstanceCreationDate, 'DA', formatDA(now)),
    element(Tag.InstanceCreationTime, 'TM', formatTM(now)),
    element(Tag.SOPClassUID, 'UI', Uid.SegmentationStorage),
    element(Tag.SOPInstanceUID, 'UI', uid('sopInstanceUid', sopInstanceUid)),
    element(Tag.SeriesDate, 'DA', formatDA(now)),
    element(Tag.SeriesTime, 'TM', formatTM(now)),
    element(Tag.ContentDate, 'DA', formatDA(now)),
    element(Tag.ContentTime, 'TM', formatTM(now)),
    element(Tag.Modality, 'CS', 'SEG'),
    element(Tag.Manufacturer, 'LO', 'Voxgate'),
    element(Tag.SeriesDescription, 'LO', seriesDescription),
    element(Tag.ManufacturerModelName, 'LO', checkText('manufacturerModelName', options.manufacturerModelName ?? 'Voxgate', 64)),
    sequence(Tag.ReferencedSeriesSequence, [
      [
        element(Tag.SeriesInstanceUID, 'UI', uid('The source SeriesInstanceUID', source.seriesInstanceUid)),
        sequence(
          Tag.ReferencedInstanceSequence,
          references.map((slice) => [
            element(Tag.ReferencedSOPClassUID, 'UI', uid('A source SOPClassUID', slice.sopClassUid)),
            element(Tag.ReferencedSOPInstanceUID, 'UI', uid('A source SOPInstanceUID', slice.sopInstanceUid)),
          ]),
        ),
      ],
    ]),
    ...patientStudy,
    element(Tag.DeviceSerialNumber, 'LO', checkText('deviceSerialNumber', options.deviceSerialNumber ?? '0', 64)),
    element(Tag.SoftwareVersions, 'LO', VERSION),
    element(Tag.StudyInstanceUID, 'UI', uid('The source StudyInstanceUID', source.studyInstanceUid)),
    element(Tag.SeriesInstanceUID, 'UI', seriesInstanceUid),
    element(Tag.SeriesNumber, 'IS', String(seriesNumber)),
    element(Tag.InstanceNumber, 'IS', String(instanceNumber)),
    element(Tag.FrameOfReferenceUID, 'UI', uid('The source FrameOfReferenceUID', source.frameOfReferenceUid)),
    element(Tag.PositionReferenceIndicator, 'LO', ''),
    sequence(Tag.DimensionOrganizationSequence, [[element(Tag.DimensionOrganizationUID, 'UI', dimensionOrganizationUid)]]),
    sequence(Tag.DimensionIndexSequence, [
      [
        element(Tag.DimensionOrganizationUID, 'UI', dimensionOrganizationUid),
        element(Tag.DimensionIndexPointer, 'AT', [Tag.ReferencedSegmentNumber]),
        element(Tag.FunctionalGroupPointer, 'AT', [Tag.SegmentIdentificationSequence]),
        element(Tag.DimensionDescriptionLabel, 'LO', 'Segment Number'),
      ],
      [
        element(Tag.DimensionOrganizationUID, 'UI', dimensionOrganizationUid),
        element(Tag.DimensionIndexPointer, 'AT', [Tag.ImagePositionPatient]),
        element(Tag.FunctionalGroupPointer, 'AT', [Tag.PlanePositionSequence]),
        element(Tag.DimensionDescriptionLabel, 'LO', 'Image Position Patient'),
      ],
    ]),
    element(Tag.SamplesPerPixel, 'US', [1]),
    element(Tag.PhotometricInterpretation, 'CS', 'MONOCHROME2'),
    element(Tag.NumberOfFrames, 'IS', String(frames)),
    element(Tag.Rows, 'US', [source.rows]),
    element(Tag.Columns, 'US', [source.columns]),
    element(Tag.BitsAllocated, 'US', [1]),
    element(Tag.BitsStored, 'US', [1]),
    element(Tag.HighBit, 'US', [0]),
    element(Tag.PixelRepresentation, 'US', [0]),
    element(Tag.LossyImageCompression, 'CS', '00'),
    element(Tag.SegmentationType, 'CS', 'BINARY'),
    sequence(Tag.SegmentSequence, segments.map((segment, s) => segmentItem(segment, s + 1, { ...options, algorithmName, algorithmVersion }))),
    // A label map holds one label per voxel.
    element(Tag.SegmentsOverlap, 'CS', 'NO'),
    element(Tag.ContentLabel, 'CS', checkCodeString('contentLabel', options.contentLabel ?? 'SEGMENTATION')),
    element(Tag.ContentDescription, 'LO', contentDescription),
    element(Tag.ContentCreatorName, 'PN', checkPersonName('contentCreatorName', options.contentCreatorName ?? 'Voxgate^Engine')),
    sequence(Tag.SharedFunctionalGroupsSequence, [
      [
        sequence(Tag.PlaneOrientationSequence, [[element(Tag.ImageOrientationPatient, 'DS', iop.map(formatDS))]]),
        sequence(Tag.PixelMeasuresSequence, [
          [
            element(Tag.PixelSpacing, 'DS', source.pixelSpacing.map(formatDS)),
            ...(thickness !== undefined ? [element(Tag.SliceThickness, 'DS', formatDS(thickness))] : []),
            ...(spacing !== undefined ? [element(Tag.SpacingBetweenSlices, 'DS', formatDS(spacing))] : []),
          ],
        ]),
      ],
    ]),
    sequence(Tag.PerFrameFunctionalGroupsSequence, perFrameItems(source, plan)),
  ];
}

function perFrameItems(source: SegSourceSeries, plan: FramePlan): DataSet[] {
  const derivationCode = [code(Concepts.Segmentation)];
  const purpose = [code(Concepts.SourceImageForImageProcessingOperation)];
  const positions = source.slices.map((slice) => slice.imagePositionPatient.map(formatDS));
  const items: DataSet[] = [];
  for (let f = 0; f < plan.frameSlice.length; f++) {
    const k = plan.frameSlice[f];
    const segmentNumber = plan.frameSegment[f] + 1;
    const slice = source.slices[k];
    items.push([
      sequence(Tag.DerivationImageSequence, [
        [
          sequence(Tag.SourceImageSequence, [
            [
              element(Tag.ReferencedSOPClassUID, 'UI', slice.sopClassUid),
              element(Tag.ReferencedSOPInstanceUID, 'UI', slice.sopInstanceUid),
              ...(slice.referencedFrameNumber !== undefined ? [element(Tag.ReferencedFrameNumber, 'IS', String(slice.referencedFrameNumber))] : []),
              element(Tag.SpatialLocationsPreserved, 'CS', 'YES'),
              sequence(Tag.PurposeOfReferenceCodeSequence, purpose),
            ],
          ]),
          sequence(Tag.DerivationCodeSequence, derivationCode),
        ],
      ]),
      // Dimension index values: the segment number, then the source slice's place in volume order (1-based).
      sequence(Tag.FrameContentSequence, [[element(Tag.DimensionIndexValues, 'UL', [segmentNumber, k + 1])]]),
      sequence(Tag.PlanePositionSequence, [[element(Tag.ImagePositionPatient, 'DS', positions[k])]]),
      sequence(Tag.SegmentIdentificationSequence, [[element(Tag.ReferencedSegmentNumber, 'US', [segmentNumber])]]),
    ]);
  }
  return items;
}

/** Source instances in slice order, each once (a multi-frame source appears on many slices). */
function uniqueInstances(source: SegSourceSeries): SegSourceSeries['slices'] {
  const seen = new Set<string>();
  return source.slices.filter((slice) => !seen.has(slice.sopInstanceUid) && seen.add(slice.sopInstanceUid));
}

/** Distance between slice centres along the normal, from the first and last positions; none for one slice. */
function spacingBetweenSlices(source: SegSourceSeries): number | undefined {
  const n = source.slices.length;
  if (n < 2) return undefined;
  const normal = sliceNormal(source.imageOrientationPatient);
  const a = source.slices[0].imagePositionPatient;
  const b = source.slices[n - 1].imagePositionPatient;
  const along = (b[0] - a[0]) * normal[0] + (b[1] - a[1]) * normal[1] + (b[2] - a[2]) * normal[2];
  return Math.abs(along) / (n - 1);
}

function integerOption(what: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 2147483647) {
    throw new VoxgateError('VXG_ERR_SEG_INVALID_OPTION', `${what} ${value} is not an integer from 0 to 2147483647.`);
  }
  return value;
}
