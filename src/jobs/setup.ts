/**
 * The job store and worker a `voxgate serve` (or `voxgate worker`) process runs, from the
 * configuration: which store, which step implementations, which engines.
 * @module
 */
import type { Config } from '../config.js';
import type { Engine } from '../engines/engine.js';
import { createEngine } from '../engines/index.js';
import { DicomSegmenter } from './dicom-segmenter.js';
import type { JobStore } from './job-store.js';
import { pipelineTable } from './pipelines.js';
import type { RunnerLog } from './runner.js';
import { JobRunner } from './runner.js';
import { InferenceTaskRunner } from './inference-task-runner.js';
import type { JobSteps } from './steps.js';

// Where the store is and which one: open-store.ts (kept importable from here for callers of issue 6).
export { jobStorePath, openJobStore } from './open-store.js';

/**
 * The step implementations built into this server. Retrievers and exporters are added here as the
 * protocol clients land (DICOMweb, DIMSE, FHIR); an interface without one ends its jobs with
 * VXG_ERR_JOB_UNSUPPORTED.
 */
export function defaultJobSteps(): JobSteps {
  return { retrievers: {}, segmenter: new DicomSegmenter(), exporters: {} };
}

/** Engines by name: the server's own for pipelines that name none (or the same), others loaded once on first use. */
export function engineResolver(config: Pick<Config, 'engine' | 'engineThreads' | 'model'>, engine: Engine): (name?: string) => Promise<Engine> {
  const loaded = new Map<string, Promise<Engine>>([[config.engine, Promise.resolve(engine)]]);
  return (name = config.engine) => {
    let found = loaded.get(name);
    if (!found) {
      found = createEngine(name, { threads: config.engineThreads, model: config.model });
      loaded.set(name, found);
    }
    return found;
  };
}

export interface JobWorkerOptions {
  readonly config: Config;
  readonly store: JobStore;
  readonly engine: Engine;
  readonly log?: RunnerLog;
  readonly steps?: JobSteps;
}

/** The worker of this process, configured from `config` (not started). */
export function createJobRunner({ config, store, engine, log, steps = defaultJobSteps() }: JobWorkerOptions): JobRunner {
  return new JobRunner({
    store,
    steps,
    pipelines: pipelineTable(config.pipelines),
    engines: engineResolver(config, engine),
    dataDir: config.dataDir,
    concurrency: config.jobConcurrency,
    maxAttempts: config.jobAttempts,
    leaseMs: config.jobLeaseMs,
    log,
  });
}

/**
 * The runner of NIM inferences handed to workers (nimInference: workers) in this process, configured
 * from `config` (not started). Every process that runs jobs runs one: a fleet serves both.
 */
export function createInferenceTaskRunner({ config, store, engine, log }: Omit<JobWorkerOptions, 'steps'>): InferenceTaskRunner {
  return new InferenceTaskRunner({
    store,
    engine,
    log,
    dataDir: config.dataDir,
    maxDecodedBytes: config.maxDecodedBytes,
    concurrency: config.inferenceConcurrency,
    leaseMs: config.jobLeaseMs,
  });
}
