/**
 * The ACR routes besides validation: 400 (JSON, priority), 409, 404, the status shape, MIG's paths,
 * the spec's leniency (names and enums in any case, aliases, trailing `/`, details + inputs), the job
 * on disk before the 200, tokens, readiness, and the results routes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { resultsFolder } from '../../src/jobs/job-files.js';
import { SqliteJobStore } from '../../src/jobs/sqlite-job-store.js';
import { jobStorePath } from '../../src/jobs/setup.js';
import type { AcrApp } from '../helpers/acr-server.js';
import { startAcrApp, validBody } from '../helpers/acr-server.js';

let acr: AcrApp;

before(async () => {
  acr = await startAcrApp();
});
after(() => acr.close());

async function post(body: unknown, url = '/api/inference') {
  return acr.app.inject({ method: 'POST', url, payload: typeof body === 'string' ? body : (body as Record<string, unknown>), headers: { 'content-type': 'application/json' } });
}

describe('POST /api/inference', () => {
  test('answers 200 {transactionId, jobId} and the job is already on disk for another process to read', async () => {
    const body = validBody();
    const res = await post(body);
    assert.equal(res.statusCode, 200);
    const answer = res.json<{ transactionId: string; jobId: string }>();
    assert.deepEqual(Object.keys(answer).sort(), ['jobId', 'transactionId']);
    assert.equal(answer.transactionId, body.transactionID);
    assert.match(answer.jobId, /^[0-9a-f-]{36}$/);
    const other = SqliteJobStore.open(jobStorePath(acr.config));
    try {
      const job = await other.get(answer.jobId);
      assert.equal(job?.transactionId, body.transactionID);
      assert.equal(job?.state, 'Queued');
    } finally {
      await other.close();
    }
  });

  test('malformed JSON is 400 as an RFC 7807 problem', async () => {
    const res = await post('{"transactionID": "x",');
    assert.equal(res.statusCode, 400);
    assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
    const json = res.json<Record<string, unknown>>();
    assert.equal(json.type, 'https://tools.ietf.org/html/rfc7231#section-6.5.1');
    assert.equal(json.status, 400);
    assert.equal(json.code, 'VXG_ERR_REQUEST_INVALID');
    assert.match(String(json.detail), /^The body is not valid JSON/);
  });

  test('a body that is not an object is 400', async () => {
    const res = await post('[1, 2]');
    assert.equal(res.statusCode, 400);
    assert.equal(res.json<{ detail: string }>().detail, 'The request body must be a JSON object.');
  });

  for (const priority of [256, -1, 12.5, 'high', '', true, [1]]) {
    test(`priority ${JSON.stringify(priority)} is 400`, async () => {
      const res = await post(validBody({ priority }));
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json(), {
        type: 'https://tools.ietf.org/html/rfc7231#section-6.5.1',
        title: 'Bad Request',
        status: 400,
        detail: "'priority' must be an integer from 0 to 255, or a string holding one.",
        code: 'VXG_ERR_REQUEST_INVALID',
      });
    });
  }

  test('priority as a numeric string is taken, and named as the spec names its range', async () => {
    const cases: [unknown, number, string][] = [
      ['255', 255, 'Immediate'],
      ['200', 200, 'Higher'],
      [129, 129, 'Higher'],
      [undefined, 128, 'Normal'],
      [0, 0, 'Lower'],
      ['127', 127, 'Lower'],
    ];
    for (const [given, value, name] of cases) {
      const res = await post(validBody({ priority: given }));
      assert.equal(res.statusCode, 200);
      const { jobId } = res.json<{ jobId: string }>();
      assert.equal((await acr.store.get(jobId))?.priority, value);
      const status = await acr.app.inject({ url: `/api/inference/status/${jobId}` });
      assert.equal(status.json<{ platform: { priority: string } }>().platform.priority, name);
    }
  });

  test('a second request with the same transactionID is 409 with the reference message', async () => {
    const body = validBody();
    assert.equal((await post(body)).statusCode, 200);
    const res = await post({ ...body, priority: 255 });
    assert.equal(res.statusCode, 409);
    assert.deepEqual(res.json(), {
      type: 'https://tools.ietf.org/html/rfc7231#section-6.5.8',
      title: 'Conflict',
      status: 409,
      detail: 'An existing request with same transaction ID already exists.',
      code: 'VXG_ERR_JOB_DUPLICATE',
    });
    assert.equal((await acr.store.getByTransactionId(String(body.transactionID)))?.priority, 128);
  });

  test("MIG's path POST /inference is the same route", async () => {
    const res = await post(validBody(), '/inference');
    assert.equal(res.statusCode, 200);
  });

  test('property names and enum values match in any case; aliases; trailing slash; details appended to inputs', async () => {
    const res = await post({
      TRANSACTIONID: 'tx-case-insensitive',
      Priority: '200',
      inputmetadata: {
        Inputs: [{ TYPE: 'dicom_patient_id', patientid: 'PAT-1' }],
        DETAILS: { type: 'Dicom_Uid', STUDIES: [{ studyinstanceuid: '1.2.3', SERIES: [{ seriesinstanceuid: '1.2.3.4', Instances: [{ sopinstanceuid: ['1.2.3.4.5'] }] }] }] },
      },
      InputResources: [
        { INTERFACE: 'algorithm', ConnectionDetails: { ID: 'VISTA3D' } },
        { Interface: 'dicomweb', connectiondetails: { baseUri: 'https://pacs.example/dicom-web', AUTHTYPE: 'bearer', apiKey: 'token-1' } },
        { interface: 'dimse', connectionDetails: { AETitle: 'ORTHANC', HOST: '127.0.0.1', Port: '4242', Retrieve: 'c-get' } },
      ],
      outputResources: [{ interface: 'FHIR', connectionDetails: { uri: 'http://fhir.example/base' } }],
    });
    assert.equal(res.statusCode, 200, res.body);
    const job = await acr.store.getByTransactionId('tx-case-insensitive');
    assert.deepEqual(job?.request, {
      transactionId: 'tx-case-insensitive',
      priority: 200,
      pipeline: 'vista3d',
      algorithm: { id: 'VISTA3D' },
      inputs: [
        { type: 'DICOM_PATIENT_ID', patientId: 'PAT-1' },
        { type: 'DICOM_UID', studies: [{ studyInstanceUid: '1.2.3', series: [{ seriesInstanceUid: '1.2.3.4', instances: [{ sopInstanceUids: ['1.2.3.4.5'] }] }] }] },
      ],
      sources: [
        { interface: 'DICOMweb', uri: 'https://pacs.example/dicom-web/', authType: 'Bearer', authId: 'token-1', operations: [] },
        { interface: 'DIMSE', aeTitle: 'ORTHANC', host: '127.0.0.1', port: 4242, retrieve: 'C-GET' },
      ],
      destinations: [{ interface: 'FHIR', uri: 'http://fhir.example/base/', authType: 'None', operations: [] }],
    });
  });
});

describe('GET /api/inference/status/{id}', () => {
  test('answers the spec shape by transactionID and by jobId, Queued at first', async () => {
    const body = validBody({ priority: 255 });
    const { jobId } = (await post(body)).json<{ jobId: string }>();
    const job = await acr.store.get(jobId);
    for (const url of [`/api/inference/status/${body.transactionID}`, `/api/inference/status/${jobId}`, `/inference/status/${jobId}`]) {
      const res = await acr.app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.deepEqual(res.json(), {
        transactionId: body.transactionID,
        jobId,
        platform: { jobId, status: 'Unknown', state: 'Pending', priority: 'Immediate', created: job?.created.toISOString(), started: null, stopped: null, progress: 0 },
        dicom: { state: 'Queued', status: 'Unknown' },
        message: 'Queued.',
      });
    }
  });

  test('an id that is neither a transactionID nor a jobId is 404, as MIG words it', async () => {
    for (const id of ['nobody', '00000000-0000-4000-8000-000000000000']) {
      const res = await acr.app.inject({ url: `/api/inference/status/${id}` });
      assert.equal(res.statusCode, 404);
      assert.deepEqual(res.json(), {
        type: 'https://tools.ietf.org/html/rfc7231#section-6.5.4',
        title: 'Inference request not found.',
        status: 404,
        detail: 'Unable to locate the specified request.',
        code: 'VXG_ERR_JOB_NOT_FOUND',
      });
    }
  });

  test('a transactionID with characters a path would not take is found (it is never a path)', async () => {
    const body = validBody({ transactionID: '../../etc/passwd #1' });
    assert.equal((await post(body)).statusCode, 200);
    const res = await acr.app.inject({ url: `/api/inference/status/${encodeURIComponent('../../etc/passwd #1')}` });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json<{ transactionId: string }>().transactionId, '../../etc/passwd #1');
  });
});

describe('results routes', () => {
  test('list the job results with download URLs; a listed file downloads; anything else is 404', async (t) => {
    // A server of its own, so that this job is the one the test worker claims.
    const acr = await startAcrApp();
    t.after(() => acr.close());
    const { jobId } = (await acr.app.inject({ method: 'POST', url: '/api/inference', payload: validBody() })).json<{ jobId: string }>();
    const claimed = await acr.store.claim('test-worker', 60_000);
    assert.equal(claimed?.jobId, jobId);
    const folder = resultsFolder(acr.config.dataDir, jobId);
    await mkdir(folder, { recursive: true });
    const seg = Buffer.from('DICM-bytes-of-a-seg');
    await writeFile(join(folder, '1.2.3.seg.dcm'), seg);
    await writeFile(join(folder, 'not-listed.txt'), 'secret');
    await acr.store.update(jobId, 'test-worker', {
      results: [{ name: '1.2.3.seg.dcm', type: 'seg', mediaType: 'application/dicom', size: seg.length, seriesInstanceUid: '1.2.3' }],
    });
    const list = await acr.app.inject({ url: `/api/inference/${jobId}/results` });
    assert.equal(list.statusCode, 200);
    const transactionId = (await acr.store.get(jobId))?.transactionId;
    assert.deepEqual(list.json(), {
      jobId,
      transactionId,
      results: [
        { name: '1.2.3.seg.dcm', type: 'seg', mediaType: 'application/dicom', size: seg.length, seriesInstanceUid: '1.2.3', url: `/api/inference/${jobId}/results/1.2.3.seg.dcm` },
      ],
    });
    const file = await acr.app.inject({ url: `/api/inference/${jobId}/results/1.2.3.seg.dcm` });
    assert.equal(file.statusCode, 200);
    assert.equal(file.headers['content-type'], 'application/dicom');
    assert.deepEqual(file.rawPayload, seg);
    for (const name of ['not-listed.txt', '..%2F..%2Fjobs.sqlite', '%2Fetc%2Fpasswd', '.seg.dcm']) {
      const res = await acr.app.inject({ url: `/api/inference/${jobId}/results/${name}` });
      assert.equal(res.statusCode, 404, name);
      assert.equal(res.json<{ code: string }>().code, 'VXG_ERR_JOB_RESULT_NOT_FOUND');
    }
    const unknown = await acr.app.inject({ url: '/api/inference/nobody/results' });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json<{ code: string }>().code, 'VXG_ERR_JOB_NOT_FOUND');
  });
});

describe('tokens and readiness', () => {
  test('with tokens configured, the ACR routes need one like every other route', async () => {
    const guarded = await startAcrApp({ tokens: ['s3cret'] });
    try {
      const denied = await guarded.app.inject({ method: 'POST', url: '/api/inference', payload: validBody() });
      assert.equal(denied.statusCode, 401);
      assert.equal((await guarded.app.inject({ url: '/api/inference/status/x' })).statusCode, 401);
      const allowed = await guarded.app.inject({ method: 'POST', url: '/api/inference', payload: validBody(), headers: { authorization: 'Bearer s3cret' } });
      assert.equal(allowed.statusCode, 200);
    } finally {
      await guarded.close();
    }
  });

  test('/v1/health/ready needs the job store open', async () => {
    const app = await startAcrApp();
    try {
      assert.equal((await app.app.inject({ url: '/v1/health/ready' })).statusCode, 200);
      await app.store.close();
      const res = await app.app.inject({ url: '/v1/health/ready' });
      assert.equal(res.statusCode, 503);
      assert.deepEqual(res.json(), { status: 'not ready' });
    } finally {
      await app.close();
    }
  });
});
