/**
 * The job store for many servers and workers on one database (issue 9): PostgreSQL through a
 * `pg.Pool`, with the same interface and behaviour as the embedded SQLite store.
 *
 * - Schema migrations run at start inside one transaction that first takes a transaction-level
 *   advisory lock (`pg_advisory_xact_lock`), so processes starting at once apply each migration
 *   exactly once; the lock goes with the commit or rollback.
 * - `claim` is one statement: `UPDATE … FROM (SELECT … ORDER BY priority DESC, created_ms, seq
 *   FOR UPDATE SKIP LOCKED LIMIT 1)`. Two workers never take the same job, and neither waits for
 *   the other's row lock.
 * - Lease expiry is measured on the database's clock unless a `now` is given (tests), so workers on
 *   machines whose clocks disagree still agree on who holds a lease.
 * - Every statement runs in autocommit: a change is durable (committed) when the method resolves.
 * - `watch` LISTENs on one dedicated connection (reopened after a failure); a queued or released
 *   job, an inference task and a node entry change (by a trigger, postgres-migrations.ts) are
 *   announced with `pg_notify` in the statement that makes them, so the notice goes out when the
 *   change commits.
 * @module
 */
import pg from 'pg';
import type { Pool, PoolClient } from 'pg';
import { VoxgateError, isVoxgateError } from '../errors.js';
import type { InferenceTask, InferenceTaskOutcome, InferenceTaskRequest, InferenceTaskState } from './inference-task.js';
import type { JobOutcome, JobPatch, JobStore, ListJobsOptions, NewJob, NodeEntry, NodeEntryKind, StoreListener, StoreTopic } from './job-store.js';
import type { JobRecord, JobState, JobStatus, JobStep, ResultFile, StepStates, WorkStep } from './job.js';
import { EMPTY_STEP_STATES } from './job.js';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import type { AcrRequest } from './request.js';
import type { Migration } from './sqlite-migrations.js';

export interface PostgresJobStoreOptions {
  /** Milliseconds since the epoch; tests move it to expire leases. Default: the database's clock. */
  readonly now?: () => number;
  /** Connections this process keeps at most (default 10). */
  readonly maxConnections?: number;
  /** How long to wait for a connection before failing (default 10 s). */
  readonly connectTimeoutMs?: number;
}

interface JobRow {
  seq: string;
  job_id: string;
  transaction_id: string;
  priority: number;
  pipeline: string;
  request: AcrRequest;
  state: JobState;
  status: JobStatus;
  step: JobStep;
  progress: number;
  message: string;
  // BIGINT columns come back as strings (pg does not narrow them to number on its own).
  created_ms: string;
  started_ms: string | null;
  stopped_ms: string | null;
  lease_owner: string | null;
  lease_expires_ms: string | null;
  claims: number;
  tries: Partial<Record<WorkStep, number>>;
  retrieve_state: StepStates['retrieve'] | null;
  infer_state: StepStates['infer'] | null;
  export_state: StepStates['export'] | null;
  results: ResultFile[];
}

const STEP_COLUMNS = { retrieve: 'retrieve_state', infer: 'infer_state', export: 'export_state' } as const satisfies Record<WorkStep, keyof JobRow>;

/** The database's clock in epoch milliseconds, used where the store was given no `now`. */
const DB_NOW_MS = '(extract(epoch FROM clock_timestamp()) * 1000)::bigint';

/**
 * Key of the advisory lock that serialises migrations: any constant shared by every Voxgate
 * (the bytes of "vxgmigr1"), unlikely to collide with another application's keys.
 */
const MIGRATION_LOCK_KEY = '8536686813298258481';

/** NOTIFY channel of each `watch` topic. */
const CHANNELS: Record<StoreTopic, string> = { jobs: 'voxgate_jobs', config: 'voxgate_config', tasks: 'voxgate_tasks', 'task-ended': 'voxgate_task_ended' };

/** How long to wait before reopening a broken LISTEN connection. */
const RELISTEN_MS = 1000;

/** PostgreSQL's unique_violation (Appendix A, "PostgreSQL Error Codes"). */
const UNIQUE_VIOLATION = '23505';

