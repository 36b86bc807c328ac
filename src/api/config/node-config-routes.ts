/**
 * The DICOM node's configuration API: `/api/config/ae-title`, `/api/config/source` and
 * `/api/config/destination` — list, get, create (201; 409 on a duplicate name or AE title), update,
 * delete — and `POST /api/config/destination/{name}/cecho` (502 when the C-ECHO fails). Field names
 * and status codes follow the Clara DICOM Adapter / MONAI Informatics Gateway configuration API, whose
 * paths (`/config/ae`, `/config/source`, `/config/destination`, `GET /config/destination/cecho/{name}`,
 * `PUT` with the name in the body) are answered too, so their clients work unchanged.
 *
 * Changes are stored in the job database and applied by the running node at once (docs/dicom-node.md).
 * @module
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { cEcho } from '../../dicom/net/dimse-client.js';
import { VoxgateError, isVoxgateError } from '../../errors.js';
import type { NodeEntryKind } from '../../jobs/job-store.js';
import { publicView } from '../../node/entities.js';
import type { NodeConfig } from '../../node/node-config.js';

export interface NodeConfigRouteOptions {
  readonly nodeConfig: NodeConfig;
  /** Voxgate's AE title towards destinations (C-ECHO's calling AE title). */
  readonly callingAeTitle: string;
  /** C-ECHO connect/association timeout (default 10 s). */
  readonly echoTimeoutMs?: number;
}

/** Path segment(s) of each kind: Voxgate's, then MIG's. */
const PATHS: Record<NodeEntryKind, readonly string[]> = {
  'ae-title': ['/api/config/ae-title', '/config/ae'],
  source: ['/api/config/source', '/config/source'],
  destination: ['/api/config/destination', '/config/destination'],
};

const NameParams = z.object({ name: z.string().min(1).max(200) });

/** `{statusCode, code, error, message}` (STYLE.md), never a stack. */
function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const known = isVoxgateError(err) ? err : undefined;
  const parseError = !known && (err as { statusCode?: number }).statusCode === 400;
  const statusCode = known?.statusCode ?? (parseError ? 400 : 500);
  return reply.code(statusCode).send({
    statusCode,
    code: known?.code ?? (parseError ? 'VXG_ERR_NODE_CONFIG_INVALID' : 'VXG_ERR_INTERNAL'),
    error: STATUS_CODES[statusCode] ?? 'Error',
    message: known || parseError ? (err as Error).message : 'Internal error; the server log has the details.',
  });
}

export const nodeConfigRoutes: FastifyPluginAsync<NodeConfigRouteOptions> = async (app, { nodeConfig, callingAeTitle, echoTimeoutMs = 10_000 }) => {
  // Encapsulated (this plugin's routes only): these answers are ours, not the NIM error shape.
  app.setErrorHandler(async (err, request, reply) => {
    if (!isVoxgateError(err) && (err as { statusCode?: number }).statusCode !== 400) request.log.error({ err }, 'configuration request failed');
    return sendError(reply, err);
  });
  const typed = app.withTypeProvider<ZodTypeProvider>();

  for (const kind of Object.keys(PATHS) as NodeEntryKind[]) {
    for (const [index, base] of PATHS[kind].entries()) {
      const schema = { tags: ['config'], hide: index > 0 };
      typed.get(base, { schema }, async () => (await nodeConfig.list(kind)).map((e) => publicView(kind, e)));
      typed.get(`${base}/:name`, { schema: { ...schema, params: NameParams } }, async (request) => publicView(kind, await nodeConfig.get(kind, request.params.name)));
      typed.post(base, { schema }, async (request, reply) => reply.code(201).send(publicView(kind, await nodeConfig.create(kind, request.body))));
      typed.put(`${base}/:name`, { schema: { ...schema, params: NameParams } }, async (request) => publicView(kind, await nodeConfig.replace(kind, request.params.name, request.body)));
      typed.put(base, { schema }, async (request) => {
        const name = (request.body as { name?: unknown } | null)?.name;
        if (typeof name !== 'string' || name === '') throw new VoxgateError('VXG_ERR_NODE_CONFIG_INVALID', `Invalid ${kind}: name: the entry to update must be named (in the body, or in the path).`);
        return publicView(kind, await nodeConfig.replace(kind, name, request.body));
      });
      typed.delete(`${base}/:name`, { schema: { ...schema, params: NameParams } }, async (request) => publicView(kind, await nodeConfig.delete(kind, request.params.name)));
    }
  }

  const echo = async (name: string): Promise<{ name: string; status: 'Success' }> => {
    const destination = await nodeConfig.get('destination', name);
    if (destination.interface !== 'DIMSE') {
      throw new VoxgateError('VXG_ERR_NODE_CONFIG_INVALID', `Destination "${name}" is a DICOMweb service; C-ECHO tests DIMSE destinations only.`);
    }
    try {
      await cEcho({ aeTitle: destination.aeTitle, host: destination.hostIp, port: destination.port, callingAeTitle }, { timeoutMs: echoTimeoutMs });
    } catch (err) {
      throw new VoxgateError('VXG_ERR_NODE_ECHO_FAILED', `C-ECHO to "${name}" (${destination.aeTitle}@${destination.hostIp}:${destination.port}) failed: ${(err as Error).message}`, { cause: err });
    }
    return { name, status: 'Success' };
  };
  typed.post('/api/config/destination/:name/cecho', { schema: { tags: ['config'], params: NameParams } }, async (request) => echo(request.params.name));
  typed.get('/config/destination/cecho/:name', { schema: { tags: ['config'], hide: true, params: NameParams } }, async (request) => echo(request.params.name));
};
