/**
 * Voxel type conversion with range checks: a label 300 never silently wraps to 44 in a uint8 file.
 * @module
 */
import { VoxgateError } from '../errors.js';
import type { DataType, VoxelArray } from './datatype.js';
import { VoxelArrayOf, valueRange } from './datatype.js';

/**
 * Copies `source` into a new array of `dataType`, applying `map` to each value. Integer targets
 * round to nearest; a value outside the target's range is an error.
 */
export function convertVoxels(source: VoxelArray, dataType: DataType, map?: (v: number) => number): VoxelArray {
  const out = new VoxelArrayOf[dataType](source.length);
  const [lo, hi] = valueRange(dataType);
  const integer = Number.isFinite(lo);
  for (let n = 0; n < source.length; n++) {
    let v = map ? map(source[n]) : source[n];
    if (integer) {
      v = Math.round(v);
      if (!(v >= lo && v <= hi)) {
        throw new VoxgateError(
          'VXG_ERR_VOLUME_DATATYPE',
          `Value ${v} at voxel ${n} does not fit in ${dataType} (${lo}..${hi}); choose a wider output type.`,
        );
      }
    }
    out[n] = v;
  }
  return out;
}
