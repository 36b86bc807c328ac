/**
 * Step implementations for runner tests that go through the runner's real code paths with real
 * files: a retriever that copies the DICOM files of a local folder (one folder per source URI), an
 * engine with a fixed, fast rule, and an exporter that records what it was sent. Failures are
 * injected by count so that retries and resumes can be asserted exactly.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPart10 } from '../../src/dicom/read-part10.js';
import type { Engine, ProgressCallback } from '../../src/engines/engine.js';
import type { DataResource, InputDetails } from '../../src/jobs/request.js';
import { StepError } from '../../src/jobs/retry.js';
import type { ExportContext, ExportItem, Exporter, RetrieveContext, Retriever } from '../../src/jobs/steps.js';
import type { LabelVolume, Volume } from '../../src/volume/volume.js';
import { createLabelVolume } from '../../src/volume/volume.js';

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
/** 3 uncompressed CT slices, 512×512 (dcmqi). */
export const CT_3SLICE = join(DATA, 'dicom_ct_series', 'dcmqi_ct_3slice_with_seg', 'ct-3slice');
/** 4 CT slices of 16×16 (pydicom CT2). */
export const CT2_16PX = join(DATA, 'dicom_ct_series', 'pydicom_CT2_16px_with_highdicom_seg', 'CT2');
/** One MR image (pydicom MR_small). */
export const MR_SMALL = join(DATA, 'dicom_single', 'pydicom', 'MR_small.dcm');

/** A transient failure as a protocol client reports one (a reset connection, an HTTP 503). */
export function transientError(message = 'the PACS answered 503 Service Unavailable'): Error {
  return new StepError('VXG_ERR_JOB_SOURCE', message, { retryable: true });
}

/** The retriever's unit for a file: its path below the shared data folder. */
export function unitOf(file: string): string {
  return relative(DATA, file);
}

export interface InjectedFailure {
  /** Throw after this many files were copied in the call. */
  readonly after: number;
  readonly error: () => Error;
}

/** The files below a folder (sorted), or the file itself. */
async function filesBelow(path: string): Promise<string[]> {
  if ((await stat(path)).isFile()) return [path];
  const out: string[] = [];
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await filesBelow(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out.sort();
}

/**
 * A data source that is a set of local folders or files, keyed by the request source's URI.
 * "Fetching" a file is reading it; `fetched` counts reads per file, so a test can assert that
 * nothing was fetched twice.
 */
export class LocalFolderRetriever implements Retriever {
  calls = 0;
  readonly fetched = new Map<string, number>();
  readonly #sources: Readonly<Record<string, readonly string[]>>;
  readonly #failures: InjectedFailure[];
  readonly #delayMs: number;

  constructor(sources: Readonly<Record<string, readonly string[]>>, options: { failures?: InjectedFailure[]; delayMs?: number } = {}) {
    this.#sources = sources;
    this.#failures = [...(options.failures ?? [])];
    this.#delayMs = options.delayMs ?? 0;
  }

  async retrieve(source: DataResource, _inputs: readonly InputDetails[], context: RetrieveContext): Promise<void> {
    this.calls++;
    const failure = this.#failures.shift();
    const uri = source.interface === 'DIMSE' ? `${source.host}:${source.port}` : source.interface === 'DicomNode' ? source.groupId : source.uri;
    const roots = this.#sources[uri];
    if (!roots) throw new StepError('VXG_ERR_JOB_SOURCE', 'the server answered 404 Not Found.', { retryable: false });
    const files = (await Promise.all(roots.map(filesBelow))).flat();
    let copied = 0;
    for (const [n, file] of files.entries()) {
      const unit = unitOf(file);
      if (context.hasUnit(unit)) continue;
      if (failure && copied >= failure.after) throw failure.error();
      if (this.#delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#delayMs));
      context.signal.throwIfAborted();
      const bytes = await readFile(file);
      this.fetched.set(unit, (this.fetched.get(unit) ?? 0) + 1);
      const uid = readPart10(unit, bytes).sopInstanceUID;
      await context.addInstance(uid, bytes);
      await context.completeUnit(unit, [uid]);
      copied++;
      context.progress((n + 1) / files.length, `Copied ${n + 1} of ${files.length} files.`);
    }
    if (failure && copied >= failure.after) throw failure.error();
  }
}

/**
 * A fast engine with a fixed rule: voxels above 300 HU are label 25 ("bone"-like), the rest 0.
 * It reports progress in steps and can wait on a gate, so tests can watch a job InProcess.
 */
export class ThresholdEngine implements Engine {
  readonly info = { name: 'threshold', version: '1.0', description: 'test rule', supportedClasses: [25], pointPrompts: false, license: 'test' };
  calls = 0;
  running = 0;
  maxRunning = 0;
  #gate: Promise<void> = Promise.resolve();
  readonly #stepMs: number;

  constructor(options: { stepMs?: number } = {}) {
    this.#stepMs = options.stepMs ?? 0;
  }

  /** Segmentations wait until `release` is called. */
  hold(): () => void {
    let release = (): void => {};
    this.#gate = new Promise((resolve) => (release = resolve));
    return release;
  }

  isReady(): boolean {
    return true;
  }

  async segment(volume: Volume, _prompts: unknown, progress?: ProgressCallback): Promise<LabelVolume> {
    this.calls++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      for (let step = 1; step <= 4; step++) {
        if (this.#stepMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#stepMs));
        progress?.(step / 4, 'thresholding');
      }
      await this.#gate;
      const out = new Uint8Array(volume.data.length);
      for (let n = 0; n < out.length; n++) if (Number(volume.data[n]) > 300) out[n] = 25;
      return createLabelVolume(volume, out);
    } finally {
      this.running--;
    }
  }

  async close(): Promise<void> {}
}

export interface Delivery {
  readonly destination: string;
  readonly file: string;
  readonly bytes: number;
}

/** A destination that records what it received (completed sends only); failures and hangs by count. */
export class RecordingExporter implements Exporter {
  readonly delivered: Delivery[] = [];
  calls = 0;
  readonly #failures: (() => Error)[];
  readonly #hangFor: ReadonlySet<string>;

  constructor(options: { failures?: (() => Error)[]; hangFor?: readonly string[] } = {}) {
    this.#failures = [...(options.failures ?? [])];
    this.#hangFor = new Set(options.hangFor ?? []);
  }

  async export(destination: DataResource, item: ExportItem, context: ExportContext): Promise<void> {
    this.calls++;
    const name = destination.interface === 'DIMSE' ? destination.aeTitle : destination.interface === 'DicomNode' ? destination.groupId : destination.uri;
    if (this.#hangFor.has(name)) {
      // A process that dies mid-send: nothing arrives, nothing returns.
      await new Promise<never>((_, reject) => context.signal.addEventListener('abort', () => reject(context.signal.reason as Error), { once: true }));
    }
    const failure = this.#failures.shift();
    if (failure) throw failure();
    const bytes = await readFile(item.path);
    this.delivered.push({ destination: name, file: item.result.name, bytes: bytes.length });
  }
}
