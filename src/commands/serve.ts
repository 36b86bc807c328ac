/**
 * `voxgate serve`: the HTTP APIs with the configured engine, the job store, and (unless
 * `--no-worker`) a worker that runs ACR jobs; jobs left InProcess by a previous run resume.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { buildServer } from '../api/server.js';
import type { Config } from '../config.js';
import { createEngine } from '../engines/index.js';
import { createInferenceTaskRunner, createJobRunner, openJobStore } from '../jobs/setup.js';

export async function serveCommand(config: Config): Promise<void> {
  await mkdir(config.dataDir, { recursive: true });
  const engine = await createEngine(config.engine, { threads: config.engineThreads, model: config.model });
  const store = await openJobStore(config);
  let notify = (): void => {};
  const app = await buildServer({ config, engine, jobs: { store, onQueued: () => notify() } });
  const runner = config.worker ? createJobRunner({ config, store, engine, log: app.log }) : undefined;
  // With its worker, a server also runs NIM inferences handed to workers (its own and other servers').
  const tasks = config.worker ? createInferenceTaskRunner({ config, store, engine, log: app.log }) : undefined;
  if (runner) notify = () => runner.notify();
  const shutdown = async (signal: string): Promise<void> => {
    app.log.info({ signal }, 'shutting down');
    await app.close();
    // Running jobs are aborted and their leases released: the next start resumes them.
    await Promise.all([runner?.stop(), tasks?.stop()]);
    await store.close();
    await engine.close();
    process.exit(0);
  };
  process.once('SIGINT', (s) => void shutdown(s));
  process.once('SIGTERM', (s) => void shutdown(s));
  await app.listen({ port: config.port, host: config.host });
  runner?.start();
  tasks?.start();
}
