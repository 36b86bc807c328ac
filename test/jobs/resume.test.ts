/**
 * Jobs that outlive their worker: a job left InProcess by a process that died is taken over by a
 * new runner on the same SQLite file and completes exactly once — retrieved files are not fetched
 * again, segmented series are not segmented again, a destination that received the SEG does not
 * receive it again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readPart10 } from '../../src/dicom/read-part10.js';
import { dicomFolder, instanceFileName } from '../../src/jobs/job-files.js';
import { SqliteJobStore } from '../../src/jobs/sqlite-job-store.js';
import type { DataResource } from '../../src/jobs/request.js';
import { completed, runnerFixture, waitFor } from '../helpers/job-runner.js';
import { CT_3SLICE, LocalFolderRetriever, RecordingExporter, ThresholdEngine, unitOf } from '../helpers/job-steps.js';
import { sampleRequest } from '../helpers/jobs.js';

const SOURCE: DataResource = { interface: 'DICOMweb', uri: 'http://pacs-a.example/dicom-web/', authType: 'None', operations: [] };
const DESTINATIONS: DataResource[] = [
  { interface: 'DICOMweb', uri: 'http://pacs-b.example/dicom-web/', authType: 'None', operations: ['STORE'] },
  { interface: 'DICOMweb', uri: 'http://pacs-c.example/dicom-web/', authType: 'None', operations: ['STORE'] },
];

/** The id of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  assert.ok(child.pid);
  return child.pid;
}

test('a job left mid-retrieve with an expired lease resumes in a new runner and fetches only what is missing', async (t) => {
  const fx = await runnerFixture();
  t.after(() => fx.close());
  const job = await fx.queue(sampleRequest({ sources: [SOURCE], destinations: [DESTINATIONS[0]] }));

  // The dead worker: it leased the job, stored 2 of the 3 files and recorded them, then vanished.
  const ghost = 'other-host/4242/ghost';
  assert.equal((await fx.store.claim(ghost, 1))?.jobId, job.jobId);
  const files = (await readdir(CT_3SLICE)).sort().map((f) => join(CT_3SLICE, f));
  const folder = dicomFolder(fx.dataDir, job.jobId);
  await mkdir(folder, { recursive: true });
  const instances: Record<string, string> = {};
  const units: Record<string, string[]> = {};
  for (const file of files.slice(0, 2)) {
    const bytes = await readFile(file);
    const uid = readPart10(file, bytes).sopInstanceUID;
    await writeFile(join(folder, instanceFileName(uid)), bytes);
    instances[uid] = instanceFileName(uid);
    units[unitOf(file)] = [uid];
  }
  await fx.store.saveStepState(job.jobId, ghost, 'retrieve', { instances, units, sourcesDone: [], resources: {} });
  await fx.store.update(job.jobId, ghost, { progress: 26, message: 'Retrieving…' });
  await new Promise((resolve) => setTimeout(resolve, 5));

  const retriever = new LocalFolderRetriever({ [SOURCE.uri as string]: [CT_3SLICE] });
  const exporter = new RecordingExporter();
  const engine = new ThresholdEngine();
  // The new worker's own connection, recording every progress it saves.
  const own = SqliteJobStore.open(fx.storePath);
  const saved: number[] = [];
  const update = own.update.bind(own);
  own.update = (id, owner, patch) => {
    if (patch.progress !== undefined) saved.push(patch.progress);
    return update(id, owner, patch);
  };
  const runner = fx.runner({ retriever, exporter, engine }, { store: own });
  t.after(async () => {
    await runner.stop();
    await own.close();
  });
  runner.start();
  const done = await completed(fx.store, job.jobId);
  assert.equal(done.status, 'Success', done.message);
  assert.equal(done.claims, 2);
  assert.ok(saved.length > 0 && saved.every((p, n) => p >= 26 && p >= (saved[n - 1] ?? 0)), `progress never falls back below what the dead worker reached: ${saved.join(',')}`);
  assert.deepEqual([...retriever.fetched.keys()], [unitOf(files[2])], 'only the missing file was fetched');
  assert.equal(Object.keys(done.steps.retrieve.instances).length, 3);
  assert.equal(engine.calls, 1);
  assert.equal(exporter.delivered.length, 1);
});

test('a worker that died mid-export: the new runner sends only to the destination still missing — each destination gets the SEG once', async (t) => {
  const fx = await runnerFixture();
  t.after(() => fx.close());
  const job = await fx.queue(sampleRequest({ sources: [SOURCE], destinations: DESTINATIONS }));

  // Runner A "dies" while sending to the second destination: its owner names a process that is gone.
  const retrieverA = new LocalFolderRetriever({ [SOURCE.uri as string]: [CT_3SLICE] });
  const engineA = new ThresholdEngine();
  const exporterA = new RecordingExporter({ hangFor: [DESTINATIONS[1].interface === 'DICOMweb' ? DESTINATIONS[1].uri : ''] });
  const runnerA = fx.runner({ retriever: retrieverA, engine: engineA, exporter: exporterA }, { owner: `${hostname()}/${await deadPid()}/a`, leaseMs: 60_000 });
  runnerA.start();
  await waitFor(
    () => fx.store.get(job.jobId),
    (j) => (j?.steps.export.sent[0]?.length ?? 0) === 1 && exporterA.calls === 2,
  );
  assert.equal(exporterA.delivered.length, 1);

  // Runner B, a new process on the same file: it finds A's lease held by a dead process and takes over at once.
  const retrieverB = new LocalFolderRetriever({ [SOURCE.uri as string]: [CT_3SLICE] });
  const engineB = new ThresholdEngine();
  const exporterB = new RecordingExporter();
  const started = Date.now();
  fx.runner({ retriever: retrieverB, engine: engineB, exporter: exporterB }, { leaseMs: 60_000 }).start();
  const done = await completed(fx.store, job.jobId);
  assert.ok(Date.now() - started < 10_000, 'taken over without waiting for the 60 s lease');
  assert.equal(done.status, 'Success', done.message);
  assert.equal(done.claims, 2);
  assert.equal(retrieverB.calls, 0, 'nothing retrieved again');
  assert.equal(engineB.calls, 0, 'nothing segmented again');
  const all = [...exporterA.delivered, ...exporterB.delivered].map((d) => d.destination).sort();
  assert.deepEqual(all, ['http://pacs-b.example/dicom-web/', 'http://pacs-c.example/dicom-web/'], 'once per destination in total');
  assert.deepEqual(
    exporterB.delivered.map((d) => d.destination),
    ['http://pacs-c.example/dicom-web/'],
  );
  // A learns it lost the lease at its next heartbeat and stops without writing.
  await runnerA.stop();
  const after = await fx.store.get(job.jobId);
  assert.deepEqual(after, done);
});

test('a job whose workers keep dying is ended with VXG_ERR_JOB_INTERRUPTED instead of retried forever', async (t) => {
  const fx = await runnerFixture();
  t.after(() => fx.close());
  const job = await fx.queue(sampleRequest({ sources: [SOURCE] }));
  for (let n = 0; n < 5; n++) {
    const ghost = `other-host/${n}/ghost`;
    assert.equal((await fx.store.claim(ghost, 60_000))?.jobId, job.jobId);
    assert.equal(await fx.store.release(job.jobId, ghost), true);
  }
  const retriever = new LocalFolderRetriever({ [SOURCE.uri as string]: [CT_3SLICE] });
  fx.runner({ retriever, engine: new ThresholdEngine() }, { maxClaims: 5 }).start();
  const done = await completed(fx.store, job.jobId);
  assert.equal(done.status, 'Fail');
  assert.equal(done.message, 'The job was interrupted 5 times (each worker running it stopped without finishing); it is not tried again.');
  assert.equal(retriever.calls, 0);
});
