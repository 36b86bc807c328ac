/**
 * `GET /api/jobs`: newest first, filtered by state, capped by `limit`, each entry the spec's status
 * body plus pipeline, state, status, progress and the number of result files.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AcrApp } from '../helpers/acr-server.js';
import { startAcrApp, validBody } from '../helpers/acr-server.js';

let acr: AcrApp;
const ids: string[] = [];

before(async () => {
  acr = await startAcrApp();
  for (const transactionID of ['first', 'second', 'third']) {
    const res = await acr.app.inject({ method: 'POST', url: '/api/inference', payload: validBody({ transactionID }) });
    assert.equal(res.statusCode, 200);
    ids.push(res.json<{ jobId: string }>().jobId);
  }
  // The first is taken by a worker and reports progress.
  const claimed = await acr.store.claim('test-worker', 60_000);
  assert.equal(claimed?.jobId, ids[0]);
  await acr.store.update(ids[0]!, 'test-worker', { progress: 42.4, message: 'Retrieving.' });
});
after(() => acr.close());

interface Listed {
  jobId: string;
  transactionId: string;
  pipeline: string;
  state: string;
  status: string;
  progress: number;
  message: string;
  resultCount: number;
  platform: { state: string; progress: number };
}

async function list(query = ''): Promise<{ statusCode: number; jobs: Listed[]; body: Record<string, unknown> }> {
  const res = await acr.app.inject({ method: 'GET', url: `/api/jobs${query}` });
  const body = res.json<Record<string, unknown>>();
  return { statusCode: res.statusCode, jobs: (body.jobs ?? []) as Listed[], body };
}

describe('GET /api/jobs', () => {
  test('lists every job newest first with state, progress and message', async () => {
    const { statusCode, jobs } = await list();
    assert.equal(statusCode, 200);
    assert.deepEqual(jobs.map((j) => j.transactionId), ['third', 'second', 'first']);
    const first = jobs[2]!;
    assert.equal(first.jobId, ids[0]);
    assert.equal(first.pipeline, 'vista3d');
    assert.equal(first.state, 'InProcess');
    assert.equal(first.status, 'Unknown');
    assert.equal(first.progress, 42);
    assert.equal(first.platform.state, 'Running');
    assert.equal(first.platform.progress, 42);
    assert.equal(first.message, 'Retrieving.');
    assert.equal(first.resultCount, 0);
    assert.equal(jobs[0]!.state, 'Queued');
    assert.equal(jobs[0]!.progress, 0);
  });

  test('?state= keeps only the states named', async () => {
    assert.deepEqual((await list('?state=Queued')).jobs.map((j) => j.transactionId), ['third', 'second']);
    assert.deepEqual((await list('?state=InProcess,Completed')).jobs.map((j) => j.transactionId), ['first']);
  });

  test('?limit= caps the list', async () => {
    assert.deepEqual((await list('?limit=1')).jobs.map((j) => j.transactionId), ['third']);
  });

  test('an unknown state is 400 with the states it takes', async () => {
    const { statusCode, body } = await list('?state=Running');
    assert.equal(statusCode, 400);
    assert.equal(body.message, 'Unknown job state "Running"; use Queued, InProcess, Completed.');
  });

  test('a limit out of range is 400', async () => {
    assert.equal((await list('?limit=0')).statusCode, 400);
    assert.equal((await list('?limit=501')).statusCode, 400);
  });
});
