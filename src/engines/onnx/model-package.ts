/**
 * ONNX model packages: a folder with `model.onnx` and a `model.json` that says how to feed the
 * network and read its output (docs/onnx-models.md has the format and a full example).
 *
 * This module reads and validates `model.json` only (zod); whether it agrees with the ONNX graph is
 * checked where the graph is loaded (graph-check.ts, in the engine's worker thread). It imports no
 * onnxruntime, so the main thread can build the engine's info without loading the native library.
 * @module
 */
import { access, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { VoxgateError } from '../../errors.js';
import type { Orientation } from '../../volume/reorient.js';
import type { Dims } from '../../volume/volume.js';
import type { EngineInfo } from '../engine.js';

/** Highest VISTA3D label index; named new labels get 133, 134, … in the order they appear. */
export const MAX_VISTA3D_INDEX = 132;
export const FIRST_NEW_LABEL = MAX_VISTA3D_INDEX + 1;
/** 255 is "not computed" in every label map, so new labels stop at 254. */
export const LAST_NEW_LABEL = 254;

const positive = z.number().finite().positive();
const count = z.number().int().min(1).max(4096);
const Vec3Schema = z.tuple([positive, positive, positive]);
const DimsSchema = z.tuple([count, count, count]);

const OrientationSchema = z
  .string()
  .regex(/^[RLAPSI]{3}$/i, 'must be three axis letters from R/L, A/P, S/I, e.g. "RAS" or "LIA"')
  .transform((s) => s.toUpperCase())
  .refine((s) => new Set([...s].map((c) => 'RLAPSI'.indexOf(c) >> 1)).size === 3, 'must name each world axis (R/L, A/P, S/I) once');

const IntensitySchema = z.discriminatedUnion('type', [
  z
    .object({
      /** MONAI ScaleIntensityRange(d): [a_min, a_max] → [b_min, b_max], optionally clipped to it. */
      type: z.literal('scale-intensity-range'),
      a_min: z.number().finite(),
      a_max: z.number().finite(),
      b_min: z.number().finite(),
      b_max: z.number().finite(),
      clip: z.boolean().default(false),
    })
    .strict()
    .refine((t) => t.a_max !== t.a_min, 'a_max must differ from a_min'),
  z
    .object({
      /** nnU-Net's CTNormalization: clip to the foreground percentiles, then (x − mean) / std. */
      type: z.literal('ct-zscore'),
      clip: z.tuple([z.number().finite(), z.number().finite()]).refine(([lo, hi]) => lo < hi, 'clip must be [low, high] with low < high'),
      mean: z.number().finite(),
      std: positive,
    })
    .strict(),
  /** Per image: (x − min) / (max − min), so the image spans [0, 1]. */
  z.object({ type: z.literal('min-max') }).strict(),
  /** Raw intensities (e.g. HU) straight into the network. */
  z.object({ type: z.literal('none') }).strict(),
]);

const LabelSchema = z.union([
  z.number().int().min(0).max(MAX_VISTA3D_INDEX),
  z.object({ name: z.string().trim().min(1).max(64) }).strict(),
]);

const SlidingWindowSchema = z
  .object({
    roi_size: DimsSchema,
    /** Fraction of the window shared with its neighbour, as MONAI's sliding_window_inference. */
    overlap: z.number().min(0).lt(1).default(0.25),
    blend: z.enum(['constant', 'gaussian']).default('constant'),
    sigma_scale: positive.default(0.125),
    batch_size: z.number().int().min(1).max(64).default(1),
  })
  .strict();

export const ModelJsonSchema = z
  .object({
    name: z.string().trim().min(1),
    version: z.string().trim().min(1),
    description: z.string().optional(),
    license: z.string().trim().min(1),
    /** The ONNX file, relative to model.json (default `model.onnx` beside it). */
    model_path: z.string().min(1).default('model.onnx'),
    /** Graph input and output names; optional when the graph has exactly one of each. */
    input_name: z.string().min(1).optional(),
    output_name: z.string().min(1).optional(),
    /** Output channels of the network. */
    channels: z.number().int().min(1).max(LAST_NEW_LABEL),
    /** Output channel → VISTA3D label index (0 background) or a new label `{name}`. */
    labels: z.array(LabelSchema).min(1),
    input: z
      .object({
        /** Axis code of the voxel grid the network expects (what each voxel axis i, j, k points to). */
        orientation: OrientationSchema,
        /** Voxel spacing in mm along i, j, k; null keeps the image's own spacing. */
        spacing: Vec3Schema.nullable(),
        intensity: IntensitySchema,
        /**
         * Order of the spatial tensor axes: `kji` (default) = [batch, 1, k, j, i], i fastest, the
         * NIfTI storage order (brainchop, SimpleITK/nnU-Net arrays); `ijk` = [batch, 1, i, j, k], k
         * fastest (MONAI and nibabel arrays).
         */
        axes: z.enum(['kji', 'ijk']).default('kji'),
      })
      .strict(),
    /** Fixed whole-volume input [i, j, k]: the image is centre-cropped/padded to it. */
    shape: DimsSchema.optional(),
    sliding_window: SlidingWindowSchema.optional(),
    activation: z.enum(['softmax', 'sigmoid']),
    /** What the graph outputs: raw scores (default), or probabilities when it ends in Softmax/Sigmoid. */
    output_kind: z.enum(['logits', 'probabilities']).default('logits'),
    /** Sigmoid probability above which a channel's label is written. */
    threshold: z.number().gt(0).lt(1).default(0.5),
    /** Crop to voxels above `threshold` (raw intensity units) plus `margin` voxels before inference. */
    foreground_crop: z.object({ threshold: z.number().finite(), margin: z.number().int().min(0).max(1024).default(0) }).strict().optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if ((m.shape === undefined) === (m.sliding_window === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['shape'], message: 'give exactly one of "shape" (whole-volume input) and "sliding_window"' });
    }
    if (m.labels.length !== m.channels) {
      ctx.addIssue({ code: 'custom', path: ['labels'], message: `has ${m.labels.length} entries but the model has ${m.channels} channels; give one label per channel` });
    }
    if (m.activation === 'softmax' && m.channels < 2) {
      ctx.addIssue({ code: 'custom', path: ['channels'], message: 'softmax needs at least two channels (background and one class); use sigmoid for one channel' });
    }
    const seen = new Set<string>();
    m.labels.forEach((label, channel) => {
      const key = typeof label === 'number' ? String(label) : `name:${label.name.toLowerCase()}`;
      if (label !== 0 && seen.has(key)) {
        ctx.addIssue({ code: 'custom', path: ['labels', channel], message: `label ${JSON.stringify(label)} is given to more than one channel` });
      }
      seen.add(key);
    });
    const named = m.labels.filter((l) => typeof l !== 'number').length;
    if (named > LAST_NEW_LABEL - FIRST_NEW_LABEL + 1) {
      ctx.addIssue({ code: 'custom', path: ['labels'], message: `has ${named} named labels; at most ${LAST_NEW_LABEL - FIRST_NEW_LABEL + 1} fit in 133–254` });
    }
  });

