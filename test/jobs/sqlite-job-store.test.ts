/**
 * The SQLite job store: the shared JobStore contract, plus what only SQLite has (WAL, the file,
 * the migrations table, refusing a newer schema).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isVoxgateError } from '../../src/errors.js';
import { SqliteJobStore } from '../../src/jobs/sqlite-job-store.js';
import { makeTempDir, sampleRequest } from '../helpers/jobs.js';
import { jobStoreContract } from './job-store-contract.js';

jobStoreContract('sqlite', async () => {
  const dir = await makeTempDir('voxgate-store-');
  const path = join(dir.path, 'jobs.sqlite');
  return {
    open: async (clock) => SqliteJobStore.open(path, { now: () => clock.now }),
    cleanup: () => dir.remove(),
  };
});

test('the SQLite store is a WAL database with its migrations recorded', async () => {
  const dir = await makeTempDir('voxgate-store-');
  try {
    const path = join(dir.path, 'data', 'jobs.sqlite');
    const store = SqliteJobStore.open(path);
    await store.create({ jobId: randomUUID(), request: sampleRequest() });
    assert.ok(existsSync(`${path}-wal`), 'WAL file next to the database');
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.deepEqual(db.prepare('SELECT version, name FROM schema_migrations').all(), [{ version: 1, name: 'jobs' }, { version: 2, name: 'node_config' }, { version: 3, name: 'config_version' }, { version: 4, name: 'inference_tasks' }]);
    } finally {
      db.close();
    }
    // Opening again applies nothing twice.
    const again = SqliteJobStore.open(path);
    assert.equal((await again.list()).length, 1);
    await again.close();
  } finally {
    await dir.remove();
  }
});

test('a job store written by a newer Voxgate is refused with VXG_ERR_JOB_STORE', async () => {
  const dir = await makeTempDir('voxgate-store-');
  try {
    const path = join(dir.path, 'jobs.sqlite');
    await SqliteJobStore.open(path).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, ?)').run('future', new Date().toISOString());
    db.close();
    assert.throws(
      () => SqliteJobStore.open(path),
      (err: unknown) => isVoxgateError(err, 'VXG_ERR_JOB_STORE') && /schema version 99, newer than this Voxgate knows \(4\)/.test(err.message),
    );
  } finally {
    await dir.remove();
  }
});

test('a store that cannot be opened fails with VXG_ERR_JOB_STORE naming the file', async () => {
  const dir = await makeTempDir('voxgate-store-');
  try {
    const path = join(dir.path, 'not-a-db.sqlite');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path, 'this is not a database, it is text long enough to fill a header page '.repeat(20));
    assert.throws(() => SqliteJobStore.open(path), (err: unknown) => isVoxgateError(err, 'VXG_ERR_JOB_STORE') && err.message.includes(path));
  } finally {
    await dir.remove();
  }
});

test('a closed store answers isOpen() false and refuses calls with VXG_ERR_JOB_STORE', async () => {
  const store = SqliteJobStore.open(':memory:');
  assert.equal(store.isOpen(), true);
  await store.close();
  assert.equal(store.isOpen(), false);
  await assert.rejects(store.get(randomUUID()), (err: unknown) => isVoxgateError(err, 'VXG_ERR_JOB_STORE'));
});
