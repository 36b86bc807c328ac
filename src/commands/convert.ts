/**
 * `voxgate convert IN OUT`: re-encode a volume (NIfTI ↔ NRRD) keeping its geometry.
 * @module
 */
import { createReadStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { VoxgateError } from '../errors.js';
import { encodeVolume, readVolume, volumeExtensionOf } from '../volume/volume-file.js';

export async function convertCommand(input: string, output: string): Promise<string> {
  const extension = volumeExtensionOf(output);
  if (!extension) {
    throw new VoxgateError('VXG_ERR_VOLUME_FORMAT', `Cannot tell the output format from "${output}": name it .nii.gz, .nii or .nrrd.`);
  }
  if ((await stat(input)).isDirectory()) {
    throw new VoxgateError('VXG_ERR_VOLUME_FORMAT', `"${input}" is a folder; this version converts NIfTI and NRRD files only.`);
  }
  const volume = await readVolume(createReadStream(input));
  await writeFile(output, await encodeVolume(volume, extension));
  return `${output}: ${volume.dims.join('×')} ${volume.dataType}`;
}
