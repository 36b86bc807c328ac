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
import type { RemoteEngineOptions, RemoteUpload } from './remote/remote-engine.js';
import { RemoteEngine } from './remote/remote-engine.js';
import type { RemoteInputs } from './remote/remote-inputs.js';
import { engineModuleUrl, WorkerEngine } from './worker-engine.js';

export interface CreateEngineOptions {
  /** Worker threads, i.e. segmentations that can run at once (default 1). */
  readonly threads?: number;
  /** `onnx`: the model package (a folder with model.json and model.onnx, or the json file). */
  readonly model?: string;
  /** `remote`: the server to forward to, and how. */
  readonly remote?: Partial<RemoteEngineOptions>;
}

/** The engine settings of a configuration (the subset of Config that engines read). */
export interface EngineSettings {
  readonly engineThreads: number;
  readonly model?: string;
  readonly remoteUrl?: string;
  readonly remoteToken?: string;
  readonly remoteTimeoutMs: number;
  readonly remoteAttempts: number;
  readonly remoteUpload: RemoteUpload;
  readonly publicUrl?: string;
}

/**
 * Engine options from the configuration. `inputs` is given by a process that serves HTTP, so that
 * a remote NIM can fetch images from it (remoteUpload `url`).
 */
export function engineOptions(config: EngineSettings, inputs?: RemoteInputs): CreateEngineOptions {
  return {
    threads: config.engineThreads,
    model: config.model,
    remote: {
      url: config.remoteUrl,
      token: config.remoteToken,
      timeoutMs: config.remoteTimeoutMs,
      attempts: config.remoteAttempts,
      upload: config.remoteUpload,
      publicUrl: config.publicUrl,
      inputs,
    },
  };
}

/**
 * Builds and loads an engine. `classic` and `onnx` run in worker threads (WorkerEngine); `remote`
 * forwards to another NIM-compatible server from this thread (it only waits on the network).
 * @example
 * const engine = await createEngine('classic', { threads: 1 });
 * const brain = await createEngine('onnx', { model: 'models/brainchop-gwm' });
 * const gpu = await createEngine('remote', { remote: { url: 'http://gpu-box:8000' } });
 */
export async function createEngine(name: string, options: CreateEngineOptions = {}): Promise<Engine> {
  if (name === 'remote') {
    const url = options.remote?.url;
    if (!url) throw new VoxgateError('VXG_ERR_CONFIG_INVALID', 'The remote engine needs the server to forward to: give --remote-url URL (e.g. http://gpu-box:8000).');
    return RemoteEngine.start({ ...options.remote, url });
  }
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
    throw new VoxgateError('VXG_ERR_CONFIG_INVALID', `engine ${name} is not available (available: classic, onnx, remote).`);
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
