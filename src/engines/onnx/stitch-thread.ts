/**
 * The onnx engine's stitching thread, seen from the engine: `session.run` blocks the thread that
 * calls it, so blending a batch's windows in that same thread adds its whole time to the request.
 * Handed to this worker instead (stitch-worker.ts), it runs while the engine's thread runs the
 * network on the next batch. The engine copies each window's accumulated channels into one of a
 * few buffers that travel to the worker and back (transferred, never cloned); the worker writes
 * the labels into the engine's label map, a SharedArrayBuffer.
 *
 * One segmentation at a time (the engine gives a concurrent second request its own in-thread
 * stitcher). The worker does not keep the process alive while idle.
 * @module
 */
import { Worker } from 'node:worker_threads';
import type { Dims } from '../../volume/volume.js';
import { MODULE_EXTENSION, workerScript } from '../worker-engine.js';
import type { LabelSinkOptions } from './activation.js';
import type { StitchReply, StitchRequest } from './stitch-protocol.js';
import type { Triple } from './windows.js';

/** Window buffers in circulation: one being filled, one being blended, one in flight. */
const BUFFERS = 3;

export interface StitchThreadRun {
  readonly region: Dims;
  readonly roi: Dims;
  /** Output channels to accumulate, by index into the network's channels. */
  readonly channels: readonly number[];
  readonly totalChannels: number;
  readonly weights?: Float32Array;
  readonly weightSum: boolean;
  /** `labels` must be a view of a SharedArrayBuffer. */
  readonly sink: LabelSinkOptions;
}

export class StitchThread {
  readonly #worker: Worker;
  #run?: StitchThreadRun;
  #windowFloats = 0;
  #created = 0;
  #free: Float32Array[] = [];
  #waitingForBuffer?: () => void;
  #finishing?: { readonly resolve: () => void; readonly reject: (err: Error) => void };
  #dead?: Error;

  constructor() {
    this.#worker = new Worker(workerScript(new URL(`./stitch-worker${MODULE_EXTENSION}`, import.meta.url)));
    this.#worker.unref();
    this.#worker.on('message', (message: StitchReply) => this.#onReply(message));
    this.#worker.on('error', (err) => this.#die(err));
    this.#worker.on('exit', (code) => this.#die(new Error(`the stitching thread exited (code ${code})`)));
  }

  /** False once the worker failed or exited: the engine stitches in its own thread then. */
  get alive(): boolean {
    return this.#dead === undefined;
  }

  /** Begins a segmentation's stitching. */
  start(run: StitchThreadRun): void {
    if (!(run.sink.labels.buffer instanceof SharedArrayBuffer)) throw new TypeError('The stitching thread writes labels into a SharedArrayBuffer.');
    this.#assertAlive();
    const floats = run.channels.length * run.roi[0] * run.roi[1] * run.roi[2];
    if (floats !== this.#windowFloats) {
      this.#windowFloats = floats;
      this.#free = [];
      this.#created = 0;
    }
    this.#run = run;
    this.#worker.ref();
    const { region, roi, weights, weightSum, sink } = run;
    this.#post({ kind: 'start', region, roi, channels: run.channels.length, weights, weightSum, sink });
  }

  /** Sends window `b` of a batch output [batch, totalChannels, roi k, roi j, roi i]. */
  async add(output: Float32Array, b: number, origin: Triple): Promise<void> {
    const run = this.#run;
    if (!run) throw new Error('StitchThread.add before start');
    const buffer = await this.#buffer();
    const voxels = run.roi[0] * run.roi[1] * run.roi[2];
    run.channels.forEach((channel, c) => {
      const from = (b * run.totalChannels + channel) * voxels;
      buffer.set(output.subarray(from, from + voxels), c * voxels);
    });
    this.#post({ kind: 'window', data: buffer, origin }, [buffer.buffer as ArrayBuffer]);
  }

  /** Resolves once every slice is labelled; rejects with the worker's failure. */
  finish(): Promise<void> {
    this.#run = undefined;
    return new Promise<void>((resolve, reject) => {
      if (this.#dead) {
        reject(this.#dead);
        return;
      }
      this.#finishing = { resolve, reject };
      this.#post({ kind: 'finish' });
    });
  }

  /** Ends a segmentation that will not finish (the network failed): its result is not wanted. */
  abandon(): void {
    if (this.#run) this.finish().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#dead ??= new Error('the stitching thread was closed');
    await this.#worker.terminate();
  }

  async #buffer(): Promise<Float32Array> {
    for (;;) {
      this.#assertAlive();
      const free = this.#free.pop();
      if (free) return free;
      if (this.#created < BUFFERS) {
        this.#created++;
        return new Float32Array(this.#windowFloats);
      }
      await new Promise<void>((resolve) => (this.#waitingForBuffer = resolve));
    }
  }

  #onReply(message: StitchReply): void {
    switch (message.kind) {
      case 'free':
        // A buffer of an earlier segmentation's window size is dropped.
        if (message.data.length === this.#windowFloats) this.#free.push(message.data);
        this.#wake();
        return;
      case 'finished':
      case 'failed': {
        const finishing = this.#finishing;
        this.#finishing = undefined;
        this.#worker.unref();
        if (message.kind === 'finished') finishing?.resolve();
        else finishing?.reject(new Error(message.message));
        return;
      }
    }
  }

  #die(err: Error): void {
    this.#dead ??= err;
    this.#finishing?.reject(this.#dead);
    this.#finishing = undefined;
    this.#wake();
  }

  #wake(): void {
    const wake = this.#waitingForBuffer;
    this.#waitingForBuffer = undefined;
    wake?.();
  }

  #assertAlive(): void {
    if (this.#dead) throw this.#dead;
  }

  #post(message: StitchRequest, transfer: ArrayBuffer[] = []): void {
    this.#worker.postMessage(message, transfer);
  }
}
