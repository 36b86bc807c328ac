/**
 * Engine factory: the configured engine, ready to take requests.
 * @module
 */
import { VoxgateError } from '../errors.js';
import { availableParallelism } from 'node:os';
import { CLASSIC_ENGINE_INFO } from './classic/classic-engine.js';
import type { Engine } from './engine.js';
import { loadModelPackage, onnxEngineInfo } from './onnx/model-package.js';
import type { OnnxEngineOptions } from './onnx/onnx-engine.js';
import { engineModuleUrl, WorkerEngine } from './worker-engine.js';

export interface CreateEngineOptions {
  /** Worker threads, i.e. segmentations that can run at once (default 1). */
  readonly threads?: number;
  /** `onnx`: the model package (a folder with model.json and model.onnx, or the json file). */
  readonly model?: string;
}

/**
 * Builds and loads an engine. `classic` and `onnx` run in worker threads (WorkerEngine); `remote`
 * is not in this version.
 * @example
 * const engine = await createEngine('classic', { threads: 1 });
 * const brain = await createEngine('onnx', { model: 'models/brainchop-gwm' });
 */
export async function createEngine(name: string, options: CreateEngineOptions = {}): Promise<Engine> {
  let engine: WorkerEngine;
  if (name === 'classic') {
    engine = new WorkerEngine({
      info: CLASSIC_ENGINE_INFO,
      module: engineModuleUrl('./classic/classic-engine'),
      factory: 'createClassicEngine',
      poolSize: options.threads ?? 1,
    });
  } else if (name === 'onnx') {
    engine = await createOnnxWorkerEngine(options);
  } else {
    throw new VoxgateError('VXG_ERR_CONFIG_INVALID', `engine ${name} is not available in this version (available: classic, onnx).`);
  }
  try {
    await engine.whenReady();
  } catch (err) {
    await engine.close();
    throw err;
  }
  return engine;
}

/**
 * The onnx engine in worker threads: model.json is read here (the info, and a bad package fails
 * before any thread starts); each worker loads the ONNX graph and checks it against the package,
 * with the cores shared between the workers as onnxruntime intra-op threads.
 */
async function createOnnxWorkerEngine(options: CreateEngineOptions): Promise<WorkerEngine> {
  if (!options.model) {
    throw new VoxgateError('VXG_ERR_CONFIG_INVALID', 'The onnx engine needs a model package: give --model DIR (a folder with model.json and model.onnx).');
  }
  const pkg = await loadModelPackage(options.model);
  const poolSize = options.threads ?? 1;
  const factoryOptions: OnnxEngineOptions = { model: pkg.jsonPath, intraOpThreads: Math.max(1, Math.floor(availableParallelism() / poolSize)) };
  return new WorkerEngine({
    info: onnxEngineInfo(pkg),
    module: engineModuleUrl('./onnx/onnx-engine'),
    factory: 'createOnnxEngine',
    factoryOptions,
    poolSize,
  });
}
