/**
 * The lease fence before an export (issue 9): a worker whose job another worker took over between
 * two sends must not send again. The takeover is made to happen at the worst moment — right after
 * the first destination's send was recorded, before the second send — by a store that hands the
 * lease to another owner as that record is saved (what a worker frozen past its lease, then taken
 * over, would meet). Without the fence the second destination would get the SEG from both workers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { JobStore } from '../../src/jobs/job-store.js';
import type { DataResource } from '../../src/jobs/request.js';
import { DicomSegmenter } from '../../src/jobs/dicom-segmenter.js';
import { pipelineTable } from '../../src/jobs/pipelines.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { SqliteJobStore } from '../../src/jobs/sqlite-job-store.js';
import { waitFor } from '../helpers/job-runner.js';
import { CT_3SLICE, LocalFolderRetriever, RecordingExporter, ThresholdEngine } from '../helpers/job-steps.js';
import { makeTempDir, sampleRequest } from '../helpers/jobs.js';

const SOURCE = 'http://pacs-a.example/dicom-web/';

test('a worker that lost its job between two sends does not send again; the new owner carries on', async () => {
  const dir = await makeTempDir('voxgate-fence-');
  const storePath = join(dir.path, 'data', 'jobs.sqlite');
  const store = SqliteJobStore.open(storePath);
  const own = SqliteJobStore.open(storePath);
  const raw = new Database(storePath);
  const warnings: string[] = [];
  // The first export record is saved, then the lease moves to "worker-b" (a takeover).
  let stolen = false;
  const saveStepState: JobStore['saveStepState'] = async (...args) => {
    await own.saveStepState(...args);
    if (args[2] === 'export' && !stolen) {
      stolen = true;
      raw.prepare(`UPDATE jobs SET lease_owner = 'worker-b', claims = claims + 1 WHERE job_id = ?`).run(args[0]);
    }
  };
  const thieving = new Proxy(own, {
    get(target, property) {
      if (property === 'saveStepState') return saveStepState;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  }) as JobStore;
  const exporter = new RecordingExporter();
  const runner = new JobRunner({
    store: thieving,
    steps: { retrievers: { DICOMweb: new LocalFolderRetriever({ [SOURCE]: [CT_3SLICE] }) }, segmenter: new DicomSegmenter(), exporters: { DICOMweb: exporter, DIMSE: exporter } },
    pipelines: pipelineTable(undefined),
    engines: async () => new ThresholdEngine(),
    dataDir: join(dir.path, 'data'),
    // A long lease: the heartbeat does not run during the job, so only the fence can notice.
    leaseMs: 60_000,
    pollMs: 20,
    backoffMs: 20,
    progressIntervalMs: 0,
    owner: 'worker-a',
    log: { info: () => {}, error: () => {}, warn: (_fields, message) => void warnings.push(message) },
  });
  try {
    const destinations: DataResource[] = [
      { interface: 'DICOMweb', uri: 'http://pacs-b.example/dicom-web/', authType: 'None', operations: ['STORE'] },
      { interface: 'DIMSE', aeTitle: 'ARCHIVE', host: '127.0.0.1', port: 11112, retrieve: 'C-MOVE' },
    ];
    const job = await store.create({ jobId: randomUUID(), request: sampleRequest({ sources: [{ interface: 'DICOMweb', uri: SOURCE, authType: 'None', operations: [] }], destinations }) });
    runner.start();
    await waitFor(async () => warnings, (w) => w.includes('lease lost; another worker carries on with the job'));
    await runner.stop();
    assert.deepEqual(
      exporter.delivered.map((d) => d.destination),
      ['http://pacs-b.example/dicom-web/'],
      'worker-a sent to the first destination only',
    );
    const now = await store.get(job.jobId);
    assert.equal(now?.state, 'InProcess', 'not ended by the worker that lost it');
    assert.equal(now.lease?.owner, 'worker-b');
    assert.deepEqual(now.steps.export.sent, { 0: [now.results.find((r) => r.type === 'seg')!.name] }, 'what was sent is recorded for the new owner');
  } finally {
    raw.close();
    await Promise.all([store.close(), own.close()]);
    await dir.remove();
  }
});
