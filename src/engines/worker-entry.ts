/**
 * The worker-thread side of WorkerEngine: loads the inner engine named by `workerData` (a module
 * URL and factory name), answers 'ready', then segments one request at a time, posting progress and
 * transferring the label buffer back. Errors go back as messages with their VoxgateError code; a
 * crash (uncaught error, exit) is noticed by the main thread through the worker's events.
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createVolume } from '../volume/volume.js';
import type { Engine } from './engine.js';
import type { SegmentRequest, WorkerInit, WorkerMessage } from './worker-protocol.js';
import { serializeError } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('worker-entry must run in a worker thread');
const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

const init = workerData as WorkerInit;
let engine: Engine | undefined;
try {
  const module = (await import(init.module)) as Record<string, unknown>;
  const factory = module[init.factory];
  if (typeof factory !== 'function') throw new Error(`${init.module} has no export ${init.factory}`);
  engine = (await (factory as (options: unknown) => Engine | Promise<Engine>)(init.options));
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'init-error', error: serializeError(err) });
}

if (engine) {
  const inner = engine;
  port.on('message', (request: SegmentRequest) => void handle(inner, request));
}

async function handle(inner: Engine, request: SegmentRequest): Promise<void> {
  try {
    const volume = createVolume(request.dims, request.data, request.affine);
    const labels = await inner.segment(volume, request.prompts, (fraction, stage) => post({ type: 'progress', id: request.id, fraction, stage }));
    const data = labels.data;
    const transferable = data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
    post({ type: 'result', id: request.id, data }, transferable ? [data.buffer as ArrayBuffer] : []);
  } catch (err) {
    post({ type: 'error', id: request.id, error: serializeError(err) });
  }
}
