/**
 * The SQLite job store's schema, as numbered migrations applied in order at open and recorded in
 * `schema_migrations`. Never edit a released migration: add the next one.
 * @module
 */

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'jobs',
    sql: `
      CREATE TABLE jobs (
        -- Arrival order: equal priorities run in this order.
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL UNIQUE,
        transaction_id TEXT NOT NULL UNIQUE,
        priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 255),
        pipeline TEXT NOT NULL,
        request TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'Queued' CHECK (state IN ('Queued', 'InProcess', 'Completed')),
        status TEXT NOT NULL DEFAULT 'Unknown' CHECK (status IN ('Unknown', 'Success', 'Fail')),
        step TEXT NOT NULL DEFAULT 'retrieve' CHECK (step IN ('retrieve', 'infer', 'export', 'done')),
        progress INTEGER NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        created_ms INTEGER NOT NULL,
        started_ms INTEGER,
        stopped_ms INTEGER,
        lease_owner TEXT,
        lease_expires_ms INTEGER,
        claims INTEGER NOT NULL DEFAULT 0,
        tries TEXT NOT NULL DEFAULT '{}',
        retrieve_state TEXT,
        infer_state TEXT,
        export_state TEXT,
        results TEXT NOT NULL DEFAULT '[]'
      );
      -- claim(): the runnable jobs by priority, then arrival.
      CREATE INDEX jobs_runnable ON jobs (state, priority DESC, seq);
    `,
  },
  {
    version: 2,
    name: 'config',
    sql: `
      -- Shared configuration rows (config-rows.ts); value is JSON text.
      CREATE TABLE config_rows (
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (kind, name)
      );
      -- One row: the configuration version, bumped in the transaction of every change.
      CREATE TABLE config_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL
      );
      INSERT INTO config_version (id, version) VALUES (1, 0);
    `,
  },
  {
    version: 3,
    name: 'inference-tasks',
    sql: `
      -- NIM inferences handed to workers (inference-task.ts): oldest first, leased like jobs.
      CREATE TABLE inference_tasks (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        task_id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL DEFAULT 'Queued' CHECK (state IN ('Queued', 'InProcess', 'Completed')),
        request TEXT NOT NULL,
        outcome TEXT,
        created_ms INTEGER NOT NULL,
        lease_owner TEXT,
        lease_expires_ms INTEGER,
        claims INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX inference_tasks_runnable ON inference_tasks (state, seq);
    `,
  },
];
