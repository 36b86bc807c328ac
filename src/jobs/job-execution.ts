/**
 * One job run by one worker: retrieve → infer → export from the step it was left at, each step
 * retried with backoff on transient failures, every piece of work saved as it is done. The runner
 * (runner.ts) owns the lease and decides what a failure means for the job.
 * @module
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Engine } from '../engines/engine.js';
import { VoxgateError, isVoxgateError } from '../errors.js';
import type { JobStore } from './job-store.js';
import type { ExportState, InferState, JobRecord, RetrieveState, SeriesOutcome, StepStates, WorkStep } from './job.js';
import { dicomFolder, instanceFileName, jobFolder, resultsFolder, tempFilePath, writeFileAtomic } from './job-files.js';
import type { Pipeline } from './pipelines.js';
import { describeResource } from './request.js';
import type { DataResource } from './request.js';
import { StepError, backoffDelay, isRetryable, sleep, untilAborted } from './retry.js';
import type { JobSteps, RetrieveContext, SegmentContext } from './steps.js';

export interface ExecutionSettings {
  readonly dataDir: string;
  readonly maxAttempts: number;
  readonly backoffMs: number;
  /** Least time between two progress saves. */
  readonly progressIntervalMs: number;
  readonly engines: (name?: string) => Promise<Engine>;
  /** The runner's lease length: each send to a destination first renews the lease for this long. */
  readonly leaseMs: number;
}

/** Where each step's progress lies in the job's 0–100. */
const BANDS: Record<WorkStep, readonly [number, number]> = { retrieve: [0, 40], infer: [40, 90], export: [90, 100] };

/** A step failure with what was being done, for the status message. */
export class JobFailure extends Error {
  readonly code: string;
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'JobFailure';
    this.code = cause instanceof VoxgateError ? cause.code : 'VXG_ERR_INTERNAL';
  }
}

export class JobExecution {
  readonly #store: JobStore;
  readonly #steps: JobSteps;
  readonly #pipeline: Pipeline;
  readonly #owner: string;
  readonly #signal: AbortSignal;
  readonly #settings: ExecutionSettings;
  #job: JobRecord;
  #state: { -readonly [S in keyof StepStates]: StepStates[S] };
  #tries: Partial<Record<WorkStep, number>>;
  /** What is being done right now, for a failure message ("Retrieving from DICOMweb …"). */
  #doing = '';
  #lastSave = 0;
  /** Highest progress reported: a retried or resumed step starts its band again, the status must not fall back. */
  #progressFloor: number;
  #pendingProgress: { progress: number; message?: string } | undefined;
  #progressTimer: NodeJS.Timeout | undefined;
  /** Saves of step state run one after another, in the order they were asked for. */
  #writes: Promise<unknown> = Promise.resolve();

  constructor(job: JobRecord, store: JobStore, steps: JobSteps, pipeline: Pipeline, owner: string, signal: AbortSignal, settings: ExecutionSettings) {
    this.#job = job;
    this.#store = store;
    this.#steps = steps;
    this.#pipeline = pipeline;
    this.#owner = owner;
    this.#signal = signal;
    this.#settings = settings;
    this.#state = { ...job.steps };
    this.#tries = { ...job.tries };
    this.#progressFloor = job.progress;
  }

