import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contrastCut } from '../../src/engines/classic/contrast-cut.js';

/**
 * A flood laid out by hand on a 1 mm grid (no noise): `level` of each voxel where `owner` is 1, and
 * `data` the intensity the gradients are taken from.
 */
function flood(dims: [number, number, number], at: (x: number, y: number, z: number) => { value: number; level?: number }): {
  data: Float32Array;
  owner: Uint8Array;
  level: Uint8Array;
  histogram: Float64Array;
} {
  const n = dims[0] * dims[1] * dims[2];
  const data = new Float32Array(n);
  const owner = new Uint8Array(n);
  const level = new Uint8Array(n);
  const histogram = new Float64Array(256);
  for (let k = 0, p = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, p++) {
        const v = at(i, j, k);
        data[p] = v.value;
        if (v.level !== undefined) {
          owner[p] = 1;
          level[p] = v.level;
          histogram[v.level]++;
        }
      }
    }
  }
  return { data, owner, level, histogram };
}

describe('contrastCut', () => {
  // A cube of 100 (level 0) in a shell of 60 (level 10, the flood's leak), in 0 never reached.
  const dims: [number, number, number] = [30, 30, 30];
  const r = (x: number, y: number, z: number): number => Math.max(Math.abs(x - 15), Math.abs(y - 15), Math.abs(z - 15));
  const spacing = [1, 1, 1];

  test('cuts a leak at the level whose boundary lies on the strongest edge', () => {
    // Cube 200 HU (level 0) in a shell of 150 HU (level 10) in 140 HU never reached: the cube's
    // boundary sees the 50-HU step (25 HU/mm by central differences), the shell's the 10-HU one.
    // Levels 0–9 hold the same region, the cube; the highest of them is the cut.
    const f = flood(dims, (x, y, z) => (r(x, y, z) <= 5 ? { value: 200, level: 0 } : r(x, y, z) <= 8 ? { value: 150, level: 10 } : { value: 140 }));
    assert.equal(contrastCut(f.data, dims, spacing, f.owner, f.level, f.histogram, 10, 256), 9);
  });

  test('scans only the box it is given, with the same cut as over the whole window', () => {
    // The flood's own box: the shell's, r ≤ 8 around 15.
    const f = flood(dims, (x, y, z) => (r(x, y, z) <= 5 ? { value: 200, level: 0 } : r(x, y, z) <= 8 ? { value: 150, level: 10 } : { value: 140 }));
    assert.equal(contrastCut(f.data, dims, spacing, f.owner, f.level, f.histogram, 10, 256, { min: [7, 7, 7], max: [23, 23, 23] }), 9);
    // A box in the window's corner, away from the flood: no region is scored, so no cut (255).
    assert.equal(contrastCut(f.data, dims, spacing, f.owner, f.level, f.histogram, 10, 256, { min: [0, 0, 0], max: [3, 3, 3] }), 255);
  });

  test('keeps the fuller region when the boundary does not weaken after its peak', () => {
    // The shell's boundary (150 → 0 HU) is steeper than the cube's (200 → 150): the limit stays.
    const f = flood(dims, (x, y, z) => (r(x, y, z) <= 5 ? { value: 200, level: 0 } : r(x, y, z) <= 8 ? { value: 150, level: 10 } : { value: 0 }));
    assert.equal(contrastCut(f.data, dims, spacing, f.owner, f.level, f.histogram, 10, 256), 10);
  });

  test('ignores a peak of a region smaller than a ball two voxels in radius', () => {
    // The same layout shrunk: the 27-voxel cube (under 4/3·π·2³ ≈ 33.5) is not scored, so the
    // shell's region (level 10) is the only one and the cut stays at the limit.
    const f = flood(dims, (x, y, z) => (r(x, y, z) <= 1 ? { value: 200, level: 0 } : r(x, y, z) <= 2 ? { value: 150, level: 10 } : { value: 140 }));
    assert.equal(contrastCut(f.data, dims, spacing, f.owner, f.level, f.histogram, 10, 256), 10);
  });
});
