import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { segmentClassic } from '../../src/engines/classic/classic-engine.js';
import { createEngine } from '../../src/engines/index.js';
import { WorkerEngine } from '../../src/engines/worker-engine.js';
import { isVoxgateError } from '../../src/errors.js';
import type { Volume } from '../../src/volume/volume.js';
import { createVolume } from '../../src/volume/volume.js';
import { buildPhantom } from '../helpers/phantoms.js';
import { CRASH_EXIT, CRASH_THROW, FAIL_CODED, SLOW, TEST_ENGINE_INFO } from './fixtures/test-engines.js';

const FIXTURE = new URL('./fixtures/test-engines.ts', import.meta.url);

function small(): Volume {
  const data = new Int16Array(8 * 8 * 8).map((_, p) => (p % 3) - 1);
  return createVolume([8, 8, 8], data, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
}

describe('WorkerEngine with the classic engine', () => {
  test('returns what the engine returns in-process, with progress, on the input grid', async () => {
    const engine = await createEngine('classic', { threads: 1 });
    after(() => engine.close());
    assert.equal(engine.isReady(), true);
    assert.equal(engine.info.name, 'classic');
    const phantom = buildPhantom();
    const prompts = { classes: [20, 21, 57, 132], points: { label: 140, points: [phantom.voxelOf(phantom.landmarks.sphere)], pointLabels: [1 as const] } };
    const direct = segmentClassic(phantom.volume, prompts);
    const stages: string[] = [];
    const viaWorker = await engine.segment(phantom.volume, prompts, (_, stage) => stages.push(stage));
    assert.deepEqual(viaWorker.dims, direct.dims);
    assert.deepEqual(viaWorker.affine, direct.affine);
    assert.ok(Buffer.from(viaWorker.data.buffer).equals(Buffer.from(direct.data.buffer)), 'labels differ');
    // Bone is asked, and the phantom's contrast-filled aorta (300 HU) makes cores outside bone
    // (blood-pool.ts): the aorta is looked for, to be left out of bone.
    assert.deepEqual(stages, ['body', 'airway', 'lung', 'blood', 'bone', 'aorta', 'points', 'done']);
    // The image buffer was transferred to the worker, not copied.
    assert.equal(phantom.volume.data.length, 0);
  });

  test('keeps the event loop responsive while it segments a 256×256×200 CT', async () => {
    const engine = await createEngine('classic');
    after(() => engine.close());
    const { volume } = buildPhantom({ dims: [256, 256, 200], spacing: [1, 1, 1], masks: false });
    let worst = 0;
    let ticks = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last - 10);
      last = now;
      ticks++;
    }, 10);
    const started = performance.now();
    try {
      const labels = await engine.segment(volume, { classes: [20, 21, 57, 132] });
      assert.equal(labels.data.length, 256 * 256 * 200);
    } finally {
      clearInterval(timer);
    }
    const took = performance.now() - started;
    assert.ok(ticks >= took / 40, `only ${ticks} timer ticks in ${took.toFixed(0)} ms`);
    assert.ok(worst < 200, `the event loop stalled for ${worst.toFixed(0)} ms`);
  });

  test('createEngine refuses engines this version does not have', async () => {
    await assert.rejects(createEngine('quantum'), (err) => isVoxgateError(err, 'VXG_ERR_CONFIG_INVALID') && /quantum is not available/.test(err.message));
  });
});

describe('WorkerEngine failures', () => {
  const engine = new WorkerEngine({ info: TEST_ENGINE_INFO, module: FIXTURE, factory: 'createTestEngine' });
  after(() => engine.close());

  test('passes VoxgateErrors through with their code', async () => {
    await engine.whenReady();
    await assert.rejects(engine.segment(small(), { classes: [FAIL_CODED] }), (err) => isVoxgateError(err, 'VXG_ERR_IMAGE_NOT_CT') && err.statusCode === 400);
  });

  test('turns a worker that exits into VXG_ERR_ENGINE_FAILED, and replaces it', async () => {
    await assert.rejects(engine.segment(small(), { classes: [CRASH_EXIT] }), (err) => isVoxgateError(err, 'VXG_ERR_ENGINE_FAILED') && /exit code 7/.test(err.message));
    const labels = await engine.segment(small(), { classes: [5] });
    assert.equal(labels.data.filter((v) => v === 1).length, small().data.filter((v) => v > 0).length);
  });

  test('turns an uncaught error in the worker into VXG_ERR_ENGINE_FAILED carrying its message', async () => {
    await assert.rejects(engine.segment(small(), { classes: [CRASH_THROW] }), (err) => isVoxgateError(err, 'VXG_ERR_ENGINE_FAILED') && /boom outside the request/.test(err.message));
    await engine.segment(small(), { classes: [5] });
  });

  test('queues requests for a busy worker and answers each', async () => {
    const results = await Promise.all([engine.segment(small(), { classes: [SLOW] }), engine.segment(small(), { classes: [5] }), engine.segment(small(), { classes: [SLOW] })]);
    assert.equal(results.length, 3);
    for (const r of results) assert.deepEqual(r.dims, [8, 8, 8]);
  });

  test('copies, rather than detaches, an image that is a view into a larger buffer', async () => {
    const backing = new Int16Array(1000).fill(5);
    const data = backing.subarray(100, 100 + 512);
    const labels = await engine.segment(createVolume([8, 8, 8], data, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]), { classes: [5] });
    assert.equal(backing.length, 1000);
    assert.equal(labels.data.filter((v) => v === 1).length, 512);
  });

  test('reports an engine that cannot load as not ready, without respawning forever', async () => {
    const broken = new WorkerEngine({ info: TEST_ENGINE_INFO, module: FIXTURE, factory: 'createTestEngine', factoryOptions: { failLoading: true } });
    try {
      await assert.rejects(broken.whenReady(), (err) => isVoxgateError(err, 'VXG_ERR_ENGINE_NOT_READY') && /no model file/.test(err.message));
      assert.equal(broken.isReady(), false);
      await assert.rejects(broken.segment(small(), { classes: [5] }), (err) => isVoxgateError(err, 'VXG_ERR_ENGINE_NOT_READY'));
    } finally {
      await broken.close();
    }
  });

  test('after close, requests fail with VXG_ERR_ENGINE_NOT_READY', async () => {
    const other = new WorkerEngine({ info: TEST_ENGINE_INFO, module: FIXTURE, factory: 'createTestEngine', poolSize: 2 });
    await other.whenReady();
    const pending = assert.rejects(other.segment(small(), { classes: [SLOW] }), (err) => isVoxgateError(err, 'VXG_ERR_ENGINE_NOT_READY'));
    await other.close();
    await pending;
    await assert.rejects(other.segment(small(), { classes: [5] }), (err) => isVoxgateError(err, 'VXG_ERR_ENGINE_NOT_READY'));
    assert.equal(other.isReady(), false);
  });
});
