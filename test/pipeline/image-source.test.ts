import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isVoxgateError } from '../../src/errors.js';
import { networkErrorMessage } from '../../src/pipeline/fetch-messages.js';
import type { FetchedImage, ImageSourcePolicy } from '../../src/pipeline/image-source.js';
import { openImage, resolveAllowedPath } from '../../src/pipeline/image-source.js';
import { HostAllowList, nonPublicKind } from '../../src/pipeline/network-policy.js';

// Every server here listens on 127.0.0.1 and every URL that is not refused before connecting
// points at one of them: the tests never send a packet anywhere else.

const IMAGE = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31) % 256));

interface TestServer {
  port: number;
  /** `http://127.0.0.1:<port><path>` */
  url(path: string): string;
  /** Requests received, in order. */
  requests: IncomingMessage[];
  close(): Promise<void>;
}

async function startServer(handler: (req: IncomingMessage, res: ServerResponse, server: TestServer) => void): Promise<TestServer> {
  const server: Server = createServer();
  const requests: IncomingMessage[] = [];
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const self: TestServer = {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    requests.push(req);
    handler(req, res, self);
  });
  return self;
}

function policy(overrides: Partial<ImageSourcePolicy> = {}): ImageSourcePolicy {
  return { allowPaths: [], allowHosts: [], maxImageBytes: 1 << 20, timeoutMs: 2000, maxRedirects: 5, ...overrides };
}

async function readAll(image: FetchedImage): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  try {
    for await (const chunk of image.body) chunks.push(chunk);
  } finally {
    image.close();
  }
  return Buffer.concat(chunks);
}

