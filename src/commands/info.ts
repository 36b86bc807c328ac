/**
 * `voxgate info IMAGE`: what Voxgate reads from a volume file (shape, type, affine, orientation).
 * @module
 */
import { createReadStream } from 'node:fs';
import { affineRows, axisCodes, columnNorms } from '../volume/affine.js';
import { readVolume } from '../volume/volume-file.js';

export async function infoCommand(path: string): Promise<string> {
  const volume = await readVolume(createReadStream(path));
  let min = Infinity;
  let max = -Infinity;
  for (let n = 0; n < volume.data.length; n++) {
    const v = volume.data[n];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return JSON.stringify(
    {
      format: volume.source.format,
      dims: volume.dims,
      dataType: volume.dataType,
      spacing: columnNorms(volume.affine),
      orientation: axisCodes(volume.affine).join(''),
      affine: affineRows(volume.affine),
      range: [min, max],
      ...(volume.source.nifti ? { qformCode: volume.source.nifti.qformCode, sformCode: volume.source.nifti.sformCode } : {}),
      ...(volume.source.nrrd ? { space: volume.source.nrrd.space } : {}),
    },
    null,
    2,
  );
}
