/**
 * Runs an engine's segmentation in `node:worker_threads` workers so the HTTP server's event loop
 * stays free while the CPU works: the image buffer is transferred (not copied) to a worker, progress
 * comes back as messages and the label buffer is transferred back.
 *
 * A small pool (default one worker) is kept alive between requests; requests queue for a free
 * worker in arrival order. A worker that crashes (uncaught error, exit, out of memory) fails only
 * the request it was running, with VXG_ERR_ENGINE_FAILED, and is replaced. A worker whose engine
 * cannot even be loaded is not replaced in a loop: the engine reports not ready and requests fail
 * with VXG_ERR_ENGINE_NOT_READY. Idle workers are unref'd (loading and busy ones are not), so a forgotten
 * engine does not keep a CLI process alive; `close()` terminates them.
 *
 * The worker entry is a sibling of this module: `worker-entry.js` in the tsc build and
 * `worker-entry.ts` under tsx (tests), picked by this file's own extension (see workerScript).
 * @module
 */
import type { ResourceLimits } from 'node:worker_threads';
import { Worker } from 'node:worker_threads';
import type { ErrorCode } from '../errors.js';
import { ErrorCodes, VoxgateError } from '../errors.js';
import type { LabelVolume, Volume } from '../volume/volume.js';
import { createLabelVolume, voxelCount } from '../volume/volume.js';
import type { Engine, EngineInfo, ProgressCallback, SegmentationPrompts } from './engine.js';
import type { SegmentRequest, SerializedError, WorkerInit, WorkerMessage } from './worker-protocol.js';

/** `.ts` when this module runs from source (tsx), `.js` from dist/. */
// The path, not the URL: a module loaded through tsx's API has a query after its name.
export const MODULE_EXTENSION = new URL(import.meta.url).pathname.endsWith('.ts') ? '.ts' : '.js';

/** URL of a module next to this one, with the extension this build uses (`path` without it). */
export function engineModuleUrl(path: string): URL {
  return new URL(`${path}${MODULE_EXTENSION}`, import.meta.url);
}

const WORKER_ENTRY = engineModuleUrl('./worker-entry');

/**
 * What a Worker runs to load the module `entry` (a URL from engineModuleUrl or alike). From dist/
 * that is the module itself. From source, Node 20 does not apply the `--import tsx` hooks
 * (inherited through execArgv) to a worker's entry module, so a one-line ESM bootstrap loads the
 * .ts module through tsx's own API; tsx is then also what loads the modules it imports.
 */