async function rejects(promise: Promise<unknown>, code: string, message: RegExp | string): Promise<unknown> {
  let caught: unknown;
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isVoxgateError(err), `expected a VoxgateError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    caught = err;
    return true;
  });
  return caught;
}

const NON_PUBLIC_HINT = 'images are fetched only from public hosts unless the operator allows the host (--allow-host)';

void describe('address classification', () => {
  const cases: [string, string | undefined][] = [
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', undefined],
    ['192.168.10.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.128.0.1', undefined],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.251', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['8.8.8.8', undefined],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:8.8.8.8', undefined],
    ['::127.0.0.1', 'IPv4-compatible'],
    ['fd12:3456::1', 'unique local'],
    ['fc00::1', 'unique local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['64:ff9b::a00:1', 'private, embedded in NAT64'],
    ['64:ff9b::808:808', undefined],
    ['2002:7f00:1::1', 'loopback, embedded in 6to4'],
    ['2001:db8::1', 'documentation'],
    ['2606:4700:4700::1111', undefined],
  ];
  for (const [address, kind] of cases) {
    void test(`${address} is ${kind ?? 'public'}`, () => {
      assert.equal(nonPublicKind(address), kind);
    });
  }
});

void describe('HostAllowList', () => {
  void test('matches names, subdomains, addresses, ports and CIDR ranges', () => {
    const allow = HostAllowList.parse(['pacs.local', '*.hospital.org', '127.0.0.1:9000', '[::1]:8042', '10.0.0.0/8', 'fd00::/8', 'orthanc:8042']);
    assert.equal(allow.allows('PACS.local.', 80, '192.168.1.5'), true);
    assert.equal(allow.allows('ct.hospital.org', 443, '192.168.1.5'), true);
    assert.equal(allow.allows('hospital.org', 443, '192.168.1.5'), false);
    assert.equal(allow.allows('127.0.0.1', 9000, '127.0.0.1'), true);
    assert.equal(allow.allows('127.0.0.1', 9001, '127.0.0.1'), false);
    assert.equal(allow.allows('::1', 8042, '::1'), true);
    assert.equal(allow.allows('::1', 80, '::1'), false);
    assert.equal(allow.allows('anything', 80, '10.200.3.4'), true);
    assert.equal(allow.allows('anything', 80, '::ffff:10.200.3.4'), true);
    assert.equal(allow.allows('anything', 80, '11.0.0.1'), false);
    assert.equal(allow.allows('anything', 80, 'fd12::5'), true);
    assert.equal(allow.allows('orthanc', 8042, '172.17.0.2'), true);
    assert.equal(allow.allows('orthanc', 80, '172.17.0.2'), false);
  });

  for (const entry of ['', 'host:port', '10.0.0.0/33', '[pacs.local]:80', 'a b', 'host:70000']) {
    void test(`rejects the entry ${JSON.stringify(entry)} with VXG_ERR_CONFIG_INVALID`, () => {
      assert.throws(() => HostAllowList.parse([entry]), (err: unknown) => isVoxgateError(err, 'VXG_ERR_CONFIG_INVALID'));
    });
  }
});

void describe('openImage over HTTP', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((req, res) => {
      const path = (req.url ?? '').split('?')[0];
      if (path === '/studies/ct.nii.gz' || path === '/studies/ct%201.nii.gz' || path === '/') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': IMAGE.length });
        res.end(IMAGE);
      } else {
        res.writeHead(404).end('no');
      }
    });
  });
  after(() => server.close());

  void test('streams the image when 127.0.0.1 is allowed, with the Host header and query of the URL', async () => {
    const image = await openImage(server.url('/studies/ct.nii.gz?token=abc'), policy({ allowHosts: ['127.0.0.1'] }));
    assert.equal(image.name, 'ct.nii.gz');
    assert.equal(image.size, IMAGE.length);
    assert.equal(image.source, server.url('/studies/ct.nii.gz'));
    assert.deepEqual(await readAll(image), IMAGE);
    const req = server.requests.at(-1)!;
    assert.equal(req.headers.host, `127.0.0.1:${server.port}`);
    assert.equal(req.url, '/studies/ct.nii.gz?token=abc');
    assert.equal(req.headers.authorization, undefined);
  });

  void test('allows by host name: localhost in allowHosts connects to the address localhost resolves to', async () => {
    const image = await openImage(`http://localhost:${server.port}/studies/ct.nii.gz`, policy({ allowHosts: ['localhost'] }));
    assert.deepEqual(await readAll(image), IMAGE);
    assert.equal(server.requests.at(-1)!.headers.host, `localhost:${server.port}`);
  });

  void test('names the image after the decoded last path segment, or "image"', async () => {
    const allowed = policy({ allowHosts: ['127.0.0.1'] });
    const spaced = await openImage(server.url('/studies/ct%201.nii.gz?x=1'), allowed);
    spaced.close();
    assert.equal(spaced.name, 'ct 1.nii.gz');
    const bare = await openImage(server.url('/'), allowed);
    bare.close();
    assert.equal(bare.name, 'image');
  });

  void test('refuses a loopback server that is not allowed with VXG_ERR_IMAGE_URL, without connecting', async () => {
    const before = server.requests.length;
    await rejects(
      openImage(server.url('/studies/ct.nii.gz'), policy()),
      'VXG_ERR_IMAGE_URL',
      `the image host 127.0.0.1 is a non-public address (loopback); ${NON_PUBLIC_HINT}`,
    );
    assert.equal(server.requests.length, before);
  });

  void test('refuses the name localhost, which resolves to loopback', async () => {
    const before = server.requests.length;
    await rejects(
      openImage(`http://localhost:${server.port}/studies/ct.nii.gz`, policy()),
      'VXG_ERR_IMAGE_URL',
      /^the image host localhost resolves to (127\.0\.0\.1|::1), a non-public address \(loopback\)/,
    );
    assert.equal(server.requests.length, before);
  });

  void test('an allowed port does not allow another port of the same host', async () => {
    await rejects(
      openImage(server.url('/studies/ct.nii.gz'), policy({ allowHosts: [`127.0.0.1:${server.port + 1 > 65535 ? 1 : server.port + 1}`] })),
      'VXG_ERR_IMAGE_URL',
      /non-public address \(loopback\)/,
    );
  });

  void test('answers 404 with VXG_ERR_IMAGE_FETCH naming the status', async () => {
    await rejects(
      openImage(server.url('/missing.nii.gz?sig=secret'), policy({ allowHosts: ['127.0.0.1'] })),
      'VXG_ERR_IMAGE_FETCH',
      `the image URL ${server.url('/missing.nii.gz')} answered 404 Not Found`,
    );
  });

  void test('never echoes credentials or the query string, and sends the credentials as Basic auth', async () => {
    const url = `http://alice:s3cret@127.0.0.1:${server.port}/missing.nii.gz?token=t0ken#frag`;
    const refused = await rejects(openImage(url, policy()), 'VXG_ERR_IMAGE_URL', /non-public/);
    const notFound = await rejects(openImage(url, policy({ allowHosts: ['127.0.0.1'] })), 'VXG_ERR_IMAGE_FETCH', /answered 404/);
    for (const err of [refused, notFound]) {
      const text = `${(err as Error).message} ${JSON.stringify(err)}`;
      for (const secret of ['alice', 's3cret', 't0ken', 'frag']) assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
    }
    assert.equal(server.requests.at(-1)!.headers.authorization, `Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
  });

  void test('refuses private, link-local and loopback IP literals before connecting', async () => {
    // None of these is ever connected to: the refusal comes from the address alone.
    const cases: [string, string, string][] = [
      ['http://10.0.0.1/x.nii.gz', '10.0.0.1', 'private'],
      ['http://192.168.1.20:8042/x', '192.168.1.20', 'private'],
      ['http://169.254.169.254/latest/meta-data/', '169.254.169.254', 'link-local'],
      ['http://[::1]/x', '::1', 'loopback'],
      ['http://[::ffff:127.0.0.1]/x', '::ffff:7f00:1', 'loopback'],
      ['http://[fd00::1]/x', 'fd00::1', 'unique local'],
      ['http://0x7f000001/x', '127.0.0.1', 'loopback'],
      ['http://0.0.0.0/x', '0.0.0.0', 'unspecified'],
      ['https://[64:ff9b::a9fe:a9fe]/x', '64:ff9b::a9fe:a9fe', 'link-local, embedded in NAT64'],
    ];
    for (const [url, host, kind] of cases) {
      await rejects(openImage(url, policy()), 'VXG_ERR_IMAGE_URL', `the image host ${host} is a non-public address (${kind}); ${NON_PUBLIC_HINT}`);
    }
  });

  void test('refuses a connection that is refused with VXG_ERR_IMAGE_FETCH', async () => {
    const closed = await startServer(() => {});
    const url = closed.url('/ct.nii.gz');
    await closed.close();
    await rejects(openImage(url, policy({ allowHosts: ['127.0.0.1'] })), 'VXG_ERR_IMAGE_FETCH', `the image host 127.0.0.1:${closed.port} refused the connection`);
  });

  void test('an aborted signal stops the fetch with its reason', async () => {
    const controller = new AbortController();
    controller.abort(new Error('client went away'));
    await assert.rejects(openImage(server.url('/studies/ct.nii.gz'), policy({ allowHosts: ['127.0.0.1'] }), controller.signal), /client went away/);
  });
});

void describe('openImage over HTTPS', () => {
  let dir: string;
  let port: number;
  let close: () => Promise<void>;
  const serverNames: string[] = [];
  let connections = 0;
  let openssl = true;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'voxgate-tls-'));
    try {
      // A self-signed certificate: the server is real, and a client that verifies must refuse it.
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    } catch {
      openssl = false;
      return;
    }
    const server = createHttpsServer(
      {
        key: await readFile(join(dir, 'key.pem')),
        cert: await readFile(join(dir, 'cert.pem')),
        // Called only for a ClientHello that carries SNI; answering no context keeps the default.
        SNICallback: (name, done) => {
          serverNames.push(name);
          done(null, undefined);
        },
      },
      (_req, res) => res.end(IMAGE),
    );
    server.on('connection', () => connections++);
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  });
  after(async () => {
    if (openssl) await close();
    await rm(dir, { recursive: true, force: true });
  });

  void test('verifies the certificate, sending the URL host name as SNI to the vetted address', async (t) => {
    if (!openssl) return t.skip('openssl is not installed');
    await rejects(
      openImage(`https://localhost:${port}/ct.nii.gz`, policy({ allowHosts: ['localhost'] })),
      'VXG_ERR_IMAGE_FETCH',
      `the TLS certificate of the image host localhost:${port} was not accepted (DEPTH_ZERO_SELF_SIGNED_CERT)`,
    );
    assert.deepEqual(serverNames, ['localhost']);
    await rejects(
      openImage(`https://127.0.0.1:${port}/ct.nii.gz`, policy({ allowHosts: ['127.0.0.1'] })),
      'VXG_ERR_IMAGE_FETCH',
      `the TLS certificate of the image host 127.0.0.1:${port} was not accepted (DEPTH_ZERO_SELF_SIGNED_CERT)`,
    );
    // No SNI for an IP address (RFC 6066 §3); the certificate is checked against its IP SAN.
    assert.deepEqual(serverNames, ['localhost']);
    assert.equal(connections, 2);
  });
});

