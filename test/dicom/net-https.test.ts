/**
 * WADO-RS over HTTPS through Voxgate's own HTTP/1.1 reader (http-stream.ts uses tls.connect with
 * `onread`): a loopback HTTPS server with a certificate made by openssl for this test, trusted by a
 * child process through NODE_EXTRA_CA_CERTS as an operator would trust a hospital's own CA; the
 * same server refused when its certificate is not trusted.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { encodeFileMeta } from '../../src/dicom/net/part10.js';
import { ensureSystemPackages } from '../helpers/system-packages.js';

const BOUNDARY = 'b0und4ry';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Installed with apt-get when missing and run as root; otherwise a loud SKIPPING line.
const openssl = await ensureSystemPackages(['openssl'], () => existsSync('/usr/bin/openssl'));
const skip = openssl.ok ? false : openssl.reason;

function instance(sop: string, bytes: number): Buffer {
  return Buffer.concat([encodeFileMeta({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: sop, transferSyntaxUid: '1.2.840.10008.1.2.1' }), Buffer.alloc(bytes, sop.length)]);
}

/** Runs `retrieve` twice in a child process (its own CA trust) and returns what it printed. */
async function retrieveInChild(uri: string, dir: string, extraCa: string | undefined): Promise<{ ok: boolean; sops?: string[][]; code?: string; transient?: boolean; message?: string }> {
  await mkdir(dir, { recursive: true });
  const script = path.join(dir, 'retrieve.mjs');
  await writeFile(
    script,
    `import { DicomwebClient } from ${JSON.stringify(path.join(ROOT, 'src/dicom/net/dicomweb-client.ts'))};
import { isTransient } from ${JSON.stringify(path.join(ROOT, 'src/dicom/net/errors.ts'))};
const client = new DicomwebClient({ uri: ${JSON.stringify(uri)}, timeoutMs: 5000 });
try {
  const sops = [];
  for (const sub of ['a', 'b']) sops.push((await client.retrieve({ study: '1.2.3' }, ${JSON.stringify(dir)} + '/' + sub)).instances.map((i) => i.sopInstanceUid));
  console.log(JSON.stringify({ ok: true, sops }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, code: err.code, transient: isTransient(err), message: err.message }));
} finally {
  client.close();
}
`,
  );
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  if (extraCa) env.NODE_EXTRA_CA_CERTS = extraCa;
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, out);
  return JSON.parse(out.trim().split('\n').at(-1) as string);
}

describe('WADO-RS over HTTPS', { skip }, () => {
  let dir: string;
  let server: Server;
  let uri: string;
  let connections = 0;
  const parts = [instance('1.2.3.1', 300_000), instance('1.2.3.22', 5000)];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'voxgate-https-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    const body = Buffer.concat([
      ...parts.flatMap((part) => [Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), part, Buffer.from('\r\n')]),
      Buffer.from(`--${BOUNDARY}--\r\n`),
    ]);
    server = createServer({ key: await readFile(key), cert: await readFile(cert) }, (req, res) => {
      res.writeHead(200, { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` });
      // Chunked (no Content-Length), in pieces that cut the parts anywhere.
      for (let at = 0; at < body.length; at += 70_001) res.write(body.subarray(at, at + 70_001));
      res.end();
    });
    server.on('secureConnection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    uri = `https://localhost:${(server.address() as { port: number }).port}/dicom-web`;
  });
  after(async () => {
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a server whose certificate the operator trusts: every instance, byte for byte, two retrievals on one TLS connection', async () => {
    connections = 0;
    const result = await retrieveInChild(uri, dir, path.join(dir, 'cert.pem'));
    assert.deepEqual(result, { ok: true, sops: [['1.2.3.1', '1.2.3.22'], ['1.2.3.1', '1.2.3.22']] });
    assert.equal(connections, 1);
    for (const sub of ['a', 'b']) {
      assert.deepEqual(await readFile(path.join(dir, sub, '1.2.3.1.dcm')), parts[0]);
      assert.deepEqual(await readFile(path.join(dir, sub, '1.2.3.22.dcm')), parts[1]);
    }
  });

  test('a certificate nobody trusts is refused, as a permanent error that names the server', async () => {
    const result = await retrieveInChild(uri, path.join(dir, 'untrusted'), undefined);
    assert.equal(result.ok, false);
    assert.equal(result.transient, false);
    assert.match(result.code ?? '', /^VXG_ERR_DICOMWEB_/);
    assert.match(result.message ?? '', /^The DICOMweb server localhost:\d+ presented a TLS certificate that was not accepted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
  });
});
