/**
 * The data elements Voxgate reads, by their PS3.6 keyword, as 32-bit tag numbers
 * (group << 16 | element), and the transfer syntax UIDs of PS3.5 §10 / PS3.6 Annex A.
 * @module
 */

export const Tag = {
  // File meta information (PS3.10 §7.1)
  FileMetaInformationGroupLength: 0x00020000,
  MediaStorageSOPClassUID: 0x00020002,
  MediaStorageSOPInstanceUID: 0x00020003,
  TransferSyntaxUID: 0x00020010,
  // SOP common, general series / study, frame of reference
  SpecificCharacterSet: 0x00080005,
  ImageType: 0x00080008,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  Modality: 0x00080060,
  SeriesDescription: 0x0008103e,
  SliceThickness: 0x00180050,
  SpacingBetweenSlices: 0x00180088,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  SeriesNumber: 0x00200011,
  AcquisitionNumber: 0x00200012,
  InstanceNumber: 0x00200013,
  ImagePositionPatient: 0x00200032,
  ImageOrientationPatient: 0x00200037,
  FrameOfReferenceUID: 0x00200052,
  // Image pixel module (PS3.3 C.7.6.3)
  SamplesPerPixel: 0x00280002,
  PhotometricInterpretation: 0x00280004,
  PlanarConfiguration: 0x00280006,
  NumberOfFrames: 0x00280008,
  Rows: 0x00280010,
  Columns: 0x00280011,
  PixelSpacing: 0x00280030,
  BitsAllocated: 0x00280100,
  BitsStored: 0x00280101,
  HighBit: 0x00280102,
  PixelRepresentation: 0x00280103,
  RescaleIntercept: 0x00281052,
  RescaleSlope: 0x00281053,
  // Multi-frame functional groups (PS3.3 C.7.6.16)
  SharedFunctionalGroupsSequence: 0x52009229,
  PerFrameFunctionalGroupsSequence: 0x52009230,
  FrameContentSequence: 0x00209111,
  PlanePositionSequence: 0x00209113,
  PlaneOrientationSequence: 0x00209116,
  PixelMeasuresSequence: 0x00289110,
  PixelValueTransformationSequence: 0x00289145,
  // Pixel data (PS3.5 §8, A.4)
  ExtendedOffsetTable: 0x7fe00001,
  ExtendedOffsetTableLengths: 0x7fe00002,
  FloatPixelData: 0x7fe00008,
  DoubleFloatPixelData: 0x7fe00009,
  PixelData: 0x7fe00010,
  // Item delimiters (PS3.5 §7.5)
  Item: 0xfffee000,
  ItemDelimitationItem: 0xfffee00d,
  SequenceDelimitationItem: 0xfffee0dd,
} as const;

/** `(0028,0010)`: the form PS3.6 and error messages use. */
export function tagString(tag: number): string {
  const hex = (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}

/** Transfer syntax UIDs (PS3.6 Annex A). */
export const TransferSyntax = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  EncapsulatedUncompressedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.98',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JPEGBaseline8Bit: '1.2.840.10008.1.2.4.50',
  JPEGExtended12Bit: '1.2.840.10008.1.2.4.51',
  JPEGLossless: '1.2.840.10008.1.2.4.57',
  JPEGLosslessSV1: '1.2.840.10008.1.2.4.70',
  JPEGLSLossless: '1.2.840.10008.1.2.4.80',
  JPEGLSNearLossless: '1.2.840.10008.1.2.4.81',
  JPEG2000Lossless: '1.2.840.10008.1.2.4.90',
  JPEG2000: '1.2.840.10008.1.2.4.91',
  HTJ2KLossless: '1.2.840.10008.1.2.4.201',
  HTJ2KLosslessRPCL: '1.2.840.10008.1.2.4.202',
  HTJ2K: '1.2.840.10008.1.2.4.203',
  RLELossless: '1.2.840.10008.1.2.5',
} as const;

/** Syntaxes whose pixel data is native (not encapsulated): PS3.5 §8.2. */
export function isNativeSyntax(uid: string): boolean {
  return (
    uid === TransferSyntax.ImplicitVRLittleEndian ||
    uid === TransferSyntax.ExplicitVRLittleEndian ||
    uid === TransferSyntax.DeflatedExplicitVRLittleEndian ||
    uid === TransferSyntax.ExplicitVRBigEndian
  );
}
