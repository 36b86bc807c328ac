import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DicomwebClient } from '../../src/dicom/net/dicomweb-client.js';
import type { RetrievedInstance } from '../../src/dicom/net/dicomweb-client.js';
import { PeerError, isTransient } from '../../src/dicom/net/errors.js';
import { readFileMeta } from '../../src/dicom/net/part10.js';
import type { SeriesFixture } from '../helpers/dicom-fixtures.js';
import { DCMQI_DIR, DCMQI_SEG, Tag, ctSeriesAvailable, describeSeries, readStrings, reidentifiedPatientC, rewriteInstance, uid } from '../helpers/dicom-fixtures.js';
import type { OrthancServer } from '../helpers/orthanc.js';
import { ensureOrthanc, freePort, startOrthanc } from '../helpers/orthanc.js';

const orthanc = await ensureOrthanc();
const skip = !orthanc.ok ? orthanc.reason : ctSeriesAvailable() ? false : 'the CT series of ../shared/data/dicom_ct_series are absent';
if (skip === 'the CT series of ../shared/data/dicom_ct_series are absent') process.stderr.write(`\n*** SKIPPING ${import.meta.url}: ${skip} ***\n\n`);

const USER = 'voxgate';
const PASSWORD = 'test-password-1';
const basic = (user: string, password: string): { type: 'Basic'; id: string } => ({ type: 'Basic', id: Buffer.from(`${user}:${password}`).toString('base64') });

/** Asserts that `promise` rejects with a PeerError of `code` and the given transience. */
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

