/**
 * `voxgate worker`: a process that only runs jobs — no HTTP API, no DICOM node. Any number of
 * workers and `voxgate serve --no-worker` servers share one job store (`--database-url`) and one
 * results directory (`--data-dir` on shared storage); docs/scale-out.md.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import pino from 'pino';
import type { Config } from '../config.js';
import { createEngine, engineOptions } from '../engines/index.js';
import { createInferenceTaskRunner, createJobRunner, openJobStore } from '../jobs/setup.js';
import type { JobSteps } from '../jobs/steps.js';

export interface WorkerDependencies {
  /** Step implementations (default: the built-in ones, setup.ts `defaultJobSteps`). */
  readonly steps?: JobSteps;
}

export async function workerCommand(config: Config, dependencies: WorkerDependencies = {}): Promise<void> {
  const log = pino({ level: config.logLevel, base: { role: 'worker', pid: process.pid } });
  await mkdir(config.dataDir, { recursive: true });
  const store = await openJobStore(config);
  const engine = await createEngine(config.engine, engineOptions(config));
  const runner = createJobRunner({ config, store, engine, log, steps: dependencies.steps });
  const tasks = createInferenceTaskRunner({ config, store, engine, log });
  const shutdown = async (signal: string): Promise<void> => {
    log.info({ signal }, 'shutting down');
    // Running jobs are aborted and their leases released: another worker resumes them at once.
    // NIM inferences someone waits on are finished first.
    await Promise.all([runner.stop(), tasks.stop()]);
    await store.close();
    await engine.close();
    process.exit(0);
  };
  process.once('SIGINT', (s) => void shutdown(s));
  process.once('SIGTERM', (s) => void shutdown(s));
  runner.start();
  tasks.start();
  log.info({ store: store.kind, concurrency: config.jobConcurrency }, 'worker started');
}