void describe('openImage redirects', () => {
  let target: TestServer;
  let redirector: TestServer;
  before(async () => {
    target = await startServer((_req, res) => res.writeHead(200, { 'content-length': IMAGE.length }).end(IMAGE));
    redirector = await startServer((req, res, self) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/to-target') res.writeHead(302, { location: target.url('/final/other-name.nii.gz') }).end();
      else if (url.pathname === '/relative') res.writeHead(301, { location: '/to-target' }).end();
      else if (url.pathname === '/to-file') res.writeHead(307, { location: 'file:///etc/passwd' }).end();
      else if (url.pathname === '/no-location') res.writeHead(302).end();
      else if (url.pathname.startsWith('/loop/')) {
        const n = Number(url.pathname.slice('/loop/'.length));
        res.writeHead(308, { location: self.url(`/loop/${n + 1}`) }).end();
      } else res.writeHead(404).end();
    });
  });
  after(async () => {
    await redirector.close();
    await target.close();
  });

  void test('follows a redirect to another allowed server, keeping the name of the first URL', async () => {
    const image = await openImage(redirector.url('/relative'), policy({ allowHosts: ['127.0.0.1'] }));
    assert.deepEqual(await readAll(image), IMAGE);
    assert.equal(image.name, 'relative');
    assert.equal(image.source, target.url('/final/other-name.nii.gz'));
  });

  void test('refuses a redirect from an allowed server to a loopback server that is not allowed', async () => {
    const before = target.requests.length;
    await rejects(
      openImage(redirector.url('/to-target'), policy({ allowHosts: [`127.0.0.1:${redirector.port}`] })),
      'VXG_ERR_IMAGE_URL',
      `the image URL redirected to ${target.url('/final/other-name.nii.gz')}, but the image host 127.0.0.1 is a non-public address (loopback); ${NON_PUBLIC_HINT}`,
    );
    assert.equal(target.requests.length, before, 'the refused target was contacted');
  });

  void test('refuses a redirect to a file: URL', async () => {
    await rejects(
      openImage(redirector.url('/to-file'), policy({ allowHosts: ['127.0.0.1'], allowPaths: ['/'] })),
      'VXG_ERR_IMAGE_URL',
      `the image URL ${redirector.url('/to-file')} redirected to a file: URL; only redirects to http and https are followed`,
    );
  });

  void test('stops after maxRedirects', async () => {
    const before = redirector.requests.length;
    await rejects(
      openImage(redirector.url('/loop/0'), policy({ allowHosts: ['127.0.0.1'], maxRedirects: 2 })),
      'VXG_ERR_IMAGE_FETCH',
      `the image URL ${redirector.url('/loop/0')} redirected more than 2 times`,
    );
    assert.equal(redirector.requests.length - before, 3);
  });

  void test('a redirect without a Location is a fetch error', async () => {
    await rejects(
      openImage(redirector.url('/no-location'), policy({ allowHosts: ['127.0.0.1'] })),
      'VXG_ERR_IMAGE_FETCH',
      `the image URL ${redirector.url('/no-location')} answered 302 Found without a Location to follow`,
    );
  });
});

