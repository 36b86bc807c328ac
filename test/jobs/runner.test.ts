/**
 * The job runner end to end on real files: a local-folder source with the shared CT series, the
 * real DICOM segmenter (series reader, SEG writer) with a fast fixed-rule engine, a recording
 * destination. Status progression, priorities, concurrency, retries with backoff, permanent
 * failures with messages that name the source, and shutdown.
 */
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSegmentation } from '../../src/dicom/seg-reader.js';
import { derivedUid } from '../../src/jobs/dicom-segmenter.js';
import { dicomFolder, resultsFolder } from '../../src/jobs/job-files.js';
import type { JobRecord } from '../../src/jobs/job.js';
import type { DataResource } from '../../src/jobs/request.js';
import { StepError } from '../../src/jobs/retry.js';
import type { Retriever } from '../../src/jobs/steps.js';
import { readNifti } from '../../src/volume/nifti.js';
import type { RunnerFixture } from '../helpers/job-runner.js';
import { completed, runnerFixture, waitFor } from '../helpers/job-runner.js';
import { CT2_16PX, CT_3SLICE, LocalFolderRetriever, MR_SMALL, RecordingExporter, ThresholdEngine, transientError } from '../helpers/job-steps.js';
import { sampleRequest } from '../helpers/jobs.js';

const SOURCE = 'http://pacs-a.example/dicom-web/';
const source = (uri = SOURCE): DataResource => ({ interface: 'DICOMweb', uri, authType: 'None', operations: [] });
const DESTINATIONS: DataResource[] = [
  { interface: 'DICOMweb', uri: 'http://pacs-b.example/dicom-web/', authType: 'None', operations: ['STORE'] },
  { interface: 'DIMSE', aeTitle: 'ARCHIVE', host: '127.0.0.1', port: 11112, retrieve: 'C-MOVE' },
];

/** Each test has its own data directory, store and runners (stopped when it ends). */
async function fixture(t: TestContext): Promise<RunnerFixture> {
  const fx = await runnerFixture();
  t.after(() => fx.close());
  return fx;
}

describe('a job from request to exported SEG', () => {
  test('goes Queued → InProcess → Completed/Success with progress rising, results kept, SEG sent once to each destination', async (t) => {
    const fx = await fixture(t);
    const engine = new ThresholdEngine({ stepMs: 15 });
    const retriever = new LocalFolderRetriever({ [SOURCE]: [CT_3SLICE] }, { delayMs: 15 });
    const exporter = new RecordingExporter();
    const job = await fx.queue(sampleRequest({ sources: [source()], destinations: DESTINATIONS }));
    assert.equal(job.state, 'Queued');
    const runner = fx.runner({ retriever, exporter, engine });
    const seen: JobRecord[] = [];
    runner.start();
    const done = await waitFor(
      async () => {
        const now = await fx.store.get(job.jobId);
        if (now) seen.push(now);
        return now;
      },
      (j) => j?.state === 'Completed',
    );
    await runner.stop();
    assert.ok(done);
    assert.equal(done.status, 'Success', done.message);
    assert.equal(done.progress, 100);
    // States only move forward, progress never goes back, and the job was seen in between.
    const order = ['Queued', 'InProcess', 'Completed'];
    for (let n = 1; n < seen.length; n++) {
      assert.ok(order.indexOf(seen[n].state) >= order.indexOf(seen[n - 1].state), 'state order');
      assert.ok(seen[n].progress >= seen[n - 1].progress, `progress ${seen[n - 1].progress} → ${seen[n].progress}`);
    }
    const inProcess = seen.filter((j) => j.state === 'InProcess');
    assert.ok(new Set(inProcess.map((j) => j.progress)).size >= 3, `several progress values while running: ${inProcess.map((j) => j.progress).join(',')}`);
    assert.ok(inProcess.some((j) => j.message.startsWith('Retrieving from DICOMweb http://pacs-a.example/dicom-web/')));
    assert.ok(inProcess.some((j) => j.message.startsWith('Segmenting series 1 of 1 (CT, 3 slices)')));
    assert.ok(done.started && done.stopped && done.started <= done.stopped);

    // Results: a NIfTI label map and a SEG for the one series, on the server.
    const seriesUid = Object.keys(done.steps.infer.series)[0];
    assert.deepEqual(done.results.map((r) => [r.name, r.type]).sort(), [
      [`${seriesUid}.nii.gz`, 'nifti'],
      [`${seriesUid}.seg.dcm`, 'seg'],
    ]);
    const folder = resultsFolder(fx.dataDir, job.jobId);
    const seg = readSegmentation(new Uint8Array(await readFile(join(folder, `${seriesUid}.seg.dcm`))));
    assert.equal(seg.sopInstanceUid, derivedUid(job.jobId, seriesUid, 'seg-instance'), 'the UID a resumed job would write again');
    assert.deepEqual(seg.segments.map((s) => s.segmentNumber), [1]);
    const retrieved = new Set(Object.keys(done.steps.retrieve.instances));
    assert.ok(seg.frames.length > 0 && seg.frames.every((f) => f.sources.every((r) => retrieved.has(r.sopInstanceUid))), 'frames reference the source instances');
    const labels = await readNifti(await readFile(join(folder, `${seriesUid}.nii.gz`)));
    assert.deepEqual(labels.dims, [512, 512, 3]);
    assert.ok(labels.data.some((v) => v === 25));

    // Each destination got the SEG once; retrieved instances were removed, results kept.
    assert.deepEqual(exporter.delivered.map((d) => [d.destination, d.file]), [
      ['http://pacs-b.example/dicom-web/', `${seriesUid}.seg.dcm`],
      ['ARCHIVE', `${seriesUid}.seg.dcm`],
    ]);
    assert.equal(existsSync(dicomFolder(fx.dataDir, job.jobId)), false);
    assert.match(done.message, /^Completed: 1 series segmented with pipeline vista3d; 1 SEG sent to DICOMweb http:\/\/pacs-b\.example\/dicom-web\/, DIMSE ARCHIVE@127\.0\.0\.1:11112\.$/);
  });

  test('without destinations the results stay on the server and the job still completes', async (t) => {
    const fx = await fixture(t);
    const engine = new ThresholdEngine();
    const job = await fx.queue(sampleRequest({ sources: [source()], destinations: [] }));
    const runner = fx.runner({ retriever: new LocalFolderRetriever({ [SOURCE]: [CT_3SLICE] }), engine });
    runner.start();
    const done = await completed(fx.store, job.jobId);
    assert.equal(done.status, 'Success', done.message);
    assert.equal(done.results.length, 2);
    assert.match(done.message, /results kept on the server/);
  });
});

