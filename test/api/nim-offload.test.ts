/**
 * NIM inference handed to workers (`nimInference: workers`): a real server and an
 * InferenceTaskRunner on one job store (SQLite here; the PostgreSQL fleet in
 * test/jobs/scale-out.test.ts), against the same server running inference itself. The answers must
 * be byte-identical, errors included; with no worker the request ends in 503 after the timeout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server.js';
import { loadConfig } from '../../src/config.js';
import type { Engine } from '../../src/engines/engine.js';
import { createEngine } from '../../src/engines/index.js';
import { InferenceTaskRunner } from '../../src/jobs/inference-task-runner.js';
import { SqliteJobStore } from '../../src/jobs/sqlite-job-store.js';
import { readZip } from '../../src/pipeline/zip.js';
import { encodeNifti } from '../../src/volume/nifti.js';
import { chestPhantom, tempDir } from '../helpers/nim-server.js';

let engine: Engine;
let dir: { path: string; remove(): Promise<void> };
let store: SqliteJobStore;
const servers: FastifyInstance[] = [];
let image: string;

async function start(nimInference: 'local' | 'workers', extra: Record<string, unknown> = {}): Promise<string> {
  const config = loadConfig({
    flags: { host: '127.0.0.1', port: 0, dataDir: join(dir.path, 'data'), allowPath: [join(dir.path, 'images')], nimInference, ...extra },
    env: {},
  });
  const app = await buildServer({ config, engine, logger: false, jobs: { store, onQueued: () => {} } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  servers.push(app);
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function infer(base: string, body: unknown, accept = 'application/zip'): Promise<Response> {
  return fetch(`${base}/v1/vista3d/inference`, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify(body) });
}

before(async () => {
  engine = await createEngine('classic', { threads: 1 });
  dir = await tempDir('voxgate-offload-');
  await mkdir(join(dir.path, 'images'));
  image = join(dir.path, 'images', 'chest.nii.gz');
  await writeFile(image, await encodeNifti(chestPhantom()));
  store = SqliteJobStore.open(join(dir.path, 'data', 'jobs.sqlite'));
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await store?.close();
  await engine?.close();
  await dir?.remove();
});

test('handed to a worker, a request answers exactly what the server answers itself, errors included, and leaves nothing behind', async () => {
  const local = await start('local');
  const offloaded = await start('workers');
  const worker = new InferenceTaskRunner({ store, engine, dataDir: join(dir.path, 'data'), maxDecodedBytes: 1.5e9, owner: 'test-worker', pollMs: 5000 });
  worker.start();
  try {
    const body = { image, prompts: { classes: ['lung'] } };
    const [mine, theirs] = [await infer(local, body), await infer(offloaded, body)];
    assert.equal(theirs.status, 200, await theirs.clone().text());
    assert.equal(mine.headers.get('x-voxgate-worker'), null);
    assert.equal(theirs.headers.get('x-voxgate-worker'), 'test-worker');
    const [a, b] = [readZip(new Uint8Array(await mine.arrayBuffer())), readZip(new Uint8Array(await theirs.arrayBuffer()))];
    assert.equal(b[0]!.name, 'chest_seg.nii.gz');
    assert.deepEqual(b, a, 'the same zip entry, byte for byte');

    const summary = async (base: string) => (await infer(base, body, 'application/json')).json() as Promise<Record<string, unknown>>;
    const [sa, sb] = [await summary(local), await summary(offloaded)];
    delete sa.timing_ms;
    delete sb.timing_ms;
    assert.deepEqual(sb, sa);

    // Errors the worker meets (a point outside the image, a group label with points — prompts are
    // checked by the worker's engine) come back as the same problem.
    for (const prompts of [{ points: { spleen: [[64, 0, 0]] } }, { points: { lung: [[1, 2, 3]] } }]) {
      const [ea, eb] = [await infer(local, { image, prompts }), await infer(offloaded, { image, prompts })];
      assert.equal(eb.status, 400);
      assert.deepEqual(await eb.json(), await ea.json());
    }

    // The task rows and the shared folders are gone once answered.
    assert.deepEqual(await readdir(join(dir.path, 'data', 'nim-tasks')), []);
  } finally {
    await worker.stop();
  }
});

test('with no worker running, a request handed to workers ends in 503 VXG_ERR_NIM_WORKER_TIMEOUT and is withdrawn', async () => {
  const offloaded = await start('workers', { nimWorkerTimeoutMs: 1000 });
  const res = await infer(offloaded, { image, prompts: { classes: ['lung'] } });
  assert.equal(res.status, 503);
  const problem = (await res.json()) as { code: string; error?: string; detail?: string };
  assert.equal(problem.code, 'VXG_ERR_NIM_WORKER_TIMEOUT', JSON.stringify(problem));
  assert.equal(await store.claimTask('late-worker', 1000), undefined, 'no task left for a worker that comes later');
  assert.ok(!existsSync(join(dir.path, 'data', 'nim-tasks')) || (await readdir(join(dir.path, 'data', 'nim-tasks'))).length === 0);
});