void describe('openImage size caps and timeouts', () => {
  let server: TestServer;
  const closedByClient: Promise<void>[] = [];
  before(async () => {
    server = await startServer((req, res) => {
      switch (req.url) {
        case '/announced-large':
          res.writeHead(200, { 'content-length': 2048 });
          res.end(Buffer.alloc(2048));
          break;
        case '/endless': {
          // Chunked, no Content-Length: only counting the bytes can stop it.
          closedByClient.push(new Promise((resolve) => res.on('close', () => resolve())));
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          const timer = setInterval(() => res.write(Buffer.alloc(512)), 1);
          res.on('close', () => clearInterval(timer));
          break;
        }
        case '/stall-body':
          res.writeHead(200, { 'content-length': 1000 });
          res.write(Buffer.alloc(10));
          break;
        case '/never':
          break; // never answers
        default:
          res.writeHead(404).end();
      }
    });
  });
  after(() => server.close());

  const allowed = (overrides: Partial<ImageSourcePolicy> = {}) => policy({ allowHosts: ['127.0.0.1'], ...overrides });

  void test('refuses a Content-Length over the cap before reading the body', async () => {
    await rejects(
      openImage(server.url('/announced-large'), allowed({ maxImageBytes: 1024 })),
      'VXG_ERR_IMAGE_TOO_LARGE',
      `the image at ${server.url('/announced-large')} is 2.0 KiB, over the 1.0 KiB download limit (--max-image-bytes)`,
    );
  });

  void test('cuts a chunked body at the cap and closes the connection', async () => {
    const image = await openImage(server.url('/endless'), allowed({ maxImageBytes: 4096 }));
    assert.equal(image.size, undefined);
    await rejects(readAll(image), 'VXG_ERR_IMAGE_TOO_LARGE', `the image at ${server.url('/endless')} is larger than the 4.0 KiB download limit (--max-image-bytes)`);
    await closedByClient.at(-1);
  });

  void test('close() abandons a body that is never read', async () => {
    const image = await openImage(server.url('/endless'), allowed());
    image.close();
    await closedByClient.at(-1);
  });

  void test('times out on a server that never answers', async () => {
    const started = Date.now();
    await rejects(
      openImage(server.url('/never'), allowed({ timeoutMs: 300 })),
      'VXG_ERR_IMAGE_FETCH',
      `fetching the image from ${server.url('/never')} timed out after 0.3 s`,
    );
    assert.ok(Date.now() - started < 2000);
  });

  void test('the deadline covers the body too', async () => {
    const image = await openImage(server.url('/stall-body'), allowed({ timeoutMs: 300 }));
    await rejects(readAll(image), 'VXG_ERR_IMAGE_FETCH', `fetching the image from ${server.url('/stall-body')} timed out after 0.3 s`);
  });
});

