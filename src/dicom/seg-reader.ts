/**
 * DICOM Segmentation → segments, frames and masks (PS3.3 A.51, C.8.20): BINARY (1 bit, frames
 * packed without padding) and FRACTIONAL (8 bits, foreground where value ≥ ½ MaximumFractionalValue),
 * in any uncompressed little-endian transfer syntax dcmjs reads. Functional groups are taken from the
 * per-frame item, else from the shared one. Mapping frames onto a volume: seg-grid.ts.
 * @module
 */
import dcmjs from 'dcmjs';
import type { DicomElements } from 'dcmjs';
import { VoxgateError } from '../errors.js';
import type { Vec3 } from '../volume/affine.js';
import type { CodedConcept } from './seg-segments.js';
import { Uid } from './seg-tags.js';

export interface SegmentInfo {
  readonly segmentNumber: number;
  readonly segmentLabel: string;
  readonly segmentDescription?: string;
  readonly segmentAlgorithmType?: string;
  readonly segmentAlgorithmName?: string;
  readonly category?: CodedConcept;
  readonly type?: CodedConcept;
  readonly typeModifiers: readonly CodedConcept[];
  readonly anatomicRegions: readonly CodedConcept[];
  readonly anatomicRegionModifiers: readonly CodedConcept[];
  readonly recommendedDisplayCIELabValue?: readonly [number, number, number];
}

export interface SourceReference {
  readonly sopClassUid?: string;
  readonly sopInstanceUid: string;
  readonly frameNumber?: number;
}

export interface SegFrameInfo {
  readonly segmentNumber: number;
  /** DerivationImageSequence → SourceImageSequence, in order. */
  readonly sources: readonly SourceReference[];
  readonly imagePositionPatient?: Vec3;
  readonly imageOrientationPatient?: readonly [number, number, number, number, number, number];
  readonly dimensionIndexValues?: readonly number[];
}

export interface Segmentation {
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly frameOfReferenceUid?: string;
  readonly transferSyntaxUid: string;
  readonly segmentationType: 'BINARY' | 'FRACTIONAL';
  readonly segmentationFractionalType?: string;
  readonly maximumFractionalValue?: number;
  /** SegmentsOverlap as the file says (YES, NO, UNDEFINED), when it says. */
  readonly segmentsOverlap?: string;
  readonly rows: number;
  readonly columns: number;
  /** From the shared functional groups, when there. */
  readonly pixelSpacing?: readonly [number, number];
  readonly sliceThickness?: number;
  readonly spacingBetweenSlices?: number;
  readonly segments: readonly SegmentInfo[];
  readonly frames: readonly SegFrameInfo[];
  /**
   * The 0/1 mask of frame `f` (Rows × Columns, row by row). FRACTIONAL frames are 1 where the value
   * is at least half of MaximumFractionalValue.
   */
  frameMask(f: number, out?: Uint8Array): Uint8Array;
}

const T = {
  TransferSyntaxUID: '00020010',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  CodeValue: '00080100',
  CodingSchemeDesignator: '00080102',
  CodeMeaning: '00080104',
  LongCodeValue: '00080119',
  URNCodeValue: '00080120',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  ReferencedFrameNumber: '00081160',
  SourceImageSequence: '00082112',
  AnatomicRegionSequence: '00082218',
  AnatomicRegionModifierSequence: '00082220',
  DerivationImageSequence: '00089124',
  SliceThickness: '00180050',
  SpacingBetweenSlices: '00180088',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  ImagePositionPatient: '00200032',
  ImageOrientationPatient: '00200037',
  FrameOfReferenceUID: '00200052',
  FrameContentSequence: '00209111',
  PlanePositionSequence: '00209113',
  PlaneOrientationSequence: '00209116',
  DimensionIndexValues: '00209157',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  PixelSpacing: '00280030',
  BitsAllocated: '00280100',
  PixelMeasuresSequence: '00289110',
  SegmentationType: '00620001',
  SegmentSequence: '00620002',
  SegmentedPropertyCategoryCodeSequence: '00620003',
  SegmentNumber: '00620004',
  SegmentLabel: '00620005',
  SegmentDescription: '00620006',
  SegmentAlgorithmType: '00620008',
  SegmentAlgorithmName: '00620009',
  SegmentIdentificationSequence: '0062000A',
  ReferencedSegmentNumber: '0062000B',
  RecommendedDisplayCIELabValue: '0062000D',
  MaximumFractionalValue: '0062000E',
  SegmentedPropertyTypeCodeSequence: '0062000F',
  SegmentationFractionalType: '00620010',
  SegmentedPropertyTypeModifierCodeSequence: '00620011',
  SegmentsOverlap: '00620013',
  SharedFunctionalGroupsSequence: '52009229',
  PerFrameFunctionalGroupsSequence: '52009230',
  PixelData: '7FE00010',
} as const;

