/**
 * `GET /v1/remote-inputs/{token}/{name}`: the images the remote engine lends to a server that
 * fetches its input by URL (a VISTA3D NIM). The unguessable token is the capability: the route is
 * open without an API token (auth.ts), and answers 404 once the lending request has ended.
 * @module
 */
import type { FastifyPluginAsync } from 'fastify';
import type { RemoteInputs } from '../engines/remote/remote-inputs.js';

export const remoteInputsRoute: FastifyPluginAsync<{ inputs: RemoteInputs }> = async (app, { inputs }) => {
  app.get<{ Params: { token: string; name: string } }>('/v1/remote-inputs/:token/:name', { schema: { hide: true } }, async (request, reply) => {
    const input = inputs.get(request.params.token, request.params.name);
    if (!input) return reply.code(404).send({ statusCode: 404, code: 'VXG_ERR_NOT_FOUND', error: 'Not Found', message: 'No image is lent under this address (any more).' });
    return reply
      .header('content-type', 'application/gzip')
      .header('cache-control', 'no-store')
      .send(Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength));
  });
};