void describe('openImage from local files', () => {
  let dir: string;
  let root: string;
  let outside: string;
  before(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'voxgate-image-source-')));
    root = join(dir, 'root');
    outside = join(dir, 'outside');
    await mkdir(join(root, 'series'), { recursive: true });
    await mkdir(outside, { recursive: true });
    await writeFile(join(root, 'ct.nii.gz'), IMAGE);
    await writeFile(join(outside, 'secret.nii'), 'secret');
    await symlink(join(outside, 'secret.nii'), join(root, 'escape.nii'));
    await symlink(outside, join(root, 'outside-dir'));
    await symlink(join(root, 'ct.nii.gz'), join(root, 'alias.nii.gz'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const allowed = (overrides: Partial<ImageSourcePolicy> = {}) => policy({ allowPaths: [root], ...overrides });

  void test('streams a file below an allowed folder, by path and by file: URL', async () => {
    for (const ref of [join(root, 'ct.nii.gz'), pathToFileURL(join(root, 'ct.nii.gz')).href]) {
      const image = await openImage(ref, allowed());
      assert.equal(image.name, 'ct.nii.gz');
      assert.equal(image.size, IMAGE.length);
      assert.deepEqual(await readAll(image), IMAGE);
    }
  });

  void test('follows a link that stays inside the folder, keeping the name it was asked by', async () => {
    const image = await openImage(join(root, 'alias.nii.gz'), allowed());
    assert.equal(image.name, 'alias.nii.gz');
    assert.deepEqual(await readAll(image), IMAGE);
  });

  void test('refuses a file outside the allowed folders', async () => {
    const path = join(outside, 'secret.nii');
    await rejects(openImage(path, allowed()), 'VXG_ERR_IMAGE_URL', `the image path ${path} is outside the folders the operator allows (--allow-path)`);
  });

  void test('refuses a .. escape', async () => {
    const path = `${root}/../outside/secret.nii`;
    await rejects(openImage(path, allowed()), 'VXG_ERR_IMAGE_URL', `the image path ${path} is outside the folders the operator allows (--allow-path)`);
  });

  void test('refuses symbolic links that lead outside (to a file and to a folder)', async () => {
    for (const path of [join(root, 'escape.nii'), join(root, 'outside-dir', 'secret.nii')]) {
      await rejects(openImage(path, allowed()), 'VXG_ERR_IMAGE_URL', /is outside the folders the operator allows/);
    }
  });

  void test('a missing file inside is "not found"; a missing file outside is just outside', async () => {
    const inside = join(root, 'nope.nii.gz');
    await rejects(openImage(inside, allowed()), 'VXG_ERR_IMAGE_FETCH', `the image file ${inside} was not found`);
    await rejects(openImage(join(outside, 'nope.nii.gz'), allowed()), 'VXG_ERR_IMAGE_URL', /is outside the folders/);
  });

  void test('refuses a folder for now', async () => {
    const path = join(root, 'series');
    await rejects(openImage(path, allowed()), 'VXG_ERR_IMAGE_URL', `the image path ${path} is a folder; give the path of one image file`);
  });

  void test('refuses a file over the cap', async () => {
    await rejects(openImage(join(root, 'ct.nii.gz'), allowed({ maxImageBytes: 1024 })), 'VXG_ERR_IMAGE_TOO_LARGE', /is 2\.9 KiB, over the 1\.0 KiB limit/);
  });

  void test('refuses every path when no folder is allowed', async () => {
    await rejects(openImage(join(root, 'ct.nii.gz'), policy()), 'VXG_ERR_IMAGE_URL', /operator allows no folder/);
  });

  void test('refuses a file: URL with a remote host', async () => {
    await rejects(openImage('file://fileserver/share/ct.nii.gz', allowed()), 'VXG_ERR_IMAGE_URL', /must name a path on this server/);
  });
});

