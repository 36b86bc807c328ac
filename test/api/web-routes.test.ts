/**
 * The web page's routes through inject(): the static shell and bundles (content types, caching,
 * gzip, ETags, containment, the not-built hint), the sample list and files, and which of them stay
 * open when API tokens are on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server.js';
import { loadConfig } from '../../src/config.js';
import { CLASSIC_ENGINE_INFO } from '../../src/engines/classic/classic-engine.js';
import type { Engine } from '../../src/engines/engine.js';
import { tempDir } from '../helpers/nim-server.js';

const engine: Engine = {
  info: CLASSIC_ENGINE_INFO,
  isReady: () => true,
  segment: () => Promise.reject(new Error('not used')),
  close: () => Promise.resolve(),
};
const TOKEN = 'web-routes-token';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

let dir: { path: string; remove(): Promise<void> };
let web: string;
let samples: string;
let open: FastifyInstance;
let guarded: FastifyInstance;
let unbuilt: FastifyInstance;

/**
 * GET over a raw socket: inject() and browsers remove dot segments and decode %2e before sending,
 * a hostile client need not.
 */
async function rawGet(app: FastifyInstance, path: string): Promise<string> {
  if (!app.server.listening) await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

async function server(settings: Record<string, unknown>, webRoot: string): Promise<FastifyInstance> {
  const config = loadConfig({ flags: { dataDir: join(dir.path, 'data'), allowPath: [samples], ...settings }, env: {} });
  return buildServer({ config, engine, logger: false, webRoot });
}

before(async () => {
  dir = await tempDir('voxgate-web-routes-');
  web = join(dir.path, 'web');
  samples = join(dir.path, 'samples');
  await mkdir(join(web, 'assets', 'fonts'), { recursive: true });
  await writeFile(join(web, 'index.html'), '<!doctype html><title>Voxgate</title><script type="module" src="/assets/app-1234.js"></script>');
  await writeFile(join(web, 'assets', 'app-1234.js'), SCRIPT);
  await writeFile(join(web, 'assets', 'app-1234.css'), 'body{color:red}');
  // A precompressed twin (as the build writes) that differs, to see which one is sent.
  await writeFile(join(web, 'assets', 'app-1234.js.gz'), gzipSync(`${SCRIPT}//pre`));
  await writeFile(join(web, 'assets', 'lib-5678.js'), SCRIPT.replace('x', 'y'));
  await writeFile(join(web, 'assets', 'notes.exe'), 'MZ');
  await writeFile(join(dir.path, 'secret.js'), 'TOP-SECRET-CONTENT');
  await symlink(join(dir.path, 'secret.js'), join(web, 'assets', 'escape.js'));
  await mkdir(join(samples, 'sub'), { recursive: true });
  await writeFile(join(samples, 'b-ct.nrrd'), 'NRRD0004\n');
  await writeFile(join(samples, 'a-ct.nii.gz'), 'not really gzip, but a sample');
  await writeFile(join(samples, 'notes.txt'), 'not an image');
  await writeFile(join(samples, 'sub', 'c-ct.nii.gz'), 'nested');
  await writeFile(join(dir.path, 'outside.nii'), 'outside');
  await symlink(join(dir.path, 'outside.nii'), join(samples, 'link-out.nii'));
  open = await server({}, web);
  guarded = await server({ tokens: [TOKEN] }, web);
  unbuilt = await server({}, join(dir.path, 'nowhere'));
});

after(async () => {
  await Promise.all([open?.close(), guarded?.close(), unbuilt?.close()]);
  await dir?.remove();
});

describe('static page', () => {
  test('serves the shell at / as HTML that browsers revalidate', async () => {
    const res = await open.inject({ url: '/' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(res.headers['cache-control'], 'no-cache');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.match(res.body, /<title>Voxgate<\/title>/);
  });

  test('serves hashed bundles with their content type, cached as immutable, gzipped from the build’s .gz', async () => {
    const plain = await open.inject({ url: '/assets/app-1234.js' });
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(plain.headers['content-length'], String(SCRIPT.length));
    assert.equal(plain.body, SCRIPT);
    const zipped = await open.inject({ url: '/assets/app-1234.js', headers: { 'accept-encoding': 'gzip, br' } });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.equal(zipped.headers.vary, 'Accept-Encoding');
    assert.equal(gunzipSync(zipped.rawPayload).toString(), `${SCRIPT}//pre`);
    const css = await open.inject({ url: '/assets/app-1234.css' });
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(css.headers['content-encoding'], undefined, 'small files go plain');
  });

  test('compresses a bundle without a .gz once, and answers 304 to a matching ETag', async () => {
    const first = await open.inject({ url: '/assets/lib-5678.js', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(first.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(first.rawPayload).toString(), SCRIPT.replace('x', 'y'));
    const etag = String(first.headers.etag);
    assert.match(etag, /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    const again = await open.inject({ url: '/assets/lib-5678.js', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
  });

  test('refuses paths that leave assets/, links out of it, folders and unknown types with VXG_ERR_WEB_NOT_FOUND', async () => {
    for (const url of [
      '/assets/..%2f..%2fsecret.js',
      '/assets/escape.js',
      '/assets/fonts',
      '/assets/notes.exe',
      '/assets/app-1234.js.gz',
      '/assets/missing-0000.js',
      '/assets/app-1234.js%00.css',
    ]) {
      const res = await open.inject({ url });
      assert.equal(res.statusCode, 404, url);
      assert.equal(res.json().code, 'VXG_ERR_WEB_NOT_FOUND', url);
      assert.doesNotMatch(res.body, /TOP-SECRET/, url);
    }
    for (const path of ['/assets/../index.html', '/assets/%2e%2e/%2e%2e/secret.js', '/assets/..%2f..%2fsecret.js', '/assets/fonts/../../../secret.js']) {
      const answer = await rawGet(open, path);
      assert.match(answer, /^HTTP\/1\.1 404 /, path);
      assert.match(answer, /VXG_ERR_WEB_NOT_FOUND/, path);
      assert.doesNotMatch(answer, /TOP-SECRET|<title>/, path);
    }
  });

  test('says how to build the page when dist/web is missing: HTML for browsers, JSON otherwise', async () => {
    const browser = await unbuilt.inject({ url: '/', headers: { accept: 'text/html,application/xhtml+xml' } });
    assert.equal(browser.statusCode, 404);
    assert.match(String(browser.headers['content-type']), /^text\/html/);
    assert.match(browser.body, /npm run build/);
    const client = await unbuilt.inject({ url: '/assets/app-1234.js' });
    assert.equal(client.statusCode, 404);
    assert.deepEqual(Object.keys(client.json()).sort(), ['code', 'error', 'message', 'statusCode']);
    assert.equal(client.json().code, 'VXG_ERR_WEB_NOT_BUILT');
    assert.match(client.json().message, /npm run build/);
  });
});

describe('samples', () => {
  test('lists the NIfTI and NRRD files directly inside the allowed folders, not links out of them', async () => {
    const res = await open.inject({ url: '/api/samples' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.deepEqual(res.json(), {
      samples: [
        { name: 'a-ct.nii.gz', path: join(samples, 'a-ct.nii.gz'), bytes: 29 },
        { name: 'b-ct.nrrd', path: join(samples, 'b-ct.nrrd'), bytes: 9 },
      ],
    });
  });

  test('sends a listed file’s bytes, uncached', async () => {
    const res = await open.inject({ url: `/api/samples/file?path=${encodeURIComponent(join(samples, 'a-ct.nii.gz'))}` });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/octet-stream');
    assert.equal(res.headers['cache-control'], 'private, no-store');
    assert.equal(res.body, 'not really gzip, but a sample');
  });

  test('refuses anything the list does not offer with VXG_ERR_SAMPLE_NOT_FOUND', async () => {
    for (const path of [
      join(samples, 'sub', 'c-ct.nii.gz'),
      join(samples, 'notes.txt'),
      join(samples, 'link-out.nii'),
      join(dir.path, 'outside.nii'),
      `${samples}/../outside.nii`,
      join(samples, 'gone.nii.gz'),
    ]) {
      const res = await open.inject({ url: `/api/samples/file?path=${encodeURIComponent(path)}` });
      assert.equal(res.statusCode, 404, path);
      assert.equal(res.json().code, 'VXG_ERR_SAMPLE_NOT_FOUND', path);
      assert.doesNotMatch(res.body, new RegExp(dir.path), 'the message names the file, not the server’s folders');
    }
    assert.equal((await open.inject({ url: '/api/samples/file' })).statusCode, 400);
  });
});

describe('with API tokens on', () => {
  test('the shell and its bundles load without a token', async () => {
    assert.equal((await guarded.inject({ url: '/' })).statusCode, 200);
    assert.equal((await guarded.inject({ url: '/assets/app-1234.js' })).statusCode, 200);
  });

  test('samples and the API still need one', async () => {
    for (const url of ['/api/samples', `/api/samples/file?path=${encodeURIComponent(join(samples, 'a-ct.nii.gz'))}`, '/v1/vista3d/info', '/index.html']) {
      const res = await guarded.inject({ url });
      assert.equal(res.statusCode, 401, url);
      assert.equal(res.json().code, 'VXG_ERR_AUTH_REQUIRED', url);
    }
    const res = await guarded.inject({ url: '/api/samples', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 200);
  });

  test('an open prefix does not open other routes: a raw /assets/../v1/… is a (missing) asset, not the API', async () => {
    const answer = await rawGet(guarded, '/assets/../v1/vista3d/info');
    assert.match(answer, /^HTTP\/1\.1 404 /);
    assert.match(answer, /VXG_ERR_WEB_NOT_FOUND/);
    assert.doesNotMatch(answer, /labels/);
  });
});
