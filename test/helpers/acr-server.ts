/**
 * The ACR routes on a real Voxgate server (`buildServer`, driven with `inject()`), with a SQLite
 * job store in a temporary data directory and an engine that is never called (the routes only
 * queue and report).
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server.js';
import type { Config, ConfigInput } from '../../src/config.js';
import { loadConfig } from '../../src/config.js';
import type { Engine } from '../../src/engines/engine.js';
import type { JobRecord } from '../../src/jobs/job.js';
import { SqliteJobStore } from '../../src/jobs/sqlite-job-store.js';
import { jobStorePath } from '../../src/jobs/setup.js';
import type { TempDir } from './jobs.js';
import { makeTempDir } from './jobs.js';

/** Enough of an engine for routes that never segment. */
export const IDLE_ENGINE: Engine = {
  info: { name: 'idle', version: '0', description: 'never segments', supportedClasses: [1], pointPrompts: false, license: 'none' },
  isReady: () => true,
  segment: () => Promise.reject(new Error('the ACR route tests do not segment')),
  close: async () => {},
};

export interface AcrApp {
  app: FastifyInstance;
  store: SqliteJobStore;
  config: Config;
  dir: TempDir;
  queued: JobRecord[];
  close(): Promise<void>;
}

export async function startAcrApp(settings: Partial<ConfigInput> = {}): Promise<AcrApp> {
  const dir = await makeTempDir('voxgate-acr-');
  const config = loadConfig({ flags: { dataDir: join(dir.path, 'data'), ...settings } as Record<string, unknown>, env: {} });
  const store = SqliteJobStore.open(jobStorePath(config));
  const queued: JobRecord[] = [];
  const app = await buildServer({ config, engine: IDLE_ENGINE, logger: false, jobs: { store, onQueued: (job) => queued.push(job) } });
  await app.ready();
  return {
    app,
    store,
    config,
    dir,
    queued,
    close: async () => {
      await app.close();
      await store.close();
      await dir.remove();
    },
  };
}

/** A request every check passes: study by UID from a DICOMweb PACS, the SEG back to it. */
export function validBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    transactionID: `tx-${Math.random().toString(36).slice(2)}`,
    priority: 128,
    inputMetadata: { details: { type: 'DICOM_UID', studies: [{ StudyInstanceUID: '1.2.840.113619.2.1' }] } },
    inputResources: [
      { interface: 'Algorithm', connectionDetails: { name: 'VISTA3D', id: 'vista3d' } },
      { interface: 'DICOMweb', connectionDetails: { operations: ['QUERY', 'RETRIEVE'], uri: 'http://pacs.example:8042/dicom-web', authType: 'Basic', authID: 'dXNlcjpwYXNz' } },
    ],
    outputResources: [{ interface: 'DICOMweb', connectionDetails: { operations: ['STORE'], uri: 'http://pacs.example:8042/dicom-web/', authType: 'None' } }],
    ...overrides,
  };
}
