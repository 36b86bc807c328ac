/**
 * Voxgate's DICOM node end to end with DCMTK as the modality and a real Orthanc as the destination:
 * C-ECHO; `storescu` of the real 3-slice CT series to a configured AE title → after the AE title's
 * quiet timeout (1 s here) a job segments it and the DICOM SEG arrives in Orthanc, referencing the
 * sent series; unknown calling and called AE titles are refused; two studies sent at once become two
 * jobs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import type { JobRecord } from '../../src/jobs/job.js';
import { pipelineTable } from '../../src/jobs/pipelines.js';
import type { JobWorker } from '../../src/jobs/setup.js';
import { createJobRunner, jobStorePath } from '../../src/jobs/setup.js';
import { SqliteJobStore } from '../../src/jobs/sqlite-job-store.js';
import { DicomNode } from '../../src/node/dicom-node.js';
import { NodeConfig } from '../../src/node/node-config.js';
import { cMoveInto } from '../../src/dicom/net/dimse-client.js';
import { ensureDcmtk, runDcmtk, storescuArgs } from '../helpers/dcmtk.js';
import { Tag, ctSeriesAvailable, describeSeries, rewriteInstance, uid } from '../helpers/dicom-fixtures.js';
import type { SeriesFixture } from '../helpers/dicom-fixtures.js';
import { CT_3SLICE, ThresholdEngine } from '../helpers/job-steps.js';
import type { TempDir } from '../helpers/jobs.js';
import { makeTempDir } from '../helpers/jobs.js';
import type { OrthancServer } from '../helpers/orthanc.js';
import { ensureOrthanc, startOrthanc } from '../helpers/orthanc.js';

const dcmtk = await ensureDcmtk();
const orthancAvailable = await ensureOrthanc();
const skip = !dcmtk.ok ? dcmtk.reason : !orthancAvailable.ok ? orthancAvailable.reason : !ctSeriesAvailable() ? 'the CT series of ../shared/data are missing' : false;
if (skip === 'the CT series of ../shared/data are missing') process.stderr.write(`\n*** SKIPPING test/node/dicom-node.test.ts: ${skip} ***\n\n`);

const CALLED = 'VOXSEG';
const CALLING = 'SCANNER';

let dir: TempDir;
let orthanc: OrthancServer;
let store: SqliteJobStore;
let node: DicomNode;
let worker: JobWorker;
let ct: SeriesFixture;

/** Waits until `count` jobs exist and all of them have ended. */
async function jobsEnded(count: number, timeoutMs = 60_000): Promise<JobRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await store.list();
    if (jobs.length >= count && jobs.every((j) => j.state === 'Completed')) return jobs;
    if (Date.now() > deadline) throw new Error(`waited for ${count} ended jobs; have ${jobs.map((j) => `${j.state}/${j.status}: ${j.message}`).join(' | ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A copy of the CT series as another study (new Study, Series and SOP Instance UIDs). */
async function copyAsNewStudy(name: string): Promise<string[]> {
  const folder = join(dir.path, name);
  await mkdir(folder, { recursive: true });
  const study = uid();
  const series = uid();
  const files: string[] = [];
  for (const file of ct.files) {
    const changes = new Map([
      [Tag.StudyInstanceUID, study],
      [Tag.SeriesInstanceUID, series],
      [Tag.SOPInstanceUID, uid()],
    ]);
    const target = join(folder, `${files.length}.dcm`);
    await writeFile(target, rewriteInstance(await readFile(file), changes));
    files.push(target);
  }
  return files;
}

/** SEG instances in Orthanc with the series each references. */
async function segsInOrthanc(): Promise<{ id: string; referencedSeries: string }[]> {
  const ids = await orthanc.restPost<string[]>('/tools/find', { Level: 'Instance', Query: { Modality: 'SEG' } });
  return Promise.all(
    ids.map(async (id) => {
      const tags = await orthanc.rest<{ ReferencedSeriesSequence?: { SeriesInstanceUID: string }[] }>(`/instances/${id}/simplified-tags`);
      return { id, referencedSeries: tags.ReferencedSeriesSequence?.[0]?.SeriesInstanceUID ?? '' };
    }),
  );
}

describe('DICOM node with DCMTK and Orthanc', { skip }, () => {
  before(async () => {
    dir = await makeTempDir('voxgate-node-');
    ct = await describeSeries(CT_3SLICE);
    orthanc = await startOrthanc();
    const config = loadConfig({ flags: { dataDir: join(dir.path, 'data'), dicomPort: 0, aeTitle: 'VOXGATE' }, env: {} });
    store = SqliteJobStore.open(jobStorePath(config));
    const nodeConfig = await NodeConfig.load(store, pipelineTable(config.pipelines));
    await nodeConfig.create('destination', { name: 'orthanc', aeTitle: orthanc.aeTitle, hostIp: '127.0.0.1', port: orthanc.dicomPort });
    await nodeConfig.create('source', { name: 'scanner', aeTitle: CALLING, hostIp: '127.0.0.1' });
    await nodeConfig.create('ae-title', { name: 'seg', aeTitle: CALLED, timeout: 1, destinations: ['orthanc'] });
    node = await DicomNode.start({
      aeTitle: config.aeTitle,
      host: '127.0.0.1',
      port: 0,
      dataDir: config.dataDir,
      store,
      nodeConfig,
      rejectUnknownSources: true,
      maxAssociations: 25,
      onQueued: () => worker.notify(),
    });
    worker = createJobRunner({ config: { ...config, jobConcurrency: 2 }, store, engine: new ThresholdEngine(), storeScp: async () => node.scp });
    worker.start();
  });

  after(async () => {
    await node?.close();
    await worker?.stop();
    await store?.close();
    await orthanc?.stop();
    await dir?.remove();
  });

  test('echoscu from a configured source succeeds', async () => {
    const echo = await runDcmtk('echoscu', ['-aet', CALLING, '-aec', CALLED, '127.0.0.1', String(node.port)]);
    assert.equal(echo.code, 0, echo.stderr);
  });

  test('storescu of the CT series → after the 1 s timeout one job, Completed/Success, and its SEG in Orthanc references the series', async () => {
    const sent = await runDcmtk('storescu', storescuArgs(CALLING, CALLED, node.port, ct.files));
    assert.equal(sent.code, 0, sent.stderr);
    const [job] = await jobsEnded(1);
    assert.equal(job.status, 'Success', job.message);
    assert.equal(job.pipeline, 'vista3d');
    assert.deepEqual(Object.keys(job.steps.retrieve.instances).sort(), [...ct.sopInstanceUids].sort());
    assert.deepEqual(job.request.sources.map((s) => s.interface), ['DicomNode']);
    assert.match(job.message, /^Completed: 1 series segmented with pipeline vista3d; 1 SEG sent to DIMSE ORTHANC@127\.0\.0\.1:\d+\.$/);
    const segs = await segsInOrthanc();
    assert.deepEqual(
      segs.map((s) => s.referencedSeries),
      [ct.seriesInstanceUid],
    );
    // the group's folder is gone once the job took its instances
    assert.deepEqual(await readdir(join(dir.path, 'data', 'dicom-node', 'groups')), []);
  });

  test('an unknown calling AE title is refused (C-ECHO and C-STORE), and nothing is queued', async () => {
    const echo = await runDcmtk('echoscu', ['-aet', 'STRANGER', '-aec', CALLED, '127.0.0.1', String(node.port)]);
    assert.notEqual(echo.code, 0);
    assert.match(echo.stderr, /Association Rejected[\s\S]*Calling AE Title Not Recognized/i);
    const store1 = await runDcmtk('storescu', storescuArgs('STRANGER', CALLED, node.port, ct.files));
    assert.notEqual(store1.code, 0);
    assert.equal(node.pendingGroups, 0);
  });

  test('an unknown called AE title is refused', async () => {
    const sent = await runDcmtk('storescu', storescuArgs(CALLING, 'NOSUCHAE', node.port, ct.files));
    assert.notEqual(sent.code, 0);
    assert.match(sent.stderr, /Association Rejected[\s\S]*Called AE Title Not Recognized/i);
    assert.equal(node.pendingGroups, 0);
  });

  test('two studies sent at once become two jobs, each with its own instances and SEG', async () => {
    const [a, b] = await Promise.all([copyAsNewStudy('study-a'), copyAsNewStudy('study-b')]);
    const before = (await store.list()).length;
    const sent = await Promise.all([runDcmtk('storescu', storescuArgs(CALLING, CALLED, node.port, a)), runDcmtk('storescu', storescuArgs(CALLING, CALLED, node.port, b))]);
    for (const s of sent) assert.equal(s.code, 0, s.stderr);
    const jobs = (await jobsEnded(before + 2)).slice(0, 2); // newest first
    assert.equal(jobs.length, 2);
    for (const job of jobs) {
      assert.equal(job.status, 'Success', job.message);
      assert.equal(Object.keys(job.steps.retrieve.instances).length, 3);
    }
    const groups = jobs.map((j) => (j.request.sources[0].interface === 'DicomNode' ? j.request.sources[0].groupId : ''));
    assert.notEqual(groups[0], groups[1]);
    // one SEG per study, each referencing its own series
    const segs = await segsInOrthanc();
    assert.equal(segs.length, 3);
    const wanted = await Promise.all([a[0], b[0]].map(async (f) => (await describeSeries(join(f, '..'))).seriesInstanceUid));
    assert.deepEqual(segs.map((s) => s.referencedSeries).filter((s) => s !== ct.seriesInstanceUid).sort(), wanted.sort());
  });

  test("C-MOVE retrievals still land at Voxgate's own AE title, beside the routing (and never become node jobs)", async () => {
    for (const file of ct.files) await orthanc.upload(file);
    await orthanc.addModality('voxgate', { aeTitle: 'VOXGATE', host: '127.0.0.1', port: node.port });
    const before = (await store.list()).length;
    const dest = join(dir.path, 'moved');
    const result = await cMoveInto({ aeTitle: orthanc.aeTitle, host: '127.0.0.1', port: orthanc.dicomPort, callingAeTitle: 'VOXGATE' }, { study: ct.studyInstanceUid }, node.scp, dest);
    // the study holds the CT series and the SEG the first test sent back to Orthanc
    const moved = result.instances.map((i) => i.sopInstanceUid);
    assert.deepEqual(moved.filter((u) => ct.sopInstanceUids.includes(u)).sort(), [...ct.sopInstanceUids].sort());
    assert.equal(result.instances.filter((i) => i.sopClassUid === '1.2.840.10008.5.1.4.1.1.66.4').length, 1);
    assert.equal(moved.length, ct.sopInstanceUids.length + 1);
    assert.deepEqual((await readdir(dest)).sort(), moved.map((u) => `${u}.dcm`).sort());
    assert.equal(node.pendingGroups, 0);
    await new Promise((resolve) => setTimeout(resolve, 1200)); // past VOXSEG's timeout: still no job
    assert.equal((await store.list()).length, before);
  });
});
