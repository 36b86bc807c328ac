/**
 * The worker side of NIM inferences handed to workers (inference-task.ts): claims tasks oldest
 * first, up to `concurrency` at once, renews each lease while it runs, runs `runInference` on the
 * image in the shared task folder with this worker's engine, writes the label file beside it and
 * records the outcome. An error the server should answer with (a bad prompt, an image that is not
 * CT) is recorded with its code; the server turns it back into the same HTTP answer.
 * @module
 */
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Engine } from '../engines/engine.js';
import { isVoxgateError } from '../errors.js';
import { runInference } from '../pipeline/inference.js';
import type { InferenceTask, InferenceTaskOutcome } from './inference-task.js';
import { inferenceTaskFolder } from './inference-task.js';
import type { JobStore } from './job-store.js';
import type { RunnerLog } from './runner.js';

export interface InferenceTaskRunnerOptions {
  readonly store: JobStore;
  readonly engine: Engine;
  readonly dataDir: string;
  /** Decoded-size cap, as for local inference (config `maxDecodedBytes`). */
  readonly maxDecodedBytes: number;
  /** Tasks run at once (config `inferenceConcurrency`). */
  readonly concurrency?: number;
  /** Lease length; renewed every third of it (default 30 s). */
  readonly leaseMs?: number;
  /** How often an idle runner looks for tasks when no notice comes (default 1 s). */
  readonly pollMs?: number;
  /** A task taken this many times without ending (its workers died) is ended with VXG_ERR_JOB_INTERRUPTED (default 3). */
  readonly maxClaims?: number;
  readonly owner?: string;
  readonly log?: RunnerLog;
}

const SILENT: RunnerLog = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * @example
 * const tasks = new InferenceTaskRunner({ store, engine, dataDir, maxDecodedBytes: 1.5e9 });
 * tasks.start();
 * // … on shutdown (waits for the running inferences: they are requests someone is waiting on)
 * await tasks.stop();
 */
export class InferenceTaskRunner {
  readonly owner: string;
  readonly #options: InferenceTaskRunnerOptions;
  readonly #log: RunnerLog;
  readonly #active = new Set<Promise<void>>();
  #stopped = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #unwatch: (() => void) | undefined;

  constructor(options: InferenceTaskRunnerOptions) {
    this.#options = options;
    this.#log = options.log ?? SILENT;
    this.owner = options.owner ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  }

  start(): void {
    this.#unwatch ??= this.#options.store.watch('tasks', () => this.notify());
    this.#loop ??= this.#run();
  }

  notify(): void {
    this.#wake?.();
  }

  /** Stops claiming and waits for the running tasks to end. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unwatch?.();
    this.notify();
    await this.#loop;
    await Promise.allSettled([...this.#active]);
  }

  async #run(): Promise<void> {
    const { concurrency = 1, pollMs = 1000 } = this.#options;
    while (!this.#stopped) {
      while (this.#active.size < concurrency && !this.#stopped) {
        let task: InferenceTask | undefined;
        try {
          task = await this.#options.store.claimTask(this.owner, this.#options.leaseMs ?? 30_000);
        } catch (err) {
          this.#log.error({ err }, 'could not claim an inference task');
        }
        if (!task) break;
        const running: Promise<void> = this.#runTask(task).finally(() => {
          this.#active.delete(running);
          this.notify();
        });
        this.#active.add(running);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = done;
        if (this.#stopped) done();
      });
      this.#wake = undefined;
    }
  }

  async #runTask(task: InferenceTask): Promise<void> {
    const { store, engine, dataDir, leaseMs = 30_000, maxClaims = 3 } = this.#options;
    const controller = new AbortController();
    const heartbeat = setInterval(() => {
      store.renewTask(task.taskId, this.owner, leaseMs).then(
        (held) => {
          if (!held) controller.abort();
        },
        (err: unknown) => this.#log.warn({ err, taskId: task.taskId }, 'inference task lease renewal failed'),
      );
    }, Math.max(50, Math.floor(leaseMs / 3)));
    const folder = inferenceTaskFolder(dataDir, task.taskId);
    let outcome: InferenceTaskOutcome;
    try {
      if (task.claims > maxClaims) {
        outcome = { ok: false, worker: this.owner, code: 'VXG_ERR_JOB_INTERRUPTED', message: `The inference was interrupted ${task.claims - 1} times (each worker running it stopped); it is not tried again.` };
      } else {
        const { request } = task;
        const result = await runInference(
          { image: { name: request.input.split('/').pop() ?? 'image', body: createReadStream(join(folder, request.input)) }, prompts: request.prompts, output: request.output },
          {
            engine,
            // The image is a local file given as bytes: the fetch policy is never consulted.
            limits: { maxDecodedBytes: this.#options.maxDecodedBytes, policy: { allowPaths: [], allowHosts: [], maxImageBytes: 0, timeoutMs: 0 } },
            signal: controller.signal,
          },
        );
        await writeFile(join(folder, result.fileName), result.bytes);
        const { fileName, stem, timing, zeroShot } = result;
        outcome = { ok: true, worker: this.owner, fileName, stem, engine: result.engine, timing, zeroShot, labelNames: result.labelNames ?? {} };
      }
    } catch (err) {
      if (isVoxgateError(err)) outcome = { ok: false, worker: this.owner, code: err.code, message: err.message };
      else {
        this.#log.error({ err, taskId: task.taskId }, 'inference task failed');
        outcome = { ok: false, worker: this.owner, code: 'VXG_ERR_INTERNAL', message: 'Internal error; the worker log has the details.' };
      }
    } finally {
      clearInterval(heartbeat);
    }
    try {
      await store.finishTask(task.taskId, this.owner, outcome);
    } catch (err) {
      // Lease lost (another worker runs it now) or the server gave up and deleted it.
      this.#log.warn({ err, taskId: task.taskId }, 'could not record the inference task outcome');
    }
  }
}
