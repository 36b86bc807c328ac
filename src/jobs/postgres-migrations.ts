/**
 * The PostgreSQL job store's schema, as numbered migrations applied in order at start and recorded
 * in `schema_migrations`. Never edit a released migration: add the next one. The table mirrors the
 * SQLite one (sqlite-migrations.ts) column for column, with JSONB where SQLite keeps JSON text.
 * @module
 */
import type { Migration } from './sqlite-migrations.js';

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'jobs',
    sql: `
      CREATE TABLE jobs (
        -- Arrival order among jobs created in the same millisecond.
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        job_id TEXT NOT NULL UNIQUE,
        transaction_id TEXT NOT NULL CONSTRAINT jobs_transaction_id_key UNIQUE,
        priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 255),
        pipeline TEXT NOT NULL,
        request JSONB NOT NULL,
        state TEXT NOT NULL DEFAULT 'Queued' CHECK (state IN ('Queued', 'InProcess', 'Completed')),
        status TEXT NOT NULL DEFAULT 'Unknown' CHECK (status IN ('Unknown', 'Success', 'Fail')),
        step TEXT NOT NULL DEFAULT 'retrieve' CHECK (step IN ('retrieve', 'infer', 'export', 'done')),
        progress INTEGER NOT NULL DEFAULT 0,
        message TEXT NOT NULL DEFAULT '',
        -- Milliseconds since the epoch, as in the SQLite store (one clock for every store and test).
        created_ms BIGINT NOT NULL,
        started_ms BIGINT,
        stopped_ms BIGINT,
        lease_owner TEXT,
        lease_expires_ms BIGINT,
        claims INTEGER NOT NULL DEFAULT 0,
        tries JSONB NOT NULL DEFAULT '{}',
        retrieve_state JSONB,
        infer_state JSONB,
        export_state JSONB,
        results JSONB NOT NULL DEFAULT '[]'
      );
      -- claim(): the runnable jobs by priority, then arrival.
      CREATE INDEX jobs_runnable ON jobs (state, priority DESC, created_ms, seq);
    `,
  },
  {
    version: 2,
    name: 'node_config',
    sql: `
      -- The DICOM node's configuration API (AE titles, sources, destinations): one row per entry,
      -- as in the SQLite store. identity is what must be unique besides the name.
      CREATE TABLE node_config (
        kind TEXT NOT NULL CHECK (kind IN ('ae-title', 'source', 'destination')),
        name TEXT NOT NULL,
        identity TEXT NOT NULL,
        body JSONB NOT NULL,
        updated_ms BIGINT NOT NULL,
        CONSTRAINT node_config_pkey PRIMARY KEY (kind, name),
        CONSTRAINT node_config_identity_key UNIQUE (kind, identity)
      );
    `,
  },
  {
    version: 3,
    name: 'config_version',
    sql: `
      -- One row: the configuration version (job-store.ts configVersion). A trigger bumps it in the
      -- transaction of every node_config change, whoever makes it, and announces the new version
      -- (NOTIFY is delivered at commit). The row lock also puts concurrent changes in one order.
      CREATE TABLE config_version (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version BIGINT NOT NULL
      );
      INSERT INTO config_version (id, version) VALUES (1, 0);
      CREATE FUNCTION voxgate_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE bumped BIGINT;
        BEGIN
          UPDATE config_version SET version = version + 1 WHERE id = 1 RETURNING version INTO bumped;
          PERFORM pg_notify('voxgate_config', bumped::text);
          RETURN NULL;
        END $$;
      CREATE TRIGGER node_config_changed AFTER INSERT OR UPDATE OR DELETE ON node_config
        FOR EACH ROW EXECUTE FUNCTION voxgate_config_changed();
    `,
  },
  {
    version: 4,
    name: 'inference_tasks',
    sql: `
      -- NIM inferences handed to workers (inference-task.ts): oldest first, leased like jobs.
      CREATE TABLE inference_tasks (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        task_id TEXT NOT NULL UNIQUE,
        state TEXT NOT NULL DEFAULT 'Queued' CHECK (state IN ('Queued', 'InProcess', 'Completed')),
        request JSONB NOT NULL,
        outcome JSONB,
        created_ms BIGINT NOT NULL,
        lease_owner TEXT,
        lease_expires_ms BIGINT,
        claims INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX inference_tasks_runnable ON inference_tasks (state, seq);
    `,
  },
];