export type ModelJson = z.infer<typeof ModelJsonSchema>;
export type IntensitySpec = ModelJson['input']['intensity'];
export type SlidingWindowSpec = z.infer<typeof SlidingWindowSchema>;

/**
 * A validated package. Geometry fields are in the engine's internal grid order: axis 0 is the
 * tensor's last (fastest) axis, so for `axes: 'ijk'` orientation, spacing, shape and roi are the
 * reverse of what model.json says (a [x, y, z] tensor in RAS is, in memory, a grid in SAR order).
 */
export interface ModelPackage {
  /** Absolute paths. */
  readonly jsonPath: string;
  readonly modelPath: string;
  readonly spec: ModelJson;
  readonly orientation: Orientation;
  readonly spacing: Dims | null;
  /** Fixed input or window size, internal order; the tensor is [batch, 1, size[2], size[1], size[0]]. */
  readonly windowSize: Dims;
  /** Output channel → label index written (0 background). */
  readonly channelLabels: readonly number[];
  /** Named new labels: index (133…) → name. */
  readonly newLabels: Readonly<Record<number, string>>;
  /** Non-zero labels, ascending. */
  readonly supportedClasses: readonly number[];
}

/**
 * Reads and validates a model package: `path` is its folder (holding model.json) or the json file.
 * Throws VXG_ERR_MODEL_NOT_FOUND or VXG_ERR_MODEL_INVALID.
 * @example
 * const pkg = await loadModelPackage('models/brainchop-gwm');
 * pkg.newLabels; // { 133: 'white matter', 134: 'grey matter' }
 */