export function workerScript(entry: URL = WORKER_ENTRY): URL {
  if (MODULE_EXTENSION === '.js') return entry;
  const api = import.meta.resolve('tsx/esm/api');
  const href = JSON.stringify(entry.href);
  const code = `import { tsImport } from ${JSON.stringify(api)};\nawait tsImport(${href}, ${href});\n`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

export interface WorkerEngineOptions {
  /** What the inner engine can do (known on the main thread without loading it). */
  readonly info: EngineInfo;
  /** The module each worker imports, and the name of its exported engine factory. */
  readonly module: URL | string;
  readonly factory: string;
  /** Passed to the factory (structured-cloned). */
  readonly factoryOptions?: unknown;
  /** Number of workers (default 1). */
  readonly poolSize?: number;
  readonly resourceLimits?: ResourceLimits;
}

interface Job {
  readonly id: number;
  readonly grid: Pick<Volume, 'dims' | 'affine' | 'source'>;
  readonly request: SegmentRequest;
  readonly transfer: ArrayBuffer[];
  readonly progress?: ProgressCallback;
  readonly resolve: (labels: LabelVolume) => void;
  readonly reject: (err: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  ready: boolean;
  job?: Job;
  /** The last uncaught error the worker reported, for the crash message. */
  error?: Error;
}

/**
 * @example
 * const engine = new WorkerEngine({ info: CLASSIC_ENGINE_INFO, module: engineModuleUrl('./classic/classic-engine'), factory: 'createClassicEngine' });
 * await engine.whenReady();
 * const labels = await engine.segment(volume, { classes: [20] });
 * await engine.close();
 */
export class WorkerEngine implements Engine {
  readonly info: EngineInfo;
  readonly #options: WorkerEngineOptions;
  readonly #poolSize: number;
  readonly #slots = new Set<Slot>();
  readonly #queue: Job[] = [];
  #nextId = 1;
  #closed = false;
  #initError?: SerializedError;
  #readyWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];

  constructor(options: WorkerEngineOptions) {
    const poolSize = options.poolSize ?? 1;
    if (!Number.isInteger(poolSize) || poolSize < 1) {
      throw new VoxgateError('VXG_ERR_CONFIG_INVALID', `The engine's worker pool size must be a positive integer, not ${poolSize}.`);
    }
    this.info = options.info;
    this.#options = options;
    this.#poolSize = poolSize;
    for (let n = 0; n < poolSize; n++) this.#spawn();
  }

  /** True while a worker has loaded the engine and the engine is not closed. */
  isReady(): boolean {
    return !this.#closed && [...this.#slots].some((s) => s.ready);
  }

  /**
   * Resolves once a worker has loaded the engine. Rejects with the loading error itself when it
   * carries a Voxgate code (e.g. VXG_ERR_MODEL_GRAPH, so a bad model says what is wrong at start),
   * with VXG_ERR_ENGINE_NOT_READY otherwise.
   */
  whenReady(): Promise<void> {
    if (this.isReady()) return Promise.resolve();
    if (this.#initError || this.#closed) return Promise.reject(this.#loadError());
    return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }));
  }

  segment(volume: Volume, prompts: SegmentationPrompts, progress?: ProgressCallback): Promise<LabelVolume> {
    if (this.#closed || this.#initError) return Promise.reject(this.#notReady());
    const { data } = volume;
    let payload = data;
    let transfer: ArrayBuffer[] = [];
    if (data.buffer instanceof ArrayBuffer) {
      // Transfer the whole buffer only when the array owns all of it; a view into a larger buffer
      // (a pooled Buffer, a slice of a file) is copied so the rest of that buffer stays intact.
      if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) payload = data.slice();
      transfer = [payload.buffer as ArrayBuffer];
    }
    const id = this.#nextId++;
    return new Promise<LabelVolume>((resolve, reject) => {
      this.#queue.push({
        id,
        grid: { dims: volume.dims, affine: volume.affine, source: volume.source },
        request: { type: 'segment', id, dims: volume.dims, affine: [...volume.affine], dataType: volume.dataType, data: payload, prompts: structuredClone(prompts) },
        transfer,
        progress,
        resolve,
        reject,
      });
      this.#pump();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closing = new VoxgateError('VXG_ERR_ENGINE_NOT_READY', `The ${this.info.name} engine is shutting down.`);
    for (const job of this.#queue.splice(0)) job.reject(closing);
    for (const w of this.#readyWaiters.splice(0)) w.reject(closing);
    const slots = [...this.#slots];
    for (const slot of slots) {
      slot.job?.reject(closing);
      slot.job = undefined;
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
    this.#slots.clear();
  }

  /** Why loading failed: the coded error a worker reported, or VXG_ERR_ENGINE_NOT_READY. */
  #loadError(): VoxgateError {
    const code = this.#initError?.code;
    if (!this.#closed && this.#initError && code !== undefined && code in ErrorCodes) return deserializeError(this.#initError);
    return this.#notReady();
  }

  #notReady(): VoxgateError {
    if (this.#closed) return new VoxgateError('VXG_ERR_ENGINE_NOT_READY', `The ${this.info.name} engine is closed.`);
    return new VoxgateError('VXG_ERR_ENGINE_NOT_READY', `The ${this.info.name} engine could not be loaded in its worker thread: ${this.#initError?.message ?? 'unknown error'}`);
  }

  #spawn(): void {
    const init: WorkerInit = {
      module: String(this.#options.module instanceof URL ? this.#options.module.href : this.#options.module),
      factory: this.#options.factory,
      options: this.#options.factoryOptions,
    };
    // Referenced while loading and while busy; unref'd when idle (see #onMessage).
    const worker = new Worker(workerScript(), { workerData: init, resourceLimits: this.#options.resourceLimits });
    const slot: Slot = { worker, ready: false };
    this.#slots.add(slot);
    worker.on('message', (message: WorkerMessage) => this.#onMessage(slot, message));
    worker.on('error', (err) => {
      slot.error = err;
    });
    worker.on('messageerror', (err) => {
      slot.error = err;
    });
    worker.on('exit', (code) => this.#onExit(slot, code));
  }

  #onMessage(slot: Slot, message: WorkerMessage): void {
    switch (message.type) {
      case 'ready':
        slot.ready = true;
        slot.worker.unref();
        for (const w of this.#readyWaiters.splice(0)) w.resolve();
        this.#pump();
        return;
      case 'init-error':
        this.#initError = message.error;
        for (const w of this.#readyWaiters.splice(0)) w.reject(this.#loadError());
        void slot.worker.terminate();
        return;
      case 'progress':
        if (slot.job?.id === message.id) slot.job.progress?.(message.fraction, message.stage);
        return;
      case 'result':
      case 'error': {
        const job = slot.job;
        if (job?.id !== message.id) return;
        slot.job = undefined;
        slot.worker.unref();
        if (message.type === 'error') job.reject(deserializeError(message.error));
        else if (message.data.length !== voxelCount(job.grid.dims)) {
          job.reject(new VoxgateError('VXG_ERR_ENGINE_FAILED', `The ${this.info.name} engine returned ${message.data.length} labels for ${voxelCount(job.grid.dims)} voxels.`));
        } else job.resolve(createLabelVolume(job.grid, message.data));
        this.#pump();
        return;
      }
    }
  }

  #onExit(slot: Slot, code: number): void {
    this.#slots.delete(slot);
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      const why = slot.error ? `: ${slot.error.message}` : '';
      job.reject(
        new VoxgateError(
          'VXG_ERR_ENGINE_FAILED',
          `The ${this.info.name} engine's worker thread stopped while segmenting (exit code ${code}${why}); this request failed and the worker was replaced.`,
          { cause: slot.error },
        ),
      );
    }
    if (this.#closed) return;
    if (this.#initError) {
      // Loading failed: nothing will take the queued requests.
      for (const queued of this.#queue.splice(0)) queued.reject(this.#notReady());
      return;
    }
    if (!slot.ready) {
      this.#initError = { name: 'Error', message: slot.error?.message ?? `the worker exited with code ${code} before it was ready` };
      for (const w of this.#readyWaiters.splice(0)) w.reject(this.#notReady());
      for (const queued of this.#queue.splice(0)) queued.reject(this.#notReady());
      return;
    }
    this.#spawn();
    this.#pump();
  }

  #pump(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (!slot.ready || slot.job) continue;
      const job = this.#queue.shift() as Job;
      slot.job = job;
      slot.worker.ref();
      try {
        slot.worker.postMessage(job.request, job.transfer);
      } catch (err) {
        slot.job = undefined;
        job.reject(new VoxgateError('VXG_ERR_ENGINE_FAILED', `Could not hand the image to the ${this.info.name} engine's worker: ${(err as Error).message}`, { cause: err }));
      }
    }
    if (this.#slots.size < this.#poolSize && !this.#closed && !this.#initError) this.#spawn();
  }
}

/** Rebuilds a VoxgateError (same code and status) from its message form; anything else becomes VXG_ERR_ENGINE_FAILED. */
export function deserializeError(error: SerializedError): VoxgateError {
  if (error.code !== undefined && error.code in ErrorCodes) {
    return new VoxgateError(error.code as ErrorCode, error.message, error.statusCode === undefined ? {} : { statusCode: error.statusCode });
  }
  return new VoxgateError('VXG_ERR_ENGINE_FAILED', `The engine failed: ${error.message}`);
}
