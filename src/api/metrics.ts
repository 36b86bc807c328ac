/**
 * Prometheus metrics: requests, latencies, inference durations per engine and stage, queue depth.
 * Each server has its own registry so several can live in one process (tests).
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  inferenceSeconds: Histogram<'engine' | 'stage'>;
  inferenceTotal: Counter<'engine' | 'outcome'>;
  queueDepth: Gauge;
  activeInferences: Gauge;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'voxgate_' });
  return {
    registry,
    inferenceSeconds: new Histogram({
      name: 'voxgate_inference_duration_seconds',
      help: 'Time spent per inference stage (fetch, decode, engine, encode, total).',
      labelNames: ['engine', 'stage'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    inferenceTotal: new Counter({
      name: 'voxgate_inferences_total',
      help: 'Inference requests by outcome (ok, client_error, server_error).',
      labelNames: ['engine', 'outcome'],
      registers: [registry],
    }),
    queueDepth: new Gauge({ name: 'voxgate_inference_queue_depth', help: 'Inferences waiting for an engine slot.', registers: [registry] }),
    activeInferences: new Gauge({ name: 'voxgate_inferences_active', help: 'Inferences running now.', registers: [registry] }),
  };
}

/** Request counts and latencies by route pattern (never the raw URL: it may carry identifiers). */
export function registerHttpMetrics(app: FastifyInstance, metrics: Metrics): void {
  const requests = new Counter({
    name: 'voxgate_http_requests_total',
    help: 'HTTP requests by method, route and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [metrics.registry],
  });
  const latency = new Histogram({
    name: 'voxgate_http_request_duration_seconds',
    help: 'HTTP request latency by method and route.',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: [metrics.registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    latency.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