describe('queue', () => {
  test('one at a time, higher priority first, then arrival', async (t) => {
    const fx = await fixture(t);
    const order: string[] = [];
    const inner = new LocalFolderRetriever({ 'http://low/': [CT_3SLICE], 'http://high/': [CT_3SLICE], 'http://normal/': [CT_3SLICE], 'http://normal2/': [CT_3SLICE] });
    const retriever: Retriever = {
      retrieve: (s, inputs, context) => {
        order.push(s.interface === 'DIMSE' ? s.host : s.interface === 'DicomNode' ? s.groupId : s.uri);
        return inner.retrieve(s, inputs, context);
      },
    };
    const jobs = [
      await fx.queue(sampleRequest({ priority: 0, sources: [source('http://low/')] })),
      await fx.queue(sampleRequest({ priority: 128, sources: [source('http://normal/')] })),
      await fx.queue(sampleRequest({ priority: 255, sources: [source('http://high/')] })),
      await fx.queue(sampleRequest({ priority: 128, sources: [source('http://normal2/')] })),
    ];
    const runner = fx.runner({ retriever, engine: new ThresholdEngine() }, { concurrency: 1 });
    runner.start();
    for (const job of jobs) await completed(fx.store, job.jobId);
    assert.deepEqual(order, ['http://high/', 'http://normal/', 'http://normal2/', 'http://low/']);
  });

  test('jobConcurrency jobs run at once, the rest wait Queued', async (t) => {
    const fx = await fixture(t);
    const engine = new ThresholdEngine();
    const release = engine.hold();
    const retriever = new LocalFolderRetriever({ [SOURCE]: [CT_3SLICE] });
    const jobs = await Promise.all([1, 2, 3].map(() => fx.queue(sampleRequest({ sources: [source()] }))));
    const runner = fx.runner({ retriever, engine }, { concurrency: 2 });
    runner.start();
    await waitFor(
      async () => engine.running,
      (n) => n === 2,
    );
    const states = await Promise.all(jobs.map(async (j) => (await fx.store.get(j.jobId))?.state));
    assert.deepEqual(states.sort(), ['InProcess', 'InProcess', 'Queued']);
    release();
    for (const job of jobs) assert.equal((await completed(fx.store, job.jobId)).status, 'Success');
    assert.equal(engine.maxRunning, 2);
  });
});

