/**
 * Voxgate's public library API: volumes in and out with exact geometry.
 * @module
 */
export * from './errors.js';
export * from './volume/affine.js';
export * from './volume/datatype.js';
export * from './volume/volume.js';
export { readNifti, encodeNifti } from './volume/nifti.js';
export { readNrrd, encodeNrrd } from './volume/nrrd.js';
export { readVolume, encodeVolume, volumeExtensionOf, volumeStem } from './volume/volume-file.js';
export { DEFAULT_MAX_DECODED_BYTES } from './volume/byte-reader.js';
export * from './volume/reorient.js';
export { resample, resampleGrid, resampleToGrid, resampleLabelsTo, indexMap } from './volume/resample.js';
export type { Grid, ResampledGrid } from './volume/resample.js';
export { readDicomSeries, readDicomFolder, listDicomSeries } from './dicom/read-series.js';
export type { SourceSeries } from './dicom/series.js';
export { createSegmentation } from './dicom/seg-writer.js';
export { readSegmentation } from './dicom/seg-reader.js';
