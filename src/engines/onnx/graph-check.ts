/**
 * Checks a model package against its ONNX graph's inputs and outputs (onnxruntime's session
 * metadata), so a model.json that does not fit its network fails when the engine starts, with a
 * message that says what the graph has, instead of at the first request.
 * @module
 */
import { VoxgateError } from '../../errors.js';
import type { ModelPackage } from './model-package.js';

/** One graph input or output as onnxruntime describes it (`session.inputMetadata[n]`). */
export interface GraphValue {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  /** Numbers are fixed sizes; strings (or negative numbers) are symbolic (dynamic) dimensions. */
  readonly shape?: readonly (number | string)[];
}

/** How the engine talks to the graph once it has been checked. */
export interface GraphBinding {
  readonly inputName: string;
  readonly outputName: string;
  /** The graph's fixed batch size, or null when the batch dimension is dynamic. */
  readonly fixedBatch: number | null;
}

/**
 * Throws VXG_ERR_MODEL_GRAPH when `pkg` disagrees with the graph: input/output names, float32 5-D
 * tensors [batch, channels, d, h, w], one input channel, the output channel count and the window
 * size where the graph fixes them, and a fixed batch other than the batch size the package uses.
 * @example
 * const binding = checkGraph(pkg, session.inputMetadata, session.outputMetadata);
 */
export function checkGraph(pkg: ModelPackage, inputs: readonly GraphValue[], outputs: readonly GraphValue[]): GraphBinding {
  const where = pkg.jsonPath;
  const input = pick('input', pkg.spec.input_name, inputs, where);
  const output = pick('output', pkg.spec.output_name, outputs, where);
  const [w0, w1, w2] = pkg.windowSize;
  const spatial = [w2, w1, w0];
  const batch = pkg.spec.sliding_window?.batch_size ?? 1;
  const inShape = tensorShape('input', input, where);
  const outShape = tensorShape('output', output, where);
  const fail = (message: string): never => {
    throw new VoxgateError('VXG_ERR_MODEL_GRAPH', `${where} does not match its ONNX graph: ${message}`);
  };
  if (isFixed(inShape[1]) && inShape[1] !== 1) fail(`the input "${input.name}" has ${inShape[1]} channels; Voxgate feeds one image channel.`);
  if (isFixed(outShape[1]) && outShape[1] !== pkg.spec.channels) {
    fail(`"channels" is ${pkg.spec.channels} but the output "${output.name}" has ${outShape[1]} channels (shape ${describe(outShape)}).`);
  }
  const what = pkg.spec.shape ? '"shape"' : '"sliding_window.roi_size"';
  const given = (pkg.spec.shape ?? pkg.spec.sliding_window?.roi_size ?? []).join(', ');
  for (const [name, shape] of [[input.name, inShape], [output.name, outShape]] as const) {
    for (let a = 0; a < 3; a++) {
      const size = shape[2 + a];
      if (isFixed(size) && size !== spatial[a]) {
        fail(`${what} is [${given}] (axes "${pkg.spec.input.axes}") but "${name}" has fixed spatial size ${describe(shape.slice(2))}.`);
      }
    }
  }
  let fixedBatch: number | null = null;
  for (const shape of [inShape, outShape]) {
    if (isFixed(shape[0])) {
      if (shape[0] !== batch) fail(`the graph has a fixed batch of ${shape[0]} but the package runs batches of ${batch} (sliding_window.batch_size).`);
      fixedBatch = shape[0];
    }
  }
  return { inputName: input.name, outputName: output.name, fixedBatch };
}

/** Checks one run's output dims: [batch, channels, window d, h, w]. */
export function checkOutputDims(pkg: ModelPackage, dims: readonly number[], batch: number): void {
  const [w0, w1, w2] = pkg.windowSize;
  const expected = [batch, pkg.spec.channels, w2, w1, w0];
  if (dims.length !== 5 || dims.some((d, n) => d !== expected[n])) {
    throw new VoxgateError(
      'VXG_ERR_MODEL_GRAPH',
      `The ONNX model "${pkg.spec.name}" returned an output of shape [${dims.join(', ')}] for an input of [${[batch, 1, w2, w1, w0].join(', ')}]; expected [${expected.join(', ')}] (one score per channel and input voxel).`,
    );
  }
}

function pick(kind: 'input' | 'output', wanted: string | undefined, values: readonly GraphValue[], where: string): GraphValue {
  const names = values.map((v) => `"${v.name}"`).join(', ');
  if (wanted !== undefined) {
    const found = values.find((v) => v.name === wanted);
    if (!found) throw new VoxgateError('VXG_ERR_MODEL_GRAPH', `${where} names ${kind} "${wanted}" (${kind}_name) but the ONNX graph's ${kind}s are ${names}.`);
    return found;
  }
  if (values.length !== 1) {
    throw new VoxgateError('VXG_ERR_MODEL_GRAPH', `The ONNX graph has ${values.length} ${kind}s (${names}); set "${kind}_name" in ${where} to the one to use.`);
  }
  return values[0];
}

function tensorShape(kind: string, value: GraphValue, where: string): readonly (number | string)[] {
  if (!value.isTensor || value.type !== 'float32') {
    throw new VoxgateError('VXG_ERR_MODEL_GRAPH', `${where}: the graph ${kind} "${value.name}" is ${value.isTensor ? `a ${value.type} tensor` : 'not a tensor'}; Voxgate feeds and reads float32 tensors.`);
  }
  const shape = value.shape ?? [];
  if (shape.length !== 5) {
    throw new VoxgateError(
      'VXG_ERR_MODEL_GRAPH',
      `${where}: the graph ${kind} "${value.name}" has shape ${describe(shape)}; a 3D segmentation network takes and returns [batch, channels, d, h, w].`,
    );
  }
  return shape;
}

function isFixed(d: number | string): d is number {
  return typeof d === 'number' && d >= 0;
}

function describe(shape: readonly (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}
