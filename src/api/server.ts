/**
 * The HTTP server: one Fastify instance with one plugin per route group.
 * @module
 */
import { join } from 'node:path';
import fastifyMultipart from '@fastify/multipart';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import type { Engine } from '../engines/engine.js';
import { isVoxgateError } from '../errors.js';
import type { JobStore } from '../jobs/job-store.js';
import type { JobRecord } from '../jobs/job.js';
import { pipelineTable } from '../jobs/pipelines.js';
import { Slots } from '../pipeline/slots.js';
import { VERSION } from '../version.js';
import { registerAuth } from './auth.js';
import type { Metrics } from './metrics.js';
import { createMetrics, registerHttpMetrics } from './metrics.js';
import type { NodeConfig } from '../node/node-config.js';
import { acrRoutes } from './acr/inference-routes.js';
import { jobsRoute } from './acr/jobs-route.js';
import { nodeConfigRoutes } from './config/node-config-routes.js';
import { healthStatusRoute } from './health-status.js';
import { inferenceRoute } from './nim/inference-route.js';
import { offloadedInference } from '../jobs/offloaded-inference.js';
import { infoRoutes } from './nim/info-routes.js';
import type { RemoteInputs } from '../engines/remote/remote-inputs.js';
import { remoteInputsRoute } from './remote-inputs-route.js';
import { sampleRoutes } from './samples.js';
import { webRoutes } from './web.js';

export interface ServerDependencies {
  config: Config;
  engine: Engine;
  metrics?: Metrics;
  /** Fastify's logger option; tests pass false. */
  logger?: FastifyServerOptions['logger'];
  /** The job store for the ACR routes (registered only with one); `/v1/health/ready` then needs it open. */
  jobs?: { store: JobStore; onQueued?: (job: JobRecord) => void };
  /** Where the built web page lives (default dist/web); tests point it at their own build. */
  webRoot?: string;
  /**
   * The DICOM node's configuration API (registered only with one), and the node itself when this
   * process runs it (for `/health/status`).
   */
  node?: { config: NodeConfig; scp?: { readonly activeAssociations: number; readonly pendingGroups: number } };
  /** Whether this process runs a job worker (for `/health/status`). */
  worker?: boolean;
  /** Images the remote engine lends to its server (served under /v1/remote-inputs/). */
  remoteInputs?: RemoteInputs;
}

/** JSON bodies are small (images come by URL or multipart); cap them well below uploads. */
const MAX_JSON_BODY = 1024 * 1024;

export async function buildServer({ config, engine, metrics = createMetrics(), logger, jobs, webRoot, node, worker, remoteInputs }: ServerDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    logger: logger ?? {
      level: config.logLevel,
      // Method and route only: URLs and headers may carry identifiers; bodies are never logged.
      serializers: {
        req: (req: { method: string; routeOptions?: { url?: string }; url: string }) => ({ method: req.method, url: req.url.split('?')[0] }),
      },
    },
    bodyLimit: MAX_JSON_BODY,
    // The NIM API returns its own error bodies; never a stack trace.
    return503OnClosing: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, request, reply) => {
    const statusCode = isVoxgateError(err) ? err.statusCode : err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (statusCode >= 500) request.log.error({ err }, 'request failed');
    return reply.code(statusCode).send({
      statusCode,
      code: err.code ?? 'VXG_ERR_INTERNAL',
      error: statusCode >= 500 ? 'Internal Server Error' : 'Bad Request',
      message: statusCode >= 500 && !isVoxgateError(err) ? 'Internal error; the server log has the details.' : err.message,
    });
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'Voxgate', version: VERSION, description: 'VISTA3D-compatible segmentation API (and, later, the ACR inference request API).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  await app.register(fastifyMultipart);

  registerAuth(app, config.tokens);
  registerHttpMetrics(app, metrics);

  const slots = new Slots(config.inferenceConcurrency, (waiting, running) => {
    metrics.queueDepth.set(waiting);
    metrics.activeInferences.set(running);
  });
  await app.register(infoRoutes, { engine, readiness: jobs ? () => jobs.store.isOpen() : undefined });
  await app.register(healthStatusRoute, { engine, store: jobs?.store, node: node?.scp, worker });
  if (node) await app.register(nodeConfigRoutes, { nodeConfig: node.config, callingAeTitle: config.aeTitle });
  if (jobs) {
    await app.register(acrRoutes, { store: jobs.store, pipelines: pipelineTable(config.pipelines), dataDir: config.dataDir, onQueued: jobs.onQueued });
    await app.register(jobsRoute, { store: jobs.store });
  }
  await app.register(inferenceRoute, {
    engine,
    slots,
    metrics,
    uploadDir: join(config.dataDir, 'uploads'),
    maxUploadBytes: config.maxBodyBytes,
    offload:
      config.nimInference === 'workers' && jobs
        ? offloadedInference({ store: jobs.store, dataDir: config.dataDir, timeoutMs: config.nimWorkerTimeoutMs })
        : undefined,
    limits: {
      maxDecodedBytes: config.maxDecodedBytes,
      policy: {
        allowPaths: config.allowPath,
        allowHosts: config.allowHost,
        maxImageBytes: config.maxImageBytes,
        timeoutMs: config.fetchTimeoutMs,
        maxRedirects: config.maxRedirects,
      },
    },
  });
  if (remoteInputs) await app.register(remoteInputsRoute, { inputs: remoteInputs });
  await app.register(sampleRoutes, { roots: config.allowPath });
  await app.register(webRoutes, { root: webRoot });
  return app;
}
