/**
 * The web page (src/web, built by Vite into dist/web) as static files: `GET /` is the page shell and
 * `GET /assets/*` its hashed bundles. No data lives here, so these routes stay open when API tokens
 * are on (auth.ts); the page asks for a token and sends it on API calls only.
 *
 * A tiny handler instead of @fastify/static: two routes, a fixed content-type table, real-path
 * containment, ETags, and gzip (the build's `.gz` files, else compressed once and kept in memory).
 * @module
 */
import { createReadStream } from 'node:fs';
import type { Stats } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

const gzipAsync = promisify(gzip);

/** dist/web sits two folders above this module, from src/api (tsx) and from dist/api (built). */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

export interface WebOptions {
  /** The folder Vite built the page into (index.html and assets/). */
  root?: string;
}

/** Content types by extension; anything else is not served. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt']);
/** Vite names bundles by content hash: a name never changes meaning, so browsers may keep them. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The shell names the current bundles: always revalidate it. */
const REVALIDATE = 'no-cache';

interface Compressed {
  etag: string;
  bytes: Buffer;
}

export const webRoutes: FastifyPluginAsync<WebOptions> = async (app, options) => {
  const root = resolve(options.root ?? DEFAULT_WEB_ROOT);
  const assets = join(root, 'assets');
  const gzipped = new Map<string, Compressed>();

  const NOT_BUILT = 'The web page is not built: this server serves it from dist/web, which does not exist yet. Run `npm run build` (TypeScript, then `vite build`) and reload.';
  /** HTML for a browser (the hint is what a person sees), the usual JSON error body otherwise. */
  const notBuilt = (request: FastifyRequest, reply: FastifyReply) => {
    reply.code(404).header('Cache-Control', 'no-store');
    if (!String(request.headers.accept ?? '').includes('text/html')) {
      return reply.send({ statusCode: 404, code: 'VXG_ERR_WEB_NOT_BUILT', error: 'Not Found', message: NOT_BUILT });
    }
    return reply.type('text/html; charset=utf-8').send(
      '<!doctype html><meta charset="utf-8"><title>Voxgate: page not built</title>' +
        '<body style="font-family:system-ui;max-width:40rem;margin:3rem auto;line-height:1.5">' +
        '<h1>The web page is not built</h1><p>This server serves the page from <code>dist/web</code>, which does not exist yet. ' +
        'Run <code>npm run build</code> (TypeScript, then <code>vite build</code>) and reload.</p>' +
        '<p>The API works without it: <a href="/docs">/docs</a> is its OpenAPI page.</p>' +
        '<p><small>VXG_ERR_WEB_NOT_BUILT</small></p></body>',
    );
  };

  const notFound = (reply: FastifyReply, what: string) =>
    reply.code(404).header('Cache-Control', 'no-store').send({
      statusCode: 404,
      code: 'VXG_ERR_WEB_NOT_FOUND',
      error: 'Not Found',
      message: `${what} is not part of the web page build.`,
    });

  async function send(request: FastifyRequest, reply: FastifyReply, file: string, info: Stats, cacheControl: string): Promise<FastifyReply> {
    const ext = extname(file).toLowerCase();
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
    reply.header('Content-Type', CONTENT_TYPES[ext]).header('Cache-Control', cacheControl).header('ETag', etag);
    reply.header('X-Content-Type-Options', 'nosniff').header('Vary', 'Accept-Encoding');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send();
    const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
    if (acceptsGzip && COMPRESSIBLE.has(ext) && info.size > 1024) {
      // The build writes <file>.gz beside each text file; compress (once) only when it did not.
      const pre = await stat(`${file}.gz`).catch(() => undefined);
      if (pre?.isFile() && pre.mtimeMs >= info.mtimeMs) {
        return reply.header('Content-Encoding', 'gzip').header('Content-Length', pre.size).send(createReadStream(`${file}.gz`));
      }
      let cached = gzipped.get(file);
      if (cached?.etag !== etag) {
        cached = { etag, bytes: await gzipAsync(await readFile(file)) };
        gzipped.set(file, cached);
      }
      return reply.header('Content-Encoding', 'gzip').header('Content-Length', cached.bytes.length).send(cached.bytes);
    }
    return reply.header('Content-Length', info.size).send(createReadStream(file));
  }

  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    const file = join(root, 'index.html');
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return notBuilt(request, reply);
    // Keep the shell from being framed by other sites; it only talks to its own origin.
    reply.header('X-Frame-Options', 'DENY');
    return send(request, reply, file, info, REVALIDATE);
  });

  app.get<{ Params: { '*': string } }>('/assets/*', { schema: { hide: true } }, async (request, reply) => {
    const name = request.params['*'];
    const file = await containedFile(assets, name);
    if (!file) {
      const built = await stat(join(root, 'index.html')).catch(() => undefined);
      return built ? notFound(reply, `/assets/${name}`) : notBuilt(request, reply);
    }
    return send(request, reply, file.path, file.info, IMMUTABLE);
  });
};

/**
 * The regular file `name` names below `dir`, or undefined: refuses NUL bytes, `..` and links that
 * lead out of `dir` (decided on real paths), folders, and extensions without a content type.
 */
export async function containedFile(dir: string, name: string): Promise<{ path: string; info: Stats } | undefined> {
  if (!name || name.includes('\0') || !Object.hasOwn(CONTENT_TYPES, extname(name).toLowerCase())) return undefined;
  const candidate = resolve(dir, name);
  if (!candidate.startsWith(dir + sep)) return undefined;
  try {
    const [realDir, real] = await Promise.all([realpath(dir), realpath(candidate)]);
    if (!real.startsWith(realDir + sep)) return undefined;
    const info = await stat(real);
    return info.isFile() ? { path: real, info } : undefined;
  } catch {
    return undefined;
  }
}
