import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import { createEngine } from '../../src/engines/index.js';
import type { GraphValue } from '../../src/engines/onnx/graph-check.js';
import { checkGraph } from '../../src/engines/onnx/graph-check.js';
import { parseModelJson } from '../../src/engines/onnx/model-package.js';
import { createOnnxEngine } from '../../src/engines/onnx/onnx-engine.js';
import type { ErrorCode } from '../../src/errors.js';
import { isVoxgateError } from '../../src/errors.js';
import { pointwiseModel, writeModelPackage } from '../helpers/onnx-models.js';
import { tempDir } from '../helpers/nim-server.js';

/** A valid package description for a 2-channel pointwise model; tests override fields. */
function description(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'bone',
    version: '1',
    license: 'Apache-2.0 (test model)',
    channels: 2,
    labels: [0, { name: 'dense' }],
    input: { orientation: 'RAS', spacing: null, intensity: { type: 'none' } },
    sliding_window: { roi_size: [8, 8, 8] },
    activation: 'softmax',
    ...overrides,
  };
}

function rejectsWith(code: ErrorCode, pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(isVoxgateError(err), `expected a VoxgateError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return true;
  };
}

describe('model.json validation', () => {
  const parse = (json: Record<string, unknown>) => () => parseModelJson(json, '/models/x/model.json');

  test('names new labels 133, 134, … in order and maps channels to labels', () => {
    const pkg = parseModelJson(description({ channels: 4, labels: [0, 6, { name: 'white matter' }, { name: 'grey matter' }] }), '/models/x/model.json');
    assert.deepEqual(pkg.channelLabels, [0, 6, 133, 134]);
    assert.deepEqual(pkg.newLabels, { 133: 'white matter', 134: 'grey matter' });
    assert.deepEqual(pkg.supportedClasses, [6, 133, 134]);
    assert.equal(pkg.modelPath, '/models/x/model.onnx');
  });

  test('axes "ijk" reverses orientation, spacing and window into the tensor’s memory order', () => {
    const pkg = parseModelJson(
      description({ input: { orientation: 'ras', spacing: [1, 2, 3], intensity: { type: 'min-max' }, axes: 'ijk' }, sliding_window: { roi_size: [96, 80, 64] } }),
      '/m/model.json',
    );
    assert.deepEqual(pkg.orientation, ['S', 'A', 'R']);
    assert.deepEqual(pkg.spacing, [3, 2, 1]);
    assert.deepEqual(pkg.windowSize, [64, 80, 96]);
  });

  test('rejects both shape and sliding_window with VXG_ERR_MODEL_INVALID', () => {
    assert.throws(parse(description({ shape: [8, 8, 8] })), rejectsWith('VXG_ERR_MODEL_INVALID', /exactly one of "shape".*"sliding_window"/));
  });

  test('rejects labels that are not one per channel', () => {
    assert.throws(parse(description({ channels: 3 })), rejectsWith('VXG_ERR_MODEL_INVALID', /labels: has 2 entries but the model has 3 channels/));
  });

  test('rejects an axis code that names an axis twice, and an unknown intensity transform', () => {
    assert.throws(parse(description({ input: { orientation: 'RAR', spacing: null, intensity: { type: 'none' } } })), rejectsWith('VXG_ERR_MODEL_INVALID', /input\.orientation/));
    assert.throws(parse(description({ input: { orientation: 'RAS', spacing: null, intensity: { type: 'percentile' } } })), rejectsWith('VXG_ERR_MODEL_INVALID', /input\.intensity/));
  });

  test('rejects a label given to two channels and an unknown field', () => {
    assert.throws(parse(description({ labels: [6, 6] })), rejectsWith('VXG_ERR_MODEL_INVALID', /labels\.1: label 6 is given to more than one channel/));
    assert.throws(parse(description({ overlap: 0.5 })), rejectsWith('VXG_ERR_MODEL_INVALID', /overlap/));
  });
});

describe('model packages against their ONNX graphs', () => {
  let root: { path: string; remove(): Promise<void> };
  before(async () => {
    root = await tempDir('voxgate-onnx-package-');
  });
  after(() => root.remove());
  const pointwise = pointwiseModel([-0.01, 0.01], [0.995, -0.995]);

  test('a package that fits its graph loads, and says what it segments', async () => {
    const dir = await writeModelPackage(join(root.path, 'ok'), pointwise, description());
    const engine = await createOnnxEngine({ model: dir, intraOpThreads: 1 });
    after(() => engine.close());
    assert.equal(engine.info.name, 'onnx');
    assert.deepEqual(engine.info.supportedClasses, [133]);
    assert.deepEqual(engine.info.extraLabels, { 133: 'dense' });
    assert.equal(engine.info.pointPrompts, false);
    assert.match(engine.info.license, /Apache-2.0 \(test model\)/);
  });

  test('a missing folder or ONNX file fails with VXG_ERR_MODEL_NOT_FOUND', async () => {
    await assert.rejects(createOnnxEngine({ model: join(root.path, 'nothing-here') }), rejectsWith('VXG_ERR_MODEL_NOT_FOUND', /does not exist/));
    const dir = await writeModelPackage(join(root.path, 'no-onnx'), null, description());
    await assert.rejects(createOnnxEngine({ model: dir }), rejectsWith('VXG_ERR_MODEL_NOT_FOUND', /model\.onnx.*model_path/));
  });

  test('a model.json that is not JSON fails with VXG_ERR_MODEL_INVALID', async () => {
    const dir = await writeModelPackage(join(root.path, 'bad-json'), pointwise, {});
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'model.json'), '{"name": "x",');
    await assert.rejects(createOnnxEngine({ model: dir }), rejectsWith('VXG_ERR_MODEL_INVALID', /not valid JSON/));
  });

  test('an ONNX file that does not load fails with VXG_ERR_MODEL_LOAD', async () => {
    const dir = await writeModelPackage(join(root.path, 'garbage'), 'this is not a protobuf', description());
    await assert.rejects(createOnnxEngine({ model: dir }), rejectsWith('VXG_ERR_MODEL_LOAD', /onnxruntime cannot load .*model\.onnx/));
    const truncated = await writeModelPackage(join(root.path, 'truncated'), pointwise.subarray(0, pointwise.length - 40), description());
    await assert.rejects(createOnnxEngine({ model: truncated }), rejectsWith('VXG_ERR_MODEL_LOAD', /onnxruntime cannot load/));
  });

  test('an input or output name the graph does not have fails with VXG_ERR_MODEL_GRAPH, naming the graph’s', async () => {
    const dir = await writeModelPackage(join(root.path, 'names'), pointwise, description({ input_name: 'image' }));
    await assert.rejects(createOnnxEngine({ model: dir }), rejectsWith('VXG_ERR_MODEL_GRAPH', /names input "image" .* inputs are "input"/));
    const out = await writeModelPackage(join(root.path, 'out-name'), pointwise, description({ output_name: 'logits' }));
    await assert.rejects(createOnnxEngine({ model: out }), rejectsWith('VXG_ERR_MODEL_GRAPH', /names output "logits" .* outputs are "output"/));
  });

  test('a channel count other than the graph’s fails with VXG_ERR_MODEL_GRAPH', async () => {
    const dir = await writeModelPackage(join(root.path, 'channels'), pointwise, description({ channels: 3, labels: [0, 1, 3] }));
    await assert.rejects(createOnnxEngine({ model: dir }), rejectsWith('VXG_ERR_MODEL_GRAPH', /"channels" is 3 but the output "output" has 2 channels/));
  });

  test('a window size or batch other than the graph’s fixed ones fails with VXG_ERR_MODEL_GRAPH', async () => {
    const fixed = pointwiseModel([1, -1], [0, 0], { spatial: [16, 16, 16], batch: 1 });
    const size = await writeModelPackage(join(root.path, 'size'), fixed, description({ sliding_window: { roi_size: [8, 8, 8] } }));
    await assert.rejects(createOnnxEngine({ model: size }), rejectsWith('VXG_ERR_MODEL_GRAPH', /roi_size" is \[8, 8, 8\].*fixed spatial size \[16, 16, 16\]/));
    const batch = await writeModelPackage(join(root.path, 'batch'), fixed, description({ sliding_window: { roi_size: [16, 16, 16], batch_size: 4 } }));
    await assert.rejects(createOnnxEngine({ model: batch }), rejectsWith('VXG_ERR_MODEL_GRAPH', /fixed batch of 1 .* batches of 4/));
  });

  test('a float64 input, a 4-D tensor or a second input channel fails with VXG_ERR_MODEL_GRAPH', async () => {
    // A Cast to float keeps the graph valid with a float64 input.
    const dir = await writeModelPackage(join(root.path, 'double-input'), pointwiseModel([1, -1], [0, 0], { inputElementType: 11 }), description());
    await assert.rejects(createOnnxEngine({ model: dir }), rejectsWith('VXG_ERR_MODEL_GRAPH', /input "input" is a float64 tensor/));
    const pkg = parseModelJson(description(), '/m/model.json');
    const value = (name: string, shape: (number | string)[]): GraphValue => ({ name, isTensor: true, type: 'float32', shape });
    assert.throws(() => checkGraph(pkg, [value('input', ['b', 1, 8, 8])], [value('output', ['b', 2, 8, 8, 8])]), rejectsWith('VXG_ERR_MODEL_GRAPH', /has shape \[b, 1, 8, 8\]/));
    assert.throws(() => checkGraph(pkg, [value('input', ['b', 3, 8, 8, 8])], [value('output', ['b', 2, 8, 8, 8])]), rejectsWith('VXG_ERR_MODEL_GRAPH', /has 3 channels; Voxgate feeds one/));
    assert.throws(() => checkGraph(pkg, [value('a', ['b', 1, 8, 8, 8]), value('b', ['b', 1, 8, 8, 8])], [value('output', ['b', 2, 8, 8, 8])]), rejectsWith('VXG_ERR_MODEL_GRAPH', /2 inputs \("a", "b"\); set "input_name"/));
    assert.deepEqual(checkGraph(pkg, [value('input', [-1, 1, 'd', 'h', 'w'])], [value('output', [-1, 'c', 'd', 'h', 'w'])]), { inputName: 'input', outputName: 'output', fixedBatch: null });
  });

  test('createEngine reports a graph mismatch from the worker thread with its code', async () => {
    const dir = await writeModelPackage(join(root.path, 'worker'), pointwise, description({ channels: 3, labels: [0, 1, 3] }));
    await assert.rejects(createEngine('onnx', { model: dir }), rejectsWith('VXG_ERR_MODEL_GRAPH', /"channels" is 3/));
    await assert.rejects(createEngine('onnx', {}), rejectsWith('VXG_ERR_CONFIG_INVALID', /needs a model package/));
  });
});
