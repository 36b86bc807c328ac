/**
 * The answering server's side of NIM inferences handed to workers (`nimInference: workers`,
 * inference-task.ts): fetches the image once (the server's network policy
 * applies, as for local inference) into the shared task folder, queues a task, waits for a worker to
 * end it — woken by `watch('task-ended')`, checked every `pollMs` besides — and builds the same
 * `InferenceResult` the local path gives, so the route answers identically either way.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ErrorCode } from '../errors.js';
import { ErrorCodes, VoxgateError } from '../errors.js';
import { resolveAllowedPath, openImage } from '../pipeline/image-source.js';
import type { InferenceContext, InferenceRequest, InferenceResult } from '../pipeline/inference.js';
import type { ByteSource } from '../volume/byte-reader.js';
import { readVolume } from '../volume/volume-file.js';
import type { LabelVolume } from '../volume/volume.js';
import type { InferenceTask } from './inference-task.js';
import { inferenceTaskFolder } from './inference-task.js';
import type { JobStore } from './job-store.js';

export interface OffloadOptions {
  readonly store: JobStore;
  readonly dataDir: string;
  /** How long a request waits for a worker to end its task (config `nimWorkerTimeoutMs`). */
  readonly timeoutMs: number;
  /** How often the task is checked when no notice comes (default 1 s). */
  readonly pollMs?: number;
}

export type InferenceRunner = (request: InferenceRequest, context: InferenceContext) => Promise<InferenceResult>;

/**
 * @example
 * const run = offloadedInference({ store, dataDir: config.dataDir, timeoutMs: 600_000 });
 * const result = await run(request, { engine, limits, signal });
 */
export function offloadedInference(options: OffloadOptions): InferenceRunner {
  return async (request, context) => {
    const { store, dataDir } = options;
    const { limits } = context;
    // Prompts are checked by the worker, against its engine (the one that will run them; servers
    // with --no-worker may be configured with another); its errors come back as they are.
    const workingDir = request.localWorkingDir ? await resolveAllowedPath(request.localWorkingDir, limits.policy.allowPaths, 'write') : undefined;
    const taskId = randomUUID();
    const folder = inferenceTaskFolder(dataDir, taskId);
    try {
      const started = performance.now();
      await mkdir(join(folder, 'input'), { recursive: true });
      let name: string;
      let body: ByteSource;
      let close = (): void => {};
      if ('ref' in request.image) {
        const fetched = await openImage(request.image.ref, limits.policy, context.signal);
        ({ name, body } = fetched);
        close = () => fetched.close();
      } else {
        ({ name, body } = request.image);
      }
      const input = join('input', basename(name) || 'image');
      try {
        if (body instanceof Uint8Array) await writeFile(join(folder, input), body);
        else await pipeline(Readable.from(body), createWriteStream(join(folder, input)));
      } finally {
        close();
      }
      const fetchMs = performance.now() - started;
      await store.createTask(taskId, { input, prompts: request.prompts, output: request.output });
      const task = await waitForEnd(options, taskId, context.signal);
      const outcome = task.outcome!;
      if (!outcome.ok) {
        const code = outcome.code in ErrorCodes ? (outcome.code as ErrorCode) : undefined;
        if (code) throw new VoxgateError(code, outcome.message);
        throw new Error(`worker ${outcome.worker}: ${outcome.message}`);
      }
      const bytes = await readFile(join(folder, outcome.fileName));
      const labels = (await readVolume(bytes)) as LabelVolume;
      let writtenPath: string | undefined;
      if (workingDir) {
        await mkdir(workingDir, { recursive: true });
        writtenPath = join(workingDir, outcome.fileName);
        await writeFile(writtenPath, bytes);
      }
      return {
        fileName: outcome.fileName,
        stem: outcome.stem,
        bytes,
        labels,
        engine: outcome.engine,
        zeroShot: outcome.zeroShot,
        labelNames: outcome.labelNames,
        writtenPath,
        worker: outcome.worker,
        timing: { ...outcome.timing, fetch: fetchMs },
      };
    } finally {
      await store.deleteTask(taskId).catch(() => {});
      await rm(folder, { recursive: true, force: true });
    }
  };
}

/** Resolves with the task once it is Completed; VXG_ERR_NIM_WORKER_TIMEOUT after `timeoutMs`. */
function waitForEnd({ store, timeoutMs, pollMs = 1000 }: OffloadOptions, taskId: string, signal: AbortSignal | undefined): Promise<InferenceTask> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error: unknown, task?: InferenceTask): void => {
      if (settled) return;
      settled = true;
      clearInterval(poll);
      clearTimeout(deadline);
      unwatch();
      signal?.removeEventListener('abort', onAbort);
      if (task) resolve(task);
      else reject(error);
    };
    const check = (): void => {
      store.getTask(taskId).then(
        (task) => {
          if (!task) finish(new VoxgateError('VXG_ERR_JOB_STORE', `Inference task ${taskId} disappeared from the job store.`));
          else if (task.state === 'Completed') finish(undefined, task);
        },
        (err: unknown) => finish(err),
      );
    };
    const onAbort = (): void => finish(signal?.reason ?? new Error('aborted'));
    const unwatch = store.watch('task-ended', (id) => {
      if (id === taskId || id === '') check();
    });
    const poll = setInterval(check, pollMs);
    const deadline = setTimeout(
      () => finish(new VoxgateError('VXG_ERR_NIM_WORKER_TIMEOUT', `No worker finished the inference within ${Math.round(timeoutMs / 1000)} s: are workers running (voxgate worker) and not all busy?`)),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    check();
  });
}
