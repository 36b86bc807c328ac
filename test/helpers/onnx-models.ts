/**
 * Tiny ONNX segmentation networks built in code (onnx-proto), with behaviour a test can compute on
 * its own: 1×1×1 convolutions (pointwise: HU → class scores), a final Sigmoid or Softmax, small
 * 3×3×3 conv nets with seeded weights; and model packages (model.onnx + model.json) written to disk.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import type * as OnnxTypes from 'onnx-proto';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INTS = onnx.AttributeProto.AttributeType.INTS;

export interface ConvLayer {
  /** Output channels. */
  readonly out: number;
  /** Cubic kernel size (odd); padding keeps the spatial size ("same"). */
  readonly kernel: number;
  readonly dilation?: number;
  /** [out, in, k, k, k] row-major. */
  readonly weights: ArrayLike<number>;
  readonly bias: ArrayLike<number>;
  /** ReLU after the layer. */
  readonly relu?: boolean;
}

export interface GraphOptions {
  readonly inputName?: string;
  readonly outputName?: string;
  /** Batch dimension: a number fixes it, a string names a dynamic one (default 'batch'). */
  readonly batch?: number | string;
  /** Spatial dimensions in tensor order (d, h, w): numbers fix them (default: dynamic). */
  readonly spatial?: readonly (number | string)[];
  /** Declared output channels; default: the last layer's (a string makes it dynamic). */
  readonly outputChannels?: number | string;
  /** A final activation node inside the graph. */
  readonly activation?: 'Sigmoid' | 'Softmax';
  /** Declare the input as another element type (e.g. 11 = float64), cast to float inside the graph. */
  readonly inputElementType?: number;
}

function dim(d: number | string): OnnxTypes.onnx.TensorShapeProto.IDimension {
  return typeof d === 'number' ? { dimValue: d } : { dimParam: d };
}

function valueInfo(name: string, shape: readonly (number | string)[], elemType = FLOAT): OnnxTypes.onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: shape.map(dim) } } } };
}

/**
 * A chain of 3D convolutions (input 1 channel) as ONNX bytes.
 * @example
 * const bytes = convModel([{ out: 2, kernel: 1, weights: [-0.01, 0.01], bias: [0, 0] }]);
 */
export function convModel(layers: readonly ConvLayer[], options: GraphOptions = {}): Uint8Array {
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'output';
  const nodes: OnnxTypes.onnx.INodeProto[] = [];
  const initializer: OnnxTypes.onnx.ITensorProto[] = [];
  let current = inputName;
  if (options.inputElementType !== undefined && options.inputElementType !== FLOAT) {
    nodes.push({ opType: 'Cast', name: 'CastInput', input: [inputName], output: ['cast'], attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }] });
    current = 'cast';
  }
  let channels = 1;
  layers.forEach((layer, n) => {
    const dilation = layer.dilation ?? 1;
    const pad = (dilation * (layer.kernel - 1)) / 2;
    if (layer.weights.length !== layer.out * channels * layer.kernel ** 3 || layer.bias.length !== layer.out) {
      throw new RangeError(`layer ${n}: weights/bias sizes do not match ${layer.out}×${channels}×${layer.kernel}³`);
    }
    initializer.push(
      { name: `W${n}`, dims: [layer.out, channels, layer.kernel, layer.kernel, layer.kernel], dataType: FLOAT, floatData: Array.from(layer.weights) },
      { name: `B${n}`, dims: [layer.out], dataType: FLOAT, floatData: Array.from(layer.bias) },
    );
    const last = n === layers.length - 1 && !layer.relu && !options.activation;
    const conv = last ? outputName : `conv${n}`;
    nodes.push({
      opType: 'Conv',
      name: `Conv${n}`,
      input: [current, `W${n}`, `B${n}`],
      output: [conv],
      attribute: [
        { name: 'kernel_shape', type: INTS, ints: [layer.kernel, layer.kernel, layer.kernel] },
        { name: 'pads', type: INTS, ints: [pad, pad, pad, pad, pad, pad] },
        { name: 'dilations', type: INTS, ints: [dilation, dilation, dilation] },
      ],
    });
    current = conv;
    if (layer.relu) {
      const relu = n === layers.length - 1 && !options.activation ? outputName : `relu${n}`;
      nodes.push({ opType: 'Relu', name: `Relu${n}`, input: [current], output: [relu] });
      current = relu;
    }
    channels = layer.out;
  });
  if (options.activation) {
    nodes.push({
      opType: options.activation,
      name: options.activation,
      input: [current],
      output: [outputName],
      ...(options.activation === 'Softmax' ? { attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] } : {}),
    });
  }
  const batch = options.batch ?? 'batch';
  const spatial = options.spatial ?? ['d', 'h', 'w'];
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'voxgate-tests',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'test-net',
      node: nodes,
      initializer,
      input: [valueInfo(inputName, [batch, 1, ...spatial], options.inputElementType)],
      output: [valueInfo(outputName, [batch, options.outputChannels ?? channels, ...spatial])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * A 1×1×1 convolution: channel c = weights[c]·x + bias[c] (pointwise, so any tiling gives the
 * same scores as the whole volume).
 */
export function pointwiseModel(weights: readonly number[], bias: readonly number[], options: GraphOptions = {}): Uint8Array {
  return convModel([{ out: weights.length, kernel: 1, weights, bias }], options);
}

/** A deterministic pseudo-random number generator (mulberry32) for reproducible weights. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A small fully convolutional net: `widths` hidden layers of 3×3×3 convs with ReLU (optionally
 * dilated), then a 1×1×1 conv to `classes` scores; weights from `seed`. Its receptive field
 * reaches Σ dilation voxels from the centre.
 * @example
 * const bytes = convNet({ widths: [8, 8], classes: 3, seed: 1 }); // receptive field 5³
 */
export function convNet(
  config: { widths: readonly number[]; classes: number; seed: number; dilations?: readonly number[]; antisymmetric?: boolean },
  options: GraphOptions = {},
): Uint8Array {
  const random = seededRandom(config.seed);
  const layers: ConvLayer[] = [];
  let channels = 1;
  config.widths.forEach((width, n) => {
    const fan = channels * 27;
    const scale = Math.sqrt(2 / fan);
    layers.push({
      out: width,
      kernel: 3,
      dilation: config.dilations?.[n] ?? 1,
      weights: Array.from({ length: width * fan }, () => (random() * 2 - 1) * scale),
      bias: Array.from({ length: width }, () => (random() - 0.5) * 0.1),
      relu: true,
    });
    channels = width;
  });
  const head = Array.from({ length: config.classes * channels }, () => random() * 2 - 1);
  // Two classes with score₁ = −score₀ bit for bit: the argmax is the sign of score₀, so summing the
  // same score over overlapping windows can never flip it.
  if (config.antisymmetric) head.splice(channels, channels, ...head.slice(0, channels).map((w) => -w));
  layers.push({ out: config.classes, kernel: 1, weights: head, bias: Array.from({ length: config.classes }, () => 0) });
  return convModel(layers, options);
}

/**
 * Writes a model package folder: `model.onnx` (unless `model` is null) and `model.json`.
 * Returns the folder.
 */
export async function writeModelPackage(dir: string, model: Uint8Array | string | null, json: Record<string, unknown>): Promise<string> {
  await mkdir(dir, { recursive: true });
  if (model !== null) await writeFile(join(dir, 'model.onnx'), model);
  await writeFile(join(dir, 'model.json'), `${JSON.stringify(json, null, 2)}\n`);
  return dir;
}
