/**
 * Reading and encoding a volume whatever its format: the format is chosen from the magic bytes on
 * read (never the file name alone) and from the extension on write.
 * @module
 */
import { VoxgateError } from '../errors.js';
import type { ByteReaderOptions, ByteSource } from './byte-reader.js';
import { ByteReader } from './byte-reader.js';
import type { DataType } from './datatype.js';
import { decodeNifti, encodeNifti } from './nifti.js';
import { sniffNifti } from './nifti-header.js';
import { decodeNrrd, encodeNrrd } from './nrrd.js';
import type { Volume } from './volume.js';

export type VolumeFormat = 'nifti' | 'nrrd';

/** Reads a NIfTI-1/2 (.nii, .nii.gz) or NRRD (.nrrd, attached .nhdr) image, detected from its bytes. */
export async function readVolume(source: ByteSource, options: ByteReaderOptions = {}): Promise<Volume> {
  const reader = await ByteReader.open(source, options);
  try {
    const head = await reader.peek(8);
    if (sniffNifti(head)) return await decodeNifti(reader);
    if (Buffer.from(head.subarray(0, 4)).toString('latin1') === 'NRRD') return await decodeNrrd(reader);
    throw new VoxgateError(
      'VXG_ERR_VOLUME_FORMAT',
      reader.compressed
        ? 'The gzip-compressed data is neither NIfTI nor NRRD.'
        : 'The data is neither NIfTI (.nii, .nii.gz) nor NRRD (.nrrd): its first bytes match neither format.',
    );
  } finally {
    reader.close();
  }
}

/** Output file kinds by extension. */
export const VolumeExtensions = ['.nii.gz', '.nii', '.nrrd'] as const;
export type VolumeExtension = (typeof VolumeExtensions)[number];

/** The extension of `path` if it is one Voxgate writes. */
export function volumeExtensionOf(path: string): VolumeExtension | undefined {
  const lower = path.toLowerCase();
  return VolumeExtensions.find((ext) => lower.endsWith(ext));
}

/** The file name without its volume extension (`ct.nii.gz` → `ct`). */
export function volumeStem(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? name;
  const ext = volumeExtensionOf(base) ?? (base.toLowerCase().endsWith('.nhdr') ? '.nhdr' : undefined);
  return ext ? base.slice(0, base.length - ext.length) : base.replace(/\.[^.]*$/, '');
}

export interface EncodeVolumeOptions {
  dataType?: DataType;
  level?: number;
  /** The voxel values are labels (NIfTI intent 1002). */
  labels?: boolean;
}

/** Encodes `volume` in the format the extension names (.nii.gz, .nii, .nrrd with gzip encoding). */
export async function encodeVolume(volume: Volume, extension: VolumeExtension, options: EncodeVolumeOptions = {}): Promise<Buffer> {
  switch (extension) {
    case '.nii.gz':
      return encodeNifti(volume, { ...options, compress: true });
    case '.nii':
      return encodeNifti(volume, { ...options, compress: false });
    case '.nrrd':
      return encodeNrrd(volume, { dataType: options.dataType, level: options.level, encoding: 'gzip' });
  }
}
