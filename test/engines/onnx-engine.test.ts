import assert from 'node:assert/strict';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Engine, SegmentationPrompts } from '../../src/engines/engine.js';
import { createEngine } from '../../src/engines/index.js';
import { parseModelJson } from '../../src/engines/onnx/model-package.js';
import { toModelGrid } from '../../src/engines/onnx/model-grid.js';
import { createOnnxEngine } from '../../src/engines/onnx/onnx-engine.js';
import { scanStarts } from '../../src/engines/onnx/windows.js';
import { isVoxgateError } from '../../src/errors.js';
import type { Affine } from '../../src/volume/affine.js';
import { axisCodes, multiply } from '../../src/volume/affine.js';
import { readNifti } from '../../src/volume/nifti.js';
import { resample } from '../../src/volume/resample.js';
import type { Dims, LabelVolume, Volume } from '../../src/volume/volume.js';
import { createVolume } from '../../src/volume/volume.js';
import { convNet, pointwiseModel, writeModelPackage } from '../helpers/onnx-models.js';
import { tempDir } from '../helpers/nim-server.js';

const CT_FILE = new URL('../../../shared/data/ct_nifti/totalseg_patientB_cta_crop/ct_cropped.nii.gz', import.meta.url);
const skip = existsSync(CT_FILE) ? false : `the real CT ${CT_FILE.pathname} is not on this machine`;

/** HU ≥ 100 → channel 1: scores ∓0.01·(HU − 99.5), exact negatives of each other, so no tiling can flip the argmax. */
const TWO_CLASS = pointwiseModel([-0.01, 0.01], [0.995, -0.995]);

function base(overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    name: 'test',
    version: '1',
    license: 'Apache-2.0 (test model)',
    channels: 2,
    labels: [0, 93],
    input: { orientation: 'RAS', spacing: null, intensity: { type: 'none' } },
    activation: 'softmax',
    ...overrides,
  };
}

/** Rotation by `degrees` about world axis `axis` (0 x, 1 y, 2 z), as a 4×4 affine. */
function rotation(axis: number, degrees: number): Affine {
  const [c, s] = [Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180)];
  const [u, v] = [0, 1, 2].filter((a) => a !== axis);
  const m = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  m[u * 4 + u] = c;
  m[u * 4 + v] = -s;
  m[v * 4 + u] = s;
  m[v * 4 + v] = c;
  return m;
}

function countWhere(data: ArrayLike<number>, predicate: (v: number) => boolean): number {
  let n = 0;
  for (let p = 0; p < data.length; p++) if (predicate(data[p])) n++;
  return n;
}

function differing(a: LabelVolume, b: LabelVolume): number {
  let n = 0;
  for (let p = 0; p < a.data.length; p++) if (a.data[p] !== b.data[p]) n++;
  return n;
}

