/**
 * A real, throwaway PostgreSQL (Debian's `postgresql`) for integration tests, on loopback.
 *
 * {@link startPostgres} runs `initdb` into a temporary folder and starts the server with `pg_ctl` on a
 * free 127.0.0.1 port, its unix socket in that folder, trust authentication, `fsync=off` (a test
 * database need not survive a power cut). As root both run as the `postgres` user (PostgreSQL
 * refuses to run as root), through `runuser`. `stop()` stops it and removes the folder; a process
 * that exits without calling it still stops the server.
 *
 * @example
 * const postgres = await ensurePostgres();
 * test('…', { skip: postgres.ok ? false : postgres.reason }, async () => {
 *   const server = await startPostgres();
 *   const db = await server.createDatabase();
 *   // db.url: postgres://postgres@127.0.0.1:<port>/<name>
 *   await db.drop();
 *   await server.stop();
 * });
 * @module
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './orthanc.js';
import type { SystemPackagesResult } from './system-packages.js';
import { ensureSystemPackages } from './system-packages.js';

const POSTGRES_LIB = '/usr/lib/postgresql';
const START_TIMEOUT_S = 30;
const SUPERUSER = 'postgres';

/** The newest `/usr/lib/postgresql/<major>/bin` that has `initdb`, if any. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(POSTGRES_LIB)) return undefined;
  const majors = readdirSync(POSTGRES_LIB)
    .filter((name) => existsSync(path.join(POSTGRES_LIB, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] === undefined ? undefined : path.join(POSTGRES_LIB, majors[0], 'bin');
}

/** Debian's postgresql server binaries; see {@link ensureSystemPackages}. */
export function ensurePostgres(): Promise<SystemPackagesResult> {
  return ensureSystemPackages(['postgresql'], () => postgresBinDir() !== undefined);
}

export interface PostgresDatabase {
  readonly name: string;
  /** `postgres://postgres@127.0.0.1:<port>/<name>` */
  readonly url: string;
  /** Drops the database, ending any connection still open to it. */
  drop(): Promise<void>;
}

export interface PostgresServer {
  readonly port: number;
  /** The `test` database created at start. */
  readonly url: string;
  /** A fresh, empty database on this server. */
  createDatabase(): Promise<PostgresDatabase>;
  /** The server's log so far (for failure messages). */
  log(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts a fresh server; retries with another port if the one chosen was taken meanwhile. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (call ensurePostgres first)');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'voxgate-pg-'));
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? postgresUser() : undefined;
  if (user) await chown(dir, user.uid, user.gid);
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const run = (program: string, args: readonly string[]): Promise<string> =>
    asRoot ? exec('runuser', ['-u', SUPERUSER, '--', path.join(bin, program), ...args]) : exec(path.join(bin, program), args);
  let stopped = false;
  const stopSync = (): void => {
    if (stopped) return;
    stopped = true;
    const pgCtl = [path.join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'];
    try {
      execFileSync(asRoot ? 'runuser' : pgCtl[0]!, asRoot ? ['-u', SUPERUSER, '--', ...pgCtl] : pgCtl.slice(1), { stdio: 'ignore' });
    } catch {
      // not running
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run('initdb', ['-D', data, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
    let port = 0;
    let lastError: unknown;
    for (let attempt = 0; attempt < 3 && port === 0; attempt++) {
      const candidate = await freePort();
      const options = `-p ${candidate} -c listen_addresses=127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
      try {
        await run('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', String(START_TIMEOUT_S), '-o', options, 'start']);
        port = candidate;
      } catch (err) {
        lastError = err;
      }
    }
    if (port === 0) throw new Error(`PostgreSQL did not start: ${(lastError as Error).message}\n${await readFile(logFile, 'utf8').catch(() => '')}`);
    process.once('exit', stopSync);
    const urlOf = (name: string): string => `postgres://${SUPERUSER}@127.0.0.1:${port}/${name}`;
    const admin = (sql: string): Promise<unknown> => withClient(urlOf('postgres'), (c) => c.query(sql));
    await admin('CREATE DATABASE test');
    return {
      port,
      url: urlOf('test'),
      async createDatabase() {
        const name = `t_${randomBytes(6).toString('hex')}`;
        await admin(`CREATE DATABASE ${name}`);
        return { name, url: urlOf(name), drop: async () => void (await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)) };
      },
      log: () => readFile(logFile, 'utf8'),
      async stop() {
        if (stopped) return;
        process.removeListener('exit', stopSync);
        stopped = true;
        await run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => {});
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    stopSync();
    throw err;
  }
}

async function withClient<T>(url: string, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

function postgresUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', SUPERUSER], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', SUPERUSER], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function exec(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: (START_TIMEOUT_S + 10) * 1000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}