  /** Runs the remaining steps; resolves with the success message, rejects with a JobFailure (or the abort reason). */
  async run(): Promise<string> {
    try {
      if (this.#job.step === 'retrieve') {
        await this.#attempt('retrieve', () => this.#retrieve());
        await this.#advance('infer');
      }
      if (this.#job.step === 'infer') {
        await this.#attempt('infer', () => this.#infer());
        await this.#advance('export');
      }
      if (this.#job.step === 'export') await this.#attempt('export', () => this.#export());
      await this.#flushProgress();
      return this.#summary();
    } finally {
      clearTimeout(this.#progressTimer);
    }
  }

  async #advance(step: WorkStep): Promise<void> {
    await this.#flushProgress();
    this.#job = await this.#store.update(this.#job.jobId, this.#owner, { step, progress: BANDS[step][0] });
  }

  async #attempt(step: WorkStep, work: () => Promise<void>): Promise<void> {
    for (;;) {
      const tries = (this.#tries[step] ?? 0) + 1;
      this.#tries = { ...this.#tries, [step]: tries };
      await this.#store.update(this.#job.jobId, this.#owner, { tries: this.#tries });
      try {
        await untilAborted(work(), this.#signal);
        await this.#writes;
        return;
      } catch (err) {
        await this.#writes.catch(() => {});
        if (this.#signal.aborted) throw this.#signal.reason;
        // Another worker owns the job now: no retry, and nothing for this one to record.
        if (isVoxgateError(err, 'VXG_ERR_JOB_LEASE_LOST')) throw err;
        const what = this.#doing || step;
        if (!isRetryable(err) || tries >= this.#settings.maxAttempts) {
          throw new JobFailure(`${what} failed${tries > 1 ? ` after ${tries} tries` : ''}: ${messageOf(err)}`, err);
        }
        const delay = backoffDelay(tries, this.#settings.backoffMs);
        await this.#store.update(this.#job.jobId, this.#owner, {
          message: `${what} failed (try ${tries} of ${this.#settings.maxAttempts}): ${messageOf(err)} Retrying in ${(delay / 1000).toFixed(1)} s.`,
        });
        await sleep(delay, this.#signal);
      }
    }
  }

  // ---- progress ----

  #progress(step: WorkStep, fraction: number, message?: string): void {
    const [from, to] = BANDS[step];
    const progress = Math.max(this.#progressFloor, from + Math.min(1, Math.max(0, fraction)) * (to - from));
    this.#progressFloor = progress;
    this.#pendingProgress = { progress, message: message ?? this.#pendingProgress?.message };
    const wait = this.#lastSave + this.#settings.progressIntervalMs - Date.now();
    if (wait <= 0) void this.#flushProgress().catch(() => {});
    else this.#progressTimer ??= setTimeout(() => void this.#flushProgress().catch(() => {}), wait);
  }

  async #flushProgress(): Promise<void> {
    clearTimeout(this.#progressTimer);
    this.#progressTimer = undefined;
    const pending = this.#pendingProgress;
    if (!pending) return;
    this.#pendingProgress = undefined;
    this.#lastSave = Date.now();
    await this.#serial(() => this.#store.update(this.#job.jobId, this.#owner, pending));
  }

  #serial<T>(write: () => Promise<T>): Promise<T> {
    const next = this.#writes.then(write);
    this.#writes = next.catch(() => {});
    return next;
  }

  #save<S extends WorkStep>(step: S, state: StepStates[S]): Promise<void> {
    this.#state[step] = state;
    return this.#serial(() => this.#store.saveStepState(this.#job.jobId, this.#owner, step, state));
  }

  #context(step: WorkStep, scale: (f: number) => number = (f) => f) {
    return {
      jobId: this.#job.jobId,
      request: this.#job.request,
      pipeline: this.#pipeline,
      signal: this.#signal,
      progress: (fraction: number, message?: string) => this.#progress(step, scale(fraction), message),
    };
  }

  // ---- retrieve ----

