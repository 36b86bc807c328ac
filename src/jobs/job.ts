/**
 * A job: one accepted inference request and everything Voxgate knows about running it. The saved
 * step states are what make a resumed job skip work already done: retrieved instances are not
 * fetched again, segmented series are not segmented again, a destination that received a SEG does
 * not receive it again.
 * @module
 */
import type { AcrRequest } from './request.js';

/** `dicom.state` of the status (spec/acr-api.md, "Status"). */
export const JobStates = ['Queued', 'InProcess', 'Completed'] as const;
export type JobState = (typeof JobStates)[number];

/** `dicom.status` of the status. */
export const JobStatuses = ['Unknown', 'Success', 'Fail'] as const;
export type JobStatus = (typeof JobStatuses)[number];

/** The steps a job runs in order; `done` once it has ended (either way). */
export const JobSteps = ['retrieve', 'infer', 'export', 'done'] as const;
export type JobStep = (typeof JobSteps)[number];
export type WorkStep = Exclude<JobStep, 'done'>;

/** What the retrieve step has fetched so far. */
export interface RetrieveState {
  /** SOP Instance UID → file, relative to the job's `dicom/` folder. */
  readonly instances: Readonly<Record<string, string>>;
  /**
   * Retriever-specific units already fetched completely (a WADO-RS instance URL, a series, a file of
   * a local folder) → the SOP Instance UIDs they gave. Lets a retriever skip a unit without asking
   * the source again.
   */
  readonly units: Readonly<Record<string, readonly string[]>>;
  /** Indices (in `AcrRequest.sources`) of the sources fetched completely. */
  readonly sourcesDone: readonly number[];
  /** Non-DICOM resources stored with the job (FHIR): `<type>/<id>` → file relative to the job folder. */
  readonly resources: Readonly<Record<string, string>>;
}

/** What became of one retrieved series in the infer step. */
export interface SeriesOutcome {
  readonly status: 'segmented' | 'skipped' | 'failed';
  readonly modality?: string;
  /** Why it was skipped or failed, in words a user reads in the status message. */
  readonly reason?: string;
  /** Result file names (in the job's results folder) made from it. */
  readonly files: readonly string[];
}

export interface InferState {
  /** SeriesInstanceUID → outcome; a series listed here is not segmented again. */
  readonly series: Readonly<Record<string, SeriesOutcome>>;
}

export interface ExportState {
  /** Destination index (in `AcrRequest.destinations`) → result file names it has received. */
  readonly sent: Readonly<Record<string, readonly string[]>>;
  /** Partial successes (STOW-RS 202) worth telling the user. */
  readonly warnings: readonly string[];
}

export interface StepStates {
  readonly retrieve: RetrieveState;
  readonly infer: InferState;
  readonly export: ExportState;
}

export const EMPTY_STEP_STATES: StepStates = {
  retrieve: { instances: {}, units: {}, sourcesDone: [], resources: {} },
  infer: { series: {} },
  export: { sent: {}, warnings: [] },
};

/** A file kept on the server under `<dataDir>/results/<jobId>/`. */
export interface ResultFile {
  /** File name in the job's results folder (no path). */
  readonly name: string;
  readonly type: 'seg' | 'nifti';
  readonly mediaType: string;
  readonly size: number;
  readonly seriesInstanceUid: string;
}

export interface JobLease {
  readonly owner: string;
  readonly expires: Date;
}

export interface JobRecord {
  /** Voxgate's id (a UUID): the only id used in paths. */
  readonly jobId: string;
  /** The caller's id; unique. */
  readonly transactionId: string;
  readonly priority: number;
  readonly pipeline: string;
  readonly request: AcrRequest;
  readonly state: JobState;
  readonly status: JobStatus;
  /** The step to run next (or running); `done` once ended. */
  readonly step: JobStep;
  /** 0–100, never decreasing while the job runs. */
  readonly progress: number;
  readonly message: string;
  readonly created: Date;
  /** First time a worker took it. */
  readonly started?: Date;
  readonly stopped?: Date;
  /** Present while a worker holds it. */
  readonly lease?: JobLease;
  /** How many times a worker has taken it (more than once: it was resumed). */
  readonly claims: number;
  /** Tries of each step so far (retries included). */
  readonly tries: Readonly<Partial<Record<WorkStep, number>>>;
  readonly steps: StepStates;
  readonly results: readonly ResultFile[];
}
