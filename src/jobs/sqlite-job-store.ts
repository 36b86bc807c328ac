/**
 * The embedded job store: one SQLite file (`<dataDir>/jobs.sqlite`) through better-sqlite3, in WAL
 * mode with `synchronous = FULL`, so a job is on disk before `POST /api/inference` answers and
 * survives a crash or a power cut. Several processes on one machine may share the file (SQLite
 * serialises writers; `claim` is one UPDATE statement, so two never take the same job).
 * @module
 */
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { VoxgateError, isVoxgateError } from '../errors.js';
import type { InferenceTask, InferenceTaskOutcome, InferenceTaskRequest, InferenceTaskState } from './inference-task.js';
import type { JobOutcome, JobPatch, JobStore, ListJobsOptions, NewJob, NodeEntry, NodeEntryKind, StoreListener, StoreTopic } from './job-store.js';
import type { JobRecord, JobState, JobStatus, JobStep, ResultFile, StepStates, WorkStep } from './job.js';
import { EMPTY_STEP_STATES } from './job.js';
import type { AcrRequest } from './request.js';
import type { Migration } from './sqlite-migrations.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';

export interface SqliteJobStoreOptions {
  /** Milliseconds since the epoch; tests move it to expire leases. */
  readonly now?: () => number;
  /** How long a writer waits for another process's lock before failing (default 10 s). */
  readonly busyTimeoutMs?: number;
}

interface JobRow {
  seq: number;
  job_id: string;
  transaction_id: string;
  priority: number;
  pipeline: string;
  request: string;
  state: JobState;
  status: JobStatus;
  step: JobStep;
  progress: number;
  message: string;
  created_ms: number;
  started_ms: number | null;
  stopped_ms: number | null;
  lease_owner: string | null;
  lease_expires_ms: number | null;
  claims: number;
  tries: string;
  retrieve_state: string | null;
  infer_state: string | null;
  export_state: string | null;
  results: string;
}

const STEP_COLUMNS = { retrieve: 'retrieve_state', infer: 'infer_state', export: 'export_state' } as const satisfies Record<WorkStep, keyof JobRow>;

/**
 * @example
 * const store = SqliteJobStore.open(join(config.dataDir, 'jobs.sqlite'));
 * const job = await store.create({ jobId: randomUUID(), request });
 */
export class SqliteJobStore implements JobStore {
  readonly kind = 'sqlite';
  readonly path: string;
  readonly #db: SqliteDatabase;
  readonly #now: () => number;
  /** `watch` within this process; other processes on the file find changes by polling. */
  readonly #events = new EventEmitter().setMaxListeners(0);

  private constructor(path: string, db: SqliteDatabase, now: () => number) {
    this.path = path;
    this.#db = db;
    this.#now = now;
  }