/** Uncompressed syntaxes whose pixel bytes are the frames as they are. */
const NATIVE_SYNTAXES = new Set<string>([Uid.ImplicitVRLittleEndian, Uid.ExplicitVRLittleEndian, Uid.DeflatedExplicitVRLittleEndian]);

/**
 * Reads a DICOM SEG Part 10 file.
 * @throws VXG_ERR_SEG_FORMAT for anything but an uncompressed BINARY or FRACTIONAL Segmentation.
 * @example
 * const seg = readSegmentation(await readFile('seg.dcm'));
 * seg.segments.map((s) => s.segmentLabel); // ['liver', 'spleen']
 * const mask = seg.frameMask(0);           // Rows × Columns of 0/1
 */
export function readSegmentation(bytes: Uint8Array): Segmentation {
  let parsed: { meta: DicomElements; dict: DicomElements };
  try {
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    parsed = dcmjs.data.DicomMessage.readFile(copy, { noCopy: true });
  } catch (err) {
    throw new VoxgateError('VXG_ERR_SEG_FORMAT', `Not a readable DICOM Part 10 file: ${(err as Error).message}`, { cause: err });
  }
  const { meta, dict } = parsed;
  const sopClass = str(dict, T.SOPClassUID);
  if (sopClass !== Uid.SegmentationStorage) {
    throw format(`SOPClassUID is ${JSON.stringify(sopClass ?? '')}, not Segmentation Storage (${Uid.SegmentationStorage}).`);
  }
  const transferSyntaxUid = str(meta, T.TransferSyntaxUID) ?? Uid.ImplicitVRLittleEndian;
  if (!NATIVE_SYNTAXES.has(transferSyntaxUid)) {
    throw format(`its transfer syntax ${transferSyntaxUid} is not uncompressed little endian; convert it first.`);
  }
  const segmentationType = str(dict, T.SegmentationType);
  if (segmentationType !== 'BINARY' && segmentationType !== 'FRACTIONAL') {
    throw format(`SegmentationType ${JSON.stringify(segmentationType ?? '')} is not BINARY or FRACTIONAL.`);
  }
  const rows = num(dict, T.Rows);
  const columns = num(dict, T.Columns);
  const numberOfFrames = num(dict, T.NumberOfFrames);
  if (!(rows! > 0 && columns! > 0 && numberOfFrames! > 0)) throw format(`Rows ${rows}, Columns ${columns} and NumberOfFrames ${numberOfFrames} are not all positive.`);
  const bitsAllocated = num(dict, T.BitsAllocated);
  const expectedBits = segmentationType === 'BINARY' ? 1 : 8;
  if (bitsAllocated !== expectedBits) throw format(`a ${segmentationType} SEG with BitsAllocated ${bitsAllocated} (expected ${expectedBits}).`);
  const maximumFractionalValue = segmentationType === 'FRACTIONAL' ? num(dict, T.MaximumFractionalValue) : undefined;
  if (segmentationType === 'FRACTIONAL' && !(maximumFractionalValue! > 0)) throw format('a FRACTIONAL SEG without a positive MaximumFractionalValue.');

  const pixels = pixelBytes(dict);
  const framePixels = rows! * columns!;
  const needed = segmentationType === 'BINARY' ? Math.ceil((numberOfFrames! * framePixels) / 8) : numberOfFrames! * framePixels;
  if (pixels.length < needed) throw format(`its pixel data has ${pixels.length} bytes; ${numberOfFrames} frames of ${rows}×${columns} need ${needed}.`);

  const segments = items(dict, T.SegmentSequence).map(segmentInfo);
  if (segments.length === 0) throw format('SegmentSequence is empty.');
  const shared = items(dict, T.SharedFunctionalGroupsSequence)[0] ?? {};
  const perFrame = items(dict, T.PerFrameFunctionalGroupsSequence);
  if (perFrame.length !== numberOfFrames && perFrame.length !== 0) {
    throw format(`PerFrameFunctionalGroupsSequence has ${perFrame.length} items for ${numberOfFrames} frames.`);
  }
  const frames = Array.from({ length: numberOfFrames! }, (_, f) => frameInfo(perFrame[f] ?? {}, shared, f));
  const known = new Set(segments.map((s) => s.segmentNumber));
  for (const [f, frame] of frames.entries()) {
    if (!known.has(frame.segmentNumber)) throw format(`frame ${f + 1} refers to segment ${frame.segmentNumber}, which SegmentSequence does not define.`);
  }
  const measures = items(shared, T.PixelMeasuresSequence)[0];
  const spacing = measures ? nums(measures, T.PixelSpacing) : undefined;

  const frameMask = (f: number, out = new Uint8Array(framePixels)): Uint8Array => {
    if (!(f >= 0 && f < numberOfFrames!)) throw new RangeError(`frame ${f} is not in 0..${numberOfFrames! - 1}`);
    if (segmentationType === 'BINARY') {
      unpackBits(pixels, f * framePixels, framePixels, out);
    } else {
      const base = f * framePixels;
      const max = maximumFractionalValue!;
      for (let p = 0; p < framePixels; p++) out[p] = pixels[base + p] * 2 >= max ? 1 : 0;
    }
    return out;
  };

  return {
    sopInstanceUid: str(dict, T.SOPInstanceUID) ?? '',
    seriesInstanceUid: str(dict, T.SeriesInstanceUID) ?? '',
    studyInstanceUid: str(dict, T.StudyInstanceUID) ?? '',
    ...optional('frameOfReferenceUid', str(dict, T.FrameOfReferenceUID)),
    transferSyntaxUid,
    segmentationType,
    ...optional('segmentationFractionalType', str(dict, T.SegmentationFractionalType)),
    ...optional('maximumFractionalValue', maximumFractionalValue),
    ...optional('segmentsOverlap', str(dict, T.SegmentsOverlap)),
    rows: rows!,
    columns: columns!,
    ...optional('pixelSpacing', spacing?.length === 2 ? ([spacing[0], spacing[1]] as const) : undefined),
    ...optional('sliceThickness', measures ? num(measures, T.SliceThickness) : undefined),
    ...optional('spacingBetweenSlices', measures ? num(measures, T.SpacingBetweenSlices) : undefined),
    segments,
    frames,
    frameMask,
  };
}

