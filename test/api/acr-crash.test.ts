/**
 * Nothing lost: `voxgate serve` as a child process accepts 5 ACR requests against a real Orthanc,
 * is killed with SIGKILL while jobs run (one at a time, so some are done, one is mid-way and the
 * rest wait), and is started again on the same data directory. Every job ends Completed/Success
 * exactly once and Orthanc holds exactly one SEG per job (a resumed job writes the same SOP
 * Instance UID, so a SEG sent twice is still one instance). The 3-slice CT keeps it short.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSegmentation } from '../../src/dicom/seg-reader.js';
import type { SeriesFixture } from '../helpers/dicom-fixtures.js';
import { DCMQI_DIR, ctSeriesAvailable, describeSeries } from '../helpers/dicom-fixtures.js';
import type { TempDir } from '../helpers/jobs.js';
import { makeTempDir } from '../helpers/jobs.js';
import type { OrthancServer } from '../helpers/orthanc.js';
import { ensureOrthanc, freePort, startOrthanc } from '../helpers/orthanc.js';

const orthanc = await ensureOrthanc();
const skip = !orthanc.ok ? orthanc.reason : ctSeriesAvailable() ? false : 'the CT series of ../shared/data are absent';
if (skip) console.warn(`SKIPPED acr-crash: ${skip}`);

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const JOBS = 5;

interface Status {
  jobId: string;
  platform: { state: string; status: string; progress: number };
  dicom: { state: string; status: string };
  message: string;
}

/** `voxgate serve` run from the sources (tsx), logs kept for assertions and failure messages. */
class ServeProcess {
  readonly child: ChildProcess;
  #log = '';
  readonly exited: Promise<void>;

  constructor(args: readonly string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (chunk: Buffer) => (this.#log += chunk.toString()));
    this.child.stderr?.on('data', (chunk: Buffer) => (this.#log += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  get log(): string {
    return this.#log;
  }

  async ready(base: string): Promise<void> {
    const until = Date.now() + 60_000;
    for (;;) {
      if (this.child.exitCode !== null) assert.fail(`voxgate serve exited (${this.child.exitCode}): ${this.#log}`);
      const ok = await fetch(`${base}/v1/health/ready`).then((r) => r.ok, () => false);
      if (ok) return;
      assert.ok(Date.now() < until, `voxgate serve was not ready within 60 s: ${this.#log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async kill9(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await this.exited;
    }
  }
}

describe('a server killed with SIGKILL mid-job', { skip }, () => {
  let pacs: OrthancServer;
  let dir: TempDir;
  let ct: SeriesFixture;
  let server: ServeProcess | undefined;

  before(async () => {
    [dir, ct, pacs] = await Promise.all([makeTempDir('voxgate-acr-crash-'), describeSeries(DCMQI_DIR), startOrthanc()]);
    for (const file of ct.files) await pacs.upload(file);
  });

  after(async () => {
    await server?.stop();
    await pacs?.stop();
    await dir?.remove();
  });

  async function segsInPacs(): Promise<Buffer[]> {
    const ids = await pacs.restPost<string[]>('/tools/find', { Level: 'Instance', Query: { Modality: 'SEG', StudyInstanceUID: ct.studyInstanceUid } });
    return Promise.all(ids.map((id) => pacs.restBytes(`/instances/${id}/file`)));
  }

  test('resumes its 5 jobs after a restart: all Completed/Success, one SEG each in Orthanc', { timeout: 150_000 }, async () => {
    const [port, dicomPort] = await Promise.all([freePort(), freePort()]);
    const base = `http://127.0.0.1:${port}`;
    const args = ['--port', String(port), '--host', '127.0.0.1', '--data-dir', join(dir.path, 'data'), '--dicom-port', String(dicomPort), '--engine', 'classic'];
    const env = { VOXGATE_JOB_CONCURRENCY: '1', VOXGATE_LOG_LEVEL: 'info' };
    server = new ServeProcess(args, env);
    await server.ready(base);

    const jobIds: string[] = [];
    for (let n = 0; n < JOBS; n++) {
      const res = await fetch(`${base}/api/inference`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          transactionID: `crash-${n}`,
          inputMetadata: { details: { type: 'DICOM_UID', studies: [{ StudyInstanceUID: ct.studyInstanceUid, series: [{ SeriesInstanceUID: ct.seriesInstanceUid }] }] } },
          inputResources: [
            { interface: 'Algorithm', connectionDetails: { id: 'vista3d' } },
            { interface: 'DICOMweb', connectionDetails: { uri: pacs.dicomWebRoot } },
          ],
          outputResources: [{ interface: 'DICOMweb', connectionDetails: { uri: pacs.dicomWebRoot } }],
        }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      jobIds.push(((await res.json()) as { jobId: string }).jobId);
    }
    const statuses = (): Promise<Status[]> => Promise.all(jobIds.map(async (id) => (await (await fetch(`${base}/api/inference/status/${id}`)).json()) as Status));

    // Kill once at least one job has ended and at least one is mid-way: work both done and undone.
    let atKill: Status[] = [];
    const until = Date.now() + 90_000;
    for (;;) {
      atKill = await statuses();
      const ended = atKill.filter((s) => s.dicom.state === 'Completed').length;
      const running = atKill.filter((s) => s.dicom.state === 'InProcess' && s.platform.progress > 0).length;
      if (ended >= 1 && running >= 1) break;
      assert.ok(ended < JOBS, 'every job ended before the kill: nothing left to resume');
      assert.ok(Date.now() < until, `no job got under way: ${JSON.stringify(atKill.map((s) => s.message))}\n${server.log}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await server.kill9();
    assert.ok(atKill.every((s) => s.dicom.status !== 'Fail'), JSON.stringify(atKill.map((s) => s.message)));
    // One job at a time: the later ones were still waiting, as the status says.
    const waiting = atKill.filter((s) => s.dicom.state === 'Queued');
    assert.ok(waiting.length >= 1);
    for (const s of waiting) assert.deepEqual([s.platform.state, s.dicom.status, s.platform.progress], ['Pending', 'Unknown', 0]);

    server = new ServeProcess(args, env);
    await server.ready(base);
    let final: Status[] = [];
    const deadline = Date.now() + 90_000;
    for (;;) {
      final = await statuses();
      if (final.every((s) => s.dicom.state === 'Completed')) break;
      assert.ok(Date.now() < deadline, `jobs did not end after the restart: ${JSON.stringify(final.map((s) => s.message))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    for (const s of final) {
      assert.deepEqual([s.dicom.state, s.dicom.status, s.platform.state, s.platform.status, s.platform.progress], ['Completed', 'Success', 'Stopped', 'Healthy', 100], s.message);
      assert.match(s.message, /^Completed: 1 series segmented with pipeline vista3d; 1 SEG sent to DICOMweb /);
    }
    assert.match(server.log, /resuming job/, 'the restarted server resumed the interrupted jobs');

    const segs = (await segsInPacs()).map((bytes) => readSegmentation(new Uint8Array(bytes)));
    assert.equal(segs.length, JOBS, 'one SEG per job in Orthanc, none twice');
    assert.equal(new Set(segs.map((s) => s.sopInstanceUid)).size, JOBS);
    for (const seg of segs) {
      const referenced = new Set(seg.frames.flatMap((f) => f.sources.map((src) => src.sopInstanceUid)));
      assert.ok(referenced.size > 0 && [...referenced].every((uid) => ct.sopInstanceUids.includes(uid)), 'frames reference the source series');
    }
  });
});
