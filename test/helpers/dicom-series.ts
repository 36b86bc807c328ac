/**
 * Synthetic DICOM series for tests, written in memory by dcmjs (an independent writer): N slices of
 * a small image with chosen orientation, positions, rescale, bit layout and transfer syntax.
 *
 * Every stored value encodes where its pixel is — `column + 16 · row + 256 · slice` (slice = index
 * in `positions`) unless `pixel` says otherwise — so a test can check that voxel (i, j, k) holds the
 * pixel the documented convention puts there, and the affine puts it where its DICOM position says.
 * @module
 */
import { deflateRawSync } from 'node:zlib';
import type { NaturalizedDataset } from 'dcmjs';
import { data as dcmjsData } from 'dcmjs';
import type { DicomInputFile } from '../../src/dicom/read-series.js';
import type { Vec3 } from '../../src/volume/affine.js';

const { DicomDict, DicomMetaDictionary } = dcmjsData;

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const AXIAL = [1, 0, 0, 0, 1, 0] as const;

export type SyntheticSyntax = 'explicit-le' | 'implicit-le' | 'explicit-be' | 'deflate';

const SYNTAX_UID: Record<SyntheticSyntax, string> = {
  'explicit-le': '1.2.840.10008.1.2.1',
  'implicit-le': '1.2.840.10008.1.2',
  'explicit-be': '1.2.840.10008.1.2.2',
  deflate: '1.2.840.10008.1.2.1.99',
};

export interface SeriesSpec {
  readonly rows?: number;
  readonly columns?: number;
  /** [between rows, between columns] mm. */
  readonly pixelSpacing?: readonly [number, number];
  readonly orientation?: readonly number[];
  /** ImagePositionPatient of each slice, in file order. */
  readonly positions: readonly Vec3[];
  /** Per-slice orientation, overriding `orientation` (mixed-orientation series). */
  readonly orientations?: readonly (readonly number[] | undefined)[];
  readonly bitsAllocated?: 8 | 16 | 32;
  readonly bitsStored?: number;
  readonly highBit?: number;
  readonly pixelRepresentation?: 0 | 1;
  readonly rescaleSlope?: number;
  readonly rescaleIntercept?: number;
  readonly syntax?: SyntheticSyntax;
  readonly modality?: string;
  readonly sopClassUID?: string;
  readonly seriesInstanceUID?: string;
  readonly studyInstanceUID?: string;
  /** SOP instance UIDs per slice (default: generated, unique). */
  readonly sopInstanceUIDs?: readonly string[];
  /** Stored value (bit pattern as written) of pixel (column, row) of slice s. */
  readonly pixel?: (column: number, row: number, slice: number) => number;
  /** Extra attributes for every slice (naturalised keywords). */
  readonly extra?: NaturalizedDataset;
  /** File names (default `slice-000.dcm`…). */
  readonly names?: readonly string[];
}

/** The default stored value: the pixel's own address. */
export function addressValue(column: number, row: number, slice: number): number {
  return column + 16 * row + 256 * slice;
}

let uidCounter = 0;
/** A fresh UID under a test root (deterministic within a run). */
export function testUid(): string {
  uidCounter += 1;
  return `1.2.826.0.1.3680043.10.1234.${process.pid}.${uidCounter}`;
}