/**
 * @example
 * const store = await PostgresJobStore.open('postgres://voxgate@db.example/voxgate');
 * const job = await store.create({ jobId: randomUUID(), request });
 */
export class PostgresJobStore implements JobStore {
  readonly kind = 'postgres';
  /** The database URL without its password, for messages. */
  readonly location: string;
  readonly #pool: Pool;
  readonly #url: string;
  readonly #now: (() => number) | undefined;
  #open = true;
  /** False while the database cannot be reached (found by a ping after a failed statement). */
  #reachable = true;
  #pinging = false;
  readonly #listeners = new Map<StoreTopic, Set<StoreListener>>();
  #listenClient: pg.Client | undefined;
  #relistenTimer: NodeJS.Timeout | undefined;

  private constructor(url: string, location: string, pool: Pool, now: (() => number) | undefined) {
    this.#url = url;
    this.location = location;
    this.#pool = pool;
    this.#now = now;
  }

  /** Connects and migrates the store. Throws VXG_ERR_JOB_STORE. */
  static async open(url: string, options: PostgresJobStoreOptions = {}): Promise<PostgresJobStore> {
    const location = redact(url);
    const pool = new pg.Pool({
      connectionString: url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    });
    // An idle connection that breaks (server restart) is emitted here; unhandled, it would end the
    // process. The next query opens a fresh connection or fails with VXG_ERR_JOB_STORE.
    pool.on('error', () => {});
    try {
      await migrate(pool, POSTGRES_MIGRATIONS, location);
    } catch (err) {
      await pool.end().catch(() => {});
      if (isVoxgateError(err)) throw err;
      throw new VoxgateError('VXG_ERR_JOB_STORE', `Cannot open the job store ${location}: ${(err as Error).message}.`, { cause: err });
    }
    return new PostgresJobStore(url, location, pool, options.now);
  }

  /** False once closed, and while the database is unreachable: `/v1/health/ready` then answers 503. */
  isOpen(): boolean {
    return this.#open && this.#reachable;
  }

  async create({ jobId, request }: NewJob): Promise<JobRecord> {
    try {
      const rows = await this.#query(
        `WITH created AS (
           INSERT INTO jobs (job_id, transaction_id, priority, pipeline, request, created_ms, message)
           VALUES ($1, $2, $3, $4, $5::jsonb, COALESCE($6::bigint, ${DB_NOW_MS}), 'Queued.') RETURNING *)
         SELECT created.*, pg_notify('${CHANNELS.jobs}', created.job_id) FROM created`,
        [jobId, request.transactionId, request.priority, request.pipeline, JSON.stringify(request), this.#clock()],
      );
      return toRecord(rows[0] as JobRow);
    } catch (err) {
      const cause = isVoxgateError(err) ? err.cause : undefined;
      const { code, constraint } = (cause ?? {}) as { code?: string; constraint?: string };
      if (code === UNIQUE_VIOLATION && constraint === 'jobs_transaction_id_key') {
        throw new VoxgateError('VXG_ERR_JOB_DUPLICATE', 'An existing request with same transaction ID already exists.', { cause });
      }
      throw err;
    }
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const [row] = await this.#query('SELECT * FROM jobs WHERE job_id = $1', [jobId]);
    return row && toRecord(row);
  }

  async getByTransactionId(transactionId: string): Promise<JobRecord | undefined> {
    const [row] = await this.#query('SELECT * FROM jobs WHERE transaction_id = $1', [transactionId]);
    return row && toRecord(row);
  }

  async list(options: ListJobsOptions = {}): Promise<JobRecord[]> {
    const states = options.states ?? [];
    const where = states.length > 0 ? 'WHERE state = ANY($2::text[])' : '';
    const params: unknown[] = [options.limit ?? 100];
    if (states.length > 0) params.push(states);
    const rows = await this.#query(`SELECT * FROM jobs ${where} ORDER BY seq DESC LIMIT $1`, params);
    return rows.map(toRecord);
  }

