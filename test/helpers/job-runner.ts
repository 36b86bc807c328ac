/**
 * A job runner on a SQLite store in a temporary data directory, with test steps, and small waits.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Engine } from '../../src/engines/engine.js';
import type { JobRecord } from '../../src/jobs/job.js';
import type { JobStore } from '../../src/jobs/job-store.js';
import { DicomSegmenter } from '../../src/jobs/dicom-segmenter.js';
import { pipelineTable } from '../../src/jobs/pipelines.js';
import type { PipelineSettings } from '../../src/jobs/pipelines.js';
import type { AcrRequest } from '../../src/jobs/request.js';
import type { JobRunnerOptions } from '../../src/jobs/runner.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { SqliteJobStore } from '../../src/jobs/sqlite-job-store.js';
import type { Exporter, JobSteps, Retriever, Segmenter } from '../../src/jobs/steps.js';
import type { TempDir } from './jobs.js';
import { makeTempDir } from './jobs.js';

export interface RunnerFixture {
  readonly dir: TempDir;
  readonly dataDir: string;
  readonly storePath: string;
  /** The store the test reads and queues with (a separate connection from each runner's). */
  readonly store: SqliteJobStore;
  queue(request: AcrRequest): Promise<JobRecord>;
  /** A runner on its own store connection, as another process would have. */
  runner(parts: RunnerParts, options?: Partial<JobRunnerOptions>): JobRunner;
  close(): Promise<void>;
}

export interface RunnerParts {
  readonly retrievers?: JobSteps['retrievers'];
  readonly retriever?: Retriever;
  readonly exporter?: Exporter;
  readonly segmenter?: Segmenter;
  readonly engine: Engine;
  readonly pipelines?: Record<string, PipelineSettings>;
}

/** Fast settings: short backoff, lease and poll, progress saved at once. */
export const FAST = { backoffMs: 20, leaseMs: 600, pollMs: 20, progressIntervalMs: 0 } as const;

export async function runnerFixture(): Promise<RunnerFixture> {
  const dir = await makeTempDir('voxgate-runner-');
  const dataDir = join(dir.path, 'data');
  const storePath = join(dataDir, 'jobs.sqlite');
  const store = SqliteJobStore.open(storePath);
  const runners: { runner: JobRunner; store: JobStore }[] = [];
  return {
    dir,
    dataDir,
    storePath,
    store,
    queue: (request) => store.create({ jobId: randomUUID(), request }),
    runner(parts, options = {}) {
      const own = SqliteJobStore.open(storePath);
      const steps: JobSteps = {
        retrievers: parts.retrievers ?? (parts.retriever ? { DICOMweb: parts.retriever } : {}),
        segmenter: parts.segmenter ?? new DicomSegmenter(),
        exporters: parts.exporter ? { DICOMweb: parts.exporter, DIMSE: parts.exporter } : {},
      };
      const runner = new JobRunner({
        store: own,
        steps,
        pipelines: pipelineTable(parts.pipelines),
        engines: async () => parts.engine,
        dataDir,
        ...FAST,
        ...options,
      });
      runners.push({ runner, store: own });
      return runner;
    },
    async close() {
      for (const { runner, store: own } of runners) {
        await runner.stop();
        await own.close();
      }
      await store.close();
      await dir.remove();
    },
  };
}

/** Polls `read` until `done` holds (or fails the test after `timeoutMs`). */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(`waited ${timeoutMs} ms in vain; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits until the job has ended (Completed, either way). */
export function completed(store: JobStore, jobId: string, timeoutMs?: number): Promise<JobRecord> {
  return waitFor(
    () => store.get(jobId),
    (job) => job?.state === 'Completed',
    timeoutMs,
  ) as Promise<JobRecord>;
}
