/**
 * The job store and worker a `voxgate serve` (or `voxgate worker`) process runs, from the
 * configuration: which store, which step implementations, which engines.
 * @module
 */
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Engine } from '../engines/engine.js';
import type { EngineSettings } from '../engines/index.js';
import { createEngine, engineOptions } from '../engines/index.js';
import { StoreScp } from '../dicom/net/store-scp.js';
import { DicomNodeRetriever } from './dicom-node-retriever.js';
import { DicomSegmenter } from './dicom-segmenter.js';
import { DicomwebExporter, DicomwebRetriever } from './dicomweb-steps.js';
import { DimseExporter, DimseRetriever } from './dimse-steps.js';
import { FhirRetriever } from './fhir-retriever.js';
import type { JobStore } from './job-store.js';
import { pipelineTable } from './pipelines.js';
import type { RunnerLog } from './runner.js';
import { JobRunner } from './runner.js';
import { InferenceTaskRunner } from './inference-task-runner.js';
import type { JobSteps } from './steps.js';

// Where the store is and which one: open-store.ts (kept importable from here for callers of issue 6).
export { jobStorePath, openJobStore } from './open-store.js';

/**
 * Voxgate's store SCP for C-MOVE retrievals, started on first use on `dicomPort` with `aeTitle`
 * (the DICOM node of issue 7 replaces this by passing its own `storeScp`).
 */
export function lazyStoreScp(config: Pick<Config, 'aeTitle' | 'dicomPort' | 'host' | 'dataDir'>): { get(): Promise<StoreScp>; close(): Promise<void> } {
  let started: Promise<StoreScp> | undefined;
  return {
    get: () => (started ??= StoreScp.start({ aeTitle: config.aeTitle, host: config.host, port: config.dicomPort, storageDir: join(config.dataDir, 'dicom-in') })),
    close: async () => {
      if (started) await (await started.catch(() => undefined))?.close();
    },
  };
}

/**
 * The step implementations built into this server: DICOMweb, DIMSE and FHIR sources (and the DICOM
 * node's received groups, given `dataDir`); DICOMweb and DIMSE destinations.
 */
export function defaultJobSteps(options: { callingAeTitle: string; storeScp?: () => Promise<StoreScp>; dataDir?: string }): JobSteps {
  const dimse = { callingAeTitle: options.callingAeTitle, ...(options.storeScp ? { storeScp: options.storeScp } : {}) };
  return {
    retrievers: {
      DICOMweb: new DicomwebRetriever(),
      DIMSE: new DimseRetriever(dimse),
      FHIR: new FhirRetriever(),
      ...(options.dataDir ? { DicomNode: new DicomNodeRetriever(options.dataDir) } : {}),
    },
    segmenter: new DicomSegmenter(),
    exporters: { DICOMweb: new DicomwebExporter(), DIMSE: new DimseExporter(dimse) },
  };
}

/** Engines by name: the server's own for pipelines that name none (or the same), others loaded once on first use. */
export function engineResolver(config: Pick<Config, 'engine'> & EngineSettings, engine: Engine): (name?: string) => Promise<Engine> {
  const loaded = new Map<string, Promise<Engine>>([[config.engine, Promise.resolve(engine)]]);
  return (name = config.engine) => {
    let found = loaded.get(name);
    if (!found) {
      found = createEngine(name, engineOptions(config));
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
  /** Default: {@link defaultJobSteps} with `storeScp`, or a {@link lazyStoreScp}. */
  readonly steps?: JobSteps;
  /** The DICOM node's SCP, where C-MOVE retrievals land, when this process runs the node. */
  readonly storeScp?: () => Promise<StoreScp>;
}

/** This process's worker: the runner and what it owns (the store SCP C-MOVE retrievals land in). */
export class JobWorker {
  readonly runner: JobRunner;
  readonly #close: () => Promise<void>;

  constructor(runner: JobRunner, close: () => Promise<void>) {
    this.runner = runner;
    this.#close = close;
  }

  start(): void {
    this.runner.start();
  }

  notify(): void {
    this.runner.notify();
  }

  /** Stops the runner (running jobs are released for the next start), then what it owns. */
  async stop(): Promise<void> {
    await this.runner.stop();
    await this.#close();
  }
}

/** The worker of this process, configured from `config` (not started). */
export function createJobRunner({ config, store, engine, log, steps, storeScp }: JobWorkerOptions): JobWorker {
  const scp = steps || storeScp ? undefined : lazyStoreScp(config);
  const runner = new JobRunner({
    store,
    steps: steps ?? defaultJobSteps({ callingAeTitle: config.aeTitle, storeScp: storeScp ?? scp?.get, dataDir: config.dataDir }),
    pipelines: pipelineTable(config.pipelines),
    engines: engineResolver(config, engine),
    dataDir: config.dataDir,
    concurrency: config.jobConcurrency,
    maxAttempts: config.jobAttempts,
    leaseMs: config.jobLeaseMs,
    log,
  });
  return new JobWorker(runner, async () => scp?.close());
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
