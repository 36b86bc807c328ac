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
    name: 'node_config',
    sql: `
      -- The DICOM node's configuration API (AE titles, sources, destinations): one row per entry.
      -- identity is what must be unique besides the name (an AE title; AE title and host; …).
      CREATE TABLE node_config (
        kind TEXT NOT NULL CHECK (kind IN ('ae-title', 'source', 'destination')),
        name TEXT NOT NULL,
        identity TEXT NOT NULL,
        body TEXT NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (kind, name),
        UNIQUE (kind, identity)
      );
    `,
  },
  {
    version: 3,
    name: 'config_version',
    sql: `
      -- One row: the configuration version (job-store.ts configVersion). Triggers bump it in the
      -- transaction of every node_config change, whoever makes it.
      CREATE TABLE config_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version INTEGER NOT NULL
      );
      INSERT INTO config_version (id, version) VALUES (1, 0);
      CREATE TRIGGER node_config_inserted AFTER INSERT ON node_config
        BEGIN UPDATE config_version SET version = version + 1 WHERE id = 1; END;
      CREATE TRIGGER node_config_updated AFTER UPDATE ON node_config
        BEGIN UPDATE config_version SET version = version + 1 WHERE id = 1; END;
      CREATE TRIGGER node_config_deleted AFTER DELETE ON node_config
        BEGIN UPDATE config_version SET version = version + 1 WHERE id = 1; END;
    `,
  },
  {
    version: 4,
    name: 'inference_tasks',
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