describe('DICOMweb client against a real Orthanc on loopback', { skip }, () => {
  let pacs: OrthancServer;
  let client: DicomwebClient;
  let dcmqi: SeriesFixture;
  let patientC: SeriesFixture;
  let work: string;
  /** SOP Instance UID → Orthanc's instance id. */
  const orthancIds = new Map<string, string>();

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'voxgate-dicomweb-test-'));
    [dcmqi, patientC] = await Promise.all([describeSeries(DCMQI_DIR), reidentifiedPatientC()]);
    pacs = await startOrthanc({ users: { [USER]: PASSWORD } });
    for (const series of [dcmqi, patientC]) {
      for (const [i, file] of series.files.entries()) orthancIds.set(series.sopInstanceUids[i], (await pacs.upload(file)).ID);
    }
    // The service root without its trailing slash: the client must add it (spec/acr-api.md).
    client = new DicomwebClient({ uri: pacs.dicomWebRoot.replace(/\/$/, ''), auth: basic(USER, PASSWORD), timeoutMs: 10_000 });
  });

  after(async () => {
    client?.close();
    await pacs?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('QIDO-RS finds a study by PatientID, by AccessionNumber and by StudyInstanceUID', async () => {
    for (const series of [dcmqi, patientC]) {
      const byPatient = await client.searchStudies({ PatientID: series.patientId });
      assert.deepEqual(byPatient.map((s) => s.studyInstanceUid), [series.studyInstanceUid]);
      const byAccession = await client.searchStudies({ AccessionNumber: series.accessionNumber });
      assert.deepEqual(byAccession.map((s) => s.studyInstanceUid), [series.studyInstanceUid]);
      const byUid = await client.searchStudies({ StudyInstanceUID: series.studyInstanceUid });
      assert.deepEqual(byUid.map((s) => s.studyInstanceUid), [series.studyInstanceUid]);
      assert.deepEqual(byUid[0].modalities, ['CT']);
    }
    assert.deepEqual(await client.searchStudies({ PatientID: 'no-such-patient' }), []);
  });

  test('QIDO-RS lists the series of a study with their modality, and the instances of a series', async () => {
    const series = await client.searchSeries(patientC.studyInstanceUid);
    assert.deepEqual(series, [{ studyInstanceUid: patientC.studyInstanceUid, seriesInstanceUid: patientC.seriesInstanceUid, modality: 'CT', numberOfInstances: 20 }]);
    const instances = await client.searchInstances(patientC.studyInstanceUid, patientC.seriesInstanceUid);
    assert.deepEqual(instances.map((i) => i.sopInstanceUid).sort(), [...patientC.sopInstanceUids].sort());
    assert.ok(instances.every((i) => i.seriesInstanceUid === patientC.seriesInstanceUid));
    const fromStudy = await client.searchInstances(dcmqi.studyInstanceUid);
    assert.deepEqual(fromStudy.map((i) => i.sopInstanceUid).sort(), [...dcmqi.sopInstanceUids].sort());
  });

  test('a wildcard in PatientID is refused before anything is sent (it would match other patients)', async () => {
    await rejectsWith(client.searchStudies({ PatientID: '*' }), 'VXG_ERR_DICOMWEB_REQUEST', false);
    await rejectsWith(client.searchStudies({ AccessionNumber: 'A?C' }), 'VXG_ERR_DICOMWEB_REQUEST', false);
    await rejectsWith(client.retrieve({ study: '../etc' }, work), 'VXG_ERR_DICOMWEB_REQUEST', false);
  });

  test('WADO-RS of a study streams one file per instance, named by SOP Instance UID, byte-identical to what Orthanc stored', async () => {
    const dest = path.join(work, 'study');
    const seen: RetrievedInstance[] = [];
    const result = await client.retrieve({ study: patientC.studyInstanceUid }, dest, { onInstance: (i) => void seen.push(i) });
    assert.equal(result.instances.length, 20);
    assert.equal(seen.length, 20);
    const files = (await readdir(dest)).sort();
    assert.deepEqual(files, patientC.sopInstanceUids.map((u) => `${u}.dcm`).sort());
    for (const instance of result.instances) {
      const onDisk = await readFile(instance.path);
      const stored = await pacs.restBytes(`/instances/${orthancIds.get(instance.sopInstanceUid)}/file`);
      assert.ok(onDisk.equals(stored), `${instance.sopInstanceUid} differs from Orthanc's file`);
      assert.equal(instance.bytes, onDisk.length);
      assert.equal(instance.transferSyntaxUid, '1.2.840.10008.1.2.4.90'); // JPEG 2000 as stored, not transcoded
    }
  });

  test('WADO-RS of a series and of one instance', async () => {
    const seriesDir = path.join(work, 'series');
    const series = await client.retrieve({ study: dcmqi.studyInstanceUid, series: dcmqi.seriesInstanceUid }, seriesDir);
    assert.deepEqual(series.instances.map((i) => i.sopInstanceUid).sort(), [...dcmqi.sopInstanceUids].sort());
    for (const instance of series.instances) {
      const bytes = await readFile(instance.path);
      assert.equal(readStrings(bytes, [Tag.SeriesInstanceUID]).get(Tag.SeriesInstanceUID), dcmqi.seriesInstanceUid);
    }
    const one = dcmqi.sopInstanceUids[1];
    const instanceDir = path.join(work, 'instance');
    const single = await client.retrieve({ study: dcmqi.studyInstanceUid, series: dcmqi.seriesInstanceUid, instance: one }, instanceDir);
    assert.deepEqual(single.instances.map((i) => i.sopInstanceUid), [one]);
    assert.deepEqual(await readdir(instanceDir), [`${one}.dcm`]);
  });

  test('instances in the skip set are not downloaded again: only the missing ones are fetched', async () => {
    const dest = path.join(work, 'retry');
    const done = new Set(patientC.sopInstanceUids.slice(0, 15));
    const result = await client.retrieve({ study: patientC.studyInstanceUid, series: patientC.seriesInstanceUid }, dest, { skip: done });
    assert.equal(result.skipped, 15);
    assert.deepEqual(result.instances.map((i) => i.sopInstanceUid).sort(), patientC.sopInstanceUids.slice(15).sort());
    assert.equal((await readdir(dest)).length, 5);
    const all = await client.retrieve({ study: patientC.studyInstanceUid }, dest, { skip: new Set(patientC.sopInstanceUids) });
    assert.deepEqual(all, { instances: [], skipped: 20, duplicates: 0, bytes: 0 });
  });

  test('STOW-RS stores a re-identified CT instance and a DICOM SEG; QIDO-RS finds them', async () => {
    const source = await readFile(dcmqi.files[0]);
    const newSop = uid();
    const newSeries = uid();
    const copy = rewriteInstance(source, new Map([[Tag.SOPInstanceUID, newSop], [Tag.SeriesInstanceUID, newSeries]]));
    const segBytes = await readFile(DCMQI_SEG);
    const segMeta = readFileMeta(segBytes);
    assert.ok(segMeta);
    const result = await client.store([copy, DCMQI_SEG], { study: dcmqi.studyInstanceUid });
    assert.equal(result.status, 200);
    assert.deepEqual(result.failed, []);
    assert.deepEqual(result.stored.map((s) => s.sopInstanceUid).sort(), [newSop, segMeta.sopInstanceUid].sort());
    const series = await client.searchSeries(dcmqi.studyInstanceUid);
    assert.ok(series.some((s) => s.seriesInstanceUid === newSeries && s.modality === 'CT'));
    assert.ok(series.some((s) => s.modality === 'SEG'));
  });

  test('STOW-RS of an instance of another study into studies/{study} is a partial failure or refusal, never silent', async () => {
    const source = await readFile(dcmqi.files[0]);
    const stray = rewriteInstance(source, new Map([[Tag.SOPInstanceUID, uid()], [Tag.StudyInstanceUID, uid()]]));
    try {
      const result = await client.store([stray], { study: dcmqi.studyInstanceUid });
      assert.equal(result.status, 202);
      assert.equal(result.failed.length, 1);
    } catch (err) {
      assert.ok(err instanceof PeerError, String(err));
      assert.ok(['VXG_ERR_DICOMWEB_STORE_FAILED', 'VXG_ERR_DICOMWEB_STATUS'].includes(err.code), err.message);
      assert.equal(isTransient(err), false);
    }
  });

  test('a wrong password is VXG_ERR_DICOMWEB_AUTH, permanent, and the message names the server but no credential', async () => {
    const wrong = new DicomwebClient({ uri: pacs.dicomWebRoot, auth: basic(USER, 'not-the-password') });
    const err = await rejectsWith(wrong.searchStudies({ StudyInstanceUID: dcmqi.studyInstanceUid }), 'VXG_ERR_DICOMWEB_AUTH', false);
    assert.equal(err.status, 401);
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${pacs.httpPort}`));
    assert.doesNotMatch(err.message, /not-the-password|voxgate:/);
    wrong.close();
    const anonymous = new DicomwebClient({ uri: pacs.dicomWebRoot });
    await rejectsWith(anonymous.retrieve({ study: dcmqi.studyInstanceUid }, path.join(work, 'anon')), 'VXG_ERR_DICOMWEB_AUTH', false);
    anonymous.close();
  });

  test('a study the server does not have is VXG_ERR_DICOMWEB_NOT_FOUND, permanent', async () => {
    await rejectsWith(client.retrieve({ study: uid() }, path.join(work, 'missing')), 'VXG_ERR_DICOMWEB_NOT_FOUND', false);
  });

  test('a port nobody listens on is VXG_ERR_DICOMWEB_UNREACHABLE, transient', async () => {
    const port = await freePort();
    const nowhere = new DicomwebClient({ uri: `http://127.0.0.1:${port}/dicom-web/`, timeoutMs: 2000 });
    const err = await rejectsWith(nowhere.searchStudies({ StudyInstanceUID: dcmqi.studyInstanceUid }), 'VXG_ERR_DICOMWEB_UNREACHABLE', true);
    assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port} refused the connection`));
    nowhere.close();
  });
});
