/**
 * The worker loop: leases runnable jobs from the store (priority, then arrival), runs up to
 * `concurrency` at once, renews their leases while they run, and ends each one Completed with
 * Success or Fail. Jobs left InProcess by a worker that died are taken over once their lease
 * expires — at once when the dead worker was on this machine — and resume from their saved step.
 * @module
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Engine } from '../engines/engine.js';
import { VoxgateError, isVoxgateError } from '../errors.js';
import type { ExecutionSettings } from './job-execution.js';
import { JobExecution, JobFailure } from './job-execution.js';
import { jobFolder } from './job-files.js';
import type { JobStore } from './job-store.js';
import type { JobRecord } from './job.js';
import type { Pipeline } from './pipelines.js';
import type { JobSteps } from './steps.js';

/** The part of a pino logger the runner uses. */
export interface RunnerLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export interface JobRunnerOptions {
  readonly store: JobStore;
  readonly steps: JobSteps;
  readonly pipelines: ReadonlyMap<string, Pipeline>;
  /** The engine a pipeline names (undefined: the configured one), loaded. */
  readonly engines: (name?: string) => Promise<Engine>;
  readonly dataDir: string;
  /** Jobs run at once (config `jobConcurrency`, default 1). */
  readonly concurrency?: number;
  /** Tries per step, the first included (config `jobAttempts`, default 3). */
  readonly maxAttempts?: number;
  /** First retry delay; each next one doubles (default 1 s). */
  readonly backoffMs?: number;
  /** Lease length; renewed every third of it (default 30 s). */
  readonly leaseMs?: number;
  /** How often an idle runner looks for new jobs another process queued (default 1 s). */
  readonly pollMs?: number;
  /** A job taken this many times without ending is failed with VXG_ERR_JOB_INTERRUPTED (default 5). */
  readonly maxClaims?: number;
  readonly progressIntervalMs?: number;
  /** Lease owner name; `<host>/<pid>/<random>` by default. */
  readonly owner?: string;
  readonly log?: RunnerLog;
}

const SILENT: RunnerLog = { info: () => {}, warn: () => {}, error: () => {} };

/** The reason a runner's jobs are aborted with on shutdown. */
export class RunnerStopped extends Error {
  constructor() {
    super('The worker is shutting down; the job resumes on the next start.');
    this.name = 'AbortError';
  }
}

/**
 * @example
 * const runner = new JobRunner({ store, steps, pipelines, engines, dataDir, concurrency: 2 });
 * runner.start();
 * // … on shutdown:
 * await runner.stop();
 */
export class JobRunner {
  readonly owner: string;
  readonly #options: JobRunnerOptions;
  readonly #log: RunnerLog;
  readonly #stop = new AbortController();
  readonly #active = new Set<Promise<void>>();
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #idleWaiters: (() => void)[] = [];
  #unwatch: (() => void) | undefined;

  constructor(options: JobRunnerOptions) {
    this.#options = options;
    this.#log = options.log ?? SILENT;
    this.owner = options.owner ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  }

  get running(): number {
    return this.#active.size;
  }

  /** Starts the loop (once). Jobs stranded by a dead worker on this machine are released first. */
  start(): void {
    // A job queued or released by any process on the store (PostgreSQL: any server) wakes the loop
    // at once; the poll still finds jobs whose lease expired.
    this.#unwatch ??= this.#options.store.watch('jobs', () => this.notify());
    this.#loop ??= this.#run();
  }

  /** Looks for work now instead of at the next poll (the API calls it after queueing a job). */
  notify(): void {
    this.#wake?.();
  }

