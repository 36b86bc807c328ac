import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labelSink } from '../../src/engines/onnx/activation.js';
import { applyIntensity, toModelIntensities } from '../../src/engines/onnx/intensity.js';
import type { IntensitySpec } from '../../src/engines/onnx/model-package.js';
import { labelsToInput, toModelGrid } from '../../src/engines/onnx/model-grid.js';
import { createVolume } from '../../src/volume/volume.js';
import { createKernelMemory } from '../../src/engines/onnx/simd-kernel.js';
import type { SliceSink } from '../../src/engines/onnx/stitcher.js';
import { WindowStitcher, sinkWholeWindow } from '../../src/engines/onnx/stitcher.js';
import type { Triple } from '../../src/engines/onnx/windows.js';
import { centredBox, copyWindow, fillOutside, foregroundBox, importanceMap, padBox, scanStarts, wholeBox, windowOrigins } from '../../src/engines/onnx/windows.js';
import type { Dims } from '../../src/volume/volume.js';
import { seededRandom } from '../helpers/onnx-models.js';

/** MONAI's _get_scan_interval + dense_patch_slices (monai/inferers/utils.py, monai/data/utils.py), one axis, transcribed literally. */
function monaiStarts(imageSize: number, roi: number, overlap: number): number[] {
  const interval = roi === imageSize ? roi : Math.trunc(roi * (1 - overlap)) > 0 ? Math.trunc(roi * (1 - overlap)) : 1;
  const num = Math.ceil(imageSize / interval);
  let scanDim: number | undefined;
  for (let d = 0; d < num; d++) {
    if (d * interval + roi >= imageSize) {
      scanDim = d;
      break;
    }
  }
  const scanNum = scanDim === undefined ? 1 : scanDim + 1;
  return Array.from({ length: scanNum }, (_, idx) => {
    const start = idx * interval;
    return start - Math.max(start + roi - imageSize, 0);
  });
}

describe('sliding windows', () => {
  test('scan starts match MONAI dense_patch_slices, last window aligned to the end', () => {
    assert.deepEqual(scanStarts(256, 96, 0.25), [0, 72, 144, 160]);
    assert.deepEqual(scanStarts(200, 96, 0.25), [0, 72, 104]);
    assert.deepEqual(scanStarts(96, 96, 0.5), [0]);
    const random = seededRandom(7);
    for (let n = 0; n < 2000; n++) {
      const roi = 1 + Math.floor(random() * 40);
      const size = roi + Math.floor(random() * 150);
      const overlap = Math.floor(random() * 20) / 20;
      assert.deepEqual(scanStarts(size, roi, overlap), monaiStarts(size, roi, overlap), `size ${size}, roi ${roi}, overlap ${overlap}`);
    }
  });

  test('windows cover the region, k rows outermost', () => {
    const region: Dims = [50, 41, 33];
    const roi: Dims = [16, 12, 9];
    const origins = windowOrigins(region, roi, 0.3);
    const covered = new Uint8Array(region[0] * region[1] * region[2]);
    for (const [x, y, z] of origins) {
      for (let k = z; k < z + roi[2]; k++) for (let j = y; j < y + roi[1]; j++) for (let i = x; i < x + roi[0]; i++) covered[(k * region[1] + j) * region[0] + i] = 1;
    }
    assert.equal(covered.indexOf(0), -1);
    for (let n = 1; n < origins.length; n++) assert.ok(origins[n][2] >= origins[n - 1][2]);
  });

  test('the gaussian importance map is MONAI’s: σ = 0.125·roi around (roi − 1)/2, clamped at 1e-3', () => {
    assert.equal(importanceMap([8, 8, 8], 'constant'), undefined);
    const roi: Dims = [9, 6, 5];
    const map = importanceMap(roi, 'gaussian', 0.125) as Float32Array;
    const g = (p: number, n: number) => Math.exp(-((p - (n - 1) / 2) ** 2) / (2 * (0.125 * n) ** 2));
    let n = 0;
    for (let k = 0; k < roi[2]; k++) {
      for (let j = 0; j < roi[1]; j++) {
        for (let i = 0; i < roi[0]; i++, n++) {
          const expected = Math.max(g(i, roi[0]) * g(j, roi[1]) * g(k, roi[2]), 1e-3);
          assert.ok(Math.abs(map[n] - expected) <= 1e-7 + 1e-6 * expected, `weight at ${i},${j},${k}: ${map[n]} vs ${expected}`);
          // Symmetric under a flip of each axis.
          assert.equal(map[n], map[((roi[2] - 1 - k) * roi[1] + j) * roi[0] + i]);
        }
      }
    }
    assert.equal(Math.min(...map), Math.fround(1e-3));
  });
});