  async claim(owner: string, leaseMs: number): Promise<JobRecord | undefined> {
    // SKIP LOCKED: a row another claimer has locked is passed over, not waited for. In READ
    // COMMITTED a row claimed and committed meanwhile is re-checked against the WHERE clause
    // after locking, so a job whose lease was just taken is not taken again.
    const [row] = await this.#query(
      `WITH clock AS (SELECT COALESCE($2::bigint, ${DB_NOW_MS}) AS now_ms),
            next AS (
              SELECT jobs.seq FROM jobs, clock
               WHERE jobs.state = 'Queued'
                  OR (jobs.state = 'InProcess' AND (jobs.lease_owner IS NULL OR jobs.lease_expires_ms <= clock.now_ms))
               ORDER BY jobs.priority DESC, jobs.created_ms, jobs.seq
               LIMIT 1
               FOR UPDATE OF jobs SKIP LOCKED)
       UPDATE jobs
          SET state = 'InProcess', lease_owner = $1, lease_expires_ms = clock.now_ms + $3::bigint,
              started_ms = COALESCE(jobs.started_ms, clock.now_ms), claims = jobs.claims + 1
         FROM next, clock
        WHERE jobs.seq = next.seq
        RETURNING jobs.*`,
      [owner, this.#clock(), Math.trunc(leaseMs)],
    );
    return row && toRecord(row);
  }

  async renew(jobId: string, owner: string, leaseMs: number): Promise<boolean> {
    const rows = await this.#query(
      `UPDATE jobs SET lease_expires_ms = COALESCE($1::bigint, ${DB_NOW_MS}) + $2::bigint
        WHERE job_id = $3 AND lease_owner = $4 AND state = 'InProcess' RETURNING seq`,
      [this.#clock(), Math.trunc(leaseMs), jobId, owner],
    );
    return rows.length === 1;
  }