/** Bits `start` … `start + count − 1` of a little-endian bit stream (first pixel = bit 0 of byte 0). */
export function unpackBits(bytes: Uint8Array, start: number, count: number, out: Uint8Array): void {
  let byte = Math.floor(start / 8);
  let bit = start % 8;
  let p = 0;
  // Up to the next byte boundary, then whole bytes, then the tail.
  while (p < count && bit !== 0) {
    out[p++] = (bytes[byte] >> bit) & 1;
    if (++bit === 8) {
      bit = 0;
      byte++;
    }
  }
  while (p + 8 <= count) {
    const b = bytes[byte++];
    out[p] = b & 1;
    out[p + 1] = (b >> 1) & 1;
    out[p + 2] = (b >> 2) & 1;
    out[p + 3] = (b >> 3) & 1;
    out[p + 4] = (b >> 4) & 1;
    out[p + 5] = (b >> 5) & 1;
    out[p + 6] = (b >> 6) & 1;
    out[p + 7] = (b >> 7) & 1;
    p += 8;
  }
  for (let n = 0; p < count; n++) out[p++] = (bytes[byte] >> n) & 1;
}

function segmentInfo(item: DicomElements): SegmentInfo {
  const segmentNumber = num(item, T.SegmentNumber);
  if (!(segmentNumber! >= 1)) throw format('a SegmentSequence item has no SegmentNumber.');
  const typeItem = items(item, T.SegmentedPropertyTypeCodeSequence)[0];
  const regionItems = items(item, T.AnatomicRegionSequence);
  const lab = nums(item, T.RecommendedDisplayCIELabValue);
  return {
    segmentNumber: segmentNumber!,
    segmentLabel: str(item, T.SegmentLabel) ?? '',
    ...optional('segmentDescription', str(item, T.SegmentDescription)),
    ...optional('segmentAlgorithmType', str(item, T.SegmentAlgorithmType)),
    ...optional('segmentAlgorithmName', str(item, T.SegmentAlgorithmName)),
    ...optional('category', codeOf(items(item, T.SegmentedPropertyCategoryCodeSequence)[0])),
    ...optional('type', codeOf(typeItem)),
    typeModifiers: typeItem ? codesOf(items(typeItem, T.SegmentedPropertyTypeModifierCodeSequence)) : [],
    anatomicRegions: codesOf(regionItems),
    anatomicRegionModifiers: regionItems.flatMap((r) => codesOf(items(r, T.AnatomicRegionModifierSequence))),
    ...optional('recommendedDisplayCIELabValue', lab?.length === 3 ? ([lab[0], lab[1], lab[2]] as const) : undefined),
  };
}