  /** Opens (creating it if needed) and migrates the store. Throws VXG_ERR_JOB_STORE. */
  static open(path: string, options: SqliteJobStoreOptions = {}): SqliteJobStore {
    let db: SqliteDatabase | undefined;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      db = new Database(path);
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 10_000))}`);
      db.pragma('journal_mode = WAL');
      // FULL: a commit is fsynced, so an accepted request survives a power cut, not only a crash.
      db.pragma('synchronous = FULL');
      migrate(db, SQLITE_MIGRATIONS, path);
    } catch (err) {
      db?.close();
      if (isVoxgateError(err)) throw err;
      throw new VoxgateError('VXG_ERR_JOB_STORE', `Cannot open the job store ${path}: ${(err as Error).message}.`, { cause: err });
    }
    return new SqliteJobStore(path, db, options.now ?? Date.now);
  }

  isOpen(): boolean {
    return this.#db.open;
  }

  async create({ jobId, request }: NewJob): Promise<JobRecord> {
    const row = this.#run(() => {
      try {
        return this.#db
          .prepare(
            `INSERT INTO jobs (job_id, transaction_id, priority, pipeline, request, created_ms, message)
             VALUES (?, ?, ?, ?, ?, ?, 'Queued.') RETURNING *`,
          )
          .get(jobId, request.transactionId, request.priority, request.pipeline, JSON.stringify(request), this.#now()) as JobRow;
      } catch (err) {
        const { code, message } = err as { code?: string; message: string };
        if (code === 'SQLITE_CONSTRAINT_UNIQUE' && message.includes('jobs.transaction_id')) {
          throw new VoxgateError('VXG_ERR_JOB_DUPLICATE', 'An existing request with same transaction ID already exists.', { cause: err });
        }
        throw err;
      }
    });
    this.#events.emit('jobs', row.job_id);
    return toRecord(row);
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const row = this.#run(() => this.#db.prepare('SELECT * FROM jobs WHERE job_id = ?').get(jobId) as JobRow | undefined);
    return row && toRecord(row);
  }

  async getByTransactionId(transactionId: string): Promise<JobRecord | undefined> {
    const row = this.#run(() => this.#db.prepare('SELECT * FROM jobs WHERE transaction_id = ?').get(transactionId) as JobRow | undefined);
    return row && toRecord(row);
  }

  async list(options: ListJobsOptions = {}): Promise<JobRecord[]> {
    const states = options.states ?? [];
    const where = states.length > 0 ? `WHERE state IN (${states.map(() => '?').join(', ')})` : '';
    const rows = this.#run(
      () => this.#db.prepare(`SELECT * FROM jobs ${where} ORDER BY seq DESC LIMIT ?`).all(...states, options.limit ?? 100) as JobRow[],
    );
    return rows.map(toRecord);
  }

  async claim(owner: string, leaseMs: number): Promise<JobRecord | undefined> {
    const now = this.#now();
    const row = this.#run(
      () =>
        this.#db
          .prepare(
            `UPDATE jobs
                SET state = 'InProcess', lease_owner = @owner, lease_expires_ms = @expires,
                    started_ms = COALESCE(started_ms, @now), claims = claims + 1
              WHERE seq = (SELECT seq FROM jobs
                            WHERE state = 'Queued'
                               OR (state = 'InProcess' AND (lease_owner IS NULL OR lease_expires_ms <= @now))
                            ORDER BY priority DESC, seq
                            LIMIT 1)
              RETURNING *`,
          )
          .get({ owner, now, expires: now + leaseMs }) as JobRow | undefined,
    );
    return row && toRecord(row);
  }

  async renew(jobId: string, owner: string, leaseMs: number): Promise<boolean> {
    const { changes } = this.#run(() =>
      this.#db
        .prepare(`UPDATE jobs SET lease_expires_ms = ? WHERE job_id = ? AND lease_owner = ? AND state = 'InProcess'`)
        .run(this.#now() + leaseMs, jobId, owner),
    );
    return changes === 1;
  }

  async update(jobId: string, owner: string, patch: JobPatch): Promise<JobRecord> {
    const sets: string[] = [];
    const values: Record<string, unknown> = { jobId, owner };
    if (patch.step !== undefined) {
      sets.push('step = @step');
      values.step = patch.step;
    }
    if (patch.progress !== undefined) {
      sets.push('progress = MAX(progress, @progress)');
      values.progress = Math.round(Math.min(100, Math.max(0, patch.progress)));
    }
    if (patch.message !== undefined) {
      sets.push('message = @message');
      values.message = patch.message;
    }
    if (patch.tries !== undefined) {
      sets.push('tries = @tries');
      values.tries = JSON.stringify(patch.tries);
    }
    if (patch.results !== undefined) {
      sets.push('results = @results');
      values.results = JSON.stringify(patch.results);
    }
    if (sets.length === 0) sets.push('seq = seq');
    const row = this.#run(
      () =>
        this.#db
          .prepare(`UPDATE jobs SET ${sets.join(', ')} WHERE job_id = @jobId AND lease_owner = @owner AND state = 'InProcess' RETURNING *`)
          .get(values) as JobRow | undefined,
    );
    if (!row) throw leaseLost(jobId, owner);
    return toRecord(row);
  }

  async saveStepState<S extends WorkStep>(jobId: string, owner: string, step: S, state: StepStates[S]): Promise<void> {
    const { changes } = this.#run(() =>
      this.#db
        .prepare(`UPDATE jobs SET ${STEP_COLUMNS[step]} = ? WHERE job_id = ? AND lease_owner = ? AND state = 'InProcess'`)
        .run(JSON.stringify(state), jobId, owner),
    );
    if (changes !== 1) throw leaseLost(jobId, owner);
  }

  async finish(jobId: string, owner: string, outcome: JobOutcome): Promise<JobRecord> {
    const row = this.#run(
      () =>
        this.#db
          .prepare(
            `UPDATE jobs
                SET state = 'Completed', status = @status, message = @message, step = 'done', stopped_ms = @now,
                    progress = CASE WHEN @status = 'Success' THEN 100 ELSE progress END,
                    lease_owner = NULL, lease_expires_ms = NULL
              WHERE job_id = @jobId AND lease_owner = @owner AND state = 'InProcess'
              RETURNING *`,
          )
          .get({ jobId, owner, status: outcome.status, message: outcome.message, now: this.#now() }) as JobRow | undefined,
    );
    if (!row) throw leaseLost(jobId, owner);
    return toRecord(row);
  }

  async release(jobId: string, owner: string): Promise<boolean> {
    const { changes } = this.#run(() =>
      this.#db
        .prepare(`UPDATE jobs SET lease_owner = NULL, lease_expires_ms = NULL WHERE job_id = ? AND lease_owner = ? AND state = 'InProcess'`)
        .run(jobId, owner),
    );
    if (changes === 1) this.#events.emit('jobs', jobId);
    return changes === 1;
  }

  async countJobs(): Promise<Record<JobState, number>> {
    const rows = this.#run(() => this.#db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as { state: JobState; n: number }[]);
    const counts: Record<JobState, number> = { Queued: 0, InProcess: 0, Completed: 0 };
    for (const { state, n } of rows) counts[state] = n;
    return counts;
  }

  async listNodeEntries(kind: NodeEntryKind): Promise<NodeEntry[]> {
    const rows = this.#run(
      () => this.#db.prepare('SELECT kind, name, identity, body FROM node_config WHERE kind = ? ORDER BY name').all(kind) as { kind: NodeEntryKind; name: string; identity: string; body: string }[],
    );
    return rows.map((r) => ({ kind: r.kind, name: r.name, identity: r.identity, body: JSON.parse(r.body) as Record<string, unknown> }));
  }

  async createNodeEntry(entry: NodeEntry): Promise<void> {
    this.#run(() => {
      try {
        this.#db
          .prepare('INSERT INTO node_config (kind, name, identity, body, updated_ms) VALUES (?, ?, ?, ?, ?)')
          .run(entry.kind, entry.name, entry.identity, JSON.stringify(entry.body), this.#now());
      } catch (err) {
        throw nodeDuplicate(err, entry);
      }
    });
  }

  async replaceNodeEntry(entry: NodeEntry): Promise<boolean> {
    const { changes } = this.#run(() => {
      try {
        return this.#db
          .prepare('UPDATE node_config SET identity = ?, body = ?, updated_ms = ? WHERE kind = ? AND name = ?')
          .run(entry.identity, JSON.stringify(entry.body), this.#now(), entry.kind, entry.name);
      } catch (err) {
        throw nodeDuplicate(err, entry);
      }
    });
    return changes === 1;
  }

  async deleteNodeEntry(kind: NodeEntryKind, name: string): Promise<boolean> {
    const { changes } = this.#run(() => this.#db.prepare('DELETE FROM node_config WHERE kind = ? AND name = ?').run(kind, name));
    return changes === 1;
  }

  async configVersion(): Promise<number> {
    return this.#run(() => (this.#db.prepare('SELECT version FROM config_version WHERE id = 1').get() as { version: number }).version);
  }

  async createTask(taskId: string, request: InferenceTaskRequest): Promise<void> {
    this.#run(() =>
      this.#db.prepare('INSERT INTO inference_tasks (task_id, request, created_ms) VALUES (?, ?, ?)').run(taskId, JSON.stringify(request), this.#now()),
    );
    this.#events.emit('tasks', taskId);
  }

  async getTask(taskId: string): Promise<InferenceTask | undefined> {
    const row = this.#run(() => this.#db.prepare('SELECT * FROM inference_tasks WHERE task_id = ?').get(taskId) as TaskRow | undefined);
    return row && toTask(row);
  }

  async claimTask(owner: string, leaseMs: number): Promise<InferenceTask | undefined> {
    const now = this.#now();
    const row = this.#run(
      () =>
        this.#db
          .prepare(
            `UPDATE inference_tasks
                SET state = 'InProcess', lease_owner = @owner, lease_expires_ms = @expires, claims = claims + 1
              WHERE seq = (SELECT seq FROM inference_tasks
                            WHERE state = 'Queued' OR (state = 'InProcess' AND lease_expires_ms <= @now)
                            ORDER BY seq LIMIT 1)
              RETURNING *`,
          )
          .get({ owner, now, expires: now + leaseMs }) as TaskRow | undefined,
    );
    return row && toTask(row);
  }

  async renewTask(taskId: string, owner: string, leaseMs: number): Promise<boolean> {
    const { changes } = this.#run(() =>
      this.#db
        .prepare(`UPDATE inference_tasks SET lease_expires_ms = ? WHERE task_id = ? AND lease_owner = ? AND state = 'InProcess'`)
        .run(this.#now() + leaseMs, taskId, owner),
    );
    return changes === 1;
  }

  async finishTask(taskId: string, owner: string, outcome: InferenceTaskOutcome): Promise<void> {
    const { changes } = this.#run(() =>
      this.#db
        .prepare(
          `UPDATE inference_tasks SET state = 'Completed', outcome = ?, lease_owner = NULL, lease_expires_ms = NULL
            WHERE task_id = ? AND lease_owner = ? AND state = 'InProcess'`,
        )
        .run(JSON.stringify(outcome), taskId, owner),
    );
    if (changes !== 1) throw leaseLost(taskId, owner, 'Inference task');
    this.#events.emit('task-ended', taskId);
  }

  async deleteTask(taskId: string): Promise<void> {
    this.#run(() => this.#db.prepare('DELETE FROM inference_tasks WHERE task_id = ?').run(taskId));
  }

  watch(topic: StoreTopic, listener: StoreListener): () => void {
    this.#events.on(topic, listener);
    return () => void this.#events.off(topic, listener);
  }

  async close(): Promise<void> {
    this.#events.removeAllListeners();
    if (this.#db.open) this.#db.close();
  }

  /** Runs one database call, turning driver errors (disk full, closed, locked) into VXG_ERR_JOB_STORE. */
  #run<T>(call: () => T): T {
    if (!this.#db.open) throw new VoxgateError('VXG_ERR_JOB_STORE', `The job store ${this.path} is closed.`);
    try {
      return call();
    } catch (err) {
      if (isVoxgateError(err)) throw err;
      throw new VoxgateError('VXG_ERR_JOB_STORE', `The job store ${this.path} failed: ${(err as Error).message}.`, { cause: err });
    }
  }
}

function leaseLost(jobId: string, owner: string, what = 'Job'): VoxgateError {
  return new VoxgateError('VXG_ERR_JOB_LEASE_LOST', `${what} ${jobId} is no longer leased to ${owner}: another worker has taken it over, or it has ended.`);
}

/** A unique-constraint failure on node_config as VXG_ERR_NODE_CONFIG_DUPLICATE; anything else as it is. */
function nodeDuplicate(err: unknown, entry: NodeEntry): unknown {
  const { code, message } = err as { code?: string; message: string };
  if (code !== 'SQLITE_CONSTRAINT_UNIQUE' && code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return err;
  const field = message.includes('node_config.identity') ? 'identity' : 'name';
  return new VoxgateError('VXG_ERR_NODE_CONFIG_DUPLICATE', field === 'name' ? `A ${entry.kind} named "${entry.name}" already exists.` : `Another ${entry.kind} already has ${entry.identity}.`, {
    cause: err,
  });
}

function migrate(db: SqliteDatabase, migrations: readonly Migration[], path: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  // IMMEDIATE: two processes opening a new file at once must not both apply migration 1.
  db.transaction(() => {
    const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
    const newest = Math.max(0, ...applied);
    const known = Math.max(0, ...migrations.map((m) => m.version));
    if (newest > known) {
      throw new VoxgateError('VXG_ERR_JOB_STORE', `The job store ${path} has schema version ${newest}, newer than this Voxgate knows (${known}); run a newer Voxgate.`);
    }
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(migration.version, migration.name, new Date().toISOString());
    }
  }).immediate();
}

interface TaskRow {
  task_id: string;
  state: InferenceTaskState;
  request: string;
  outcome: string | null;
  claims: number;
}

function toTask(row: TaskRow): InferenceTask {
  return {
    taskId: row.task_id,
    state: row.state,
    request: JSON.parse(row.request) as InferenceTaskRequest,
    outcome: row.outcome === null ? undefined : (JSON.parse(row.outcome) as InferenceTaskOutcome),
    claims: row.claims,
  };
}

function parse<T>(text: string | null, fallback: T): T {
  return text === null ? fallback : (JSON.parse(text) as T);
}

function toRecord(row: JobRow): JobRecord {
  return {
    jobId: row.job_id,
    transactionId: row.transaction_id,
    priority: row.priority,
    pipeline: row.pipeline,
    request: JSON.parse(row.request) as AcrRequest,
    state: row.state,
    status: row.status,
    step: row.step,
    progress: row.progress,
    message: row.message,
    created: new Date(row.created_ms),
    started: row.started_ms === null ? undefined : new Date(row.started_ms),
    stopped: row.stopped_ms === null ? undefined : new Date(row.stopped_ms),
    lease: row.lease_owner === null || row.lease_expires_ms === null ? undefined : { owner: row.lease_owner, expires: new Date(row.lease_expires_ms) },
    claims: row.claims,
    tries: parse(row.tries, {}),
    steps: {
      retrieve: parse(row.retrieve_state, EMPTY_STEP_STATES.retrieve),
      infer: parse(row.infer_state, EMPTY_STEP_STATES.infer),
      export: parse(row.export_state, EMPTY_STEP_STATES.export),
    },
    results: parse<ResultFile[]>(row.results, []),
  };
}
