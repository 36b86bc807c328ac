/**
 * Optional API tokens: with tokens configured, every route but the health checks and the web
 * page's static shell needs `Authorization: Bearer <token>`.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Routes that never need a token: health checks, the web page's shell (`/` and its bundles in
 * `/assets/`), which holds no data and must load so that a person can type the token into it, and
 * the images lent to a remote engine's server, whose unguessable address is their capability.
 */
const OPEN_ROUTES = [/^\/v1\/health\//, /^\/health\//, /^\/$/, /^\/assets\//, /^\/v1\/remote-inputs\/[^/]+\/[^/]+$/];

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** True when the request carries one of `tokens` (compared in constant time). */
export function hasValidToken(request: FastifyRequest, tokens: readonly Buffer[]): boolean {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return false;
  const given = digest(match[1]);
  return tokens.some((t) => timingSafeEqual(t, given));
}

export function registerAuth(app: FastifyInstance, tokens: readonly string[]): void {
  if (tokens.length === 0) return;
  const digests = tokens.map(digest);
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0];
    if (OPEN_ROUTES.some((r) => r.test(path))) return;
    if (hasValidToken(request, digests)) return;
    await reply
      .code(401)
      .header('WWW-Authenticate', 'Bearer')
      .send({
        statusCode: 401,
        code: 'VXG_ERR_AUTH_REQUIRED',
        error: 'Unauthorized',
        message: 'This server requires an API token: send "Authorization: Bearer <token>".',
      });
  });
}
