/**
 * `voxgate serve`: the HTTP APIs with the configured engine, the job store, the DICOM node (unless
 * `dicomNode: false`) and (unless `--no-worker`) a worker that runs ACR and DICOM node jobs; jobs
 * left InProcess by a previous run resume.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { buildServer } from '../api/server.js';
import type { Config } from '../config.js';
import { createEngine, engineOptions } from '../engines/index.js';
import { RemoteInputs } from '../engines/remote/remote-inputs.js';
import { pipelineTable } from '../jobs/pipelines.js';
import { watchConfig } from '../jobs/config-watcher.js';
import { createInferenceTaskRunner, createJobRunner, openJobStore } from '../jobs/setup.js';
import { DicomNode } from '../node/dicom-node.js';
import { NodeConfig } from '../node/node-config.js';

export async function serveCommand(config: Config): Promise<void> {
  await mkdir(config.dataDir, { recursive: true });
  // Images a remote engine lends to a NIM that fetches by URL are served by this process's HTTP server.
  const remoteInputs = new RemoteInputs();
  const engine = await createEngine(config.engine, engineOptions(config, remoteInputs));
  const store = await openJobStore(config);
  let notify = (): void => {};
  const nodeConfig = await NodeConfig.load(store, pipelineTable(config.pipelines), { ownAeTitle: config.aeTitle });
  let node: DicomNode | undefined;
  const nodeStatus = {
    get activeAssociations() {
      return node?.activeAssociations ?? 0;
    },
    get pendingGroups() {
      return node?.pendingGroups ?? 0;
    },
  };
  const app = await buildServer({
    config,
    engine,
    jobs: { store, onQueued: () => notify() },
    node: { config: nodeConfig, ...(config.dicomNode ? { scp: nodeStatus } : {}) },
    worker: config.worker,
    remoteInputs,
  });
  // Entries changed by another server on the same database reach this one at once (PostgreSQL NOTIFY) or within 5 s.
  const configWatch = watchConfig(store, () => nodeConfig.refresh(), { onError: (err) => app.log.warn({ err }, 'reloading the DICOM node configuration failed') });
  if (config.dicomNode) {
    node = await DicomNode.start({
      aeTitle: config.aeTitle,
      host: config.host,
      port: config.dicomPort,
      dataDir: config.dataDir,
      store,
      nodeConfig,
      rejectUnknownSources: config.rejectUnknownSources,
      maxAssociations: config.dicomMaxAssociations,
      onQueued: () => notify(),
      log: app.log,
    });
  }
  const scp = node?.scp;
  const runner = config.worker ? createJobRunner({ config, store, engine, log: app.log, ...(scp ? { storeScp: async () => scp } : {}) }) : undefined;
  // With its worker, a server also runs NIM inferences handed to workers (its own and other servers').
  const tasks = config.worker ? createInferenceTaskRunner({ config, store, engine, log: app.log }) : undefined;
  if (runner) notify = () => runner.notify();
  const shutdown = async (signal: string): Promise<void> => {
    app.log.info({ signal }, 'shutting down');
    configWatch.stop();
    await app.close();
    // Groups still receiving stay on disk and become jobs at the next start.
    await node?.close();
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