void describe('openImage references that are not usable', () => {
  const cases: [string, string][] = [
    ['ftp://example.org/ct.nii.gz', 'scheme ftp: is not supported; use http, https or a file path below an allowed folder'],
    ['data:application/octet-stream;base64,AAAA', 'scheme data: is not supported; use http, https or a file path below an allowed folder'],
    ['gopher://example.org/1', 'scheme gopher: is not supported; use http, https or a file path below an allowed folder'],
    ['images/ct.nii.gz', 'the image reference is neither a URL nor an absolute path (relative paths are not accepted)'],
    ['./ct.nii.gz', 'the image reference is neither a URL nor an absolute path (relative paths are not accepted)'],
    ['', 'the image reference is empty; give an http(s) URL or an absolute file path'],
    ['   ', 'the image reference is empty; give an http(s) URL or an absolute file path'],
  ];
  for (const [ref, message] of cases) {
    void test(`refuses ${JSON.stringify(ref)} with VXG_ERR_IMAGE_URL`, async () => {
      await rejects(openImage(ref, policy({ allowPaths: ['/'] })), 'VXG_ERR_IMAGE_URL', message);
    });
  }

  void test('the scheme message never repeats credentials', async () => {
    const err = await rejects(openImage('ftp://bob:hunter2@example.org/ct', policy()), 'VXG_ERR_IMAGE_URL', /scheme ftp:/);
    assert.ok(!(err as Error).message.includes('hunter2'));
  });
});

