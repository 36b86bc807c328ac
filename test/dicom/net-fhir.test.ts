import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { PeerError, isTransient } from '../../src/dicom/net/errors.js';
import { FhirClient, fhirAccept } from '../../src/dicom/net/fhir-client.js';
import { freePort } from '../helpers/orthanc.js';

async function rejectsWith(promise: Promise<unknown>, code: string, transient: boolean): Promise<PeerError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof PeerError, `expected a PeerError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(isTransient(caught), transient);
  return caught;
}

describe('FHIR client against a loopback FHIR server', () => {
  let server: Server;
  let base: string;
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];

  before(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      const accept = req.headers.accept ?? '';
      const version = /fhirVersion=([0-9.]+)/.exec(accept)?.[1];
      if (req.url === '/fhir/Patient/locked') {
        res.writeHead(401).end();
      } else if (req.url === '/fhir/Patient/boom') {
        res.writeHead(503).end();
      } else if (req.url === '/fhir/Patient/gone') {
        res.writeHead(410).end();
      } else if (req.url === '/fhir/Patient/html') {
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
      } else if (req.url?.startsWith('/fhir/Patient/')) {
        if (!version || !['0.0', '1.0', '3.0', '4.0'].includes(version)) {
          res.writeHead(406).end();
        } else if (accept.startsWith('application/fhir+xml')) {
          res.writeHead(200, { 'content-type': `application/fhir+xml; fhirVersion=${version}` }).end('<Patient xmlns="http://hl7.org/fhir"><id value="example"/></Patient>');
        } else {
          res.writeHead(200, { 'content-type': `application/fhir+json; fhirVersion=${version}` }).end(JSON.stringify({ resourceType: 'Patient', id: 'example', meta: { versionId: version } }));
        }
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}/fhir`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('sends Accept application/fhir+json with the fhirVersion of each release (R3 by default)', async () => {
    const client = new FhirClient({ uri: base, auth: { type: 'Bearer', id: 'token-1' } });
    for (const [version, parameter] of [['R1', '0.0'], ['R2', '1.0'], ['R3', '3.0'], ['R4', '4.0']] as const) {
      const resource = await client.read('Patient', 'example', { fhirVersion: version });
      assert.equal(seen.at(-1)?.headers.accept, `application/fhir+json; fhirVersion=${parameter}`);
      assert.equal(seen.at(-1)?.headers.authorization, 'Bearer token-1');
      assert.equal(seen.at(-1)?.url, '/fhir/Patient/example');
      assert.deepEqual(JSON.parse(resource.body.toString()), { resourceType: 'Patient', id: 'example', meta: { versionId: parameter } });
    }
    await client.read('Patient', 'example');
    assert.equal(seen.at(-1)?.headers.accept, fhirAccept('Json', 'R3'));
    client.close();
  });

  test('asks for XML when fhirFormat is Xml and returns the body as received', async () => {
    const client = new FhirClient({ uri: `${base}/` });
    const resource = await client.read('Patient', 'example', { fhirFormat: 'Xml', fhirVersion: 'R4' });
    assert.equal(seen.at(-1)?.headers.accept, 'application/fhir+xml; fhirVersion=4.0');
    assert.match(resource.contentType, /^application\/fhir\+xml/);
    assert.match(resource.body.toString(), /^<Patient/);
    client.close();
  });

  test('maps answers to typed errors: 401 auth and 404/410 not found are permanent, 503 transient, HTML unusable', async () => {
    const client = new FhirClient({ uri: base });
    await rejectsWith(client.read('Patient', 'locked'), 'VXG_ERR_FHIR_AUTH', false);
    await rejectsWith(client.read('Observation', 'example'), 'VXG_ERR_FHIR_NOT_FOUND', false);
    await rejectsWith(client.read('Patient', 'gone'), 'VXG_ERR_FHIR_NOT_FOUND', false);
    await rejectsWith(client.read('Patient', 'boom'), 'VXG_ERR_FHIR_STATUS', true);
    await rejectsWith(client.read('Patient', 'html'), 'VXG_ERR_FHIR_RESPONSE', false);
    client.close();
  });

  test('refuses a type or id that could leave the resource path', async () => {
    const client = new FhirClient({ uri: base });
    await rejectsWith(client.read('../admin', 'x'), 'VXG_ERR_FHIR_REQUEST', false);
    await rejectsWith(client.read('Patient', '../../secret'), 'VXG_ERR_FHIR_REQUEST', false);
    assert.throws(() => new FhirClient({ uri: 'ftp://127.0.0.1/fhir' }), (err: unknown) => err instanceof PeerError && err.code === 'VXG_ERR_FHIR_REQUEST');
    client.close();
  });

  test('a port nobody listens on is VXG_ERR_FHIR_UNREACHABLE, transient', async () => {
    const client = new FhirClient({ uri: `http://127.0.0.1:${await freePort()}/fhir` });
    await rejectsWith(client.read('Patient', 'example'), 'VXG_ERR_FHIR_UNREACHABLE', true);
    client.close();
  });
});