describe('stitching', () => {
  const region: Dims = [50, 41, 33];
  const roi: Dims = [16, 12, 9];
  const roiVoxels = roi[0] * roi[1] * roi[2];

  /** Runs a stitcher over every window with `score(channel, global voxel)` as the "network". */
  function stitch(weights: Float32Array | undefined, score: (c: number, p: Triple) => number, onSlice: SliceSink): void {
    const stitcher = new WindowStitcher({ region, roi, channels: [0, 1], totalChannels: 2, weights, weightSum: true }, onSlice);
    const output = new Float32Array(2 * roiVoxels);
    for (const origin of windowOrigins(region, roi, 0.3)) {
      for (let c = 0; c < 2; c++) {
        let n = c * roiVoxels;
        for (let k = 0; k < roi[2]; k++) for (let j = 0; j < roi[1]; j++) for (let i = 0; i < roi[0]; i++, n++) output[n] = score(c, [origin[0] + i, origin[1] + j, origin[2] + k]);
      }
      stitcher.add(output, 0, origin);
    }
    stitcher.finish();
  }

  test('gaussian blending normalises to the window value everywhere, corners and borders included', () => {
    const weights = importanceMap(roi, 'gaussian') as Float32Array;
    // Σ w per voxel, computed independently in float64.
    const expectedSum = new Float64Array(region[0] * region[1] * region[2]);
    for (const [x, y, z] of windowOrigins(region, roi, 0.3)) {
      let n = 0;
      for (let k = 0; k < roi[2]; k++) for (let j = 0; j < roi[1]; j++) for (let i = 0; i < roi[0]; i++, n++) expectedSum[((z + k) * region[1] + y + j) * region[0] + x + i] += weights[n];
    }
    // Every row of every slice reaches the sink exactly once.
    const seen = new Uint8Array(region[1] * region[2]);
    let worst = 0;
    stitch(weights, (c) => (c === 0 ? 0.7 : -2.5), (k, channels, ws, rows = [0, region[1]]) => {
      for (let j = rows[0]; j < rows[1]; j++) seen[k * region[1] + j]++;
      assert.ok(ws);
      for (let p = rows[0] * region[0]; p < rows[1] * region[0]; p++) {
        const sum = expectedSum[k * region[0] * region[1] + p];
        assert.ok(Math.abs(ws[p] - sum) <= 1e-5 * sum, `Σw at slice ${k}, voxel ${p}: ${ws[p]} vs ${sum}`);
        worst = Math.max(worst, Math.abs(channels[0][p] / ws[p] - 0.7), Math.abs(channels[1][p] / ws[p] + 2.5));
      }
    });
    assert.ok(seen.every((n) => n === 1));
    assert.ok(worst < 1e-5, `blended value off by ${worst}`);
  });

  test('each voxel gets its own windows’ scores through the k ring (position-dependent scores)', () => {
    const f = (c: number, [i, j, k]: Triple) => (c + 1) * (i + 100 * j + 10_000 * k);
    stitch(undefined, f, (k, channels, ws, rows = [0, region[1]]) => {
      for (let j = rows[0]; j < rows[1]; j++) {
        for (let i = 0; i < region[0]; i++) {
          const p = j * region[0] + i;
          for (let c = 0; c < 2; c++) {
            const expected = f(c, [i, j, k]);
            assert.ok(Math.abs(channels[c][p] / (ws as Float32Array)[p] - expected) <= 1e-6 * Math.max(1, expected), `channel ${c} at ${i},${j},${k}`);
          }
        }
      }
    });
  });

  test('the SIMD kernel and the JavaScript loops give the same bits (batches, odd widths, Σw, constant and gaussian)', () => {
    assert.ok(createKernelMemory(16), 'WebAssembly SIMD is available');
    const rand = seededRandom(11);
    // 13 columns: three vectors of four and a scalar tail of one in every row.
    const oddRoi: Dims = [13, 12, 9];
    const voxels = oddRoi[0] * oddRoi[1] * oddRoi[2];
    const origins = windowOrigins(region, oddRoi, 0.4);
    const outputs = origins.map(() => Float32Array.from({ length: 2 * 3 * voxels }, () => rand() * 20 - 10));
    for (const weights of [undefined, importanceMap(oddRoi, 'gaussian')]) {
      const slices = (simd: boolean): Float32Array[] => {
        const got: Float32Array[] = [];
        const stitcher = new WindowStitcher({ region, roi: oddRoi, channels: [2, 0], totalChannels: 3, weights, weightSum: true, simd }, (_k, channels, ws, rows = [0, region[1]]) => {
          const final = (a: Float32Array): Float32Array => a.slice(rows[0] * region[0], rows[1] * region[0]);
          got.push(...channels.map(final), final(ws as Float32Array));
        });
        origins.forEach((origin, w) => stitcher.add(outputs[w], w % 2, origin));
        stitcher.finish();
        return got;
      };
      const simd = slices(true);
      const js = slices(false);
      assert.equal(simd.length, js.length);
      assert.equal(simd.reduce((n, rows) => n + rows.length, 0), 3 * region[0] * region[1] * region[2]);
      simd.forEach((slice, s) => assert.ok(Buffer.from(slice.buffer, slice.byteOffset, slice.byteLength).equals(Buffer.from(js[s].buffer)), `slice ${s} differs (${weights ? 'gaussian' : 'constant'})`));
    }
  });

  test('a window given out of k order is refused', () => {
    const stitcher = new WindowStitcher({ region, roi, channels: [0], totalChannels: 1, weightSum: false }, () => {});
    const output = new Float32Array(roiVoxels);
    stitcher.add(output, 0, [0, 0, 20]);
    assert.throws(() => stitcher.add(output, 0, [0, 0, 0]), RangeError);
  });

  test('one window goes to the sink as views into the output tensor, per requested channel', () => {
    const output = Float32Array.from({ length: 3 * 2 * 3 * 4 }, (_, n) => n);
    const seen: number[][] = [];
    sinkWholeWindow(output, 0, { roi: [2, 3, 4], channels: [2, 0], totalChannels: 3 }, (k, channels) => {
      assert.equal(channels[0].buffer, output.buffer);
      seen.push([k, channels[0][0], channels[1][0]]);
    });
    assert.deepEqual(seen, [[0, 48, 0], [1, 54, 6], [2, 60, 12], [3, 66, 18]]);
  });
});

