/**
 * One segmentation request from image reference to encoded label map: fetch → decode → engine →
 * encode. HTTP, the CLI and (later) jobs call this same function.
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine, ProgressCallback } from '../engines/engine.js';
import type { ByteSource } from '../volume/byte-reader.js';
import type { DataType } from '../volume/datatype.js';
import type { VolumeExtension } from '../volume/volume-file.js';
import { encodeVolume, readVolume, volumeStem } from '../volume/volume-file.js';
import type { LabelVolume } from '../volume/volume.js';
import type { ImageSourcePolicy } from './image-source.js';
import { openImage, resolveAllowedPath } from './image-source.js';
import type { NimPrompts } from './prompts.js';
import { checkPointsInside, enginePrompts, resolvePrompts } from './prompts.js';

export interface OutputOptions {
  extension: VolumeExtension;
  dtype: Extract<DataType, 'uint8' | 'int16' | 'float32'>;
}

/** The image: a reference to fetch, or bytes already here (an upload, a local file the CLI read). */
export type ImageInput = { ref: string } | { name: string; body: ByteSource };

export interface InferenceRequest {
  image: ImageInput;
  prompts?: NimPrompts;
  localWorkingDir?: string;
  output: OutputOptions;
}

export interface InferenceLimits {
  policy: ImageSourcePolicy;
  maxDecodedBytes: number;
}

export interface InferenceTiming {
  fetch: number;
  decode: number;
  engine: number;
  encode: number;
}

export interface InferenceResult {
  /** `<stem>_seg<extension>` */
  fileName: string;
  /** The stem of the input file name. */
  stem: string;
  bytes: Buffer;
  labels: LabelVolume;
  engine: string;
  timing: InferenceTiming;
  /** Zero-shot label names given a new index. */
  zeroShot: Readonly<Record<string, number>>;
  /** Names of labels outside VISTA3D's dictionary that the engine writes (index → name). */
  labelNames?: Readonly<Record<number, string>>;
  /** Where the result was also written (local_working_dir), if asked. */
  writtenPath?: string;
  /** The worker that ran it, when the request was handed to the workers (nimInference: workers). */
  worker?: string;
}

export interface InferenceContext {
  engine: Engine;
  limits: InferenceLimits;
  progress?: ProgressCallback;
  signal?: AbortSignal;
}

/** Runs one request. Errors are VoxgateErrors whose status the API maps (spec/nim-api.md). */
export async function runInference(request: InferenceRequest, context: InferenceContext): Promise<InferenceResult> {
  const { engine, limits } = context;
  // Everything that can be checked without the image is checked first: no download for a bad request.
  const resolved = resolvePrompts(request.prompts, engine.info);
  const workingDir = request.localWorkingDir
    ? await resolveAllowedPath(request.localWorkingDir, limits.policy.allowPaths, 'write')
    : undefined;

  const started = performance.now();
  let name: string;
  let body: ByteSource;
  let close = (): void => {};
  if ('ref' in request.image) {
    const fetched = await openImage(request.image.ref, limits.policy, context.signal);
    name = fetched.name;
    body = fetched.body;
    close = () => fetched.close();
  } else {
    name = request.image.name;
    body = request.image.body;
  }
  const fetched = performance.now();
  let volume;
  try {
    volume = await readVolume(body, { maxDecodedBytes: limits.maxDecodedBytes });
  } finally {
    close();
  }
  const decoded = performance.now();

  checkPointsInside(resolved.points, volume.dims);
  const grid = { dims: volume.dims, affine: volume.affine, source: volume.source };
  const labels = await engine.segment(volume, enginePrompts(resolved), context.progress);
  const segmented = performance.now();

  const stem = volumeStem(name);
  const fileName = `${stem}_seg${request.output.extension}`;
  const bytes = await encodeVolume({ ...labels, ...grid }, request.output.extension, { dataType: request.output.dtype, labels: true });
  let writtenPath: string | undefined;
  if (workingDir) {
    await mkdir(workingDir, { recursive: true });
    writtenPath = join(workingDir, fileName);
    await writeFile(writtenPath, bytes);
  }
  const encoded = performance.now();
  return {
    fileName,
    stem,
    bytes,
    labels,
    engine: engine.info.name,
    zeroShot: resolved.zeroShot,
    labelNames: engine.info.extraLabels ?? {},
    writtenPath,
    timing: {
      fetch: fetched - started,
      decode: decoded - fetched,
      engine: segmented - decoded,
      encode: encoded - segmented,
    },
  };
}
