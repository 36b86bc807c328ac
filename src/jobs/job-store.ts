/**
 * Where jobs live. The embedded implementation is SQLite (sqlite-job-store.ts); a PostgreSQL store
 * for many servers and workers implements the same interface (issue 9).
 *
 * Concurrency model, chosen so that PostgreSQL fits without change:
 * - `claim` picks and leases one runnable job in one atomic statement (PostgreSQL:
 *   `UPDATE … WHERE job_id = (SELECT … ORDER BY priority DESC, seq FOR UPDATE SKIP LOCKED LIMIT 1)`);
 * - a lease has an owner and an expiry; the owner renews it (heartbeat) while it works, and a job
 *   whose lease expired (or was released) is runnable again;
 * - every write a worker makes names the owner and is refused once the lease is someone else's
 *   (VXG_ERR_JOB_LEASE_LOST), so two workers never both advance one job.
 * Every method resolves only once the change is durable.
 *
 * The same database holds the DICOM node's configuration every server shares (node entries, with a
 * version bumped by every change) and tells processes what changed (`watch`), so a server hears of
 * a queued job or a configuration change without a restart.
 * @module
 */
import type { InferenceTaskStore } from './inference-task.js';
import type { JobRecord, JobState, ResultFile, StepStates, WorkStep } from './job.js';
import type { AcrRequest } from './request.js';

export interface NewJob {
  readonly jobId: string;
  readonly request: AcrRequest;
}

/** Fields a lease holder may change while the job runs. */
export interface JobPatch {
  readonly step?: WorkStep;
  /** Ignored when lower than the stored progress (progress never goes back). */
  readonly progress?: number;
  readonly message?: string;
  readonly tries?: Readonly<Partial<Record<WorkStep, number>>>;
  /** Replaces the job's result list. */
  readonly results?: readonly ResultFile[];
}

export interface JobOutcome {
  readonly status: 'Success' | 'Fail';
  readonly message: string;
}

export interface ListJobsOptions {
  readonly states?: readonly JobState[];
  /** At most this many, newest first (default 100). */
  readonly limit?: number;
}

/** The three lists of the DICOM node's configuration API (src/node/). */
export const NodeEntryKinds = ['ae-title', 'source', 'destination'] as const;
export type NodeEntryKind = (typeof NodeEntryKinds)[number];

/**
 * One entry of the DICOM node's configuration, as the store keeps it: the store only enforces that
 * `name` and `identity` are each unique within a kind; `body` is JSON the node layer validates.
 */
export interface NodeEntry {
  readonly kind: NodeEntryKind;
  readonly name: string;
  /** What else must be unique within the kind (the node layer builds it: an AE title, AE title + host …). */
  readonly identity: string;
  /** The entry as the API shows it (a JSON-serialisable object). */
  readonly body: Readonly<Record<string, unknown>>;
}

/**
 * What `watch` reports: `jobs` — a job became runnable (queued, or released by a worker);
 * `config` — a node entry changed (the new configuration version comes with it; PostgreSQL only);
 * `tasks` — an inference task was queued; `task-ended` — one ended (its taskId comes with it).
 */
export type StoreTopic = 'jobs' | 'config' | 'tasks' | 'task-ended';

export type StoreListener = (payload: string) => void;

export interface JobStore extends InferenceTaskStore {
  /** `sqlite`, `postgres`: for logs and the health page. */
  readonly kind: string;
  /** False once closed (or when the database is gone): `/v1/health/ready` answers 503. */
  isOpen(): boolean;
  /**
   * Stores a new job, state Queued, atomically with its request.
   * @throws VoxgateError VXG_ERR_JOB_DUPLICATE when the transactionId is taken.
   */
  create(job: NewJob): Promise<JobRecord>;
  get(jobId: string): Promise<JobRecord | undefined>;
  getByTransactionId(transactionId: string): Promise<JobRecord | undefined>;
  list(options?: ListJobsOptions): Promise<JobRecord[]>;
  /**
   * Leases the next runnable job to `owner` for `leaseMs`: Queued, or InProcess with an expired or
   * released lease; highest priority first, then arrival order. The job becomes InProcess, its
   * `claims` grows by one and `started` is set the first time.
   */
  claim(owner: string, leaseMs: number): Promise<JobRecord | undefined>;
  /** Extends the lease; false when `owner` no longer holds it. */
  renew(jobId: string, owner: string, leaseMs: number): Promise<boolean>;
  /**
   * Changes progress, message, step, tries or results.
   * @throws VoxgateError VXG_ERR_JOB_LEASE_LOST when `owner` does not hold the lease.
   */
  update(jobId: string, owner: string, patch: JobPatch): Promise<JobRecord>;
  /**
   * Replaces the saved state of one step.
   * @throws VoxgateError VXG_ERR_JOB_LEASE_LOST when `owner` does not hold the lease.
   */
  saveStepState<S extends WorkStep>(jobId: string, owner: string, step: S, state: StepStates[S]): Promise<void>;
  /**
   * Ends the job (Completed with Success or Fail) and drops the lease.
   * @throws VoxgateError VXG_ERR_JOB_LEASE_LOST when `owner` does not hold the lease.
   */
  finish(jobId: string, owner: string, outcome: JobOutcome): Promise<JobRecord>;
  /**
   * Drops `owner`'s lease without ending the job, so any worker may take it at once: a worker
   * shutting down, or one that finds the owner dead. False when `owner` did not hold it.
   */
  release(jobId: string, owner: string): Promise<boolean>;
  /** How many jobs are in each state (for `/health/status`). */
  countJobs(): Promise<Record<JobState, number>>;
  /** The DICOM node's configuration entries of one kind, by name. */
  listNodeEntries(kind: NodeEntryKind): Promise<NodeEntry[]>;
  /**
   * Adds an entry.
   * @throws VoxgateError VXG_ERR_NODE_CONFIG_DUPLICATE when the kind has the name or the identity already.
   */
  createNodeEntry(entry: NodeEntry): Promise<void>;
  /**
   * Replaces the entry of that kind and name; false when there is none.
   * @throws VoxgateError VXG_ERR_NODE_CONFIG_DUPLICATE when another entry of the kind has the identity.
   */
  replaceNodeEntry(entry: NodeEntry): Promise<boolean>;
  /** Removes an entry; false when there was none. */
  deleteNodeEntry(kind: NodeEntryKind, name: string): Promise<boolean>;
  /**
   * The configuration version: grows by one with every change of a node entry, made in the same
   * transaction by a database trigger (so whatever writes the entries bumps it); 0 before any.
   * A process compares it with the version it loaded (`watchConfig`, config-watcher.ts) and reloads
   * when it moved: that is how a change reaches every server without a restart.
   */
  configVersion(): Promise<number>;
  /**
   * Calls `listener` soon after any process changes `topic`; returns the unsubscribe function.
   * PostgreSQL delivers it across processes (LISTEN/NOTIFY); SQLite only within this process, and
   * not `config` (its processes find configuration changes by `watchConfig`'s version poll).
   * A notice can be missed (a reconnect), so it is a hint to look now: whoever relies on it also
   * polls (the runner's `pollMs`, `watchConfig`'s version check), and a lost notice delays, never
   * loses, work.
   */
  watch(topic: StoreTopic, listener: StoreListener): () => void;
  close(): Promise<void>;
}