describe('activation', () => {
  const grid: Dims = [4, 3, 2];

  test('softmax: argmax of blended scores, ties to the lower channel, unrequested channels write 0', () => {
    const labels = new Uint8Array(24).fill(99);
    // Channel labels: 0 background, 133 requested, 0 for a channel that was not asked for.
    const sink = labelSink({ labels, grid, region: wholeBox(grid), activation: 'softmax', channelLabels: [0, 133, 0] });
    const c0 = Float32Array.from([1, 0, 0, 5, 2, 2, 0, 0, 0, 0, 0, 0]);
    const c1 = Float32Array.from([0, 1, 3, 5, 3, 2, 0, 0, 0, 0, 0, 0]);
    const c2 = Float32Array.from([0, 0, 4, 0, 1, 2, 0, 0, 0, 0, 0, 0]);
    sink(1, [c0, c1, c2], undefined);
    assert.deepEqual([...labels.subarray(12, 18)], [0, 133, 0, 0, 133, 0]);
    assert.deepEqual([...labels.subarray(0, 12)], Array(12).fill(99));
  });

  test('sigmoid: each channel above the threshold (Σw·s > t·Σw), the highest wins, none → 0', () => {
    const labels = new Uint8Array(24);
    const sink = labelSink({ labels, grid, region: wholeBox(grid), activation: 'sigmoid', channelLabels: [5, 7], threshold: 0 });
    const bone = Float32Array.from([-1, 2, 3, 1, 0, -4, 0, 0, 0, 0, 0, 0]);
    const soft = Float32Array.from([-1, 1, 4, -1, 0, 0.5, 0, 0, 0, 0, 0, 0]);
    sink(0, [bone, soft], Float32Array.from({ length: 12 }, () => 2));
    assert.deepEqual([...labels.subarray(0, 6)], [0, 5, 7, 5, 0, 7]);
    // With a threshold of logit(0.8) ≈ 1.386 per unit weight and Σw = 2: only scores above 2.77 count.
    sink(1, [bone, soft], Float32Array.from({ length: 12 }, () => 2));
    const strict = labelSink({ labels, grid, region: wholeBox(grid), activation: 'sigmoid', channelLabels: [5, 7], threshold: Math.log(0.8 / 0.2) });
    strict(1, [bone, soft], Float32Array.from({ length: 12 }, () => 2));
    assert.deepEqual([...labels.subarray(12, 18)], [0, 0, 7, 0, 0, 0]);
  });

  test('softmax argmax in kernel memory (SIMD) gives the JavaScript loop\'s labels: ties to the lower channel, NaN never wins, odd widths', () => {
    const memory = createKernelMemory(4096);
    assert.ok(memory, 'WebAssembly SIMD is available');
    const random = seededRandom(5);
    const wide: Dims = [7, 5, 2];
    const plane = 35;
    // Scores from a few values so that ties are common; some NaN.
    const channels = [0, 1, 2].map(() => {
      const at = memory.alloc(plane);
      for (let p = 0; p < plane; p++) memory.f32[at + p] = random() < 0.1 ? NaN : Math.floor(random() * 3);
      return memory.f32.subarray(at, at + plane);
    });
    const kernel = { memory, best: memory.alloc(plane), winner: memory.alloc(plane) };
    for (const rows of [undefined, [1, 4] as const]) {
      const simd = new Uint8Array(70);
      const js = new Uint8Array(70);
      labelSink({ labels: simd, grid: wide, region: wholeBox(wide), activation: 'softmax', channelLabels: [3, 0, 8] })(1, channels, undefined, rows, kernel);
      labelSink({ labels: js, grid: wide, region: wholeBox(wide), activation: 'softmax', channelLabels: [3, 0, 8] })(1, channels.map((c) => c.slice()), undefined, rows);
      assert.deepEqual(simd, js);
      assert.ok(simd.subarray(35).some((v) => v === 8) && simd.subarray(35).some((v) => v === 3));
    }
  });

  test('final rows only: the sink reads and writes just the rows it is given (softmax and sigmoid)', () => {
    for (const activation of ['softmax', 'sigmoid'] as const) {
      const labels = new Uint8Array(24).fill(99);
      const sink = labelSink({ labels, grid, region: wholeBox(grid), activation, channelLabels: [4, 6], threshold: 0 });
      const a = Float32Array.from([1, 1, 1, 1, 1, 1, 1, 1, NaN, NaN, NaN, NaN]);
      const b = Float32Array.from([NaN, NaN, NaN, NaN, 2, 0, 2, 0, NaN, NaN, NaN, NaN]);
      sink(1, [a, b], Float32Array.from({ length: 12 }, () => 1), [1, 2]);
      assert.deepEqual([...labels], [...Array(16).fill(99), 6, 4, 6, 4, 99, 99, 99, 99], activation);
    }
  });

  test('the last k row of windows goes to the sink j row by j row, before finish', () => {
    const region: Dims = [10, 20, 12];
    const roi: Dims = [10, 8, 8];
    const calls: string[] = [];
    const stitcher = new WindowStitcher({ region, roi, channels: [0], totalChannels: 1, weightSum: false }, (k, _c, _w, rows = [0, region[1]]) => calls.push(`${k}:${rows.join('-')}`));
    const origins = windowOrigins(region, roi, 0.5);
    assert.deepEqual(origins.map((o) => o.join(',')), ['0,0,0', '0,4,0', '0,8,0', '0,12,0', '0,0,4', '0,4,4', '0,8,4', '0,12,4']);
    for (const origin of origins) stitcher.add(new Float32Array(640), 0, origin);
    const beforeFinish = calls.length;
    stitcher.finish();
    // Slices 0–3 whole when the last k row starts; then slices 4–11 rows 0–3, 4–7, 8–11 as each j
    // row of windows starts; finish sends rows 12–19.
    const slices = (from: number, rows: string) => Array.from({ length: 12 - from }, (_, n) => `${from + n}:${rows}`);
    assert.deepEqual(calls.slice(0, beforeFinish), [...[0, 1, 2, 3].map((k) => `${k}:0-20`), ...slices(4, '0-4'), ...slices(4, '4-8'), ...slices(4, '8-12')]);
    assert.deepEqual(calls.slice(beforeFinish), slices(4, '12-20'));
  });

  test('a padded region writes only the voxels inside the grid', () => {
    const labels = new Uint8Array(24);
    const region = { start: [-1, 1, 0] as Triple, size: [6, 3, 2] as Triple };
    const sink = labelSink({ labels, grid, region, activation: 'softmax', channelLabels: [0, 9] });
    const score = Float32Array.from({ length: 18 }, (_, p) => p % 6);
    sink(0, [new Float32Array(18).fill(2.5), score], undefined);
    // Region row y covers grid row y + 1; region column x covers grid column x − 1 (x = 3, 4, 5 score above 2.5).
    assert.deepEqual([...labels.subarray(0, 12)], [0, 0, 0, 0, 0, 0, 9, 9, 0, 0, 9, 9]);
  });
});

