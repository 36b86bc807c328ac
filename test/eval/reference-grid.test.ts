/**
 * Slices a reference repeats: a mask drawn on 3 mm slices and brought nearest onto 2 mm slices
 * repeats some of them; one drawn on the 2 mm slices does not.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { sliceRepeats } from '../../src/eval/reference-grid.js';
import type { Dims } from '../../src/volume/volume.js';

const dims: Dims = [40, 40, 20];

/** A cone along z (radius 18 voxels shrinking a third of a voxel a mm), sampled on slices at `z(k)` mm. */
function cone(z: (k: number) => number): Uint8Array {
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let k = 0; k < dims[2]; k++) {
    const r = 18 - z(k) / 3;
    for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) if (Math.hypot(i - 19.5, j - 19.5) <= r) m[i + dims[0] * (j + dims[1] * k)] = 1;
  }
  return m;
}

describe('reference grid: slices a reference repeats', () => {
  test('a cone drawn on 3 mm slices and taken nearest onto 2 mm slices repeats a third of its steps', () => {
    // Slice k (at 2k mm) takes the 3 mm slice nearest it: 0, 1, 1, 2, 3, 3, 4, 5, 5, … (6 repeats in 19 steps).
    const coarse = cone((k) => 3 * Math.round((2 * k) / 3));
    assert.deepEqual(sliceRepeats(coarse, dims, 2), { steps: 19, repeated: 6 });
  });

  test('the same cone drawn on the 2 mm slices repeats none', () => {
    assert.deepEqual(sliceRepeats(cone((k) => 2 * k), dims, 2), { steps: 19, repeated: 0 });
  });

  test('empty slices are not counted', () => {
    const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
    m[0] = 1;
    assert.deepEqual(sliceRepeats(m, dims, 2), { steps: 0, repeated: 0 });
  });
});
