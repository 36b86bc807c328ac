/**
 * Choosing the job store from the configuration (the PostgreSQL case runs in postgres-store.test.ts,
 * which has a server).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isVoxgateError } from '../../src/errors.js';
import { openJobStore } from '../../src/jobs/open-store.js';
import { makeTempDir } from '../helpers/jobs.js';

test('without databaseUrl the store is SQLite in <dataDir>/jobs.sqlite', async () => {
  const dir = await makeTempDir('voxgate-open-store-');
  try {
    for (const databaseUrl of [undefined, '', '  ']) {
      const store = await openJobStore({ dataDir: dir.path, databaseUrl });
      assert.equal(store.kind, 'sqlite');
      await store.close();
    }
    assert.ok(existsSync(join(dir.path, 'jobs.sqlite')));
  } finally {
    await dir.remove();
  }
});

test('a databaseUrl that is not PostgreSQL is refused with VXG_ERR_CONFIG_INVALID, without echoing it', async () => {
  for (const databaseUrl of ['mysql://root:hunter2@db/jobs', 'not a url', 'sqlite:///tmp/jobs.sqlite']) {
    await assert.rejects(
      openJobStore({ dataDir: '/nonexistent-voxgate-data', databaseUrl }),
      (err: unknown) => isVoxgateError(err, 'VXG_ERR_CONFIG_INVALID') && !err.message.includes('hunter2') && err.message.includes('databaseUrl'),
    );
  }
});

test('voxgate worker with a databaseUrl that is not PostgreSQL exits 1 naming the setting, not the password', async () => {
  const { spawnSync } = await import('node:child_process');
  const dir = await makeTempDir('voxgate-worker-cli-');
  try {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'worker', '--data-dir', dir.path, '--database-url', 'mysql://root:hunter2@db/jobs'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /^voxgate: databaseUrl: expected a PostgreSQL URL .* \(VXG_ERR_CONFIG_INVALID\)$/m);
    assert.ok(!run.stderr.includes('hunter2'));
  } finally {
    await dir.remove();
  }
});
