/**
 * `voxgate convert IN OUT`: re-encode a volume (NIfTI ↔ NRRD) keeping its geometry, or convert a
 * folder of DICOM files (one series), or one DICOM file (an Enhanced multi-frame image), to NIfTI /
 * NRRD through the same reader the servers use.
 * What it prints names the series and files, never patient data.
 * @module
 */
import { createReadStream } from 'node:fs';
import { open, stat, writeFile } from 'node:fs/promises';
import { readDicomFolder } from '../dicom/read-series.js';
import { VoxgateError } from '../errors.js';
import { columnNorms } from '../volume/affine.js';
import { encodeVolume, readVolume, volumeExtensionOf } from '../volume/volume-file.js';

export interface ConvertOptions {
  /** DICOM input: the stack id or SeriesInstanceUID to convert (default: the largest series). */
  readonly series?: string;
  /** DICOM input: resample missing slices, uneven gaps or gantry tilt instead of refusing them. */
  readonly resampleIrregular?: boolean;
}

/**
 * Converts `input` (a NIfTI / NRRD file, or a folder of DICOM files) to `output`; resolves with the
 * lines to print.
 * @example
 * await convertCommand('study/CT', 'ct.nii.gz'); // "DICOM series 1.2.…: CT, 300 slices …"
 */
export async function convertCommand(input: string, output: string, options: ConvertOptions = {}): Promise<string> {
  const extension = volumeExtensionOf(output);
  if (!extension) {
    throw new VoxgateError('VXG_ERR_VOLUME_FORMAT', `Cannot tell the output format from "${output}": name it .nii.gz, .nii or .nrrd.`);
  }
  if (!(await stat(input)).isDirectory() && !(await isDicomFile(input))) {
    const volume = await readVolume(createReadStream(input));
    await writeFile(output, await encodeVolume(volume, extension));
    return `${output}: ${volume.dims.join('×')} ${volume.dataType}`;
  }
  const { volume, series, skipped, warnings } = await readDicomFolder(input, options);
  await writeFile(output, await encodeVolume(volume, extension));
  const spacing = columnNorms(volume.affine).map((s) => Number(s.toFixed(4)));
  const lines = [
    `DICOM series ${series.id}: ${series.modality || 'unknown modality'}, ${series.slices.length} slice${series.slices.length === 1 ? '' : 's'} of ${series.columns}×${series.rows}` +
      `${series.seriesNumber === undefined ? '' : `, series number ${series.seriesNumber}`}`,
    `${output}: ${volume.dims.join('×')} ${volume.dataType}, spacing ${spacing.join('×')} mm${series.resampled ? ' (resampled)' : ''}`,
  ];
  if (skipped.length > 0) lines.push(`skipped ${skipped.length} file${skipped.length === 1 ? '' : 's'} (not DICOM, not images, duplicates or other series)`);
  for (const warning of warnings) lines.push(`warning: ${warning}`);
  return lines.join('\n');
}

/** True when the file has the DICOM Part 10 marker ("DICM" after the 128-byte preamble). */
async function isDicomFile(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(132);
    const { bytesRead } = await handle.read(head, 0, 132, 0);
    return bytesRead === 132 && head.toString('latin1', 128, 132) === 'DICM';
  } finally {
    await handle.close();
  }
}
