import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { cEcho, cFind, cGet, cMove, cMoveInto, cStore } from '../../src/dicom/net/dimse-client.js';
import type { DimsePeer } from '../../src/dicom/net/dimse-client.js';
import { PeerError, isTransient } from '../../src/dicom/net/errors.js';
import { readFileMeta, topLevelElements } from '../../src/dicom/net/part10.js';
import { StoreScp } from '../../src/dicom/net/store-scp.js';
import type { SeriesFixture } from '../helpers/dicom-fixtures.js';
import { DCMQI_DIR, DCMQI_SEG, ctSeriesAvailable, describeSeries, reidentifiedPatientC } from '../helpers/dicom-fixtures.js';
import type { OrthancServer } from '../helpers/orthanc.js';
import { ensureOrthanc, freePort, startOrthanc } from '../helpers/orthanc.js';

const orthanc = await ensureOrthanc();
const dataMissing = 'the CT series of ../shared/data/dicom_ct_series are absent';
const skip = !orthanc.ok ? orthanc.reason : ctSeriesAvailable() ? false : dataMissing;
if (skip === dataMissing) process.stderr.write(`\n*** SKIPPING ${import.meta.url}: ${skip} ***\n\n`);

const OUR_AE = 'VOXGATE_TEST';

async function rejectsWith(promise: Promise<unknown>, code: string, transient: boolean): Promise<PeerError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof PeerError, `expected a PeerError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(isTransient(caught), transient, caught.message);
  return caught;
}

/** The dataset bytes of a Part 10 file (after its meta header): what DIMSE carries. */
async function datasetBytes(file: string | Buffer): Promise<Buffer> {
  const bytes = typeof file === 'string' ? await readFile(file) : file;
  const meta = readFileMeta(bytes);
  assert.ok(meta);
  return bytes.subarray(meta.datasetOffset);
}

/** The value of (7FE0,0010) Pixel Data. */
function pixelData(bytes: Buffer): Buffer {
  const meta = readFileMeta(bytes);
  assert.ok(meta);
  for (const element of topLevelElements(bytes, meta.datasetOffset, meta.transferSyntaxUid)) {
    if (element.tag === 0x7fe00010) return bytes.subarray(element.valueOffset, element.valueOffset + element.length);
  }
  assert.fail('no Pixel Data');
}

describe('DIMSE client and store SCP against a real Orthanc on loopback', { skip }, () => {
  let pacs: OrthancServer;
  let scp: StoreScp;
  let peer: DimsePeer;
  let dcmqi: SeriesFixture;
  let patientC: SeriesFixture;
  let work: string;
  const orthancIds = new Map<string, string>();

  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'voxgate-dimse-test-'));
    [dcmqi, patientC] = await Promise.all([describeSeries(DCMQI_DIR), reidentifiedPatientC()]);
    scp = await StoreScp.start({ aeTitle: OUR_AE, storageDir: path.join(work, 'incoming'), host: '127.0.0.1' });
    pacs = await startOrthanc({ modalities: { voxgate: { aeTitle: OUR_AE, host: '127.0.0.1', port: scp.port } } });
    for (const series of [dcmqi, patientC]) {
      for (const [i, file] of series.files.entries()) orthancIds.set(series.sopInstanceUids[i], (await pacs.upload(file)).ID);
    }
    peer = { aeTitle: pacs.aeTitle, host: '127.0.0.1', port: pacs.dicomPort, callingAeTitle: OUR_AE };
  });

  after(async () => {
    await scp?.close();
    await pacs?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('C-ECHO to Orthanc succeeds', async () => {
    await cEcho(peer);
  });

  test('C-FIND resolves a PatientID and an AccessionNumber to the study, and lists its series and instances', async () => {
    const byPatient = await cFind(peer, { PatientID: patientC.patientId }, 'STUDY');
    assert.deepEqual(byPatient.map((m) => m.studyInstanceUid), [patientC.studyInstanceUid]);
    const byAccession = await cFind(peer, { AccessionNumber: dcmqi.accessionNumber }, 'STUDY');
    assert.deepEqual(byAccession.map((m) => m.studyInstanceUid), [dcmqi.studyInstanceUid]);
    const series = await cFind(peer, { StudyInstanceUID: patientC.studyInstanceUid }, 'SERIES');
    assert.deepEqual(series.map((m) => [m.seriesInstanceUid, m.modalities]), [[patientC.seriesInstanceUid, ['CT']]]);
    const images = await cFind(peer, { StudyInstanceUID: dcmqi.studyInstanceUid, SeriesInstanceUID: dcmqi.seriesInstanceUid }, 'IMAGE');
    assert.deepEqual(images.map((m) => m.sopInstanceUid).sort(), [...dcmqi.sopInstanceUids].sort());
    assert.deepEqual(await cFind(peer, { PatientID: 'no-such-patient' }), []);
    await rejectsWith(cFind(peer, { PatientID: '*' }), 'VXG_ERR_DIMSE_REQUEST', false);
  });

  test('C-MOVE into our store SCP puts every instance of the series in the job folder, dataset bytes as Orthanc stored them', async () => {
    const dest = path.join(work, 'move');
    const totals: number[] = [];
    const result = await cMoveInto(peer, { study: patientC.studyInstanceUid, series: patientC.seriesInstanceUid }, scp, dest, { onTotal: (n) => totals.push(n) });
    assert.equal(result.subOperations[0].completed, 20);
    assert.ok(totals.length > 0 && totals.every((n) => n === 20), `pending responses tell the total: ${totals.join(',')}`);
    assert.equal(result.subOperations[0].failed, 0);
    assert.deepEqual((await readdir(dest)).sort(), patientC.sopInstanceUids.map((u) => `${u}.dcm`).sort());
    for (const instance of result.instances) {
      assert.equal(instance.studyInstanceUid, patientC.studyInstanceUid);
      assert.equal(instance.callingAeTitle, pacs.aeTitle);
      assert.equal(instance.moveOriginatorAeTitle, OUR_AE);
      assert.equal(instance.transferSyntaxUid, '1.2.840.10008.1.2.4.90');
      const stored = await pacs.restBytes(`/instances/${orthancIds.get(instance.sopInstanceUid)}/file`);
      assert.ok((await datasetBytes(instance.path)).equals(await datasetBytes(stored)), instance.sopInstanceUid);
    }
    // Claimed instances do not stay behind in the SCP's own folder.
    const leftovers = (await readdir(path.join(work, 'incoming'), { recursive: true })).filter((f) => f.endsWith('.dcm'));
    assert.deepEqual(leftovers, []);
  });

  test('C-MOVE with a skip set moves only the missing instances', async () => {
    const dest = path.join(work, 'move-retry');
    const done = new Set(dcmqi.sopInstanceUids.slice(0, 2));
    const result = await cMoveInto(peer, { study: dcmqi.studyInstanceUid }, scp, dest, { skip: done });
    assert.equal(result.skipped, 2);
    assert.deepEqual(result.instances.map((i) => i.sopInstanceUid), dcmqi.sopInstanceUids.slice(2));
    assert.deepEqual(await readdir(dest), dcmqi.sopInstanceUids.slice(2).map((u) => `${u}.dcm`));
  });

  test('C-MOVE to an AE title Orthanc does not know is VXG_ERR_DIMSE_STATUS, permanent', async () => {
    const err = await rejectsWith(cMove(peer, { study: dcmqi.studyInstanceUid }, 'NOBODY'), 'VXG_ERR_DIMSE_STATUS', false);
    // PS3.4 says 0xA801 (move destination unknown); Orthanc 1.10 answers 0xC000 (unable to process).
    assert.ok(err.status === 0xa801 || err.status === 0xc000, String(err.status));
    assert.match(err.message, /answered the C-MOVE with 0x(A801|C000)/);
  });

  test('C-GET brings a compressed study and an uncompressed series back on the same association', async () => {
    const dest = path.join(work, 'get');
    const totals: number[] = [];
    const study = await cGet(peer, { study: patientC.studyInstanceUid }, dest, { onTotal: (n) => totals.push(n) });
    assert.equal(study.instances.length, 20);
    assert.ok(totals.length > 0 && totals.every((n) => n === 20), `pending responses tell the total: ${totals.join(',')}`);
    assert.equal(study.subOperations[0].completed, 20);
    const series = await cGet(peer, { study: dcmqi.studyInstanceUid, series: dcmqi.seriesInstanceUid }, dest);
    assert.equal(series.instances.length, 3);
    assert.deepEqual((await readdir(dest)).sort(), [...patientC.sopInstanceUids, ...dcmqi.sopInstanceUids].map((u) => `${u}.dcm`).sort());
    for (const instance of study.instances) {
      // JPEG 2000 arrives as stored: the same dataset bytes.
      const stored = await pacs.restBytes(`/instances/${orthancIds.get(instance.sopInstanceUid)}/file`);
      assert.ok((await datasetBytes(instance.path)).equals(await datasetBytes(stored)), instance.sopInstanceUid);
    }
    for (const instance of series.instances) {
      // Implicit VR as stored, Explicit VR as negotiated: other element headers, the same pixels.
      const stored = await pacs.restBytes(`/instances/${orthancIds.get(instance.sopInstanceUid)}/file`);
      assert.ok(pixelData(await readFile(instance.path)).equals(pixelData(stored)), instance.sopInstanceUid);
    }
  });

  test('C-GET with a skip set fetches only the missing instances', async () => {
    const dest = path.join(work, 'get-retry');
    const result = await cGet(peer, { study: patientC.studyInstanceUid, series: patientC.seriesInstanceUid }, dest, { skip: new Set(patientC.sopInstanceUids.slice(3)) });
    assert.equal(result.skipped, 17);
    assert.deepEqual(result.instances.map((i) => i.sopInstanceUid).sort(), patientC.sopInstanceUids.slice(0, 3).sort());
  });

  test('C-STORE of a DICOM SEG: Orthanc has it afterwards', async () => {
    const seg = readFileMeta(await readFile(DCMQI_SEG));
    assert.ok(seg);
    const result = await cStore(peer, [DCMQI_SEG]);
    assert.deepEqual(result.stored, [seg.sopInstanceUid]);
    const found = await pacs.restPost<{ Type: string }[]>('/tools/lookup', seg.sopInstanceUid);
    assert.deepEqual(found.map((f) => f.Type), ['Instance']);
  });

  test('a wrong called AE title: Orthanc rejects the association, VXG_ERR_DIMSE_REJECTED, permanent', async () => {
    const err = await rejectsWith(cEcho({ ...peer, aeTitle: 'NOT_ORTHANC' }), 'VXG_ERR_DIMSE_REJECTED', false);
    assert.match(err.message, /called AE title not recognized/);
  });

  test('a port nobody listens on is VXG_ERR_DIMSE_UNREACHABLE, transient', async () => {
    const port = await freePort();
    await rejectsWith(cEcho({ ...peer, port }), 'VXG_ERR_DIMSE_UNREACHABLE', true);
  });

  test('a peer that accepts the connection and says nothing is VXG_ERR_DIMSE_TIMEOUT, transient', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => void sockets.push(socket)); // never reads, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      await rejectsWith(cEcho({ ...peer, port }, { timeoutMs: 1000 }), 'VXG_ERR_DIMSE_TIMEOUT', true);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('our store SCP answers C-ECHO, takes C-STORE, and refuses an unknown called AE title and associations over its cap', async () => {
    const self: DimsePeer = { aeTitle: OUR_AE, host: '127.0.0.1', port: scp.port, callingAeTitle: 'SOME_SCU' };
    await cEcho(self);
    const seen: string[] = [];
    const unsubscribe = scp.subscribe((instance) => void seen.push(instance.sopInstanceUid));
    try {
      const result = await cStore(self, [dcmqi.files[0]]);
      assert.deepEqual(result.stored, [dcmqi.sopInstanceUids[0]]);
      assert.deepEqual(seen, [dcmqi.sopInstanceUids[0]]);
    } finally {
      unsubscribe();
    }
    const err = await rejectsWith(cEcho({ ...self, aeTitle: 'SOMEONE_ELSE' }), 'VXG_ERR_DIMSE_REJECTED', false);
    assert.match(err.message, /called AE title not recognized/);
    const full = await StoreScp.start({ aeTitle: OUR_AE, storageDir: path.join(work, 'full'), maxAssociations: 0 });
    try {
      const busy = await rejectsWith(cEcho({ ...self, port: full.port }), 'VXG_ERR_DIMSE_REJECTED', true);
      assert.match(busy.message, /local limit exceeded/);
    } finally {
      await full.close();
    }
  });
});