  async update(jobId: string, owner: string, patch: JobPatch): Promise<JobRecord> {
    const params: unknown[] = [jobId, owner];
    const sets: string[] = [];
    const set = (sql: (param: string) => string, value: unknown): void => {
      params.push(value);
      sets.push(sql(`$${params.length}`));
    };
    if (patch.step !== undefined) set((p) => `step = ${p}`, patch.step);
    if (patch.progress !== undefined) set((p) => `progress = GREATEST(progress, ${p}::integer)`, Math.round(Math.min(100, Math.max(0, patch.progress))));
    if (patch.message !== undefined) set((p) => `message = ${p}`, patch.message);
    if (patch.tries !== undefined) set((p) => `tries = ${p}::jsonb`, JSON.stringify(patch.tries));
    if (patch.results !== undefined) set((p) => `results = ${p}::jsonb`, JSON.stringify(patch.results));
    if (sets.length === 0) sets.push('seq = seq');
    const [row] = await this.#query(
      `UPDATE jobs SET ${sets.join(', ')} WHERE job_id = $1 AND lease_owner = $2 AND state = 'InProcess' RETURNING *`,
      params,
    );
    if (!row) throw leaseLost(jobId, owner);
    return toRecord(row);
  }

  async saveStepState<S extends WorkStep>(jobId: string, owner: string, step: S, state: StepStates[S]): Promise<void> {
    const rows = await this.#query(
      `UPDATE jobs SET ${STEP_COLUMNS[step]} = $1::jsonb WHERE job_id = $2 AND lease_owner = $3 AND state = 'InProcess' RETURNING seq`,
      [JSON.stringify(state), jobId, owner],
    );
    if (rows.length !== 1) throw leaseLost(jobId, owner);
  }

  async finish(jobId: string, owner: string, outcome: JobOutcome): Promise<JobRecord> {
    const [row] = await this.#query(
      `UPDATE jobs
          SET state = 'Completed', status = $3, message = $4, step = 'done', stopped_ms = COALESCE($5::bigint, ${DB_NOW_MS}),
              progress = CASE WHEN $3 = 'Success' THEN 100 ELSE progress END,
              lease_owner = NULL, lease_expires_ms = NULL
        WHERE job_id = $1 AND lease_owner = $2 AND state = 'InProcess'
        RETURNING *`,
      [jobId, owner, outcome.status, outcome.message, this.#clock()],
    );
    if (!row) throw leaseLost(jobId, owner);
    return toRecord(row);
  }

  async release(jobId: string, owner: string): Promise<boolean> {
    const rows = await this.#query(
      `WITH released AS (
         UPDATE jobs SET lease_owner = NULL, lease_expires_ms = NULL WHERE job_id = $1 AND lease_owner = $2 AND state = 'InProcess' RETURNING job_id)
       SELECT pg_notify('${CHANNELS.jobs}', released.job_id) FROM released`,
      [jobId, owner],
    );
    return rows.length === 1;
  }

  async countJobs(): Promise<Record<JobState, number>> {
    const rows = (await this.#query('SELECT state, count(*) AS n FROM jobs GROUP BY state', [])) as unknown as { state: JobState; n: string }[];
    const counts: Record<JobState, number> = { Queued: 0, InProcess: 0, Completed: 0 };
    for (const { state, n } of rows) counts[state] = Number(n);
    return counts;
  }

  async listNodeEntries(kind: NodeEntryKind): Promise<NodeEntry[]> {
    const rows = (await this.#query('SELECT kind, name, identity, body FROM node_config WHERE kind = $1 ORDER BY name COLLATE "C"', [kind])) as unknown as NodeEntry[];
    return rows.map((r) => ({ kind: r.kind, name: r.name, identity: r.identity, body: r.body }));
  }

  async createNodeEntry(entry: NodeEntry): Promise<void> {
    try {
      await this.#query(
        `INSERT INTO node_config (kind, name, identity, body, updated_ms) VALUES ($1, $2, $3, $4::jsonb, COALESCE($5::bigint, ${DB_NOW_MS}))`,
        [entry.kind, entry.name, entry.identity, JSON.stringify(entry.body), this.#clock()],
      );
    } catch (err) {
      throw nodeDuplicate(err, entry);
    }
  }

  async replaceNodeEntry(entry: NodeEntry): Promise<boolean> {
    try {
      const rows = await this.#query(
        `UPDATE node_config SET identity = $1, body = $2::jsonb, updated_ms = COALESCE($3::bigint, ${DB_NOW_MS}) WHERE kind = $4 AND name = $5 RETURNING name`,
        [entry.identity, JSON.stringify(entry.body), this.#clock(), entry.kind, entry.name],
      );
      return rows.length === 1;
    } catch (err) {
      throw nodeDuplicate(err, entry);
    }
  }

  async deleteNodeEntry(kind: NodeEntryKind, name: string): Promise<boolean> {
    const rows = await this.#query('DELETE FROM node_config WHERE kind = $1 AND name = $2 RETURNING name', [kind, name]);
    return rows.length === 1;
  }

  async configVersion(): Promise<number> {
    const [row] = (await this.#query('SELECT version FROM config_version WHERE id = 1', [])) as unknown as { version: string }[];
    return Number(row?.version ?? 0);
  }

  async createTask(taskId: string, request: InferenceTaskRequest): Promise<void> {
    await this.#query(
      `WITH created AS (
         INSERT INTO inference_tasks (task_id, request, created_ms) VALUES ($1, $2::jsonb, COALESCE($3::bigint, ${DB_NOW_MS})) RETURNING task_id)
       SELECT pg_notify('${CHANNELS.tasks}', created.task_id) FROM created`,
      [taskId, JSON.stringify(request), this.#clock()],
    );
  }

  async getTask(taskId: string): Promise<InferenceTask | undefined> {
    const [row] = (await this.#query('SELECT * FROM inference_tasks WHERE task_id = $1', [taskId])) as unknown as TaskRow[];
    return row && toTask(row);
  }

  async claimTask(owner: string, leaseMs: number): Promise<InferenceTask | undefined> {
    const [row] = (await this.#query(
      `WITH clock AS (SELECT COALESCE($2::bigint, ${DB_NOW_MS}) AS now_ms),
            next AS (
              SELECT t.seq FROM inference_tasks t, clock
               WHERE t.state = 'Queued' OR (t.state = 'InProcess' AND t.lease_expires_ms <= clock.now_ms)
               ORDER BY t.seq LIMIT 1
               FOR UPDATE OF t SKIP LOCKED)
       UPDATE inference_tasks
          SET state = 'InProcess', lease_owner = $1, lease_expires_ms = clock.now_ms + $3::bigint, claims = inference_tasks.claims + 1
         FROM next, clock
        WHERE inference_tasks.seq = next.seq
        RETURNING inference_tasks.*`,
      [owner, this.#clock(), Math.trunc(leaseMs)],
    )) as unknown as TaskRow[];
    return row && toTask(row);
  }

  async renewTask(taskId: string, owner: string, leaseMs: number): Promise<boolean> {
    const rows = await this.#query(
      `UPDATE inference_tasks SET lease_expires_ms = COALESCE($1::bigint, ${DB_NOW_MS}) + $2::bigint
        WHERE task_id = $3 AND lease_owner = $4 AND state = 'InProcess' RETURNING seq`,
      [this.#clock(), Math.trunc(leaseMs), taskId, owner],
    );
    return rows.length === 1;
  }

  async finishTask(taskId: string, owner: string, outcome: InferenceTaskOutcome): Promise<void> {
    const rows = await this.#query(
      `WITH ended AS (
         UPDATE inference_tasks SET state = 'Completed', outcome = $1::jsonb, lease_owner = NULL, lease_expires_ms = NULL
          WHERE task_id = $2 AND lease_owner = $3 AND state = 'InProcess' RETURNING task_id)
       SELECT pg_notify('${CHANNELS['task-ended']}', ended.task_id) FROM ended`,
      [JSON.stringify(outcome), taskId, owner],
    );
    if (rows.length !== 1) throw leaseLost(taskId, owner, 'Inference task');
  }

  async deleteTask(taskId: string): Promise<void> {
    await this.#query('DELETE FROM inference_tasks WHERE task_id = $1', [taskId]);
  }

  watch(topic: StoreTopic, listener: StoreListener): () => void {
    let set = this.#listeners.get(topic);
    if (!set) this.#listeners.set(topic, (set = new Set()));
    set.add(listener);
    this.#listen();
    return () => void set.delete(listener);
  }

  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    clearTimeout(this.#relistenTimer);
    const listening = this.#listenClient;
    this.#listenClient = undefined;
    this.#listeners.clear();
    await Promise.all([this.#pool.end(), listening?.end().catch(() => {})]);
  }

  /** Opens the LISTEN connection unless it is open (or opening). */
  #listen(reconnecting = false): void {
    if (this.#listenClient || !this.#open) return;
    const client = new pg.Client({ connectionString: this.#url });
    this.#listenClient = client;
    const broken = (): void => {
      if (this.#listenClient !== client) return;
      this.#listenClient = undefined;
      client.end().catch(() => {});
      if (this.#open) this.#relistenTimer = setTimeout(() => this.#listen(true), RELISTEN_MS).unref();
    };
    client.on('error', broken);
    client.on('end', broken);
    client.on('notification', (message) => {
      const topic = (Object.keys(CHANNELS) as StoreTopic[]).find((t) => CHANNELS[t] === message.channel);
      if (topic) this.#dispatch(topic, message.payload ?? '');
    });
    client
      .connect()
      .then(() => client.query(Object.values(CHANNELS).map((c) => `LISTEN ${c};`).join(' ')))
      .then(() => {
        // Notices sent while no connection listened are lost: tell every listener to look now.
        if (reconnecting) for (const topic of this.#listeners.keys()) this.#dispatch(topic, '');
      })
      .catch(broken);
  }

  #dispatch(topic: StoreTopic, payload: string): void {
    for (const listener of this.#listeners.get(topic) ?? []) {
      try {
        listener(payload);
      } catch {
        // A listener's failure is its own; the others still hear.
      }
    }
  }

  /**
   * After a failed statement: pings the database; while the ping fails the store reports not open
   * (so a load balancer stops sending requests here) and pings again every RELISTEN_MS until it
   * answers. A statement that failed for its own reason leaves the store reachable.
   */
  #checkReachable(): void {
    if (this.#pinging) return;
    this.#pinging = true;
    void (async () => {
      while (this.#open) {
        const answered = await this.#pool.query('SELECT 1').then(
          () => true,
          () => false,
        );
        this.#reachable = answered || !this.#open;
        if (answered) break;
        await new Promise((resolve) => setTimeout(resolve, RELISTEN_MS).unref());
      }
    })().finally(() => {
      this.#pinging = false;
    });
  }

  #clock(): number | null {
    return this.#now ? Math.trunc(this.#now()) : null;
  }

  /** Runs one statement, turning driver errors (connection lost, closed pool) into VXG_ERR_JOB_STORE. */
  async #query(sql: string, params: readonly unknown[]): Promise<JobRow[]> {
    if (!this.#open) throw new VoxgateError('VXG_ERR_JOB_STORE', `The job store ${this.location} is closed.`);
    try {
      const result = await this.#pool.query<JobRow>(sql, params as unknown[]);
      return result.rows;
    } catch (err) {
      this.#checkReachable();
      throw new VoxgateError('VXG_ERR_JOB_STORE', `The job store ${this.location} failed: ${(err as Error).message}.`, { cause: err });
    }
  }
}

interface TaskRow {
  task_id: string;
  state: InferenceTaskState;
  request: InferenceTaskRequest;
  outcome: InferenceTaskOutcome | null;
  claims: number;
}

function toTask(row: TaskRow): InferenceTask {
  return { taskId: row.task_id, state: row.state, request: row.request, outcome: row.outcome ?? undefined, claims: row.claims };
}

/** A unique violation on node_config as VXG_ERR_NODE_CONFIG_DUPLICATE (the SQLite store's words); anything else as it is. */
function nodeDuplicate(err: unknown, entry: NodeEntry): unknown {
  const cause = isVoxgateError(err) ? err.cause : undefined;
  const { code, constraint } = (cause ?? {}) as { code?: string; constraint?: string };
  if (code !== UNIQUE_VIOLATION) return err;
  const field = constraint === 'node_config_identity_key' ? 'identity' : 'name';
  return new VoxgateError('VXG_ERR_NODE_CONFIG_DUPLICATE', field === 'name' ? `A ${entry.kind} named "${entry.name}" already exists.` : `Another ${entry.kind} already has ${entry.identity}.`, {
    cause,
  });
}

function leaseLost(jobId: string, owner: string, what = 'Job'): VoxgateError {
  return new VoxgateError('VXG_ERR_JOB_LEASE_LOST', `${what} ${jobId} is no longer leased to ${owner}: another worker has taken it over, or it has ended.`);
}

async function migrate(pool: Pool, migrations: readonly Migration[], location: string): Promise<void> {
  const client: PoolClient = await pool.connect();
  try {
    await client.query('BEGIN');
    // Held until COMMIT/ROLLBACK: a second process starting now waits here, then finds every
    // migration applied. CREATE TABLE IF NOT EXISTS alone is not safe against a concurrent one.
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const newest = Math.max(0, ...applied);
    const known = Math.max(0, ...migrations.map((m) => m.version));
    if (newest > known) {
      throw new VoxgateError('VXG_ERR_JOB_STORE', `The job store ${location} has schema version ${newest}, newer than this Voxgate knows (${known}); run a newer Voxgate.`);
    }
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** The URL with its password replaced, so that messages and logs never carry it. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the PostgreSQL database';
  }
}

function ms(value: string | null): Date | undefined {
  return value === null ? undefined : new Date(Number(value));
}

function toRecord(row: JobRow): JobRecord {
  return {
    jobId: row.job_id,
    transactionId: row.transaction_id,
    priority: row.priority,
    pipeline: row.pipeline,
    request: row.request,
    state: row.state,
    status: row.status,
    step: row.step,
    progress: row.progress,
    message: row.message,
    created: new Date(Number(row.created_ms)),
    started: ms(row.started_ms),
    stopped: ms(row.stopped_ms),
    lease: row.lease_owner === null || row.lease_expires_ms === null ? undefined : { owner: row.lease_owner, expires: new Date(Number(row.lease_expires_ms)) },
    claims: row.claims,
    tries: row.tries,
    steps: {
      retrieve: row.retrieve_state ?? EMPTY_STEP_STATES.retrieve,
      infer: row.infer_state ?? EMPTY_STEP_STATES.infer,
      export: row.export_state ?? EMPTY_STEP_STATES.export,
    },
    results: row.results,
  };
}
