/**
 * `GET /health/status` (MONAI Informatics Gateway's shape, with more): the DICOM associations open
 * now, the state of each service, jobs per state and the engine. Open like the other health checks.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Engine } from '../engines/engine.js';
import type { JobStore } from '../jobs/job-store.js';

export type ServiceState = 'Running' | 'Stopped' | 'Disabled';

export interface HealthStatusOptions {
  readonly engine: Engine;
  readonly store?: JobStore;
  /** The DICOM node, when this process runs one. */
  readonly node?: { readonly activeAssociations: number; readonly pendingGroups: number };
  /** Whether this process runs a job worker. */
  readonly worker?: boolean;
}

export const healthStatusRoute: FastifyPluginAsync<HealthStatusOptions> = async (app, { engine, store, node, worker }) => {
  app.get('/health/status', { schema: { tags: ['health'] } }, async () => {
    const storeOpen = store?.isOpen() ?? false;
    const jobs = store && storeOpen ? await store.countJobs() : undefined;
    const services: Record<string, ServiceState> = {
      'DICOM SCP Service': node ? 'Running' : 'Disabled',
      'Job Store': store ? (storeOpen ? 'Running' : 'Stopped') : 'Disabled',
      'Job Worker': worker ? 'Running' : 'Disabled',
    };
    return {
      activeDimseConnections: node?.activeAssociations ?? 0,
      pendingDicomGroups: node?.pendingGroups ?? 0,
      services,
      jobs: jobs ?? null,
      engine: { name: engine.info.name, version: engine.info.version, ready: engine.isReady() },
    };
  });
};