describe('regions', () => {
  test('a fixed shape is centred: cropped where the grid is larger, padded where smaller', () => {
    assert.deepEqual(centredBox(wholeBox([300, 256, 200]), [256, 256, 256]), { start: [22, 0, -28], size: [256, 256, 256] });
    assert.deepEqual(centredBox(wholeBox([5, 4, 3]), [2, 1, 6]), { start: [1, 1, -2], size: [2, 1, 6] });
  });

  test('a region smaller than a window is padded symmetrically (⌊d/2⌋ before)', () => {
    assert.deepEqual(padBox({ start: [3, 0, 0], size: [10, 40, 7] }, [16, 16, 16]), { start: [0, 0, -4], size: [16, 40, 16] });
  });

  test('the foreground box is the bounding box above the threshold plus the margin, clipped', () => {
    const dims: Dims = [10, 8, 6];
    const data = new Int16Array(480).fill(-1000);
    data[(2 * 8 + 3) * 10 + 4] = 50;
    data[(4 * 8 + 5) * 10 + 8] = 50;
    assert.deepEqual(foregroundBox(data, dims, -500, 0), { start: [4, 3, 2], size: [5, 3, 3] });
    assert.deepEqual(foregroundBox(data, dims, -500, 2), { start: [2, 1, 0], size: [8, 7, 6] });
    assert.equal(foregroundBox(data, dims, 100, 2), undefined);
  });

  test('windows are cut with zeros outside the grid; labels outside a crop are marked', () => {
    const dims: Dims = [3, 2, 2];
    const data = Float32Array.from({ length: 12 }, (_, n) => n + 1);
    const into = new Float32Array(2 * 2 * 2 + 1).fill(-1);
    copyWindow(data, dims, [2, 1, 1], [2, 2, 2], into, 1);
    // Window voxel (0, 0, 0) is grid voxel (2, 1, 1), the last one; everything else lies outside.
    assert.deepEqual([...into], [-1, 12, 0, 0, 0, 0, 0, 0, 0]);
    const labels = new Uint8Array(12);
    fillOutside(labels, dims, wholeBox(dims), { start: [1, 0, 0], size: [1, 2, 1] }, 255);
    assert.deepEqual([...labels], [255, 0, 255, 255, 0, 255, 255, 255, 255, 255, 255, 255]);
  });
});

