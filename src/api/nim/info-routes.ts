/**
 * `/v1/health/*`, `/v1/license` and `/v1/vista3d/info` (spec/nim-api.md).
 * @module
 */
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Engine } from '../../engines/engine.js';
import { labelsObject } from '../../pipeline/labels.js';
import { PROJECT_LICENSE, VERSION } from '../../version.js';
import { NimInfoSchema, NimStatusSchema } from './schemas.js';

export interface InfoRouteOptions {
  engine: Engine;
  /** Extra readiness checks (job store open, …); all must pass. */
  readiness?: () => boolean;
}

export const infoRoutes: FastifyPluginAsync<InfoRouteOptions> = async (app, { engine, readiness }) => {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const licenseText = `Voxgate ${VERSION} is licensed under the Apache License 2.0.\n\n${readFileSync(PROJECT_LICENSE, 'utf8')}\n\nEngine "${engine.info.name}":\n${engine.info.license}`;

  typed.get('/v1/health/live', { schema: { tags: ['health'], response: { 200: NimStatusSchema } } }, async () => ({ status: 'live' }));

  typed.get(
    '/v1/health/ready',
    { schema: { tags: ['health'], response: { 200: NimStatusSchema, 503: NimStatusSchema } } },
    async (_request, reply) => {
      const ready = engine.isReady() && (readiness?.() ?? true);
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
    },
  );

  typed.get('/v1/license', { schema: { tags: ['vista3d'] } }, async () => ({ license: licenseText }));

  typed.get('/v1/vista3d/info', { schema: { tags: ['vista3d'], response: { 200: NimInfoSchema } } }, async () => ({
    name: 'VISTA3D (Voxgate)',
    description: `VISTA3D-compatible segmentation served by Voxgate with the ${engine.info.name} engine: ${engine.info.description}`,
    version: VERSION,
    // VISTA3D's dictionary plus the engine's own labels (133–254, e.g. an ONNX model's).
    labels: { ...labelsObject(), ...Object.fromEntries(Object.entries(engine.info.extraLabels ?? {})) },
    engine: {
      name: engine.info.name,
      version: engine.info.version,
      supported_classes: [...engine.info.supportedClasses],
      point_prompts: engine.info.pointPrompts,
    },
  }));
};
