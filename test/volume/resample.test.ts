import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isVoxgateError } from '../../src/errors.js';
import type { Affine, Vec3 } from '../../src/volume/affine.js';
import { apply, axisCodes, columnNorms, invert, maxAbsDifference, multiply } from '../../src/volume/affine.js';
import { reorient } from '../../src/volume/reorient.js';
import type { Grid } from '../../src/volume/resample.js';
import { resample, resampleGrid, resampleLabelsTo, resampleToGrid } from '../../src/volume/resample.js';
import { TIE_TOLERANCE, sampleInto } from '../../src/volume/sampling.js';
import type { Dims } from '../../src/volume/volume.js';
import { createVolume, voxelCount, voxelIndex } from '../../src/volume/volume.js';
import { ensureSystemPackages, pythonImports, runPython } from '../helpers/system-packages.js';

function* voxels(dims: Dims): Generator<[number, number, number]> {
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) yield [i, j, k];
}

/** 3i + 5j + 7k + 1: linear, so trilinear interpolation reproduces it exactly. */
function ramp(x: readonly number[]): number {
  return 3 * x[0] + 5 * x[1] + 7 * x[2] + 1;
}

function rampVolume(dims: Dims, affine: Affine, type: 'float32' | 'float64' = 'float32') {
  const data = type === 'float32' ? new Float32Array(voxelCount(dims)) : new Float64Array(voxelCount(dims));
  for (const p of voxels(dims)) data[voxelIndex(dims, ...p)] = ramp(p);
  return createVolume(dims, data, affine);
}

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isVoxgateError(err), `expected a VoxgateError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

const clamp = (x: number, n: number) => Math.min(Math.max(x, 0), n - 1);

function distance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(...a.map((v, n) => v - b[n]));
}

void describe('resample grid', () => {
  void test('512×512×300 at 0.7×0.7×1 mm to 1.5 mm is 239×239×200, centred', () => {
    const input: Grid = { dims: [512, 512, 300], affine: [0.7, 0, 0, -179, 0, 0.7, 0, -200, 0, 0, 1, -150, 0, 0, 0, 1] };
    const grid = resampleGrid(input, [1.5, 1.5, 1.5]);
    assert.deepEqual(grid.dims, [239, 239, 200]);
    assert.deepEqual(columnNorms(grid.affine), [1.5, 1.5, 1.5]);
    const centreIn = apply(input.affine, [255.5, 255.5, 149.5]);
    const centreOut = apply(grid.affine, [119, 119, 99.5]);
    assert.ok(distance(centreIn, centreOut) < 1e-12, `${centreIn.join(',')} vs ${centreOut.join(',')}`);
  });

  void test('keeps the outer voxel edges when n · old = m · new (half-voxel convention)', () => {
    // 6 voxels of 1 mm from x = 10 (edges 9.5 … 15.5) → 3 voxels of 2 mm: centres 10.5, 12.5, 14.5.
    const grid = resampleGrid({ dims: [6, 4, 2], affine: [1, 0, 0, 10, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] }, [2, 2, 2]);
    assert.deepEqual(grid.dims, [3, 2, 1]);
    assert.deepEqual(grid.affine, [2, 0, 0, 10.5, 0, 2, 0, 0.5, 0, 0, 2, 0.5, 0, 0, 0, 1]);
    assert.deepEqual(grid.outputToInput, [2, 0, 0, 0.5, 0, 2, 0, 0.5, 0, 0, 2, 0.5, 0, 0, 0, 1]);
    assert.deepEqual(grid.inputToOutput, [0.5, 0, 0, -0.25, 0, 0.5, 0, -0.25, 0, 0, 0.5, -0.25, 0, 0, 0, 1]);
  });

  void test('dims override keeps the centre and the spacing', () => {
    const grid = resampleGrid({ dims: [6, 4, 2], affine: [1, 0, 0, 10, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] }, [2, 2, 2], [4, 4, 4]);
    assert.deepEqual(grid.dims, [4, 4, 4]);
    assert.deepEqual(grid.affine, [2, 0, 0, 9.5, 0, 2, 0, -1.5, 0, 0, 2, -2.5, 0, 0, 0, 1]);
  });

  void test('rejects a zero or non-finite spacing with VXG_ERR_VOLUME_SPACING', () => {
    const grid: Grid = { dims: [2, 2, 2], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] };
    throwsCode(() => resampleGrid(grid, [1, 0, 1]), 'VXG_ERR_VOLUME_SPACING');
    throwsCode(() => resampleGrid(grid, [1, Number.NaN, 1]), 'VXG_ERR_VOLUME_SPACING');
    throwsCode(() => resampleGrid(grid, [1, 1, 1], [2, 0, 2]), 'VXG_ERR_VOLUME_HEADER');
  });
});

void describe('linear resampling', () => {
  void test('reproduces a linear ramp exactly at every output voxel centre (clamped beyond the edge centres)', () => {
    // Voxel (i, j, k) at world (i − 4, j − 3, k − 2).
    const input = rampVolume([8, 6, 4], [1, 0, 0, -4, 0, 1, 0, -3, 0, 0, 1, -2, 0, 0, 0, 1]);
    const { volume, grid } = resample(input, { spacing: [0.5, 2, 1.5], interpolation: 'linear' });
    assert.deepEqual(volume.dims, [16, 3, 3]);
    assert.equal(volume.dataType, 'float32');
    assert.deepEqual(volume.affine, [0.5, 0, 0, -4.25, 0, 2, 0, -2.5, 0, 0, 1.5, -2, 0, 0, 0, 1]);
    assert.deepEqual(grid.affine, volume.affine);
    let inside = 0;
    for (const p of voxels(volume.dims)) {
      const world = apply(volume.affine, p);
      const x = [world[0] + 4, world[1] + 3, world[2] + 2];
      const isInside = x.every((v, c) => v >= 0 && v <= input.dims[c] - 1);
      if (isInside) inside++;
      assert.equal(volume.data[voxelIndex(volume.dims, ...p)], ramp(x.map((v, c) => clamp(v, input.dims[c]))), `voxel ${p.join(',')}`);
    }
    assert.equal(inside, 14 * 3 * 3);
    // Two named values: output (1, 0, 0) is at input (0.25, 0.5, 0); (15, 2, 2) clamps (7.25, 4.5, 3) to x = 7.
    assert.equal(volume.data[voxelIndex(volume.dims, 1, 0, 0)], 0.75 + 2.5 + 1);
    assert.equal(volume.data[voxelIndex(volume.dims, 15, 2, 2)], 21 + 22.5 + 21 + 1);
  });

  void test('float32 along the source axes (the SIMD kernel) equals float64 (JavaScript loops) up to float32 rounding, flipped axes and slices included', () => {
    const sourceDims: Dims = [23, 17, 11];
    const source = Int16Array.from({ length: 23 * 17 * 11 }, (_, v) => ((v * 7919) % 3001) - 1500);
    const outDims: Dims = [19, 21, 14];
    // Output voxel → source continuous index: scaled, shifted, i and k flipped; beyond the edges too.
    const map: Affine = [-1.17, 0, 0, 22.3, 0, 0.83, 0, -0.6, 0, 0, -0.77, 10.4, 0, 0, 0, 1];
    const f64 = new Float64Array(voxelCount(outDims));
    sampleInto({ source, sourceDims, map, out: f64, outDims, interpolation: 'linear' });
    const f32 = new Float32Array(f64.length).fill(-7);
    sampleInto({ source, sourceDims, map, out: f32, outDims, interpolation: 'linear', slices: [5, 14] });
    assert.ok(f32.subarray(0, 5 * 19 * 21).every((v) => v === -7));
    sampleInto({ source, sourceDims, map, out: f32, outDims, interpolation: 'linear', slices: [0, 5] });
    // Float32 weights and blends: errors of a few float32 steps of the image's range (1500).
    let worst = 0;
    for (let n = 0; n < f64.length; n++) worst = Math.max(worst, Math.abs(f32[n] - f64[n]));
    assert.ok(worst < 4 * 1500 * 2 ** -23, `largest difference ${worst}`);
    // A constant image stays exactly constant.
    const flat = new Float32Array(f64.length);
    sampleInto({ source: new Int16Array(source.length).fill(-1024), sourceDims, map, out: flat, outDims, interpolation: 'linear' });
    assert.ok(flat.every((v) => v === -1024));
  });

  void test('nearest uint8 along the source axes (the WebAssembly kernel) equals the JavaScript loop, flipped axes and slices included', () => {
    const sourceDims: Dims = [23, 17, 11];
    const labels = Uint8Array.from({ length: 23 * 17 * 11 }, (_, v) => (v * 7919) % 251);
    const outDims: Dims = [29, 13, 15];
    const map: Affine = [-0.81, 0, 0, 22.4, 0, 1.3, 0, -0.6, 0, 0, -0.74, 10.5, 0, 0, 0, 1];
    // Uint16 out takes the JavaScript loop: the reference.
    const reference = new Uint16Array(voxelCount(outDims));
    sampleInto({ source: Uint16Array.from(labels), sourceDims, map, out: reference, outDims, interpolation: 'nearest' });
    const out = new Uint8Array(reference.length).fill(255);
    sampleInto({ source: labels, sourceDims, map, out, outDims, interpolation: 'nearest', slices: [4, 15] });
    assert.ok(out.subarray(0, 4 * 29 * 13).every((v) => v === 255));
    sampleInto({ source: labels, sourceDims, map, out, outDims, interpolation: 'nearest', slices: [0, 4] });
    assert.deepEqual([...out], [...reference]);
  });

  void test('keeps int16 and rounds half up; float32 on request', () => {
    // Output x = −0.25, 0.25, 0.75, 1.25 → clamped 0, 0.25, 0.75, 1 → −3, −2.25, −0.75, 0.
    const input = createVolume([2, 1, 1], Int16Array.of(-3, 0), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    const int = resample(input, { spacing: [0.5, 1, 1], interpolation: 'linear' });
    assert.deepEqual(int.volume.data, Int16Array.of(-3, -2, -1, 0));
    const float = resample(input, { spacing: [0.5, 1, 1], interpolation: 'linear', dataType: 'float32' });
    assert.deepEqual(float.volume.data, Float32Array.of(-3, -2.25, -0.75, 0));
    const half = resample(createVolume([2, 1, 1], Uint8Array.of(0, 3), input.affine), { spacing: [2, 1, 1], interpolation: 'linear' });
    assert.deepEqual(half.volume.data, Uint8Array.of(2)); // 1.5 rounds up
  });

  void test('keeps a constant region exactly constant (CT air stays −1024)', () => {
    const data = new Int16Array(5 * 5 * 5).fill(-1024);
    const input = createVolume([5, 5, 5], data, [0.7, 0, 0, 0, 0, 0.7, 0, 0, 0, 0, 1.1, 0, 0, 0, 0, 1]);
    const { volume } = resample(input, { spacing: [1.3, 0.9, 0.45], interpolation: 'linear' });
    assert.ok(volume.data.every((v) => v === -1024), 'air changed');
  });

  void test('oblique input: keeps directions, takes the new spacing, samples along the input axes', () => {
    // Columns (0.75, 1, 0), (−1, 0.75, 0), (0, 0, 2): spacing 1.25 × 1.25 × 2, rotated 53° about z.
    const affine: Affine = [0.75, -1, 0, 12.5, 1, 0.75, 0, -30.25, 0, 0, 2, 7, 0, 0, 0, 1];
    const input = rampVolume([8, 6, 4], affine);
    const { volume, grid } = resample(input, { spacing: [2.5, 2.5, 2], interpolation: 'linear' });
    assert.deepEqual(volume.dims, [4, 3, 4]);
    assert.deepEqual(axisCodes(volume.affine), axisCodes(affine));
    assert.ok(maxAbsDifference(volume.affine, [1.5, -2, 0, 12.375, 2, 1.5, 0, -29.375, 0, 0, 2, 7, 0, 0, 0, 1]) < 1e-12, volume.affine.join(','));
    assert.deepEqual(grid.outputToInput, [2, 0, 0, 0.5, 0, 2, 0, 0.5, 0, 0, 1, 0, 0, 0, 0, 1]);
    for (const p of voxels(volume.dims)) {
      const x: Vec3 = [2 * p[0] + 0.5, 2 * p[1] + 0.5, p[2]];
      assert.equal(volume.data[voxelIndex(volume.dims, ...p)], ramp(x));
      assert.ok(distance(apply(volume.affine, p), apply(affine, x)) < 1e-12, `voxel ${p.join(',')}`);
    }
  });

  void test('returns the same values and affine when the spacing does not change', () => {
    const affine: Affine = [0.7, 0.01, 0, -90.3, -0.02, 0.7, 0.05, 12.1, 0, -0.04, 1.1, 33.7, 0, 0, 0, 1];
    const data = new Float32Array(5 * 4 * 3).map((_, n) => Math.sin(n) * 100);
    const input = createVolume([5, 4, 3], data, affine);
    for (const interpolation of ['linear', 'nearest'] as const) {
      const { volume, grid } = resample(input, { spacing: columnNorms(affine), interpolation });
      assert.deepEqual(volume.data, data);
      assert.notEqual(volume.data, data);
      assert.deepEqual(volume.affine, affine);
      assert.deepEqual(grid.outputToInput, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    }
  });
});

void describe('nearest resampling of labels', () => {
  // 40×40×20 at 0.5×0.5×1 mm with a 10 mm cube of label 1 in the middle (i, j 10…29, k 5…14).
  const dims: Dims = [40, 40, 20];
  const labels = new Uint8Array(voxelCount(dims));
  for (const [i, j, k] of voxels(dims)) if (i >= 10 && i < 30 && j >= 10 && j < 30 && k >= 5 && k < 15) labels[voxelIndex(dims, i, j, k)] = 1;
  const phantom = createVolume(dims, labels, [0.5, 0, 0, -10, 0, 0.5, 0, -10, 0, 0, 1, -10, 0, 0, 0, 1]);

  function box(volume: { dims: Dims; data: ArrayLike<number> }) {
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-Infinity, -Infinity, -Infinity];
    let count = 0;
    for (const p of voxels(volume.dims)) {
      if (volume.data[voxelIndex(volume.dims, ...p)] !== 1) continue;
      count++;
      p.forEach((v, c) => ((lo[c] = Math.min(lo[c], v)), (hi[c] = Math.max(hi[c], v))));
    }
    return { count, lo, hi };
  }

  for (const [spacing, outDims, lo, hi] of [
    [1, [20, 20, 20], [5, 5, 5], [14, 14, 14]],
    [2.5, [8, 8, 8], [2, 2, 2], [5, 5, 5]],
  ] as const) {
    void test(`a 10 mm cube stays 10 mm (and centred) at ${spacing} mm`, () => {
      const { volume } = resample(phantom, { spacing: [spacing, spacing, spacing], interpolation: 'nearest' });
      assert.deepEqual(volume.dims, outDims);
      assert.equal(volume.dataType, 'uint8');
      const b = box(volume);
      assert.deepEqual(b.lo, lo);
      assert.deepEqual(b.hi, hi);
      assert.equal(b.count * spacing ** 3, 1000);
      const centre = apply(volume.affine, [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2]);
      assert.deepEqual(centre, apply(phantom.affine, [19.5, 19.5, 9.5]));
    });
  }

  void test('1 mm → 2 mm → 1 mm takes voxel 2p + 1 down and repeats each one up', () => {
    const n: Dims = [6, 4, 2];
    const affine: Affine = [1, 0, 0, 0.5, 0, 1, 0, -1, 0, 0, 1, 2, 0, 0, 0, 1];
    const input = createVolume(n, new Uint8Array(48).map((_, v) => v), affine);
    const down = resample(input, { spacing: [2, 2, 2], interpolation: 'nearest' });
    // Output (p, q, 0) reads input (2p + 1, 2q + 1, 1): 24 + 6(2q + 1) + 2p + 1.
    assert.deepEqual(down.volume.data, Uint8Array.of(31, 33, 35, 43, 45, 47));
    const up = resampleLabelsTo(down.volume.data, down.grid, input);
    const row0 = Array.from(up.subarray(0, 6));
    assert.deepEqual(row0, [31, 31, 33, 33, 35, 35]);
    for (const [i, j, k] of voxels(n)) {
      assert.equal(up[voxelIndex(n, i, j, k)], voxelIndex(n, 2 * Math.floor(i / 2) + 1, 2 * Math.floor(j / 2) + 1, 1));
    }
    // Resampling back to 1 mm lands on the input grid exactly and agrees with resampleLabelsTo.
    const again = resample(down.volume, { spacing: [1, 1, 1], interpolation: 'nearest' });
    assert.deepEqual(again.volume.affine, affine);
    assert.deepEqual(again.volume.data, up);
  });
});

void describe('resampleLabelsTo', () => {
  const target: Grid = { dims: [8, 8, 4], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] };

  void test('fills target voxels outside the source grid with 255', () => {
    // Source: 4×4×2 crop at 1 mm starting at target voxel (2, 2, 1).
    const source: Grid = { dims: [4, 4, 2], affine: [1, 0, 0, 2, 0, 1, 0, 2, 0, 0, 1, 1, 0, 0, 0, 1] };
    const out = resampleLabelsTo(new Uint8Array(32).fill(7), source, target, { fill: 255 });
    for (const [i, j, k] of voxels(target.dims)) {
      const inside = i >= 2 && i < 6 && j >= 2 && j < 6 && k >= 1 && k < 3;
      assert.equal(out[voxelIndex(target.dims, i, j, k)], inside ? 7 : 255);
    }
  });

  void test('a coarse source covers its voxel extent [−0.5, n − 0.5), ties round up, the rest gets 0', () => {
    // 2 mm voxels centred at x = 3 and 5 cover [2, 6): target x = 2 is inside (lower edge), x = 4 is
    // a tie (source index 0.5, goes to voxel 1), x = 6 is outside (upper edge excluded).
    const source: Grid = { dims: [2, 1, 1], affine: [2, 0, 0, 3, 0, 8, 0, 3.5, 0, 0, 4, 1.5, 0, 0, 0, 1] };
    const out = resampleLabelsTo(Uint16Array.of(300, 400), source, target);
    assert.ok(out instanceof Uint16Array, 'type kept');
    for (let row = 0; row < 32; row++) {
      assert.deepEqual(Array.from(out.subarray(row * 8, row * 8 + 8)), [0, 0, 300, 300, 400, 400, 0, 0]);
    }
  });

  void test('identical grids return an identical copy', () => {
    const labels = new Uint8Array(256).map((_, v) => v);
    const out = resampleLabelsTo(labels, target, { dims: [8, 8, 4], affine: [...target.affine] });
    assert.notEqual(out, labels);
    assert.deepEqual(out, labels);
  });

  void test('undoes a reorientation exactly (permuted grids take the separable path)', () => {
    const affine: Affine = [0, 0, 0.75, -40, -1, 0, 0, 60, 0, 2, 0, -10, 0, 0, 0, 1];
    const input = createVolume([6, 5, 4], new Uint8Array(120).map((_, v) => v), affine);
    const { volume: ras, transform } = reorient(input);
    assert.deepEqual(resampleLabelsTo(ras.data, ras, input), input.data);
    assert.deepEqual(resampleToGrid(input, ras, { interpolation: 'nearest' }).data, ras.data);
    assert.deepEqual(resampleToGrid(input, ras, { interpolation: 'linear' }).data, transform.apply(input.data));
  });

  void test('slices: shares of the target grid, each written alone, make up the whole-grid result (separable and oblique, nearest and linear)', () => {
    const source = createVolume([9, 7, 6], new Int16Array(378).map((_, v) => (v * 37) % 1000 - 500), [0, 0, 1.5, -4, -0.8, 0, 0, 6, 0, 1.1, 0, 2, 0, 0, 0, 1]);
    const parallel: Grid = { dims: [8, 9, 5], affine: [0.7, 0, 0, -3.9, 0, 0.9, 0, -4.1, 0, 0, 1.3, -5.2, 0, 0, 0, 1] };
    const oblique: Grid = { dims: [8, 9, 5], affine: [0.42, -0.56, 0, -1, 0.56, 0.42, 0, -4, 0, 0, 1.3, -5, 0, 0, 0, 1] };
    for (const target of [parallel, oblique]) {
      for (const interpolation of ['nearest', 'linear'] as const) {
        for (const fill of [undefined, -1000]) {
          const whole = resampleToGrid(source, target, { interpolation, fill, dataType: 'float32' }).data;
          const into = new Float32Array(whole.length).fill(77);
          resampleToGrid(source, target, { interpolation, fill, dataType: 'float32', into, slices: [2, 5] });
          // Slices 0 and 1 are untouched until their share is written.
          assert.equal(into.subarray(0, 2 * 72).every((v) => v === 77), true);
          resampleToGrid(source, target, { interpolation, fill, dataType: 'float32', into, slices: [0, 2] });
          assert.deepEqual(into, whole, `${interpolation}, fill ${fill}`);
        }
      }
    }
    assert.throws(() => resampleToGrid(source, parallel, { interpolation: 'nearest', slices: [3, 6] }), /Output slices 3\.\.6 are not within the grid's 5/);
  });

  void test('maps onto an oblique grid exactly as a per-voxel world-coordinate reference does', () => {
    // Source: axis-aligned 1 mm; target rotated about z (cos 0.6, sin 0.8), 0.8 mm, shifted.
    const sourceDims: Dims = [12, 10, 6];
    const source: Grid = { dims: sourceDims, affine: [1, 0, 0, -6.1, 0, 1, 0, -5.3, 0, 0, 1.5, -4.2, 0, 0, 0, 1] };
    const labels = new Uint8Array(voxelCount(sourceDims)).map((_, v) => 1 + (v % 250));
    const oblique: Grid = { dims: [14, 13, 7], affine: [0.48, -0.64, 0, -1.37, 0.64, 0.48, 0, -6.91, 0, 0, 1.2, -4.6, 0, 0, 0, 1] };
    const out = resampleLabelsTo(labels, source, oblique, { fill: 255 });
    const toSource = invert(source.affine);
    let filled = 0;
    for (const p of voxels(oblique.dims)) {
      const x = apply(toSource, apply(oblique.affine, p)).map((v) => Math.floor(v + 0.5 + TIE_TOLERANCE));
      const inside = x.every((v, c) => v >= 0 && v < sourceDims[c]);
      if (!inside) filled++;
      assert.equal(out[voxelIndex(oblique.dims, ...p)], inside ? labels[voxelIndex(sourceDims, x[0], x[1], x[2])] : 255, `voxel ${p.join(',')}`);
    }
    assert.ok(filled > 0 && filled < voxelCount(oblique.dims), `${filled} filled`);
  });

  void test('rejects a label map that does not fit its grid, and a fill its type cannot hold', () => {
    throwsCode(() => resampleLabelsTo(new Uint8Array(10), target, target), 'VXG_ERR_VOLUME_GRID_MISMATCH');
    throwsCode(() => resampleLabelsTo(new Uint8Array(256), target, target, { fill: 256 }), 'VXG_ERR_VOLUME_DATATYPE');
    throwsCode(() => resampleLabelsTo(new Uint8Array(256), target, target, { fill: -1 }), 'VXG_ERR_VOLUME_DATATYPE');
  });
});

void describe('resampleToGrid', () => {
  const sourceAffine: Affine = [1, 0, 0, -6, 0, 1, 0, -5, 0, 0, 1, -3, 0, 0, 0, 1];
  const input = rampVolume([12, 10, 6], sourceAffine, 'float64');
  const oblique: Grid = { dims: [9, 8, 5], affine: [0.6, -0.8, 0.1, -2.3, 0.8, 0.6, 0, -1.7, 0, -0.1, 1, -1.9, 0, 0, 0, 1] };
  const toSource = invert(sourceAffine);

  void test('linear reproduces the ramp at every inside voxel, fills outside', () => {
    const out = resampleToGrid(input, oblique, { interpolation: 'linear', fill: -1 });
    let inside = 0;
    for (const p of voxels(oblique.dims)) {
      const x = apply(toSource, apply(oblique.affine, p));
      const isInside = x.every((v, c) => Math.floor(v + 0.5 + TIE_TOLERANCE) >= 0 && Math.floor(v + 0.5 + TIE_TOLERANCE) < input.dims[c]);
      const expected = isInside ? ramp(x.map((v, c) => clamp(v, input.dims[c]))) : -1;
      if (isInside) inside++;
      assert.ok(Math.abs(out.data[voxelIndex(oblique.dims, ...p)] - expected) < 1e-9, `voxel ${p.join(',')}`);
    }
    assert.ok(inside > 100 && inside < voxelCount(oblique.dims), `${inside} inside`);
  });

  void test('linear with fill on a parallel, shifted grid (separable path)', () => {
    // Same axes, 0.5 mm, starting 2.25 voxels before the source: x = 0.5p − 2.25.
    const shifted: Grid = { dims: [30, 1, 1], affine: [0.5, 0, 0, -8.25, 0, 1, 0, -5, 0, 0, 1, -3, 0, 0, 0, 1] };
    const out = resampleToGrid(input, shifted, { interpolation: 'linear', fill: -1 });
    const expected = Array.from({ length: 30 }, (_, p) => {
      const x = 0.5 * p - 2.25;
      return x < -0.5 || x >= 11.5 ? -1 : 3 * clamp(x, 12) + 1;
    });
    assert.deepEqual(Array.from(out.data), expected);
    assert.equal(expected.filter((v) => v === -1).length, 4 + 2); // x ≤ −0.75 and x ≥ 11.75
  });

  void test('without fill, clamps to the edge (nearest and linear agree with the clamped ramp)', () => {
    const linear = resampleToGrid(input, oblique, { interpolation: 'linear' });
    const nearest = resampleToGrid(input, oblique, { interpolation: 'nearest' });
    for (const p of voxels(oblique.dims)) {
      const x = apply(toSource, apply(oblique.affine, p));
      const n = voxelIndex(oblique.dims, ...p);
      assert.ok(Math.abs(linear.data[n] - ramp(x.map((v, c) => clamp(v, input.dims[c])))) < 1e-9, `voxel ${p.join(',')}`);
      assert.equal(nearest.data[n], ramp(x.map((v, c) => clamp(Math.floor(v + 0.5 + TIE_TOLERANCE), input.dims[c]))));
    }
  });
});

void describe('sampleInto', () => {
  void test('the documented example: 2× nearest along i reads voxel 2p + 1', () => {
    const out = new Uint8Array(2);
    sampleInto({
      source: Uint8Array.of(1, 2, 3, 4),
      sourceDims: [4, 1, 1],
      out,
      outDims: [2, 1, 1],
      map: [2, 0, 0, 0.5, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
      interpolation: 'nearest',
    });
    assert.deepEqual(out, Uint8Array.of(2, 4));
  });
});

void describe('linear resampling agrees with scipy.ndimage.map_coordinates', async () => {
  const scipy = await ensureSystemPackages(['python3-scipy'], () => pythonImports('scipy'));
  const script = [
    'import sys, json, numpy as np',
    'from scipy.ndimage import map_coordinates',
    'dims, odims, m = json.loads(sys.argv[1]), json.loads(sys.argv[2]), np.array(json.loads(sys.argv[3])).reshape(4, 4)',
    "arr = np.frombuffer(sys.stdin.buffer.read(), '<f4').reshape(dims, order='F').astype(np.float64)",
    "idx = np.indices(odims).reshape(3, -1)",
    'coords = m[:3, :3] @ idx + m[:3, 3:4]',
    "out = map_coordinates(arr, coords, order=1, mode='nearest').reshape(odims)",
    "print(out.ravel(order='F').astype('<f8').tobytes().hex())",
  ].join('\n');
  const dims: Dims = [9, 7, 5];
  const data = new Float32Array(voxelCount(dims)).map((_, n) => Math.round(Math.sin(n * 12.9898) * 43758.5453) % 1000);
  const input = createVolume(dims, data, [0, 0, 1.1, -3, -0.75, 0, 0, 4, 0, 1.25, 0.05, -2, 0, 0, 0, 1]);

  async function scipyResample(odims: Dims, map: Affine): Promise<Float64Array> {
    const hex = await runPython(script, [JSON.stringify(dims), JSON.stringify(odims), JSON.stringify(map)], {
      input: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    });
    const bytes = Buffer.from(hex.trim(), 'hex');
    return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8);
  }

  void test('separable: 0.75×1.25×1.1 mm → 1.1×0.6×1.7 mm', { skip: scipy.ok ? false : scipy.reason }, async () => {
    const { volume, grid } = resample(input, { spacing: [1.1, 0.6, 1.7], interpolation: 'linear', dataType: 'float64' });
    const expected = await scipyResample(volume.dims, grid.outputToInput);
    assert.equal(expected.length, volume.data.length);
    volume.data.forEach((v, n) => assert.ok(Math.abs(v - expected[n]) < 1e-9, `voxel ${n}: ${v} vs ${expected[n]}`));
  });

  void test('general: an oblique target grid', { skip: scipy.ok ? false : scipy.reason }, async () => {
    const target: Grid = { dims: [10, 9, 6], affine: [0.3, -0.9, 0.1, -4, 0.8, 0.4, 0, 2.5, 0, -0.2, 1.1, -1, 0, 0, 0, 1] };
    const out = resampleToGrid(input, target, { interpolation: 'linear', dataType: 'float64' });
    const expected = await scipyResample(target.dims, multiply(invert(input.affine), target.affine));
    out.data.forEach((v, n) => assert.ok(Math.abs(v - expected[n]) < 1e-9, `voxel ${n}: ${v} vs ${expected[n]}`));
  });
});
