/**
 * Engine factory: the configured engine, ready to take requests.
 * @module
 */
import { VoxgateError } from '../errors.js';
import { CLASSIC_ENGINE_INFO } from './classic/classic-engine.js';
import type { Engine } from './engine.js';
import { engineModuleUrl, WorkerEngine } from './worker-engine.js';

export interface CreateEngineOptions {
  /** Worker threads, i.e. segmentations that can run at once (default 1). */
  readonly threads?: number;
}

/**
 * Builds and loads an engine. `classic` runs in worker threads (WorkerEngine); `onnx` and `remote`
 * are not in this version.
 * @example
 * const engine = await createEngine('classic', { threads: 1 });
 */
export async function createEngine(name: string, options: CreateEngineOptions = {}): Promise<Engine> {
  if (name !== 'classic') {
    throw new VoxgateError('VXG_ERR_CONFIG_INVALID', `engine ${name} is not available in this version (available: classic).`);
  }
  const engine = new WorkerEngine({
    info: CLASSIC_ENGINE_INFO,
    module: engineModuleUrl('./classic/classic-engine'),
    factory: 'createClassicEngine',
    poolSize: options.threads ?? 1,
  });
  try {
    await engine.whenReady();
  } catch (err) {
    await engine.close();
    throw err;
  }
  return engine;
}
