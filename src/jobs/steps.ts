/**
 * The three steps of a job, as interfaces the runner drives: a `Retriever` per source interface
 * (DICOMweb, DIMSE, FHIR), one `Segmenter`, an `Exporter` per destination interface. The runner owns
 * persistence, retries and progress; a step only does its work and records each piece through its
 * context as soon as it is done, which is what lets a resumed job skip it.
 *
 * Failures: throw. A `StepError` (retry.ts) says itself whether a retry can help; other errors are
 * classified by `isRetryable` (network errors, HTTP 5xx/408/429 transient; the rest permanent).
 * On shutdown `signal` aborts: stop and let the abort reason propagate.
 * @module
 */
import type { Engine } from '../engines/engine.js';
import type { ResultFile, SeriesOutcome } from './job.js';
import type { Pipeline } from './pipelines.js';
import type { AcrRequest, DataResource, InputDetails } from './request.js';

/** What every step is told. */
export interface StepContext {
  readonly jobId: string;
  readonly request: AcrRequest;
  readonly pipeline: Pipeline;
  readonly signal: AbortSignal;
  /**
   * Progress of this step in [0, 1] and what is happening, for the status `message` (the runner
   * maps it into the job's 0–100, keeps it rising and saves it at most a few times a second).
   */
  progress(fraction: number, message?: string): void;
}

export interface RetrieveContext extends StepContext {
  /** Index of the source in `request.sources`. */
  readonly sourceIndex: number;
  /** The job's DICOM folder, `<dataDir>/jobs/<jobId>/dicom/`. */
  readonly folder: string;
  /** True when the instance is already retrieved (from this source or another). */
  has(sopInstanceUid: string): boolean;
  /** The SOP Instance UIDs retrieved so far (a snapshot: what a client's `skip` option takes). */
  retrieved(): ReadonlySet<string>;
  /** True when a unit was completed earlier (`completeUnit`). */
  hasUnit(unit: string): boolean;
  /** A fresh file path on the job's file system to stream a download into before `addInstance`. */
  tempPath(): string;
  /**
   * Stores one instance under the job's folder, written atomically and recorded before it resolves.
   * `content` is the bytes, or a finished file on the job's file system (from `tempPath()`, or one a
   * protocol client already wrote into `folder` as `<SOPInstanceUID>.dcm`) that is moved in.
   * Resolves false, dropping the content, when the SOP Instance UID is already there.
   */
  addInstance(sopInstanceUid: string, content: Uint8Array | { readonly file: string }): Promise<boolean>;
  /**
   * Records that `unit` (a WADO-RS URL, a series, a file of a local folder: the retriever's choice)
   * is fetched completely, with the instances it gave; `hasUnit` then skips it on a retry or resume.
   */
  completeUnit(unit: string, sopInstanceUids: readonly string[]): Promise<void>;
  /**
   * Stores a non-DICOM resource with the job (FHIR): `key` is `<type>/<id>`; the file is
   * `<jobFolder>/resources/<n>.<extension>`.
   */
  addResource(key: string, content: Uint8Array, extension: string): Promise<void>;
}

/**
 * Fetches what `inputs` name from one data source into the job's folder, de-duplicated by SOP
 * Instance UID. Idempotent given the saved state: it skips what `has` / `hasUnit` report, so a retry
 * or a resumed job never fetches a stored instance again. Inputs of a type the source does not serve
 * (FHIR_RESOURCE for DICOMweb, DICOM_UID for FHIR) are ignored.
 */
export interface Retriever {
  retrieve(source: DataResource, inputs: readonly InputDetails[], context: RetrieveContext): Promise<void>;
}

export interface SegmentContext extends StepContext {
  /** The retrieved DICOM instances. */
  readonly inputFolder: string;
  /** Where result files go, `<dataDir>/results/<jobId>/`. */
  readonly resultsFolder: string;
  /** The engine the pipeline names, loaded. */
  engine(): Promise<Engine>;
  /** Outcomes recorded so far (by SeriesInstanceUID); a series listed here must not be segmented again. */
  readonly series: Readonly<Record<string, SeriesOutcome>>;
  /**
   * Records a series' outcome, with the result files already written to `resultsFolder`; saved
   * before it resolves.
   */
  recordSeries(seriesInstanceUid: string, outcome: SeriesOutcome, results: readonly ResultFile[]): Promise<void>;
}

/**
 * Turns the retrieved instances into results: every image series whose Modality the pipeline takes
 * becomes a volume, the engine segments it, and a DICOM SEG and/or NIfTI label map are written.
 * Series of other modalities are recorded as skipped with the reason. The runner fails the job
 * (VXG_ERR_JOB_NO_SERIES) when no series ends `segmented`.
 */
export interface Segmenter {
  segment(context: SegmentContext): Promise<void>;
}

export interface ExportItem {
  readonly result: ResultFile;
  /** Absolute path of the result file. */
  readonly path: string;
}

export interface ExportContext {
  readonly jobId: string;
  readonly request: AcrRequest;
  readonly signal: AbortSignal;
}

export interface ExportReceipt {
  /** A partial success worth reporting (STOW-RS 202 with failed instances). */
  readonly warning?: string;
}

/**
 * Sends one result file to one destination. The runner calls it once per (destination, SEG file)
 * that is not yet recorded as sent, and records the pair as soon as it resolves.
 */
export interface Exporter {
  export(destination: DataResource, item: ExportItem, context: ExportContext): Promise<ExportReceipt | void>;
}

/** The step implementations a runner uses, by interface. */
export interface JobSteps {
  readonly retrievers: Readonly<Partial<Record<DataResource['interface'], Retriever>>>;
  readonly segmenter: Segmenter;
  readonly exporters: Readonly<Partial<Record<DataResource['interface'], Exporter>>>;
}