describe('intensity transforms', () => {
  test('scale-intensity-range with and without clip (MONAI)', () => {
    const x = Float32Array.from([-1200, -1000, 0, 1000, 1400]);
    applyIntensity(x, { type: 'scale-intensity-range', a_min: -1000, a_max: 1000, b_min: 0, b_max: 1, clip: true });
    assert.deepEqual([...x], [0, 0, 0.5, 1, 1]);
    const y = Float32Array.from([-1200, 1400]);
    applyIntensity(y, { type: 'scale-intensity-range', a_min: -1000, a_max: 1000, b_min: 0, b_max: 1, clip: false });
    assert.deepEqual([...y], [Math.fround(-0.1), Math.fround(1.2)]);
  });

  test('ct-zscore clips, then standardises (nnU-Net)', () => {
    const x = Float32Array.from([-2000, 0, 100, 3000]);
    applyIntensity(x, { type: 'ct-zscore', clip: [-1000, 1000], mean: 100, std: 50 });
    assert.deepEqual([...x], [-22, -2, 0, 18]);
  });

  test('min-max maps the image to [0, 1]; a constant image to 0', () => {
    const x = Float32Array.from([10, 20, 30]);
    applyIntensity(x, { type: 'min-max' });
    assert.deepEqual([...x], [0, 0.5, 1]);
    const c = Float32Array.from([7, 7]);
    applyIntensity(c, { type: 'min-max' });
    assert.deepEqual([...c], [0, 0]);
  });

  const SPECS: readonly IntensitySpec[] = [
    { type: 'scale-intensity-range', a_min: -1000, a_max: 1000, b_min: 0, b_max: 1, clip: true },
    { type: 'scale-intensity-range', a_min: -160, a_max: 240, b_min: -1, b_max: 1, clip: true },
    { type: 'scale-intensity-range', a_min: -57, a_max: 164, b_min: 0, b_max: 1, clip: false },
    { type: 'ct-zscore', clip: [-958, 327], mean: 82.9, std: 136.7 },
    { type: 'min-max' },
  ];

  test('the branch-free clip lands exactly on both bounds, and on noisy air around a_min', () => {
    const x = Float32Array.from([-1000.5, -200, -160, 40, 240, 240.25, 3000]);
    applyIntensity(x, SPECS[1]);
    assert.deepEqual([...x], [-1, -1, -1, 0, 1, 1, 1]);
    const air = Float32Array.from({ length: 64 }, (_, n) => -1032 + n);
    applyIntensity(air, SPECS[0]);
    assert.deepEqual([...air], Array.from({ length: 64 }, (_, n) => (n <= 32 ? 0 : Math.fround((n - 32) / 2000))));
  });

  test('toModelIntensities gives set + applyIntensity bit for bit: int16 and uint8 through a table, float32 and int32 directly', () => {
    const random = seededRandom(17);
    const int16 = Int16Array.from({ length: 5000 }, () => Math.floor(random() * 4000) - 2000);
    const sources = [int16, Uint8Array.from(int16, (v) => v & 255), Float32Array.from(int16, (v) => v / 3), Int32Array.from(int16, (v) => v * 1000)];
    for (const source of sources) {
      for (const spec of SPECS) {
        const expected = new Float32Array(source.length);
        expected.set(source);
        applyIntensity(expected, spec);
        const out = new Float32Array(source.length);
        toModelIntensities(source, spec, out);
        assert.deepEqual(out, expected, `${source.constructor.name} ${spec.type}`);
      }
    }
    // A constant image: min-max gives 0 by the table too.
    const flat = new Float32Array(4);
    toModelIntensities(new Int16Array(4).fill(-7), { type: 'min-max' }, flat);
    assert.deepEqual([...flat], [0, 0, 0, 0]);
  });
});

