/**
 * The onnx engine's stitching thread, seen from the engine: `session.run` blocks the thread that
 * calls it, so blending a batch's windows in that same thread adds its whole time to the request.
 * Handed to this worker instead (stitch-worker.ts), it runs while the engine's thread runs the
 * network on the next batch. Each batch's output tensor is transferred, not copied, and with it
 * the garbage collection of those buffers (tens of MB per batch; on the engine's thread that was
 * ~150 ms of mark-compacts per segmentation in bench/onnx.ts). The worker writes the labels into
 * the engine's label map, a SharedArrayBuffer.
 *
 * One segmentation at a time (the engine gives a concurrent second request its own in-thread
 * stitcher). The worker does not keep the process alive while idle.
 * @module
 */
import { Worker } from 'node:worker_threads';
import { MODULE_EXTENSION, workerScript } from '../worker-engine.js';
import type { LabelGrid, WorkShare } from './model-grid.js';
import type { StitchReply, StitchRequest, StitchRun } from './stitch-protocol.js';
import type { Triple } from './windows.js';

/** Batches handed over and not yet blended: the memory held is this many output tensors. */
const IN_FLIGHT = 2;


/** The stitching thread failed or died; the engine then blends in its own thread (same labels). */
export class StitchThreadFailure extends Error {
  override readonly name = 'StitchThreadFailure';
}

export class StitchThread {
  readonly #worker: Worker;
  #started = false;
  #inFlight = 0;
  #waitingForRoom?: () => void;
  #finishing?: { readonly resolve: () => void; readonly reject: (err: Error) => void };
  /** Resolvers of `prepare` calls not yet answered, in the order the thread answers them. */
  readonly #preparing: (() => void)[] = [];
  /** The `mapBack` call not yet answered. */
  #mapping?: (done: boolean) => void;
  #dead?: StitchThreadFailure;
  #finished = 0;

  /** `module`: what the worker runs (tests give one that cannot load). */
  constructor(module: URL = new URL(`./stitch-worker${MODULE_EXTENSION}`, import.meta.url)) {
    this.#worker = new Worker(workerScript(module));
    this.#worker.unref();
    this.#worker.on('message', (message: StitchReply) => this.#onReply(message));
    this.#worker.on('error', (err) => this.#die(new StitchThreadFailure(`the stitching thread failed: ${err.message}`, { cause: err })));
    this.#worker.on('exit', (code) => this.#die(new StitchThreadFailure(`the stitching thread exited (code ${code})`)));
  }

  /** False once the worker failed or exited: the engine stitches in its own thread then. */
  get alive(): boolean {
    return this.#dead === undefined;
  }

  /** Segmentations it finished: 0 means it never worked here (a worker that cannot even load). */
  get finished(): number {
    return this.#finished;
  }

  /**
   * Has the thread fault in the pages of `memory` (a view of a SharedArrayBuffer, all zeros) while it
   * has nothing else to do: on these machines the first write to fresh memory costs ~2.6 ms per MB,
   * paid here on an idle core instead of in the engine's last step. Resolves when done, or when the
   * thread died (it writes nothing more then); write into `memory` only after that.
   */
  prepare(memory: Uint8Array): Promise<void> {
    if (!(memory.buffer instanceof SharedArrayBuffer)) throw new TypeError('The stitching thread prepares SharedArrayBuffer memory only.');
    if (this.#dead) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#preparing.push(resolve);
      this.#worker.ref();
      this.#post({ kind: 'prepare', memory });
    });
  }

  /**
   * Has the thread write its share of the label map on the input grid (model-grid.ts
   * labelsToInput; `labels` and `result` views of SharedArrayBuffers). Resolves true when written,
   * false when the thread failed or died before (the caller writes that share itself then).
   */
  mapBack(labels: Uint8Array, result: Uint8Array, grid: LabelGrid, share: WorkShare): Promise<boolean> {
    if (this.#dead || this.#mapping) return Promise.resolve(false);
    const { dims, affine, input, resampled, transform } = grid;
    return new Promise<boolean>((resolve) => {
      this.#mapping = resolve;
      this.#worker.ref();
      this.#post({ kind: 'map-back', labels, result, grid: { dims, affine, input, resampled, transform }, share });
    });
  }

  /** Begins a segmentation's stitching. */
  start(run: StitchRun): void {
    if (!(run.sink.labels.buffer instanceof SharedArrayBuffer)) throw new TypeError('The stitching thread writes labels into a SharedArrayBuffer.');
    this.#assertAlive();
    this.#started = true;
    this.#worker.ref();
    this.#post({ kind: 'start', ...run });
  }

  /**
   * Hands over a batch output [batch, totalChannels, roi k, roi j, roi i] and its windows' origins
   * (in windowOrigins order). `output` is detached by this call: do not read it afterwards.
   */
  async add(output: Float32Array, origins: readonly Triple[]): Promise<void> {
    if (!this.#started) throw new Error('StitchThread.add before start');
    while (this.#inFlight >= IN_FLIGHT) {
      this.#assertAlive();
      await new Promise<void>((resolve) => (this.#waitingForRoom = resolve));
    }
    this.#assertAlive();
    this.#inFlight++;
    const message: StitchRequest = { kind: 'batch', output, origins };
    const whole = output.byteOffset === 0 && output.byteLength === output.buffer.byteLength;
    // A view into a larger buffer (or one that cannot be detached) goes as a copy instead.
    try {
      this.#worker.postMessage(message, whole ? [output.buffer as ArrayBuffer] : []);
    } catch {
      this.#worker.postMessage(message);
    }
  }

  /** Resolves once every slice is labelled; rejects with the worker's failure. */
  finish(): Promise<void> {
    this.#started = false;
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
    if (this.#started) this.finish().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#dead ??= new StitchThreadFailure('the stitching thread was closed');
    await this.#worker.terminate();
  }

  #onReply(message: StitchReply): void {
    switch (message.kind) {
      case 'prepared':
        this.#preparing.shift()?.();
        this.#unrefWhenIdle();
        return;
      case 'mapped':
      case 'map-failed':
        this.#doneMapping(message.kind === 'mapped');
        return;
      case 'blended':
        this.#inFlight--;
        this.#wake();
        return;
      case 'finished':
      case 'failed': {
        const finishing = this.#finishing;
        this.#finishing = undefined;
        this.#inFlight = 0;
        this.#unrefWhenIdle();
        if (message.kind === 'finished') {
          this.#finished++;
          finishing?.resolve();
        } else {
          finishing?.reject(new StitchThreadFailure(`stitching failed in the stitching thread: ${message.message}`));
        }
        return;
      }
    }
  }

  #doneMapping(done: boolean): void {
    const resolve = this.#mapping;
    this.#mapping = undefined;
    this.#unrefWhenIdle();
    resolve?.(done);
  }

  #unrefWhenIdle(): void {
    if (!this.#started && !this.#finishing && !this.#mapping && this.#preparing.length === 0) this.#worker.unref();
  }

  #die(err: StitchThreadFailure): void {
    this.#dead ??= err;
    // A dead thread writes nothing more: the memory it was preparing is the caller's now.
    for (const resolve of this.#preparing.splice(0)) resolve();
    this.#doneMapping(false);
    this.#finishing?.reject(this.#dead);
    this.#finishing = undefined;
    this.#wake();
  }

  #wake(): void {
    const wake = this.#waitingForRoom;
    this.#waitingForRoom = undefined;
    wake?.();
  }

  #assertAlive(): void {
    if (this.#dead) throw this.#dead;
  }

  #post(message: StitchRequest): void {
    this.#worker.postMessage(message);
  }
}