describe('retries and failures', () => {
  test('a transient failure twice, then success: three tries with backoff, no file fetched twice', async (t) => {
    const fx = await fixture(t);
    const retriever = new LocalFolderRetriever(
      { [SOURCE]: [CT_3SLICE] },
      { failures: [{ after: 1, error: () => transientError() }, { after: 1, error: () => transientError() }] },
    );
    const job = await fx.queue(sampleRequest({ sources: [source()] }));
    const started = Date.now();
    fx.runner({ retriever, engine: new ThresholdEngine() }, { backoffMs: 40 }).start();
    const done = await completed(fx.store, job.jobId);
    assert.equal(done.status, 'Success', done.message);
    assert.equal(retriever.calls, 3);
    assert.deepEqual(done.tries, { retrieve: 3, infer: 1, export: 1 });
    assert.deepEqual([...retriever.fetched.values()], [1, 1, 1], 'each of the 3 files fetched once');
    // Backoff: 40 ms then 80 ms (±20 %).
    assert.ok(Date.now() - started >= 0.8 * 120, `waited ${Date.now() - started} ms`);
  });

  test('a transient failure on every try ends Fail after the configured tries, naming the source', async (t) => {
    const fx = await fixture(t);
    const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const retriever = new LocalFolderRetriever({ [SOURCE]: [CT_3SLICE] }, { failures: [0, 1, 2, 3].map(() => ({ after: 0, error: refused })) });
    const job = await fx.queue(sampleRequest({ sources: [source()] }));
    fx.runner({ retriever, engine: new ThresholdEngine() }, { maxAttempts: 3, backoffMs: 5 }).start();
    const done = await completed(fx.store, job.jobId);
    assert.equal(done.state, 'Completed');
    assert.equal(done.status, 'Fail');
    assert.equal(retriever.calls, 3);
    assert.equal(done.message, 'Retrieving from DICOMweb http://pacs-a.example/dicom-web/ failed after 3 tries: connect ECONNREFUSED 127.0.0.1:9.');
  });

  test('a permanent failure ends Fail at once; the message names the source without its credentials', async (t) => {
    const fx = await fixture(t);
    const retriever = new LocalFolderRetriever({});
    const job = await fx.queue(
      sampleRequest({ sources: [{ interface: 'DICOMweb', uri: 'https://radiology:hunter2@pacs.example/dicom-web/', authType: 'Basic', authId: 'cmFkOmh1bnRlcjI=', operations: [] }] }),
    );
    fx.runner({ retriever, engine: new ThresholdEngine() }).start();
    const done = await completed(fx.store, job.jobId);
    assert.equal(done.status, 'Fail');
    assert.equal(retriever.calls, 1);
    assert.equal(done.message, 'Retrieving from DICOMweb https://pacs.example/dicom-web/ failed: the server answered 404 Not Found.');
    assert.doesNotMatch(done.message, /hunter2|cmFk/);
  });

  test('a source interface without a retriever ends Fail with the reason', async (t) => {
    const fx = await fixture(t);
    const job = await fx.queue(sampleRequest({ sources: [{ interface: 'DIMSE', aeTitle: 'ORTHANC', host: '127.0.0.1', port: 4242, retrieve: 'C-GET' }] }));
    fx.runner({ retriever: new LocalFolderRetriever({}), engine: new ThresholdEngine() }).start();
    const done = await completed(fx.store, job.jobId);
    assert.equal(done.status, 'Fail');
    assert.equal(done.message, 'Retrieving from DIMSE ORTHANC@127.0.0.1:4242 failed: this server cannot retrieve from DIMSE sources.');
  });

  test('a study with nothing in it ends Fail saying so', async (t) => {
    const fx = await fixture(t);
    const { mkdir } = await import('node:fs/promises');
    const empty = join(fx.dir.path, 'empty-study');
    await mkdir(empty, { recursive: true });
    const job = await fx.queue(sampleRequest({ sources: [source('http://empty/')] }));
    fx.runner({ retriever: new LocalFolderRetriever({ 'http://empty/': [empty] }), engine: new ThresholdEngine() }).start();
    const done = await completed(fx.store, job.jobId);
    assert.equal(done.status, 'Fail');
    assert.equal(
      done.message,
      'Retrieving from DICOMweb http://empty/ failed: no instance matched the request (no such study, series, patient or accession number there).',
    );
  });

  test('a series that is not CT is skipped; with nothing else the job ends Fail saying so', async (t) => {
    const fx = await fixture(t);
    const engine = new ThresholdEngine();
    const onlyMr = await fx.queue(sampleRequest({ sources: [source('http://mr/')] }));
    const mixed = await fx.queue(sampleRequest({ sources: [source('http://mixed/')] }));
    fx.runner({ retriever: new LocalFolderRetriever({ 'http://mr/': [MR_SMALL], 'http://mixed/': [MR_SMALL, CT_3SLICE] }), engine }).start();
    const failed = await completed(fx.store, onlyMr.jobId);
    assert.equal(failed.status, 'Fail');
    assert.match(
      failed.message,
      /^Segmenting with pipeline vista3d failed: no series to segment: pipeline vista3d takes CT, and the retrieved series were not usable — [0-9.]+ \(MR\): modality MR; pipeline vista3d takes CT\.$/,
    );
    const done = await completed(fx.store, mixed.jobId);
    assert.equal(done.status, 'Success', done.message);
    const outcomes = Object.values(done.steps.infer.series).map((o) => [o.modality, o.status]);
    assert.deepEqual(outcomes.sort(), [
      ['CT', 'segmented'],
      ['MR', 'skipped'],
    ]);
    assert.match(done.message, /Not segmented: [0-9.]+ \(modality MR; pipeline vista3d takes CT\)\./);
    assert.equal(engine.calls, 1, 'the MR series never reached the engine');
  });

  test('a CT series that cannot form a volume fails with the reader\'s reason', async (t) => {
    const fx = await fixture(t);
    const engine = new ThresholdEngine();
    const job = await fx.queue(sampleRequest({ sources: [source('http://gaps/')] }));
    fx.runner({ retriever: new LocalFolderRetriever({ 'http://gaps/': [CT2_16PX] }), engine }).start();
    const done = await completed(fx.store, job.jobId);
    assert.equal(done.status, 'Fail');
    assert.match(done.message, /no series to segment: .* \(CT\): Irregular slices: 161 slices are missing/);
    assert.equal(engine.calls, 0);
  });

  test('an export that fails once is retried and sent once; one that is refused ends Fail naming the destination', async (t) => {
    const fx = await fixture(t);
    const retriever = new LocalFolderRetriever({ [SOURCE]: [CT_3SLICE] });
    const flaky = new RecordingExporter({ failures: [() => transientError('the destination answered 503')] });
    const job = await fx.queue(sampleRequest({ sources: [source()], destinations: [DESTINATIONS[0]] }));
    fx.runner({ retriever, exporter: flaky, engine: new ThresholdEngine() }).start();
    const done = await completed(fx.store, job.jobId);
    assert.equal(done.status, 'Success', done.message);
    assert.equal(done.tries.export, 2);
    assert.equal(flaky.delivered.length, 1);

    const refusing = new RecordingExporter({
      failures: [() => new StepError('VXG_ERR_JOB_DESTINATION', 'STOW-RS answered 409: no instance stored.', { retryable: false })],
    });
    const job2 = await fx.queue(sampleRequest({ sources: [source()], destinations: [DESTINATIONS[0]] }));
    fx.runner({ retriever: new LocalFolderRetriever({ [SOURCE]: [CT_3SLICE] }), exporter: refusing, engine: new ThresholdEngine() }).start();
    const failed = await completed(fx.store, job2.jobId);
    assert.equal(failed.status, 'Fail');
    assert.equal(failed.message, 'Exporting to DICOMweb http://pacs-b.example/dicom-web/ failed: STOW-RS answered 409: no instance stored.');
    assert.equal(failed.results.length, 2, 'results stay on the server');
  });
});

describe('shutdown', () => {
  test('stop() aborts a running job and releases it; the next runner resumes without fetching again', async (t) => {
    const fx = await fixture(t);
    const engine = new ThresholdEngine();
    const release = engine.hold();
    const retriever = new LocalFolderRetriever({ [SOURCE]: [CT_3SLICE] });
    const job = await fx.queue(sampleRequest({ sources: [source()] }));
    const first = fx.runner({ retriever, engine });
    first.start();
    await waitFor(
      async () => engine.running,
      (n) => n === 1,
    );
    await first.stop();
    release();
    const held = await fx.store.get(job.jobId);
    assert.equal(held?.state, 'InProcess');
    assert.equal(held.lease, undefined, 'lease released');
    assert.equal(held.step, 'infer');

    const second = fx.runner({ retriever, engine: new ThresholdEngine() });
    second.start();
    const done = await completed(fx.store, job.jobId);
    assert.equal(done.status, 'Success', done.message);
    assert.equal(done.claims, 2);
    assert.equal(retriever.calls, 1, 'retrieve was not run again');
    assert.deepEqual([...retriever.fetched.values()], [1, 1, 1]);
  });
});