describe('onnx engine on a real CT', { skip }, () => {
  let ct: Volume;
  let root: { path: string; remove(): Promise<void> };
  let count = 0;
  before(async () => {
    ct = await readNifti(createReadStream(CT_FILE));
    root = await tempDir('voxgate-onnx-engine-');
  });
  after(() => root?.remove());

  /** Loads a package (in this thread), segments a copy of `volume`, closes. */
  async function run(model: Uint8Array, json: Record<string, unknown>, volume: Volume, prompts: SegmentationPrompts = { classes: [93] }, stages?: string[]): Promise<LabelVolume> {
    const dir = await writeModelPackage(join(root.path, `m${count++}`), model, json);
    const engine = await createOnnxEngine({ model: dir, intraOpThreads: 2 });
    try {
      const copy = createVolume(volume.dims, volume.data.slice(), volume.affine, volume.source);
      return await engine.segment(copy, prompts, (_, stage) => stages?.push(stage));
    } finally {
      await engine.close();
    }
  }

  /** The same package run as one window over the whole model grid. */
  function wholeVolume(json: Record<string, unknown>, volume: Volume): Record<string, unknown> {
    const pkg = parseModelJson(json, '/x/model.json');
    const { dims } = toModelGrid(volume, pkg.orientation, pkg.spacing);
    const whole: Record<string, unknown> = { ...json, shape: [...dims] };
    delete whole.sliding_window;
    return whole;
  }

  test('sliding windows give exactly f(HU) on the input grid: odd 37×29×23 windows, gaussian blend, batches across k rows, reoriented', async () => {
    const json = base({ sliding_window: { roi_size: [37, 29, 23], overlap: 0.4, blend: 'gaussian', batch_size: 3 } });
    const stages: string[] = [];
    const labels = await run(TWO_CLASS, json, ct, { classes: [93] }, stages);
    assert.deepEqual(labels.dims, ct.dims);
    assert.deepEqual(labels.affine, ct.affine);
    let wrong = 0;
    let bone = 0;
    for (let p = 0; p < ct.data.length; p++) {
      const expected = ct.data[p] >= 100 ? 93 : 0;
      if (labels.data[p] !== expected) wrong++;
      if (expected) bone++;
    }
    assert.equal(wrong, 0);
    assert.ok(bone > 100_000, `only ${bone} voxels ≥ 100 HU`);
    // Progress after every batch of 3 windows: the CT in RAS is 120×126×164.
    const windows = [0, 1, 2].map((a) => scanStarts(ct.dims[a], [37, 29, 23][a], 0.4).length).reduce((x, y) => x * y);
    const batches = stages.filter((s) => s.startsWith('window '));
    assert.equal(batches.length, Math.ceil(windows / 3));
    assert.equal(batches.at(-1), `window ${windows}/${windows}`);
    assert.equal(stages.at(-1), 'done');
  });

  test('windows blended in the stitching thread or in the engine’s own thread give the same labels (softmax and sigmoid)', async () => {
    for (const activation of ['softmax', 'sigmoid']) {
      const json = base({
        activation,
        input: { orientation: 'LIA', spacing: [1.2, 1.7, 1.3], intensity: { type: 'none' } },
        sliding_window: { roi_size: [30, 26, 18], overlap: 0.3, blend: 'gaussian', batch_size: 2 },
      });
      const dir = await writeModelPackage(join(root.path, `m${count++}`), TWO_CLASS, json);
      const [threaded, inThread] = await Promise.all([true, false].map((stitchThread) => createOnnxEngine({ model: dir, intraOpThreads: 2, stitchThread })));
      try {
        const a = await threaded.segment(ct, { classes: [93] });
        const b = await inThread.segment(ct, { classes: [93] });
        assert.equal(differing(a, b), 0, activation);
        assert.ok(countWhere(a.data, (v) => v === 93) > 50_000, activation);
      } finally {
        await Promise.all([threaded.close(), inThread.close()]);
      }
    }
  });

  test('a stitching thread that cannot run: the same labels from the engine’s own thread, request after request', async () => {
    const json = base({ sliding_window: { roi_size: [30, 26, 18], overlap: 0.3, blend: 'gaussian', batch_size: 2 } });
    const dir = await writeModelPackage(join(root.path, `m${count++}`), TWO_CLASS, json);
    const broken = await createOnnxEngine({ model: dir, intraOpThreads: 2, stitchWorker: new URL('./no-such-stitch-worker.ts', import.meta.url) });
    const reference = await createOnnxEngine({ model: dir, intraOpThreads: 2, stitchThread: false });
    try {
      const expected = await reference.segment(ct, { classes: [93] });
      for (let n = 0; n < 2; n++) assert.equal(differing(await broken.segment(ct, { classes: [93] }), expected), 0);
    } finally {
      await Promise.all([broken.close(), reference.close()]);
    }
  });

  test('kept working memory: requests in a row (other sizes, at once) give the labels of a fresh engine, and a result is never overwritten', async () => {
    for (const spacing of [null, [1.3, 1.7, 2.1]]) {
      const json = base({
        input: { orientation: 'RAS', spacing, intensity: { type: 'none' } },
        sliding_window: { roi_size: [32, 32, 16], overlap: 0.25, blend: 'gaussian', batch_size: 2 },
      });
      const dir = await writeModelPackage(join(root.path, `m${count++}`), TWO_CLASS, json);
      const engine = await createOnnxEngine({ model: dir, intraOpThreads: 2 });
      try {
        // A smaller crop of the CT (same orientation), then the CT itself twice, the last two at once.
        const [nx, ny, nz] = ct.dims;
        const small = createVolume([nx, ny, nz - 40], ct.data.slice(0, nx * ny * (nz - 40)), ct.affine, ct.source);
        const first = await engine.segment(small, { classes: [93] });
        const firstCopy = first.data.slice();
        const [second, third] = await Promise.all([engine.segment(ct, { classes: [93] }), engine.segment(ct, { classes: [93] })]);
        assert.deepEqual(first.data, firstCopy);
        assert.notEqual(second.data.buffer, third.data.buffer);
        assert.equal(differing(second, third), 0);
        assert.equal(differing(second, await run(TWO_CLASS, json, ct)), 0);
        assert.equal(differing(first, await run(TWO_CLASS, json, small)), 0);
      } finally {
        await engine.close();
      }
    }
  });

  test('sliding windows equal the whole volume at once, with anisotropic resampling to another axis code', async () => {
    const json = base({
      input: { orientation: 'PIL', spacing: [1.1, 2.3, 3.1], intensity: { type: 'none' } },
      sliding_window: { roi_size: [31, 17, 12], overlap: 0.5, blend: 'constant', batch_size: 2 },
    });
    const windows = await run(TWO_CLASS, json, ct);
    const whole = await run(TWO_CLASS, wholeVolume(json, ct), ct);
    assert.deepEqual(windows.dims, ct.dims);
    assert.deepEqual(windows.affine, ct.affine);
    assert.equal(differing(windows, whole), 0);
    // And the resampled answer is still the bone of the CT, up to partial voxels.
    const bone = countWhere(ct.data, (v) => v >= 100);
    const found = countWhere(windows.data, (v) => v === 93);
    assert.ok(Math.abs(found - bone) / bone < 0.05, `${found} bone voxels vs ${bone} in the CT`);
  });

  test('sliding windows equal the whole volume at once on an oblique affine', async () => {
    const oblique = createVolume(ct.dims, ct.data, multiply(multiply(rotation(2, 17), rotation(0, 9)), ct.affine), ct.source);
    assert.deepEqual(axisCodes(oblique.affine), ['L', 'P', 'S']);
    const json = base({
      input: { orientation: 'RAS', spacing: [2, 2, 2], intensity: { type: 'scale-intensity-range', a_min: -1000, a_max: 1000, b_min: -10, b_max: 10, clip: false } },
      sliding_window: { roi_size: [40, 40, 40], overlap: 0.25, blend: 'gaussian', batch_size: 4 },
    });
    // HU ≥ 100 is ≥ 1 after the range scaling: scores ∓(x − 0.995).
    const scaled = pointwiseModel([-1, 1], [0.995, -0.995]);
    const windows = await run(scaled, json, oblique);
    const whole = await run(scaled, wholeVolume(json, oblique), oblique);
    assert.deepEqual(windows.dims, oblique.dims);
    assert.deepEqual(windows.affine, oblique.affine);
    assert.equal(differing(windows, whole), 0);
  });

  test('sigmoid: per-channel threshold, the most probable channel wins, logits or probabilities', async () => {
    // bone = 0.05·(HU − 199.5), soft = 0.01·(HU + 299.5): soft from −299 HU, bone wins above 324.25 HU.
    const weights = [0.05, 0.01];
    const bias = [-9.975, 2.995];
    const json = base({
      labels: [{ name: 'dense' }, { name: 'soft' }],
      input: { orientation: 'LAS', spacing: null, intensity: { type: 'none' } },
      sliding_window: { roi_size: [48, 40, 36], overlap: 0.3, blend: 'gaussian', batch_size: 2 },
      activation: 'sigmoid',
    });
    const expected = (hu: number, classes: readonly number[]): number => {
      if (classes.includes(133) && hu > 324.25) return 133;
      if (classes.includes(134) && hu > -299.5) return 134;
      if (classes.includes(133) && hu > 199.5) return 133;
      return 0;
    };
    const probabilities = pointwiseModel(weights, bias, { activation: 'Sigmoid' });
    for (const [model, extra, classes] of [
      [pointwiseModel(weights, bias), {}, [133, 134]],
      [probabilities, { output_kind: 'probabilities' }, [133, 134]],
      // Only "soft" asked for: bone is not even computed, so soft covers the bone too.
      [pointwiseModel(weights, bias), {}, [134]],
      [probabilities, { output_kind: 'probabilities', threshold: 0.5 }, [133]],
    ] as const) {
      const labels = await run(model, { ...json, ...extra }, ct, { classes });
      let wrong = 0;
      for (let p = 0; p < ct.data.length; p++) if (labels.data[p] !== expected(ct.data[p], classes)) wrong++;
      assert.equal(wrong, 0, `classes ${classes.join(',')} ${JSON.stringify(extra)}`);
    }
  });

  test('softmax with class prompts: only the labels asked for, others 0 (still in the argmax)', async () => {
    // air 0, soft = 0.01·(HU + 299.5), dense = 0.02·(HU − 199.5): soft from −299 HU, dense from 699 HU.
    const model = pointwiseModel([0, 0.01, 0.02], [0, 2.995, -3.99]);
    const json = base({ channels: 3, labels: [0, { name: 'soft' }, { name: 'dense' }], sliding_window: { roi_size: [64, 64, 64], overlap: 0.25, blend: 'gaussian' } });
    const expected = (hu: number): number => (hu >= 699 ? 134 : hu >= -299 ? 133 : 0);
    for (const classes of [[133, 134], [134], [133]]) {
      const labels = await run(model, json, ct, { classes });
      let wrong = 0;
      for (let p = 0; p < ct.data.length; p++) {
        const e = expected(ct.data[p]);
        if (labels.data[p] !== (classes.includes(e) ? e : 0)) wrong++;
      }
      assert.equal(wrong, 0, `classes ${classes.join(',')}`);
    }
  });

  test('a fixed shape smaller than the image is centred; the cropped-away voxels are 255 (not computed)', async () => {
    // CT is LPS 120×126×164; the model grid is the image's own (orientation LPS, no resampling).
    const json = base({ input: { orientation: 'LPS', spacing: null, intensity: { type: 'none' } }, shape: [64, 130, 81] });
    const labels = await run(TWO_CLASS, json, ct);
    const start = [28, -2, 41];
    let wrong = 0;
    let n = 0;
    for (let k = 0; k < 164; k++) {
      for (let j = 0; j < 126; j++) {
        for (let i = 0; i < 120; i++, n++) {
          const inside = i >= start[0] && i < start[0] + 64 && k >= start[2] && k < start[2] + 81;
          const expected = inside ? (ct.data[n] >= 100 ? 93 : 0) : 255;
          if (labels.data[n] !== expected) wrong++;
        }
      }
    }
    assert.equal(wrong, 0);
  });

  test('a foreground crop runs the network on the box above the threshold only; outside is background', async () => {
    // Channel 0 (HU < 100) is labelled 5 here, so the crop is visible: air outside the box stays 0.
    const json = base({
      labels: [5, 0],
      input: { orientation: 'LPS', spacing: null, intensity: { type: 'none' } },
      sliding_window: { roi_size: [32, 32, 32], overlap: 0.25 },
      foreground_crop: { threshold: 1500, margin: 3 },
    });
    const labels = await run(TWO_CLASS, json, ct, { classes: [5] });
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-1, -1, -1];
    let n = 0;
    for (let k = 0; k < 164; k++) {
      for (let j = 0; j < 126; j++) {
        for (let i = 0; i < 120; i++, n++) {
          if (ct.data[n] <= 1500) continue;
          [i, j, k].forEach((v, a) => {
            lo[a] = Math.min(lo[a], v);
            hi[a] = Math.max(hi[a], v);
          });
        }
      }
    }
    const box = [0, 1, 2].map((a) => [Math.max(0, lo[a] - 3), Math.min(ct.dims[a] - 1, hi[a] + 3)]);
    n = 0;
    let wrong = 0;
    let inside = 0;
    for (let k = 0; k < 164; k++) {
      for (let j = 0; j < 126; j++) {
        for (let i = 0; i < 120; i++, n++) {
          const inBox = [i, j, k].every((v, a) => v >= box[a][0] && v <= box[a][1]);
          if (inBox) inside++;
          if (labels.data[n] !== (inBox && ct.data[n] < 100 ? 5 : 0)) wrong++;
        }
      }
    }
    assert.equal(wrong, 0);
    assert.ok(inside < ct.data.length * 0.9, 'the foreground box should not be the whole image');
  });

  test('a 3×3×3 conv net: windows agree with the whole volume wherever no window border is within its receptive field', async () => {
    // A 3 mm copy of the CT keeps this quick; the model grid is then the image's own grid.
    const { volume: small } = resample(ct, { spacing: [3, 3, 3], interpolation: 'linear' });
    const model = convNet({ widths: [6, 6], classes: 2, seed: 11, antisymmetric: true });
    const reach = 2; // two 3×3×3 layers
    const roi: Dims = [24, 22, 20];
    const overlap = 0.5;
    const json = base({
      input: { orientation: 'LPS', spacing: null, intensity: { type: 'scale-intensity-range', a_min: -1000, a_max: 1000, b_min: -1, b_max: 1, clip: true } },
      sliding_window: { roi_size: [...roi], overlap, blend: 'constant', batch_size: 2 },
    });
    const windows = await run(model, json, small);
    const whole = await run(model, wholeVolume(json, small), small);
    // Per axis: is every covering window's interior face (not on the image border) at least `reach` away?
    const clear = [0, 1, 2].map((a) => {
      const n = small.dims[a];
      const starts = scanStarts(n, roi[a], overlap);
      return Array.from({ length: n }, (_, p) =>
        starts.every((s) => p < s || p >= s + roi[a] || ((s === 0 || p - s >= reach) && (s + roi[a] === n || s + roi[a] - 1 - p >= reach))),
      );
    });
    let clearVoxels = 0;
    let clearWrong = 0;
    let wrong = 0;
    let positive = 0;
    let n = 0;
    for (let k = 0; k < small.dims[2]; k++) {
      for (let j = 0; j < small.dims[1]; j++) {
        for (let i = 0; i < small.dims[0]; i++, n++) {
          const same = windows.data[n] === whole.data[n];
          if (whole.data[n] === 93) positive++;
          if (!same) wrong++;
          if (clear[0][i] && clear[1][j] && clear[2][k]) {
            clearVoxels++;
            if (!same) clearWrong++;
          }
        }
      }
    }
    assert.equal(clearWrong, 0, `${clearWrong} of ${clearVoxels} voxels away from window borders differ`);
    assert.ok(clearVoxels > small.data.length * 0.3, `only ${clearVoxels} voxels are away from window borders`);
    assert.ok(positive > small.data.length * 0.05 && positive < small.data.length * 0.95, 'the net should give both classes');
    // Near interior borders the windows do differ (the net zero-pads at each window's faces): the
    // comparison is sensitive, and blending cannot make a conv net's stitching exact there.
    assert.ok(wrong > 0, 'expected some differences near window borders');
  });

  test('point prompts are refused', async () => {
    const dir = await writeModelPackage(join(root.path, 'points'), TWO_CLASS, base({ sliding_window: { roi_size: [16, 16, 16] } }));
    const engine = await createOnnxEngine({ model: dir, intraOpThreads: 1 });
    after(() => engine.close());
    await assert.rejects(
      engine.segment(ct, { classes: [], points: { label: 93, points: [[1, 2, 3]], pointLabels: [1] } }),
      (err) => isVoxgateError(err, 'VXG_ERR_PROMPT_INVALID'),
    );
  });

  test('through createEngine’s worker thread: the same labels, the image buffer transferred', async () => {
    const json = base({ sliding_window: { roi_size: [40, 40, 40], overlap: 0.25, blend: 'gaussian', batch_size: 2 } });
    const dir = await writeModelPackage(join(root.path, 'worker'), TWO_CLASS, json);
    const engine: Engine = await createEngine('onnx', { model: dir });
    after(() => engine.close());
    assert.equal(engine.isReady(), true);
    const inProcess = await run(TWO_CLASS, json, ct);
    const copy = createVolume(ct.dims, ct.data.slice(), ct.affine, ct.source);
    const fractions: number[] = [];
    const viaWorker = await engine.segment(copy, { classes: [93] }, (fraction) => fractions.push(fraction));
    assert.equal(copy.data.length, 0, 'the image buffer should have moved to the worker');
    assert.deepEqual(viaWorker.dims, ct.dims);
    assert.deepEqual(viaWorker.affine, ct.affine);
    assert.equal(differing(viaWorker, inProcess), 0);
    assert.ok(fractions.every((f, n) => n === 0 || f >= fractions[n - 1]), 'progress should not go back');
    assert.equal(fractions.at(-1), 1);
  });
});
