/**
 * The DICOM node's configuration API through `inject()`: CRUD of AE titles, sources and destinations,
 * 201/404/409/422 answers, MIG's paths, survival across a store reopen, tokens, C-ECHO (a real store
 * SCP on loopback answers; a closed port gives 502), and /health/status.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server.js';
import type { Config } from '../../src/config.js';
import { loadConfig } from '../../src/config.js';
import { StoreScp } from '../../src/dicom/net/store-scp.js';
import { pipelineTable } from '../../src/jobs/pipelines.js';
import { jobStorePath } from '../../src/jobs/setup.js';
import { SqliteJobStore } from '../../src/jobs/sqlite-job-store.js';
import { NodeConfig } from '../../src/node/node-config.js';
import { IDLE_ENGINE } from '../helpers/acr-server.js';
import { freePort } from '../helpers/orthanc.js';
import type { TempDir } from '../helpers/jobs.js';
import { makeTempDir } from '../helpers/jobs.js';

let dir: TempDir;
let config: Config;
let store: SqliteJobStore;
let app: FastifyInstance;
let nodeConfig: NodeConfig;
let peer: StoreScp;
const TOKEN = 'node-config-test-token';

async function open(): Promise<void> {
  store = SqliteJobStore.open(jobStorePath(config));
  nodeConfig = await NodeConfig.load(store, pipelineTable(config.pipelines), { ownAeTitle: config.aeTitle });
  app = await buildServer({
    config,
    engine: IDLE_ENGINE,
    logger: false,
    jobs: { store },
    node: { config: nodeConfig, scp: { activeAssociations: 3, pendingGroups: 1 } },
    worker: true,
  });
  await app.ready();
}

async function close(): Promise<void> {
  await app.close();
  await store.close();
}

before(async () => {
  dir = await makeTempDir('voxgate-node-config-');
  config = loadConfig({ flags: { dataDir: join(dir.path, 'data'), tokens: [TOKEN], pipelines: { liver: { modality: ['CT'] } } }, env: {} });
  await open();
  peer = await StoreScp.start({ aeTitle: 'PEER', storageDir: join(dir.path, 'peer') });
});
after(async () => {
  await peer.close();
  await close();
  await dir.remove();
});

const auth = { authorization: `Bearer ${TOKEN}` };
function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) {
  return app.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
}

describe('destinations', () => {
  test('create answers 201 with the entry; list and get show it; the DICOMweb credential is never shown', async () => {
    const created = await call('POST', '/api/config/destination', { name: 'orthanc', aeTitle: 'ORTHANC', hostIp: '127.0.0.1', port: 4242 });
    assert.equal(created.statusCode, 201);
    assert.deepEqual(created.json(), { name: 'orthanc', interface: 'DIMSE', aeTitle: 'ORTHANC', hostIp: '127.0.0.1', port: 4242 });
    const web = await call('POST', '/api/config/destination', { name: 'web', interface: 'DICOMweb', uri: 'http://127.0.0.1:8042/dicom-web', authType: 'Bearer', authId: 'secret' });
    assert.equal(web.statusCode, 201);
    assert.deepEqual(web.json(), { name: 'web', interface: 'DICOMweb', uri: 'http://127.0.0.1:8042/dicom-web/', authType: 'Bearer' });
    const list = await call('GET', '/api/config/destination');
    assert.deepEqual(
      list.json<{ name: string }[]>().map((d) => d.name),
      ['orthanc', 'web'],
    );
    assert.ok(!list.body.includes('secret'));
    assert.equal((await call('GET', '/api/config/destination/orthanc')).json<{ port: number }>().port, 4242);
  });

  test('409 on a duplicate name and on the same AE title, host and port under another name', async () => {
    const byName = await call('POST', '/api/config/destination', { name: 'orthanc', aeTitle: 'OTHER', hostIp: '127.0.0.1', port: 4243 });
    assert.equal(byName.statusCode, 409);
    assert.deepEqual(byName.json(), { statusCode: 409, code: 'VXG_ERR_NODE_CONFIG_DUPLICATE', error: 'Conflict', message: 'A destination named "orthanc" already exists.' });
    const byAddress = await call('POST', '/api/config/destination', { name: 'orthanc2', aeTitle: 'ORTHANC', hostIp: '127.0.0.1', port: 4242 });
    assert.equal(byAddress.statusCode, 409);
    assert.equal(byAddress.json<{ message: string }>().message, 'Another destination already has AE title "ORTHANC" at 127.0.0.1:4242.');
  });

  test('422 names every invalid field', async () => {
    const res = await call('POST', '/api/config/destination', { name: 'bad one', aeTitle: 'A_TITLE_MUCH_TOO_LONG', hostIp: '127.0.0.1', port: 70000 });
    assert.equal(res.statusCode, 422);
    const body = res.json<{ code: string; message: string }>();
    assert.equal(body.code, 'VXG_ERR_NODE_CONFIG_INVALID');
    assert.match(body.message, /^Invalid destination: /);
    for (const field of ['name:', 'aeTitle:', 'port:']) assert.ok(body.message.includes(field), `${field} in ${body.message}`);
  });

  test('cecho: 200 when the destination answers, 502 when nothing listens, 404 for an unknown name', async () => {
    await call('POST', '/api/config/destination', { name: 'peer', aeTitle: 'PEER', hostIp: '127.0.0.1', port: peer.port });
    const ok = await call('POST', '/api/config/destination/peer/cecho');
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { name: 'peer', status: 'Success' });
    // MIG's path for the same
    assert.equal((await call('GET', '/config/destination/cecho/peer')).statusCode, 200);

    const closed = await freePort();
    await call('POST', '/api/config/destination', { name: 'gone', aeTitle: 'GONE', hostIp: '127.0.0.1', port: closed });
    const failed = await call('POST', '/api/config/destination/gone/cecho');
    assert.equal(failed.statusCode, 502);
    assert.equal(failed.json<{ code: string }>().code, 'VXG_ERR_NODE_ECHO_FAILED');
    assert.match(failed.json<{ message: string }>().message, /^C-ECHO to "gone" \(GONE@127\.0\.0\.1:\d+\) failed: /);

    // A wrong called AE title is rejected by the peer: also 502.
    await call('POST', '/api/config/destination', { name: 'wrong-ae', aeTitle: 'NOTPEER', hostIp: '127.0.0.1', port: peer.port });
    assert.equal((await call('POST', '/api/config/destination/wrong-ae/cecho')).statusCode, 502);

    assert.equal((await call('POST', '/api/config/destination/nobody/cecho')).statusCode, 404);
  });
});

describe('AE titles', () => {
  test('create fills the defaults (study grouping, 5 s, vista3d) and answers workflows for MIG clients', async () => {
    const res = await call('POST', '/api/config/ae-title', { name: 'seg', aeTitle: 'VOXSEG', destinations: ['orthanc'] });
    assert.equal(res.statusCode, 201);
    assert.deepEqual(res.json(), { name: 'seg', aeTitle: 'VOXSEG', grouping: '0020,000D', timeout: 5, destinations: ['orthanc'], pipeline: 'vista3d', workflows: ['vista3d'] });
  });

  test("MIG's body (workflows, unknown fields) on MIG's path", async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/config/ae',
      headers: auth,
      payload: { name: 'liver', aeTitle: 'LIVERSEG', grouping: '0020,000E', timeout: 2, workflows: ['liver'], pluginAssemblies: ['X, Y'] },
    });
    assert.equal(res.statusCode, 201);
    assert.deepEqual(res.json(), { name: 'liver', aeTitle: 'LIVERSEG', grouping: '0020,000E', timeout: 2, destinations: [], pipeline: 'liver', workflows: ['liver'] });
  });

  test('409 on the same AE title under another name', async () => {
    const res = await call('POST', '/api/config/ae-title', { name: 'seg2', aeTitle: 'VOXSEG' });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json<{ message: string }>().message, 'Another ae-title already has AE title "VOXSEG".');
  });

  test('422 for an unknown pipeline or destination', async () => {
    const res = await call('POST', '/api/config/ae-title', { name: 'x', aeTitle: 'X', pipeline: 'nope', destinations: ['nowhere'] });
    assert.equal(res.statusCode, 422);
    assert.equal(
      res.json<{ message: string }>().message,
      'Invalid ae-title: pipeline: "nope" is not a configured pipeline (vista3d, liver); destinations: no destination named "nowhere".',
    );
  });

  test("422 for Voxgate's own AE title (C-MOVE retrievals land there)", async () => {
    const res = await call('POST', '/api/config/ae-title', { name: 'own', aeTitle: 'VOXGATE' });
    assert.equal(res.statusCode, 422);
    assert.equal(res.json<{ message: string }>().message, 'Invalid ae-title: aeTitle: "VOXGATE" is Voxgate\'s own AE title (where C-MOVE retrievals land); choose another.');
  });

  test('update by path and by body (MIG), 404 for an unknown name, 422 for a renamed body', async () => {
    const byPath = await call('PUT', '/api/config/ae-title/seg', { aeTitle: 'VOXSEG', grouping: 'series', timeout: 1, destinations: ['orthanc', 'web'] });
    assert.equal(byPath.statusCode, 200);
    assert.deepEqual(byPath.json<{ grouping: string; timeout: number }>().grouping, '0020,000E');
    const byBody = await call('PUT', '/config/ae', { name: 'seg', aeTitle: 'VOXSEG', timeout: 3, destinations: ['orthanc'] });
    assert.equal(byBody.statusCode, 200);
    assert.equal(byBody.json<{ timeout: number }>().timeout, 3);
    assert.equal((await call('PUT', '/api/config/ae-title/none', { aeTitle: 'NONE' })).statusCode, 404);
    const renamed = await call('PUT', '/api/config/ae-title/seg', { name: 'other', aeTitle: 'VOXSEG' });
    assert.equal(renamed.statusCode, 422);
    // applied without a restart: the node's view changed with the answer
    assert.equal(nodeConfig.findAeTitle('VOXSEG')?.timeout, 3);
  });

  test('a destination an AE title uses cannot be deleted (409); after unlinking it can', async () => {
    const refused = await call('DELETE', '/api/config/destination/orthanc');
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json<{ code: string }>().code, 'VXG_ERR_NODE_CONFIG_IN_USE');
    await call('PUT', '/api/config/ae-title/seg', { aeTitle: 'VOXSEG', destinations: [] });
    const deleted = await call('DELETE', '/api/config/destination/orthanc');
    assert.equal(deleted.statusCode, 200);
    assert.equal(deleted.json<{ name: string }>().name, 'orthanc');
    assert.equal((await call('GET', '/api/config/destination/orthanc')).statusCode, 404);
  });
});

describe('sources', () => {
  test('CRUD, and 409 on the same AE title and host', async () => {
    assert.equal((await call('POST', '/api/config/source', { name: 'pacs', aeTitle: 'PACS', hostIp: '127.0.0.1' })).statusCode, 201);
    assert.equal((await call('POST', '/api/config/source', { name: 'pacs-b', aeTitle: 'PACS', hostIp: '127.0.0.1' })).statusCode, 409);
    // the same calling AE title from another host is another source
    assert.equal((await call('POST', '/api/config/source', { name: 'pacs-b', aeTitle: 'PACS', hostIp: '10.0.0.9' })).statusCode, 201);
    assert.ok(nodeConfig.isKnownSource('PACS', '::ffff:127.0.0.1'));
    assert.ok(!nodeConfig.isKnownSource('PACS', '10.0.0.8'));
    assert.equal((await call('DELETE', '/api/config/source/pacs-b')).statusCode, 200);
    assert.deepEqual((await call('GET', '/config/source')).json(), [{ name: 'pacs', aeTitle: 'PACS', hostIp: '127.0.0.1' }]);
  });
});

describe('around the routes', () => {
  test('every configuration route needs the API token; /health/status does not', async () => {
    assert.equal((await app.inject({ method: 'GET', url: '/api/config/ae-title' })).statusCode, 401);
    assert.equal((await app.inject({ method: 'GET', url: '/config/source' })).statusCode, 401);
    assert.equal((await app.inject({ method: 'GET', url: '/health/status' })).statusCode, 200);
  });

  test('/health/status: associations, services, jobs per state, engine', async () => {
    const res = await app.inject({ method: 'GET', url: '/health/status' });
    assert.deepEqual(res.json(), {
      activeDimseConnections: 3,
      pendingDicomGroups: 1,
      services: { 'DICOM SCP Service': 'Running', 'Job Store': 'Running', 'Job Worker': 'Running' },
      jobs: { Queued: 0, InProcess: 0, Completed: 0 },
      engine: { name: 'idle', version: '0', ready: true },
    });
  });

  test('malformed JSON is a 400 in the same error shape', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/config/source', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name":' });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json<{ code: string }>().code, 'VXG_ERR_NODE_CONFIG_INVALID');
  });

  test('the configuration survives a restart (store closed and opened again)', async () => {
    await close();
    await open();
    const names = (await call('GET', '/api/config/ae-title')).json<{ name: string }[]>().map((a) => a.name);
    assert.deepEqual(names, ['liver', 'seg']);
    assert.equal(nodeConfig.findAeTitle('LIVERSEG')?.grouping, '0020,000E');
    assert.equal((await call('GET', '/api/config/destination/web')).statusCode, 200);
  });
});