export async function loadModelPackage(path: string): Promise<ModelPackage> {
  const jsonPath = await modelJsonPath(path);
  let text: string;
  try {
    text = await readFile(jsonPath, 'utf8');
  } catch (err) {
    throw new VoxgateError('VXG_ERR_MODEL_NOT_FOUND', `Cannot read the model description ${jsonPath}: ${(err as Error).message}.`, { cause: err });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new VoxgateError('VXG_ERR_MODEL_INVALID', `${jsonPath} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const pkg = parseModelJson(value, jsonPath);
  try {
    await access(pkg.modelPath);
  } catch (err) {
    throw new VoxgateError('VXG_ERR_MODEL_NOT_FOUND', `The ONNX file ${pkg.modelPath} named by ${jsonPath} (model_path) does not exist or cannot be read.`, { cause: err });
  }
  return pkg;
}

/** Validates a parsed model.json; `jsonPath` anchors `model_path`. Throws VXG_ERR_MODEL_INVALID. */
export function parseModelJson(value: unknown, jsonPath: string): ModelPackage {
  const parsed = ModelJsonSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new VoxgateError('VXG_ERR_MODEL_INVALID', `${jsonPath} is not a valid model description: ${problems}.`);
  }
  const spec = parsed.data;
  const reverse = spec.input.axes === 'ijk';
  const order = <T>(v: readonly [T, T, T]): readonly [T, T, T] => (reverse ? [v[2], v[1], v[0]] : [v[0], v[1], v[2]]);
  const letters = [...spec.input.orientation] as Orientation[number][];
  const channelLabels: number[] = [];
  const newLabels: Record<number, string> = {};
  let next = FIRST_NEW_LABEL;
  for (const label of spec.labels) {
    if (typeof label === 'number') channelLabels.push(label);
    else {
      newLabels[next] = label.name;
      channelLabels.push(next++);
    }
  }
  const window = spec.shape ?? (spec.sliding_window as SlidingWindowSpec).roi_size;
  return {
    jsonPath,
    modelPath: isAbsolute(spec.model_path) ? spec.model_path : resolve(dirname(jsonPath), spec.model_path),
    spec,
    orientation: order([letters[0], letters[1], letters[2]]),
    spacing: spec.input.spacing === null ? null : order(spec.input.spacing),
    windowSize: order(window),
    channelLabels,
    newLabels,
    supportedClasses: [...new Set(channelLabels.filter((l) => l !== 0))].sort((a, b) => a - b),
  };
}

/**
 * What `/v1/vista3d/info` reports for a package: named labels are requested by their index
 * (133, 134, … in model.json order) or by name.
 */
export function onnxEngineInfo(pkg: ModelPackage): EngineInfo {
  const { spec } = pkg;
  const mode = spec.shape ? `whole volume ${spec.shape.join('×')}` : `sliding window ${spec.sliding_window?.roi_size.join('×')}`;
  return {
    name: 'onnx',
    version: spec.version,
    description: `ONNX model "${spec.name}" ${spec.version} (${mode}, ${spec.input.orientation}${spec.input.spacing ? ` ${spec.input.spacing.join('×')} mm` : ''}, ${spec.activation})${spec.description ? `: ${spec.description}` : ''}`,
    supportedClasses: pkg.supportedClasses,
    pointPrompts: false,
    license: `Model "${spec.name}" ${spec.version}:\n${spec.license}`,
    extraLabels: pkg.newLabels,
  };
}

async function modelJsonPath(path: string): Promise<string> {
  const absolute = resolve(path);
  let info;
  try {
    info = await stat(absolute);
  } catch (err) {
    throw new VoxgateError('VXG_ERR_MODEL_NOT_FOUND', `The model package ${absolute} does not exist: give a folder holding model.json and model.onnx.`, { cause: err });
  }
  return info.isDirectory() ? join(absolute, 'model.json') : absolute;
}