  async #retrieve(): Promise<void> {
    const { request } = this.#job;
    const folder = dicomFolder(this.#settings.dataDir, this.#job.jobId);
    await mkdir(folder, { recursive: true });
    for (const [index, source] of request.sources.entries()) {
      if (this.#state.retrieve.sourcesDone.includes(index)) continue;
      this.#doing = `Retrieving from ${describeResource(source)}`;
      const retriever = this.#steps.retrievers[source.interface];
      if (!retriever) {
        throw new StepError('VXG_ERR_JOB_UNSUPPORTED', `this server cannot retrieve from ${source.interface} sources.`, { retryable: false });
      }
      const scale = (f: number): number => (index + f) / request.sources.length;
      this.#progress('retrieve', scale(0), `${this.#doing}.`);
      await retriever.retrieve(source, request.inputs, this.#retrieveContext(index, folder, scale));
      await this.#writes;
      await this.#save('retrieve', { ...this.#state.retrieve, sourcesDone: [...this.#state.retrieve.sourcesDone, index] });
    }
    const { instances, resources } = this.#state.retrieve;
    if (Object.keys(instances).length === 0 && Object.keys(resources).length === 0) {
      this.#doing = `Retrieving from ${request.sources.map(describeResource).join(', ')}`;
      throw new StepError('VXG_ERR_JOB_SOURCE', 'no instance matched the request (no such study, series, patient or accession number there).', { retryable: false });
    }
    this.#progress('retrieve', 1, `Retrieved ${Object.keys(instances).length} instance(s).`);
  }

  #retrieveContext(sourceIndex: number, folder: string, scale: (f: number) => number): RetrieveContext {
    const reserved = new Set<string>();
    const { dataDir } = this.#settings;
    const { jobId } = this.#job;
    const retrieveState = (): RetrieveState => this.#state.retrieve;
    return {
      ...this.#context('retrieve', scale),
      sourceIndex,
      folder,
      has: (uid) => uid in retrieveState().instances || reserved.has(uid),
      retrieved: () => new Set([...Object.keys(retrieveState().instances), ...reserved]),
      hasUnit: (unit) => unit in retrieveState().units,
      tempPath: () => tempFilePath(dataDir, jobId),
      addInstance: async (uid, content) => {
        const name = instanceFileName(uid);
        const path = join(folder, name);
        if (uid in retrieveState().instances || reserved.has(uid)) {
          // A duplicate's own file goes; never the stored copy a client may have handed back again.
          if (!(content instanceof Uint8Array) && resolve(content.file) !== resolve(path)) await rm(content.file, { force: true });
          return false;
        }
        reserved.add(uid);
        try {
          if (content instanceof Uint8Array) await writeFileAtomic(path, content);
          else await rename(content.file, path);
          const state = retrieveState();
          await this.#save('retrieve', { ...state, instances: { ...state.instances, [uid]: name } });
        } finally {
          reserved.delete(uid);
        }
        return true;
      },
      completeUnit: async (unit, uids) => {
        const state = retrieveState();
        await this.#save('retrieve', { ...state, units: { ...state.units, [unit]: [...uids] } });
      },
      addResource: async (key, content, extension) => {
        const state = retrieveState();
        const name = join('resources', `${Object.keys(state.resources).length + 1}.${extension.replace(/[^A-Za-z0-9]/g, '')}`);
        await writeFileAtomic(join(jobFolder(dataDir, jobId), name), content);
        await this.#save('retrieve', { ...retrieveState(), resources: { ...retrieveState().resources, [key]: name } });
      },
    };
  }

  // ---- infer ----

  async #infer(): Promise<void> {
    const { dataDir } = this.#settings;
    const { jobId } = this.#job;
    const folder = resultsFolder(dataDir, jobId);
    await mkdir(folder, { recursive: true });
    this.#doing = `Segmenting with pipeline ${this.#pipeline.id}`;
    const inferState = (): InferState => this.#state.infer;
    const context: SegmentContext = {
      ...this.#context('infer'),
      inputFolder: dicomFolder(dataDir, jobId),
      resultsFolder: folder,
      engine: () => this.#settings.engines(this.#pipeline.engine),
      get series() {
        return inferState().series;
      },
      recordSeries: async (uid, outcome, results) => {
        const kept = this.#job.results.filter((r) => !results.some((n) => n.name === r.name));
        this.#job = await this.#serial(() => this.#store.update(jobId, this.#owner, { results: [...kept, ...results] }));
        await this.#save('infer', { series: { ...inferState().series, [uid]: { ...outcome, files: results.map((r) => r.name) } } });
      },
    };
    await this.#steps.segmenter.segment(context);
    await this.#writes;
    const outcomes = Object.entries(this.#state.infer.series);
    if (!outcomes.some(([, o]) => o.status === 'segmented')) {
      throw new StepError('VXG_ERR_JOB_NO_SERIES', noSeriesMessage(this.#pipeline, outcomes), { retryable: false });
    }
  }

  // ---- export ----

  async #export(): Promise<void> {
    const { request, jobId } = this.#job;
    const segs = this.#job.results.filter((r) => r.type === 'seg');
    const folder = resultsFolder(this.#settings.dataDir, jobId);
    const total = segs.length * request.destinations.length;
    let done = 0;
    for (const [index, destination] of request.destinations.entries()) {
      this.#doing = `Exporting to ${describeResource(destination)}`;
      const sent = new Set(this.#state.export.sent[index] ?? []);
      const pending = segs.filter((r) => !sent.has(r.name));
      done += segs.length - pending.length;
      if (pending.length === 0) continue;
      const exporter = this.#steps.exporters[destination.interface];
      if (!exporter) {
        throw new StepError('VXG_ERR_JOB_UNSUPPORTED', `this server cannot export to ${destination.interface} destinations.`, { retryable: false });
      }
      for (const result of pending) {
        this.#progress('export', done / total, `${this.#doing}: ${done + 1} of ${total}.`);
        await this.#fence();
        const receipt = await exporter.export(destination, { result, path: join(folder, result.name) }, { jobId, request, signal: this.#signal });
        sent.add(result.name);
        done++;
        const state: ExportState = this.#state.export;
        const warnings = receipt?.warning ? [...state.warnings, `${describeResource(destination)}: ${receipt.warning}`] : state.warnings;
        await this.#save('export', { sent: { ...state.sent, [index]: [...sent] }, warnings });
      }
    }
    this.#progress('export', 1);
  }

  /**
   * Before a send that cannot be taken back: confirms the lease is still this worker's and extends
   * it by a whole lease, so a worker that stalled past its lease (and lost the job to another)
   * never sends what the new owner sends too. What remains is a crash between a send and its record
   * in `sent`; the SEG is the same file with the same SOP Instance UID then, which a PACS stores
   * once.
   */
  async #fence(): Promise<void> {
    await this.#writes;
    if (!(await this.#store.renew(this.#job.jobId, this.#owner, this.#settings.leaseMs))) {
      throw new VoxgateError('VXG_ERR_JOB_LEASE_LOST', `Job ${this.#job.jobId} was taken over by another worker before its export.`);
    }
  }

  #summary(): string {
    const outcomes = Object.values(this.#state.infer.series);
    const segmented = outcomes.filter((o) => o.status === 'segmented').length;
    const skipped = Object.entries(this.#state.infer.series).filter(([, o]) => o.status !== 'segmented');
    const destinations = this.#job.request.destinations;
    const parts = [`Completed: ${segmented} series segmented with pipeline ${this.#pipeline.id}`];
    const segs = this.#job.results.filter((r) => r.type === 'seg').length;
    if (destinations.length > 0) parts.push(`${segs} SEG sent to ${destinations.map((d: DataResource) => describeResource(d)).join(', ')}`);
    else parts.push('results kept on the server');
    let message = `${parts.join('; ')}.`;
    if (skipped.length > 0) message += ` Not segmented: ${skipped.map(([uid, o]) => `${uid} (${o.reason ?? o.status})`).join('; ')}.`;
    if (this.#state.export.warnings.length > 0) message += ` Warnings: ${this.#state.export.warnings.join('; ')}.`;
    return message;
  }
}

function noSeriesMessage(pipeline: Pipeline, outcomes: readonly [string, SeriesOutcome][]): string {
  const takes = pipeline.modality.join(' or ');
  if (outcomes.length === 0) return `no image series among the retrieved instances (pipeline ${pipeline.id} takes ${takes}).`;
  const described = outcomes.map(([uid, o]) => `${uid}${o.modality ? ` (${o.modality})` : ''}: ${o.reason ?? o.status}`).join('; ');
  return `no series to segment: pipeline ${pipeline.id} takes ${takes}, and the retrieved series were not usable — ${described}.`;
}

function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}