/** Writes the slices of `spec` as Part 10 files (bytes in memory). */
export function makeSeries(spec: SeriesSpec): DicomInputFile[] {
  const rows = spec.rows ?? 6;
  const columns = spec.columns ?? 8;
  const bitsAllocated = spec.bitsAllocated ?? 16;
  const pixelRepresentation = spec.pixelRepresentation ?? 1;
  const seriesUid = spec.seriesInstanceUID ?? testUid();
  const studyUid = spec.studyInstanceUID ?? testUid();
  const frameOfReference = testUid();
  const pixel = spec.pixel ?? addressValue;
  return spec.positions.map((position, s) => {
    const sopInstanceUID = spec.sopInstanceUIDs?.[s] ?? testUid();
    const values = storedArray(bitsAllocated, pixelRepresentation, rows * columns);
    for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) values[r * columns + c] = pixel(c, r, s);
    const dataset: NaturalizedDataset = {
      SOPClassUID: spec.sopClassUID ?? CT_IMAGE_STORAGE,
      SOPInstanceUID: sopInstanceUID,
      StudyInstanceUID: studyUid,
      SeriesInstanceUID: seriesUid,
      FrameOfReferenceUID: frameOfReference,
      Modality: spec.modality ?? 'CT',
      SeriesNumber: 3,
      InstanceNumber: s + 1,
      PatientName: 'Synthetic^Phantom',
      PatientID: 'VXG-TEST',
      ImagePositionPatient: [...position],
      ImageOrientationPatient: [...(spec.orientations?.[s] ?? spec.orientation ?? AXIAL)],
      PixelSpacing: [...(spec.pixelSpacing ?? [0.5, 0.75])],
      SliceThickness: 9, // deliberately not the spacing: readers must use the positions
      Rows: rows,
      Columns: columns,
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      BitsAllocated: bitsAllocated,
      BitsStored: spec.bitsStored ?? bitsAllocated,
      HighBit: spec.highBit ?? (spec.bitsStored ?? bitsAllocated) - 1,
      PixelRepresentation: pixelRepresentation,
      RescaleSlope: spec.rescaleSlope ?? 1,
      RescaleIntercept: spec.rescaleIntercept ?? 0,
      ...spec.extra,
    };
    return { name: spec.names?.[s] ?? `slice-${String(s).padStart(3, '0')}.dcm`, bytes: writePart10(dataset, values, spec.syntax ?? 'explicit-le') };
  });
}

function storedArray(bitsAllocated: number, signed: number, n: number): Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array {
  // Written as unsigned bit patterns: a test may set bits outside BitsStored on purpose.
  if (bitsAllocated === 8) return signed ? new Int8Array(n) : new Uint8Array(n);
  if (bitsAllocated === 16) return signed ? new Int16Array(n) : new Uint16Array(n);
  return signed ? new Int32Array(n) : new Uint32Array(n);
}

/**
 * A Part 10 file from a naturalised dataset (without PixelData) and its pixel values, in one of
 * the native transfer syntaxes. dcmjs writes big-endian numbers but copies pixel bytes as given,
 * so they are swapped here; the deflated syntax is dcmjs' explicit LE dataset, deflated after the
 * meta information.
 */
export function writePart10(dataset: NaturalizedDataset, pixels: ArrayBufferView | undefined, syntax: SyntheticSyntax): Uint8Array {
  const uid = SYNTAX_UID[syntax];
  const natural: NaturalizedDataset = { ...dataset };
  if (pixels) {
    const bytes = new Uint8Array(pixels.buffer.slice(pixels.byteOffset, pixels.byteOffset + pixels.byteLength));
    const size = (pixels as Uint16Array).BYTES_PER_ELEMENT ?? 1;
    if (syntax === 'explicit-be' && size > 1) {
      for (let o = 0; o < bytes.length; o += size) bytes.subarray(o, o + size).reverse();
    }
    natural.PixelData = bytes.buffer;
    natural._vrMap = { PixelData: size === 1 ? 'OB' : 'OW' };
  }
  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: natural.SOPClassUID,
    MediaStorageSOPInstanceUID: natural.SOPInstanceUID,
    TransferSyntaxUID: uid,
    ImplementationClassUID: '1.2.826.0.1.3680043.10.1234.1',
    ImplementationVersionName: 'VOXGATE_TEST',
  });
  const dict = new DicomDict(meta);
  dict.dict = DicomMetaDictionary.denaturalizeDataset(natural);
  const file = new Uint8Array(dict.write());
  if (syntax !== 'deflate') return file;
  const metaEnd = 132 + 12 + new DataView(file.buffer, file.byteOffset + 140, 4).getUint32(0, true);
  const body = deflateRawSync(file.subarray(metaEnd));
  const out = new Uint8Array(metaEnd + body.length);
  out.set(file.subarray(0, metaEnd));
  out.set(body, metaEnd);
  return out;
}

/** Positions along +z (LPS) from `z0`, `gap` apart. */
export function axialPositions(count: number, z0 = -20, gap = 2.5, x = -10, y = 15): Vec3[] {
  return Array.from({ length: count }, (_, s): Vec3 => [x, y, z0 + s * gap]);
}
