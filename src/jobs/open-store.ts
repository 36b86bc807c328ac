/**
 * Which job store a process uses: PostgreSQL when `databaseUrl` (`--database-url`,
 * `VOXGATE_DATABASE_URL`) names one, so that many servers and workers share it; otherwise the
 * embedded SQLite file in the data directory.
 * @module
 */
import { join } from 'node:path';
import type { Config } from '../config.js';
import { VoxgateError } from '../errors.js';
import type { JobStore } from './job-store.js';
import { PostgresJobStore } from './postgres-store.js';
import { SqliteJobStore } from './sqlite-job-store.js';


/** `<dataDir>/jobs.sqlite`, the embedded store. */
export function jobStorePath(config: Pick<Config, 'dataDir'>): string {
  return join(config.dataDir, 'jobs.sqlite');
}

/** URL schemes libpq (and so `pg`) accepts for a connection string. */
const POSTGRES_SCHEMES = ['postgres:', 'postgresql:'] as const;

/**
 * Opens and migrates the configured job store. Throws VXG_ERR_CONFIG_INVALID for a `databaseUrl`
 * that is not a PostgreSQL URL, VXG_ERR_JOB_STORE when the store cannot be opened.
 * @example
 * const store = await openJobStore({ dataDir: './data', databaseUrl: process.env.VOXGATE_DATABASE_URL });
 * console.log(store.kind); // 'postgres' or 'sqlite'
 */
export async function openJobStore(config: Pick<Config, 'dataDir' | 'databaseUrl'>): Promise<JobStore> {
  const url = config.databaseUrl?.trim();
  if (!url) return SqliteJobStore.open(jobStorePath(config));
  let scheme: string | undefined;
  try {
    scheme = new URL(url).protocol;
  } catch {
    scheme = undefined;
  }
  if (!POSTGRES_SCHEMES.some((s) => s === scheme)) {
    // The URL is not echoed: it may carry a password.
    throw new VoxgateError('VXG_ERR_CONFIG_INVALID', 'databaseUrl: expected a PostgreSQL URL (postgres://user@host:5432/database); leave it unset for the SQLite store in the data directory.');
  }
  return PostgresJobStore.open(url);
}