describe('model grid', () => {
  const random = seededRandom(3);
  const dims = [13, 11, 9] as const;
  const data = Int16Array.from({ length: 13 * 11 * 9 }, () => Math.floor(random() * 2400) - 1200);
  // LPS with anisotropic voxels: reoriented (i and j flipped) and, with a spacing, resampled too.
  const lps = createVolume([...dims], data, [-0.8, 0, 0, 40, 0, -0.9, 0, 30, 0, 0, 2.5, -10, 0, 0, 0, 1]);
  const spec: IntensitySpec = { type: 'scale-intensity-range', a_min: -1000, a_max: 1000, b_min: 0, b_max: 1, clip: true };

  for (const spacing of [null, [1.1, 0.7, 1.9]] as const) {
    test(`${spacing ? 'resampled' : 'reoriented'}: the intensity applied on the way equals it applied after; shares of the way back make up the whole`, () => {
      const raw = toModelGrid(lps, ['R', 'A', 'S'], spacing);
      const expected = raw.data.slice();
      applyIntensity(expected, spec);
      const transformed = toModelGrid(lps, ['R', 'A', 'S'], spacing, undefined, spec);
      assert.deepEqual(transformed.data, expected);
      assert.equal(transformed.resampled, spacing !== null);
      const labels = Uint8Array.from(raw.data, (v) => (v > 300 ? 2 : v > 0 ? 1 : 0));
      const whole = labelsToInput(labels, raw);
      assert.equal(whole.length, data.length);
      if (!spacing) assert.deepEqual(whole, Uint8Array.from(data, (v) => (v > 300 ? 2 : v > 0 ? 1 : 0)));
      const shared = new Uint8Array(data.length).fill(9);
      for (const index of [2, 0, 1]) labelsToInput(labels, raw, shared, [index, 3]);
      assert.deepEqual(shared, whole);
    });
  }
});

