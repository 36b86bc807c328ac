/**
 * The PostgreSQL job store against a real server (Debian's postgresql, started on loopback for this
 * file): the shared JobStore contract, then what many processes on one database need — concurrent
 * claimers, leases on the database's clock, migrations started at once.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { isVoxgateError } from '../../src/errors.js';
import { openJobStore } from '../../src/jobs/open-store.js';
import { PostgresJobStore } from '../../src/jobs/postgres-store.js';
import { sampleRequest } from '../helpers/jobs.js';
import { freePort } from '../helpers/orthanc.js';
import type { PostgresDatabase, PostgresServer } from '../helpers/postgres.js';
import { ensurePostgres, startPostgres } from '../helpers/postgres.js';
import { jobStoreContract } from './job-store-contract.js';

const postgres = await ensurePostgres();
const server: PostgresServer | undefined = postgres.ok ? await startPostgres() : undefined;
after(() => server?.stop());

async function withDatabase(body: (db: PostgresDatabase) => Promise<void>): Promise<void> {
  assert.ok(server);
  const db = await server.createDatabase();
  try {
    await body(db);
  } finally {
    await db.drop();
  }
}

async function migrationRows(url: string): Promise<{ version: number; name: string }[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version')).rows;
  } finally {
    await client.end();
  }
}

if (!server) {
  test('PostgreSQL job store', { skip: postgres.ok ? false : postgres.reason }, () => {});
} else {
  const running = server;
  jobStoreContract('postgres', async () => {
    const db = await running.createDatabase();
    return {
      open: (clock) => PostgresJobStore.open(db.url, { now: () => clock.now }),
      cleanup: () => db.drop(),
    };
  });

  describe('PostgreSQL job store: many processes on one database', () => {
    test('3 concurrent claimers on 60 jobs each claim distinct jobs, all 60, each in priority order', () =>
      withDatabase(async (db) => {
        const stores = await Promise.all([0, 1, 2].map(() => PostgresJobStore.open(db.url)));
        try {
          const priorities = new Map<string, number>();
          for (let n = 0; n < 60; n++) {
            const jobId = randomUUID();
            const priority = [0, 128, 255, 64, 200][n % 5]!;
            priorities.set(jobId, priority);
            await stores[n % 3]!.create({ jobId, request: sampleRequest({ priority }) });
          }
          const claimed = await Promise.all(
            stores.map(async (store, w) => {
              const mine: string[] = [];
              for (let job = await store.claim(`worker-${w}`, 60_000); job; job = await store.claim(`worker-${w}`, 60_000)) {
                assert.equal(job.lease?.owner, `worker-${w}`);
                assert.equal(job.claims, 1);
                mine.push(job.jobId);
              }
              return mine;
            }),
          );
          const all = claimed.flat();
          assert.equal(all.length, 60, 'every job claimed once');
          assert.equal(new Set(all).size, 60, 'no job claimed twice');
          assert.deepEqual(new Set(all), new Set(priorities.keys()));
          for (const mine of claimed) {
            const order = mine.map((id) => priorities.get(id)!);
            assert.deepEqual(order, [...order].sort((a, b) => b - a), 'each claimer gets the highest priority left first');
          }
          assert.ok(claimed.every((mine) => mine.length > 0), `every claimer got work: ${claimed.map((m) => m.length).join(', ')}`);
        } finally {
          await Promise.all(stores.map((s) => s.close()));
        }
      }));

    test('priorities are honoured across processes: a job created later with a higher priority is claimed first', () =>
      withDatabase(async (db) => {
        const [producer, worker] = await Promise.all([PostgresJobStore.open(db.url), PostgresJobStore.open(db.url)]);
        try {
          const low = randomUUID();
          const high = randomUUID();
          const normal = randomUUID();
          await producer.create({ jobId: low, request: sampleRequest({ priority: 10 }) });
          await producer.create({ jobId: normal, request: sampleRequest({ priority: 128 }) });
          await producer.create({ jobId: high, request: sampleRequest({ priority: 250 }) });
          const order = [];
          for (let job = await worker.claim('w', 60_000); job; job = await worker.claim('w', 60_000)) order.push(job.jobId);
          assert.deepEqual(order, [high, normal, low]);
        } finally {
          await Promise.all([producer.close(), worker.close()]);
        }
      }));

    test('on the database clock, an expired lease is reclaimed by another owner and the old owner is refused', () =>
      withDatabase(async (db) => {
        const [a, b] = await Promise.all([PostgresJobStore.open(db.url), PostgresJobStore.open(db.url)]);
        try {
          const jobId = randomUUID();
          await a.create({ jobId, request: sampleRequest() });
          const first = await a.claim('worker-a', 300);
          assert.equal(first?.jobId, jobId);
          assert.equal(await b.claim('worker-b', 300), undefined, 'not while the lease holds');
          assert.equal(await a.renew(jobId, 'worker-a', 300), true, 'heartbeat');
          await new Promise((r) => setTimeout(r, 450));
          const taken = await b.claim('worker-b', 60_000);
          assert.equal(taken?.jobId, jobId);
          assert.equal(taken.claims, 2);
          assert.equal(taken.lease?.owner, 'worker-b');
          assert.equal(await a.renew(jobId, 'worker-a', 300), false);
          await assert.rejects(a.update(jobId, 'worker-a', { progress: 50 }), (err: unknown) => isVoxgateError(err, 'VXG_ERR_JOB_LEASE_LOST'));
          assert.equal((await b.finish(jobId, 'worker-b', { status: 'Success', message: 'Done.' })).state, 'Completed');
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      }));

    test('a node entry changed through one connection is announced to another with the new version, and a queued job too', () =>
      withDatabase(async (db) => {
        const [server, writer] = await Promise.all([PostgresJobStore.open(db.url), PostgresJobStore.open(db.url)]);
        const admin = new pg.Client({ connectionString: db.url });
        try {
          const heard: string[] = [];
          server.watch('config', (version) => heard.push(`config:${version}`));
          server.watch('jobs', (jobId) => heard.push(`jobs:${jobId}`));
          await new Promise((r) => setTimeout(r, 300));
          await writer.createNodeEntry({ kind: 'ae-title', name: 'seg', identity: 'VOXGATE_SEG', body: { aeTitle: 'VOXGATE_SEG' } });
          // Whatever writes the table bumps the version and announces it: the trigger does it.
          await admin.connect();
          await admin.query(`UPDATE node_config SET body = '{"aeTitle": "VOXGATE_SEG", "pipeline": "vista3d"}'::jsonb`);
          const jobId = randomUUID();
          await writer.create({ jobId, request: sampleRequest() });
          for (let waited = 0; heard.length < 3 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
          assert.deepEqual(heard, ['config:1', 'config:2', `jobs:${jobId}`]);
          assert.equal(await server.configVersion(), 2);
        } finally {
          await admin.end().catch(() => {});
          await Promise.all([server.close(), writer.close()]);
        }
      }));

    test('migrations started by 5 processes at once, then again, apply once and fail none', () =>
      withDatabase(async (db) => {
        const stores = await Promise.all(Array.from({ length: 5 }, () => PostgresJobStore.open(db.url)));
        await Promise.all(stores.map((s) => s.close()));
        const again = await PostgresJobStore.open(db.url);
        await again.create({ jobId: randomUUID(), request: sampleRequest() });
        await again.close();
        const twice = await PostgresJobStore.open(db.url);
        assert.equal((await twice.list()).length, 1, 'reopening keeps the jobs');
        await twice.close();
        assert.deepEqual(await migrationRows(db.url), [{ version: 1, name: 'jobs' }, { version: 2, name: 'node_config' }, { version: 3, name: 'config_version' }, { version: 4, name: 'inference_tasks' }]);
      }));

    test('a database migrated by a newer Voxgate is refused with VXG_ERR_JOB_STORE', () =>
      withDatabase(async (db) => {
        await (await PostgresJobStore.open(db.url)).close();
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        await client.query(`INSERT INTO schema_migrations (version, name) VALUES (99, 'future')`);
        await client.end();
        await assert.rejects(
          PostgresJobStore.open(db.url),
          (err: unknown) => isVoxgateError(err, 'VXG_ERR_JOB_STORE') && /schema version 99, newer than this Voxgate knows \(4\)/.test(err.message),
        );
      }));

    test('an unreachable database fails with VXG_ERR_JOB_STORE, the password left out of the message', async () => {
      const port = await freePort();
      await assert.rejects(
        PostgresJobStore.open(`postgres://voxgate:hunter2@127.0.0.1:${port}/jobs`, { connectTimeoutMs: 2000 }),
        (err: unknown) => isVoxgateError(err, 'VXG_ERR_JOB_STORE') && err.message.includes(`127.0.0.1:${port}/jobs`) && !err.message.includes('hunter2'),
      );
    });

    test('while the database refuses connections the store answers isOpen() false, and true again once it is back', () =>
      withDatabase(async (db) => {
        const store = await PostgresJobStore.open(db.url, { connectTimeoutMs: 2000 });
        const admin = new pg.Client({ connectionString: running.url });
        await admin.connect();
        try {
          await store.create({ jobId: randomUUID(), request: sampleRequest() });
          await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
          await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [db.name]);
          await assert.rejects(store.list(), (err: unknown) => isVoxgateError(err, 'VXG_ERR_JOB_STORE'));
          for (let waited = 0; store.isOpen() && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
          assert.equal(store.isOpen(), false, 'unreachable: not ready');
          await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
          for (let waited = 0; !store.isOpen() && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
          assert.equal(store.isOpen(), true, 'reachable again: ready');
          assert.equal((await store.list()).length, 1);
        } finally {
          await admin.query(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`).catch(() => {});
          await admin.end();
          await store.close();
        }
      }));

    test('a closed store answers isOpen() false and refuses calls with VXG_ERR_JOB_STORE', () =>
      withDatabase(async (db) => {
        const store = await PostgresJobStore.open(db.url);
        assert.equal(store.isOpen(), true);
        assert.equal(store.kind, 'postgres');
        await store.close();
        assert.equal(store.isOpen(), false);
        await assert.rejects(store.get(randomUUID()), (err: unknown) => isVoxgateError(err, 'VXG_ERR_JOB_STORE'));
      }));

    test('openJobStore chooses PostgreSQL for a postgres:// databaseUrl', () =>
      withDatabase(async (db) => {
        const store = await openJobStore({ dataDir: '/nonexistent-voxgate-data', databaseUrl: db.url });
        try {
          assert.equal(store.kind, 'postgres');
          assert.ok(store instanceof PostgresJobStore);
        } finally {
          await store.close();
        }
      }));
  });
}
