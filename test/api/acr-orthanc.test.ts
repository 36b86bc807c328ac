/**
 * ACR inference requests end to end against a real Orthanc on loopback (Debian's orthanc +
 * orthanc-dicomweb, started by the networking tests' harness): a real Voxgate server with its
 * worker, the classic engine and the real DICOMweb, DIMSE and SEG code. Requests by
 * StudyInstanceUID, SeriesInstanceUID, PatientID and AccessionNumber, through DICOMweb and DIMSE
 * (C-MOVE and C-GET); the SEG is queried back from Orthanc and must reference the source series.
 * Then the faults the issue lists, each ending in a status that says what happened.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server.js';
import { loadConfig } from '../../src/config.js';
import { readSegmentation } from '../../src/dicom/seg-reader.js';
import { createEngine } from '../../src/engines/index.js';
import type { Engine } from '../../src/engines/engine.js';
import { jobFolder } from '../../src/jobs/job-files.js';
import { pipelineTable } from '../../src/jobs/pipelines.js';
import { JobRunner } from '../../src/jobs/runner.js';
import { defaultJobSteps, engineResolver, jobStorePath, lazyStoreScp } from '../../src/jobs/setup.js';
import { SqliteJobStore } from '../../src/jobs/sqlite-job-store.js';
import type { SeriesFixture } from '../helpers/dicom-fixtures.js';
import { DCMQI_DIR, ctSeriesAvailable, describeSeries } from '../helpers/dicom-fixtures.js';
import { MR_SMALL } from '../helpers/job-steps.js';
import type { TempDir } from '../helpers/jobs.js';
import { makeTempDir } from '../helpers/jobs.js';
import type { OrthancServer } from '../helpers/orthanc.js';
import { ensureOrthanc, freePort, startOrthanc } from '../helpers/orthanc.js';

const orthanc = await ensureOrthanc();
const skip = !orthanc.ok ? orthanc.reason : ctSeriesAvailable() ? false : 'the CT series of ../shared/data are absent';

const OUR_AE = 'VOXGATE';
const USER = { name: 'radiology', password: 's3cret' };
const BASIC = Buffer.from(`${USER.name}:${USER.password}`).toString('base64');

interface Status {
  transactionId: string;
  jobId: string;
  platform: { state: string; status: string; progress: number };
  dicom: { state: string; status: string };
  message: string;
}

describe('ACR requests against a real Orthanc', { skip }, () => {
  let pacs: OrthancServer;
  let dir: TempDir;
  let engine: Engine;
  let store: SqliteJobStore;
  let runner: JobRunner;
  let app: FastifyInstance;
  let scp: ReturnType<typeof lazyStoreScp>;
  let base: string;
  let ct: SeriesFixture;
  let mrStudy: string;
  const savedProgress = new Map<string, number[]>();

  before(async () => {
    dir = await makeTempDir('voxgate-acr-orthanc-');
    const dicomPort = await freePort();
    const config = loadConfig({
      flags: { dataDir: join(dir.path, 'data'), host: '127.0.0.1', port: 0, dicomPort, aeTitle: OUR_AE, jobConcurrency: 2, jobAttempts: 2 },
      env: {},
    });
    [ct, pacs, engine] = await Promise.all([
      describeSeries(DCMQI_DIR),
      startOrthanc({ users: { [USER.name]: USER.password }, modalities: { voxgate: { aeTitle: OUR_AE, host: '127.0.0.1', port: dicomPort } } }),
      createEngine('classic'),
    ]);
    for (const file of ct.files) await pacs.upload(file);
    const mr = await pacs.upload(MR_SMALL);
    mrStudy = (await pacs.rest<{ MainDicomTags: { StudyInstanceUID: string } }>(`/studies/${mr.ParentStudy}`)).MainDicomTags.StudyInstanceUID;
    store = SqliteJobStore.open(jobStorePath(config));
    // Every progress the worker saves, by job: the retrieval's share must rise instance by instance.
    const update = store.update.bind(store);
    store.update = (id, owner, patch) => {
      if (patch.progress !== undefined) savedProgress.set(id, [...(savedProgress.get(id) ?? []), patch.progress]);
      return update(id, owner, patch);
    };
    scp = lazyStoreScp(config);
    runner = new JobRunner({
      store,
      steps: defaultJobSteps({ callingAeTitle: OUR_AE, storeScp: scp.get }),
      pipelines: pipelineTable(config.pipelines),
      engines: engineResolver(config, engine),
      dataDir: config.dataDir,
      concurrency: config.jobConcurrency,
      maxAttempts: config.jobAttempts,
      backoffMs: 50,
      pollMs: 50,
      progressIntervalMs: 0,
    });
    app = await buildServer({ config, engine, logger: false, jobs: { store, onQueued: () => runner.notify() } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    runner.start();
  });

  after(async () => {
    await app?.close();
    await runner?.stop();
    await scp?.close();
    await store?.close();
    await engine?.close();
    await pacs?.stop();
    await dir?.remove();
  });

  const dicomweb = (auth = BASIC) => ({ interface: 'DICOMweb', connectionDetails: { uri: pacs.dicomWebRoot.replace(/\/$/, ''), authType: 'Basic', authID: auth } });
  const dimse = (retrieve: 'C-MOVE' | 'C-GET', aeTitle = pacs.aeTitle) => ({
    interface: 'DIMSE',
    connectionDetails: { aeTitle, host: '127.0.0.1', port: pacs.dicomPort, retrieve },
  });

  async function submit(details: unknown, input: unknown, output: unknown[] = [dicomweb()]): Promise<string> {
    const res = await fetch(`${base}/api/inference`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        transactionID: `tx-${Math.random().toString(36).slice(2)}`,
        inputMetadata: { details },
        inputResources: [{ interface: 'Algorithm', connectionDetails: { id: 'vista3d' } }, input],
        outputResources: output,
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { jobId: string }).jobId;
  }

  /** Polls the status route until the job has ended; returns every status seen. */
  async function follow(jobId: string): Promise<Status[]> {
    const seen: Status[] = [];
    const until = Date.now() + 40_000;
    for (;;) {
      const status = (await (await fetch(`${base}/api/inference/status/${jobId}`)).json()) as Status;
      seen.push(status);
      if (status.dicom.state === 'Completed') return seen;
      assert.ok(Date.now() < until, `job ${jobId} did not end: ${status.message}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The SEG instances Orthanc holds for the CT study. */
  async function segsInPacs(): Promise<{ sopInstanceUid: string; bytes: Buffer }[]> {
    const found = await pacs.restPost<{ ID: string }[]>('/tools/find', { Level: 'Instance', Query: { Modality: 'SEG', StudyInstanceUID: ct.studyInstanceUid }, Expand: true });
    return Promise.all(
      found.map(async (f) => {
        const bytes = await pacs.restBytes(`/instances/${f.ID}/file`);
        return { sopInstanceUid: readSegmentation(new Uint8Array(bytes)).sopInstanceUid, bytes };
      }),
    );
  }

  test('by StudyInstanceUID, SeriesInstanceUID, PatientID and AccessionNumber, each through DICOMweb (Basic) and DIMSE (C-MOVE, C-GET): each SEG arrives once and references the source series', async () => {
    const before = (await segsInPacs()).length;
    const byStudy = { type: 'DICOM_UID', studies: [{ StudyInstanceUID: ct.studyInstanceUid }] };
    const bySeries = { type: 'DICOM_UID', studies: [{ StudyInstanceUID: ct.studyInstanceUid, series: [{ SeriesInstanceUID: ct.seriesInstanceUid }] }] };
    const byPatient = { type: 'DICOM_PATIENT_ID', PatientID: ct.patientId };
    const byAccession = { type: 'ACCESSION_NUMBER', accessionNumber: [ct.accessionNumber] };
    const jobs = await Promise.all([
      submit(byStudy, dicomweb()),
      submit(bySeries, dicomweb(), [dimse('C-GET')]), // the SEG back by C-STORE
      submit(byPatient, dicomweb()),
      submit(byAccession, dicomweb()),
      submit(byStudy, dimse('C-GET')),
      submit(bySeries, dimse('C-MOVE')),
      submit(byPatient, dimse('C-GET')),
      submit(byAccession, dimse('C-MOVE')),
    ]);
    const histories = await Promise.all(jobs.map(follow));
    for (const [n, seen] of histories.entries()) {
      const last = seen.at(-1);
      assert.ok(last);
      assert.deepEqual([last.dicom.state, last.dicom.status], ['Completed', 'Success'], `job ${n}: ${last.message}`);
      assert.equal(last.platform.progress, 100);
      assert.equal(last.platform.state, 'Stopped');
      const states = [...new Set(seen.map((s) => s.dicom.state))];
      assert.deepEqual(states.filter((s) => s !== 'Queued'), ['InProcess', 'Completed'], `job ${n} went through InProcess`);
      for (let i = 1; i < seen.length; i++) assert.ok(seen[i].platform.progress >= seen[i - 1].platform.progress, 'progress only rises');
      const saved = savedProgress.get(jobs[n]) ?? [];
      assert.ok(saved.every((p, i) => i === 0 || p >= saved[i - 1]), `job ${n}: saved progress only rises: ${saved.join(',')}`);
      // Retrieval (0–40 %) rises instance by instance (counts from QIDO-RS or the pending responses;
      // the study also holds the SEGs earlier jobs sent, so the exact steps vary).
      assert.ok(saved.some((p) => p > 0 && p < 40), `job ${n}: retrieval progress ${saved.join(',')}`);
    }
    const segs = await segsInPacs();
    assert.equal(segs.length - before, jobs.length, 'one SEG per request, none twice');
    for (const seg of segs) {
      const parsed = readSegmentation(new Uint8Array(seg.bytes));
      assert.equal(parsed.studyInstanceUid, ct.studyInstanceUid);
      const referenced = new Set(parsed.frames.flatMap((f) => f.sources.map((s) => s.sopInstanceUid)));
      assert.ok([...referenced].every((uid) => ct.sopInstanceUids.includes(uid)), 'frames reference the source instances');
    }
    // Results stay on the server too.
    const results = (await (await fetch(`${base}/api/inference/${jobs[0]}/results`)).json()) as { results: { name: string; type: string; size: number; url: string }[] };
    assert.deepEqual(results.results.map((r) => [r.name, r.type]).sort(), [
      [`${ct.seriesInstanceUid}.nii.gz`, 'nifti'],
      [`${ct.seriesInstanceUid}.seg.dcm`, 'seg'],
    ]);
    for (const result of results.results) {
      const download = await fetch(`${base}${result.url}`);
      assert.equal(download.status, 200);
      const bytes = new Uint8Array(await download.arrayBuffer());
      assert.equal(bytes.length, result.size);
      if (result.type === 'seg') assert.equal(readSegmentation(bytes).sopInstanceUid, segs.find((s) => s.bytes.equals(bytes))?.sopInstanceUid, 'the SEG kept is the SEG sent');
      else assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b], 'a gzip stream');
    }
  });

  test('a FHIR resource named beside the study is read (GET {uri}{type}/{id}, the asked fhirVersion) and stored with the job', async (t) => {
    const resource = { resourceType: 'ServiceRequest', id: 'sr-1', status: 'active' };
    const asked: { url: string; accept: string }[] = [];
    const fhir = createServer((req, res) => {
      asked.push({ url: req.url ?? '', accept: req.headers.accept ?? '' });
      if (req.url === '/fhir/ServiceRequest/sr-1') res.writeHead(200, { 'content-type': 'application/fhir+json; fhirVersion=4.0' }).end(JSON.stringify(resource));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => fhir.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => fhir.close(() => resolve())));
    const res = await fetch(`${base}/api/inference`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        transactionID: 'tx-fhir',
        inputMetadata: {
          inputs: [
            { type: 'DICOM_UID', studies: [{ StudyInstanceUID: ct.studyInstanceUid }] },
            { type: 'FHIR_RESOURCE', resources: [{ resourceType: 'ServiceRequest', id: 'sr-1' }], fhirVersion: 'R4' },
          ],
        },
        inputResources: [
          { interface: 'Algorithm', connectionDetails: { id: 'vista3d' } },
          dicomweb(),
          { interface: 'FHIR', connectionDetails: { uri: `http://127.0.0.1:${(fhir.address() as AddressInfo).port}/fhir` } },
        ],
        outputResources: [],
      }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const { jobId } = (await res.json()) as { jobId: string };
    const last = (await follow(jobId)).at(-1);
    assert.deepEqual([last?.dicom.state, last?.dicom.status], ['Completed', 'Success'], last?.message);
    assert.deepEqual(asked, [{ url: '/fhir/ServiceRequest/sr-1', accept: 'application/fhir+json; fhirVersion=4.0' }]);
    assert.deepEqual(JSON.parse(await readFile(join(jobFolder(join(dir.path, 'data'), jobId), 'resources', '1.json'), 'utf8')), resource);
  });

  test('faults end in a status that says what happened', async () => {
    const cases: [string, Promise<string>, RegExp][] = [
      [
        'a 401 from DICOMweb',
        submit({ type: 'DICOM_UID', studies: [{ StudyInstanceUID: ct.studyInstanceUid }] }, dicomweb(Buffer.from('radiology:wrong').toString('base64'))),
        /^Retrieving from DICOMweb http:\/\/127\.0\.0\.1:\d+\/dicom-web\/ failed: The DICOMweb server 127\.0\.0\.1:\d+ refused WADO-RS retrieve of a study: 401 Unauthorized \(check authType and authID\)\.$/,
      ],
      [
        'a study that does not exist (DICOMweb)',
        submit({ type: 'DICOM_UID', studies: [{ StudyInstanceUID: '1.2.3.4.5.6.7.8.9' }] }, dicomweb()),
        /^Retrieving from DICOMweb http:\/\/127\.0\.0\.1:\d+\/dicom-web\/ failed: The DICOMweb server 127\.0\.0\.1:\d+ answered 404 Not Found to WADO-RS retrieve of a study: it does not have it\.$/,
      ],
      [
        'a study that does not exist (DIMSE C-MOVE)',
        submit({ type: 'DICOM_UID', studies: [{ StudyInstanceUID: '1.2.3.4.5.6.7.8.9' }] }, dimse('C-MOVE')),
        /^Retrieving from DIMSE ORTHANC@127\.0\.0\.1:\d+ failed: The DICOM peer ORTHANC at 127\.0\.0\.1:\d+ does not have study 1\.2\.3\.4\.5\.6\.7\.8\.9: C-FIND finds none, and the C-MOVE was answered 0xC000 \(unable to process\)\.$/,
      ],
      [
        'a patient the PACS does not know (DICOMweb QIDO-RS)',
        submit({ type: 'DICOM_PATIENT_ID', PatientID: 'NOBODY' }, dicomweb()),
        /^Retrieving from DICOMweb http:\/\/127\.0\.0\.1:\d+\/dicom-web\/ failed: no instance matched the request \(no such study, series, patient or accession number there\)\.$/,
      ],
      [
        'a series that is not CT',
        submit({ type: 'DICOM_UID', studies: [{ StudyInstanceUID: mrStudy }] }, dicomweb()),
        /no series to segment: pipeline vista3d takes CT.*\(MR\): modality MR/,
      ],
      [
        'an unreachable PACS',
        submit({ type: 'DICOM_UID', studies: [{ StudyInstanceUID: ct.studyInstanceUid }] }, { interface: 'DICOMweb', connectionDetails: { uri: 'http://127.0.0.1:9/dicom-web/' } }),
        /^Retrieving from DICOMweb http:\/\/127\.0\.0\.1:9\/dicom-web\/ failed after 2 tries: The DICOMweb server 127\.0\.0\.1:9 refused the connection during WADO-RS retrieve of a study\.$/,
      ],
      [
        'an unreachable PACS (DIMSE)',
        submit({ type: 'DICOM_UID', studies: [{ StudyInstanceUID: ct.studyInstanceUid }] }, { interface: 'DIMSE', connectionDetails: { aeTitle: 'PACS', host: '127.0.0.1', port: 9, retrieve: 'C-GET' } }),
        /^Retrieving from DIMSE PACS@127\.0\.0\.1:9 failed after 2 tries: .*127\.0\.0\.1:9/,
      ],
      [
        'a destination that refuses',
        submit({ type: 'DICOM_UID', studies: [{ StudyInstanceUID: ct.studyInstanceUid }] }, dicomweb(), [dimse('C-GET', 'NOT_ORTHANC')]),
        /^Exporting to DIMSE NOT_ORTHANC@127\.0\.0\.1:\d+ failed: The DICOM peer at 127\.0\.0\.1:\d+ rejected the association from VOXGATE to NOT_ORTHANC \(permanent, by the service user: called AE title not recognized\)\.$/,
      ],
      [
        'a DICOMweb destination that answers 401',
        submit({ type: 'DICOM_UID', studies: [{ StudyInstanceUID: ct.studyInstanceUid }] }, dicomweb(), [dicomweb(Buffer.from('radiology:wrong').toString('base64'))]),
        /^Exporting to DICOMweb http:\/\/127\.0\.0\.1:\d+\/dicom-web\/ failed: .*401 Unauthorized/,
      ],
    ];
    for (const [what, job, expected] of cases) {
      const seen = await follow(await job);
      const last = seen.at(-1);
      assert.ok(last);
      assert.deepEqual([last.dicom.state, last.dicom.status, last.platform.status], ['Completed', 'Fail', 'Faulted'], what);
      assert.match(last.message, expected, what);
      assert.doesNotMatch(last.message, /s3cret|cmFkaW9sb2d5/, 'no credentials in a status');
    }
  });
});