void describe('resolveAllowedPath for local_working_dir', () => {
  let dir: string;
  let root: string;
  let outside: string;
  before(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'voxgate-allowed-paths-')));
    root = join(dir, 'results');
    outside = join(dir, 'elsewhere');
    await mkdir(root);
    await mkdir(outside);
    await symlink(outside, join(root, 'link-out'));
    await symlink(join(outside, 'missing'), join(root, 'dangling'));
    await writeFile(join(root, 'a-file'), 'x');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const exists = (path: string) => stat(path).then(() => true, () => false);

  void test('creates nested folders below a root and returns the real path', async () => {
    const path = join(root, 'run-7', 'series', 'seg');
    assert.equal(await resolveAllowedPath(path, [root], 'write'), path);
    assert.ok((await stat(path)).isDirectory());
  });

  void test('accepts the root itself', async () => {
    assert.equal(await resolveAllowedPath(`${root}/`, [root], 'write'), root);
  });

  void test('refuses a folder outside the roots and creates nothing', async () => {
    const path = join(outside, 'new');
    await rejects(resolveAllowedPath(path, [root], 'write'), 'VXG_ERR_OUTPUT_PATH', `local_working_dir ${path} is outside the folders the operator allows (--allow-path)`);
    assert.equal(await exists(path), false);
  });

  void test('refuses a .. escape through folders that do not exist yet', async () => {
    const path = `${root}/new/../../elsewhere/x`;
    await rejects(resolveAllowedPath(path, [root], 'write'), 'VXG_ERR_OUTPUT_PATH', /is outside the folders/);
    assert.equal(await exists(join(outside, 'x')), false);
    assert.equal(await exists(join(root, 'new')), false);
  });

  void test('refuses a link out of the root, and one that leads nowhere', async () => {
    await rejects(resolveAllowedPath(join(root, 'link-out', 'sub'), [root], 'write'), 'VXG_ERR_OUTPUT_PATH', /is outside the folders/);
    assert.equal(await exists(join(outside, 'sub')), false);
    await rejects(resolveAllowedPath(join(root, 'dangling', 'sub'), [root], 'write'), 'VXG_ERR_OUTPUT_PATH', /symbolic link to nowhere/);
    assert.equal(await exists(join(outside, 'missing')), false);
  });

  void test('refuses an existing file, a relative path and an empty root list', async () => {
    await rejects(resolveAllowedPath(join(root, 'a-file'), [root], 'write'), 'VXG_ERR_OUTPUT_PATH', /exists and is not a folder/);
    await rejects(resolveAllowedPath(join(root, 'a-file', 'sub'), [root], 'write'), 'VXG_ERR_OUTPUT_PATH', /cannot be created \(ENOTDIR\)/);
    await rejects(resolveAllowedPath('results/x', [root], 'write'), 'VXG_ERR_OUTPUT_PATH', 'local_working_dir results/x is not an absolute path');
    await rejects(resolveAllowedPath(join(root, 'x'), [], 'write'), 'VXG_ERR_OUTPUT_PATH', /operator allows no folder/);
  });
});

void describe('network error messages', () => {
  // DNS failures are not provoked for real: that would send queries off this machine.
  void test('ENOTFOUND and EAI_AGAIN read as DNS problems', () => {
    assert.equal(networkErrorMessage({ code: 'ENOTFOUND' }, 'ct.example'), 'the image host ct.example was not found (no such name in DNS)');
    assert.equal(networkErrorMessage({ code: 'EAI_AGAIN' }, 'ct.example'), 'the image host name ct.example could not be resolved (temporary DNS failure)');
    assert.equal(networkErrorMessage({ code: 'CERT_HAS_EXPIRED' }, 'ct.example'), 'the TLS certificate of the image host ct.example was not accepted (CERT_HAS_EXPIRED)');
  });
});