function frameInfo(own: DicomElements, shared: DicomElements, f: number): SegFrameInfo {
  const group = (tag: string): DicomElements | undefined => items(own, tag)[0] ?? items(shared, tag)[0];
  const segmentNumber = num(group(T.SegmentIdentificationSequence) ?? {}, T.ReferencedSegmentNumber);
  if (segmentNumber === undefined) throw format(`frame ${f + 1} has no SegmentIdentificationSequence.`);
  const derivations = items(own, T.DerivationImageSequence).length > 0 ? items(own, T.DerivationImageSequence) : items(shared, T.DerivationImageSequence);
  const sources = derivations.flatMap((d) =>
    items(d, T.SourceImageSequence).flatMap((s): SourceReference[] => {
      const sopInstanceUid = str(s, T.ReferencedSOPInstanceUID);
      if (!sopInstanceUid) return [];
      return [{ sopInstanceUid, ...optional('sopClassUid', str(s, T.ReferencedSOPClassUID)), ...optional('frameNumber', num(s, T.ReferencedFrameNumber)) }];
    }),
  );
  const position = nums(group(T.PlanePositionSequence) ?? {}, T.ImagePositionPatient);
  const orientation = nums(group(T.PlaneOrientationSequence) ?? {}, T.ImageOrientationPatient);
  const dimension = nums(group(T.FrameContentSequence) ?? {}, T.DimensionIndexValues);
  return {
    segmentNumber,
    sources,
    ...optional('imagePositionPatient', position?.length === 3 ? ([position[0], position[1], position[2]] as const) : undefined),
    ...optional(
      'imageOrientationPatient',
      orientation?.length === 6 ? (orientation as unknown as readonly [number, number, number, number, number, number]) : undefined,
    ),
    ...optional('dimensionIndexValues', dimension),
  };
}

function codeOf(item: DicomElements | undefined): CodedConcept | undefined {
  if (!item) return undefined;
  const value = str(item, T.CodeValue) ?? str(item, T.LongCodeValue) ?? str(item, T.URNCodeValue);
  if (value === undefined) return undefined;
  return { CodeValue: value, CodingSchemeDesignator: str(item, T.CodingSchemeDesignator) ?? '', CodeMeaning: str(item, T.CodeMeaning) ?? '' };
}

function codesOf(list: readonly DicomElements[]): CodedConcept[] {
  return list.map(codeOf).filter((c): c is CodedConcept => c !== undefined);
}

function pixelBytes(dict: DicomElements): Uint8Array {
  const el = dict[T.PixelData];
  const value = el?.Value?.[0];
  if (el?.Value && el.Value.length > 1) throw format('its pixel data is encapsulated (fragments).');
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw format('it has no pixel data.');
}

function items(ds: DicomElements, tag: string): DicomElements[] {
  const value = ds[tag]?.Value;
  return Array.isArray(value) ? (value as DicomElements[]) : [];
}

function str(ds: DicomElements, tag: string): string | undefined {
  const v = ds[tag]?.Value?.[0];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object' && 'Alphabetic' in v) return String((v as { Alphabetic: unknown }).Alphabetic);
  const s = String(v).trim();
  return s === '' ? undefined : s;
}

function num(ds: DicomElements, tag: string): number | undefined {
  const v = ds[tag]?.Value?.[0];
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function nums(ds: DicomElements, tag: string): number[] | undefined {
  const values = ds[tag]?.Value;
  if (!values || values.length === 0) return undefined;
  const out = values.map(Number);
  return out.every(Number.isFinite) ? out : undefined;
}

/** `{ [key]: value }` when value is defined, `{}` otherwise: keeps absent fields absent. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function format(why: string): VoxgateError {
  return new VoxgateError('VXG_ERR_SEG_FORMAT', `Not a DICOM SEG Voxgate reads: ${why}`);
}