  /** Resolves when the runner has nothing running and found nothing to claim (tests). */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.notify();
    });
  }

  /**
   * Stops taking jobs, aborts the running ones (their leases are released, so the next start or
   * another worker resumes them from their saved step) and waits for them to wind down.
   */
  async stop(): Promise<void> {
    this.#stop.abort(new RunnerStopped());
    this.#unwatch?.();
    this.notify();
    await this.#loop;
    await Promise.allSettled([...this.#active]);
  }

  async #run(): Promise<void> {
    const { concurrency = 1, pollMs = 1000 } = this.#options;
    await this.#releaseDeadOwners().catch((err: unknown) => this.#log.error({ err }, 'could not look for jobs of dead workers'));
    while (!this.#stop.signal.aborted) {
      let claimed = false;
      while (this.#active.size < concurrency && !this.#stop.signal.aborted) {
        const job = await this.#claim();
        if (!job) break;
        claimed = true;
        const running: Promise<void> = this.#runJob(job).finally(() => {
          this.#active.delete(running);
          this.notify();
        });
        this.#active.add(running);
      }
      if (!claimed && this.#active.size === 0) {
        for (const resolve of this.#idleWaiters.splice(0)) resolve();
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = done;
        if (this.#stop.signal.aborted) done();
      });
      this.#wake = undefined;
    }
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  async #claim(): Promise<JobRecord | undefined> {
    try {
      return await this.#options.store.claim(this.owner, this.#options.leaseMs ?? 30_000);
    } catch (err) {
      this.#log.error({ err }, 'could not claim a job');
      return undefined;
    }
  }

  /**
   * A lease held by a process of this machine that no longer exists (kill -9, a crash, an earlier
   * run of this very process id in a container) would otherwise block its job until it expires.
   */
  async #releaseDeadOwners(): Promise<void> {
    const host = hostname();
    for (const job of await this.#options.store.list({ states: ['InProcess'], limit: 10_000 })) {
      const owner = job.lease?.owner;
      if (!owner || owner === this.owner) continue;
      const [ownerHost, pidText] = owner.split('/');
      const pid = Number(pidText);
      if (ownerHost !== host || !Number.isInteger(pid)) continue;
      if (pid === process.pid || !isAlive(pid)) {
        if (await this.#options.store.release(job.jobId, owner)) {
          this.#log.warn({ jobId: job.jobId, owner }, 'released the lease of a dead worker');
        }
      }
    }
  }

  async #runJob(job: JobRecord): Promise<void> {
    const { store, leaseMs = 30_000, maxClaims = 5 } = this.#options;
    const controller = new AbortController();
    const onStop = (): void => controller.abort(this.#stop.signal.reason);
    this.#stop.signal.addEventListener('abort', onStop, { once: true });
    const heartbeat = setInterval(() => {
      store.renew(job.jobId, this.owner, leaseMs).then(
        (held) => {
          if (!held) controller.abort(new VoxgateError('VXG_ERR_JOB_LEASE_LOST', `Job ${job.jobId} was taken over by another worker.`));
        },
        (err: unknown) => this.#log.warn({ err, jobId: job.jobId }, 'lease renewal failed'),
      );
    }, Math.max(50, Math.floor(leaseMs / 3)));
    const log = { jobId: job.jobId, pipeline: job.pipeline, claims: job.claims };
    this.#log.info({ ...log, step: job.step }, job.claims > 1 ? 'resuming job' : 'starting job');
    try {
      if (job.claims > maxClaims) {
        throw new JobFailure(
          `The job was interrupted ${job.claims - 1} times (each worker running it stopped without finishing); it is not tried again.`,
          new VoxgateError('VXG_ERR_JOB_INTERRUPTED', 'interrupted too often'),
        );
      }
      const pipeline = this.#options.pipelines.get(job.pipeline);
      if (!pipeline) {
        throw new JobFailure(
          `The pipeline "${job.pipeline}" is no longer configured on this server.`,
          new VoxgateError('VXG_ERR_JOB_PIPELINE', 'pipeline removed'),
        );
      }
      if (job.claims > 1) {
        await store.update(job.jobId, this.owner, { message: `Resuming at the ${job.step} step after an interruption.` });
      }
      const execution = new JobExecution(job, store, this.#options.steps, pipeline, this.owner, controller.signal, this.#settings());
      const message = await execution.run();
      await store.finish(job.jobId, this.owner, { status: 'Success', message });
      this.#log.info(log, 'job completed');
      await this.#cleanUp(job.jobId);
    } catch (err) {
      await this.#failed(job, err, controller.signal);
    } finally {
      clearInterval(heartbeat);
      this.#stop.signal.removeEventListener('abort', onStop);
    }
  }

  async #failed(job: JobRecord, err: unknown, signal: AbortSignal): Promise<void> {
    const { store } = this.#options;
    const log = { jobId: job.jobId, pipeline: job.pipeline };
    if (signal.aborted || isVoxgateError(err, 'VXG_ERR_JOB_LEASE_LOST')) {
      if (isVoxgateError(signal.reason, 'VXG_ERR_JOB_LEASE_LOST') || isVoxgateError(err, 'VXG_ERR_JOB_LEASE_LOST')) {
        this.#log.warn(log, 'lease lost; another worker carries on with the job');
        return;
      }
      // Shutdown: leave the job InProcess with its saved state and let the next worker take it at once.
      await store.release(job.jobId, this.owner).catch((e: unknown) => this.#log.warn({ ...log, err: e }, 'could not release the lease'));
      this.#log.info(log, 'job interrupted by shutdown; it resumes on the next start');
      return;
    }
    const message = err instanceof JobFailure ? err.message : `The job failed: ${err instanceof Error ? err.message : String(err)}`;
    const code = err instanceof JobFailure ? err.code : isVoxgateError(err) ? err.code : 'VXG_ERR_INTERNAL';
    if (code === 'VXG_ERR_INTERNAL' || (err instanceof JobFailure && !isVoxgateError(err.cause))) this.#log.error({ ...log, err }, 'job failed');
    else this.#log.warn({ ...log, code, message }, 'job failed');
    try {
      await store.finish(job.jobId, this.owner, { status: 'Fail', message });
      await this.#cleanUp(job.jobId);
    } catch (e) {
      this.#log.error({ ...log, err: e }, 'could not record the failure');
    }
  }

  /** Retrieved instances are only needed while the job runs; results and FHIR resources stay. */
  async #cleanUp(jobId: string): Promise<void> {
    const folder = jobFolder(this.#options.dataDir, jobId);
    await Promise.all([rm(join(folder, 'dicom'), { recursive: true, force: true }), rm(join(folder, 'tmp'), { recursive: true, force: true })]);
  }

  #settings(): ExecutionSettings {
    const { dataDir, maxAttempts = 3, backoffMs = 1000, progressIntervalMs = 250, engines, leaseMs = 30_000 } = this.#options;
    return { dataDir, maxAttempts, backoffMs, progressIntervalMs, engines, leaseMs };
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
