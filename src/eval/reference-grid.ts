/**
 * How finely a reference segmentation was drawn: a reference made on a coarser grid and resampled
 * nearest onto the image's grid repeats slices (patient C's TotalSegmentator reference, made at 3 mm
 * and brought onto 2 mm slices, repeats 7 of its 19 slice steps). Its edges then lie on that coarser
 * grid, whatever the image's resolution, and a Dice against it is capped accordingly: the eval says
 * so next to the figures.
 * @module
 */
import { stridesOf } from '../engines/classic/grid.js';
import { planeAxes } from '../engines/classic/slices.js';
import type { Dims } from '../volume/volume.js';

export interface SliceRepeats {
  /** Steps between neighbouring slices that both hold part of the mask. */
  readonly steps: number;
  /** Of those, the steps where the slice is the same as the one before, voxel for voxel. */
  readonly repeated: number;
}

/**
 * Neighbouring slices across `axis` of `mask` (0 / non-0) that repeat each other, counted over the
 * steps where both slices hold part of the mask (an empty slice repeating an empty one says nothing).
 * @example
 * sliceRepeats(reference, dims, 2); // { steps: 19, repeated: 7 }
 */
export function sliceRepeats(mask: ArrayLike<number>, dims: Dims, axis: 0 | 1 | 2): SliceRepeats {
  const strides = stridesOf(dims);
  const [ua, va] = planeAxes(axis);
  const at = (slice: number, u: number, v: number): boolean => mask[slice * strides[axis] + u * strides[ua] + v * strides[va]] !== 0;
  const holds = Array.from({ length: dims[axis] }, (_, slice) => {
    for (let v = 0; v < dims[va]; v++) for (let u = 0; u < dims[ua]; u++) if (at(slice, u, v)) return true;
    return false;
  });
  let steps = 0;
  let repeated = 0;
  for (let s = 1; s < dims[axis]; s++) {
    if (!holds[s - 1] || !holds[s]) continue;
    steps++;
    let same = true;
    for (let v = 0; v < dims[va] && same; v++) for (let u = 0; u < dims[ua] && same; u++) same = at(s, u, v) === at(s - 1, u, v);
    if (same) repeated++;
  }
  return { steps, repeated };
}
