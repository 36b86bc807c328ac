/**
 * How the DICOM node turns received instances into jobs (no worker: the jobs stay Queued): series
 * grouping splits one study into a job per series; `rejectUnknownSources: false` takes anyone;
 * a group received before a stop becomes a job after the next start; configuration changes apply
 * to the running node.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobRecord } from '../../src/jobs/job.js';
import { pipelineTable } from '../../src/jobs/pipelines.js';
import { SqliteJobStore } from '../../src/jobs/sqlite-job-store.js';
import type { DicomNodeOptions } from '../../src/node/dicom-node.js';
import { DicomNode } from '../../src/node/dicom-node.js';
import { NodeConfig } from '../../src/node/node-config.js';
import { ensureDcmtk, runDcmtk, storescuArgs } from '../helpers/dcmtk.js';
import { readFileMeta } from '../../src/dicom/net/part10.js';
import { Tag, ctSeriesAvailable, describeSeries, reidentifiedPatientC, rewriteInstance, uid } from '../helpers/dicom-fixtures.js';
import { CT_3SLICE } from '../helpers/job-steps.js';
import type { TempDir } from '../helpers/jobs.js';
import { makeTempDir } from '../helpers/jobs.js';

const dcmtk = await ensureDcmtk();
const skip = !dcmtk.ok ? dcmtk.reason : !ctSeriesAvailable() ? 'the CT series of ../shared/data are missing' : false;

let dir: TempDir;
let store: SqliteJobStore;
let nodeConfig: NodeConfig;
let dataDir: string;
const nodes: DicomNode[] = [];

function startNode(overrides: Partial<DicomNodeOptions> = {}): Promise<DicomNode> {
  return DicomNode.start({ aeTitle: 'VOXGATE', host: '127.0.0.1', port: 0, dataDir, store, nodeConfig, rejectUnknownSources: true, maxAssociations: 25, ...overrides }).then((n) => {
    nodes.push(n);
    return n;
  });
}

async function queuedJobs(count: number, timeoutMs = 15_000): Promise<JobRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobs = await store.list();
    if (jobs.length >= count) return jobs;
    if (Date.now() > deadline) throw new Error(`waited for ${count} jobs; have ${jobs.length}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The CT series rewritten into `series` of `study` (new SOP Instance UIDs). */
async function copyInto(name: string, study: string, series: string): Promise<string[]> {
  const folder = join(dir.path, name);
  await mkdir(folder, { recursive: true });
  const { files } = await describeSeries(CT_3SLICE);
  return Promise.all(
    files.map(async (file, i) => {
      const target = join(folder, `${i}.dcm`);
      const changes = new Map([
        [Tag.StudyInstanceUID, study],
        [Tag.SeriesInstanceUID, series],
        [Tag.SOPInstanceUID, uid()],
      ]);
      await writeFile(target, rewriteInstance(await readFile(file), changes));
      return target;
    }),
  );
}

describe('DICOM node grouping', { skip }, () => {
  before(async () => {
    dir = await makeTempDir('voxgate-grouping-');
    dataDir = join(dir.path, 'data');
    store = SqliteJobStore.open(join(dataDir, 'jobs.sqlite'));
    nodeConfig = await NodeConfig.load(store, pipelineTable());
    await nodeConfig.create('source', { name: 'scanner', aeTitle: 'SCANNER', hostIp: '127.0.0.1' });
    await nodeConfig.create('ae-title', { name: 'by-series', aeTitle: 'BYSERIES', grouping: '0020,000E', timeout: 1 });
    await nodeConfig.create('ae-title', { name: 'slow', aeTitle: 'SLOW', timeout: 2 });
  });
  after(async () => {
    for (const node of nodes) await node.close();
    await store?.close();
    await dir?.remove();
  });

  test('grouping by series: one study with two series becomes two jobs', async () => {
    const node = await startNode();
    const study = uid();
    const [one, two] = [await copyInto('s1', study, uid()), await copyInto('s2', study, uid())];
    const sent = await runDcmtk('storescu', storescuArgs('SCANNER', 'BYSERIES', node.port, [...one, ...two]));
    assert.equal(sent.code, 0, sent.stderr);
    const jobs = await queuedJobs(2);
    assert.equal(jobs.length, 2);
    for (const job of jobs) {
      assert.equal(job.state, 'Queued');
      assert.deepEqual(job.request.destinations, []);
      const source = job.request.sources[0];
      assert.equal(source.interface, 'DicomNode');
      assert.deepEqual(source.interface === 'DicomNode' ? [source.callingAeTitle, source.calledAeTitle] : [], ['SCANNER', 'BYSERIES']);
    }
    await node.close();
  });

  test('rejectUnknownSources false: any calling AE title may send; an AE title added through the configuration is live at once', async () => {
    const node = await startNode({ rejectUnknownSources: false });
    const before = (await store.list()).length;
    const refused = await runDcmtk('echoscu', ['-aet', 'ANYONE', '-aec', 'LATER', '127.0.0.1', String(node.port)]);
    assert.notEqual(refused.code, 0, 'LATER is not configured yet');
    await nodeConfig.create('ae-title', { name: 'later', aeTitle: 'LATER', timeout: 1 });
    const files = await copyInto('anyone', uid(), uid());
    const sent = await runDcmtk('storescu', storescuArgs('ANYONE', 'LATER', node.port, files));
    assert.equal(sent.code, 0, sent.stderr);
    const [job] = await queuedJobs(before + 1);
    assert.equal(job.request.sources[0].interface === 'DicomNode' && job.request.sources[0].callingAeTitle, 'ANYONE');
    await node.close();
  });

  test('a group received before a stop becomes a job after the next start', async () => {
    const first = await startNode();
    const before = (await store.list()).length;
    const files = await copyInto('restart', uid(), uid());
    const sent = await runDcmtk('storescu', storescuArgs('SCANNER', 'SLOW', first.port, files));
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(first.pendingGroups, 1);
    await first.close(); // within SLOW's 2 s: no job yet
    assert.equal((await store.list()).length, before);
    // The folders of the earlier tests' groups are still there too (their jobs are queued, not run):
    // they are recognised as queued already, so exactly one group is re-opened and one job added.
    const second = await startNode();
    assert.equal(second.pendingGroups, 1);
    const jobs = await queuedJobs(before + 1);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal((await store.list()).length, before + 1);
    assert.equal(second.pendingGroups, 0);
    assert.equal(jobs[0].request.sources[0].interface === 'DicomNode' && jobs[0].request.sources[0].calledAeTitle, 'SLOW');
    await second.close();
  });

  test('a JPEG 2000 series (patient C, 20 slices) is stored as sent: same transfer syntax, same bytes after the meta header', async () => {
    const node = await startNode();
    const before = (await store.list()).length;
    const series = await reidentifiedPatientC();
    assert.equal(series.transferSyntaxUid, '1.2.840.10008.1.2.4.90');
    const sent = await runDcmtk('storescu', storescuArgs('SCANNER', 'BYSERIES', node.port, series.files, ['--propose-j2k-lossless']));
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(node.pendingGroups, 1);
    const groupsDir = join(dataDir, 'dicom-node', 'groups');
    const sizes = await Promise.all((await readdir(groupsDir)).map(async (g) => ({ g, files: (await readdir(join(groupsDir, g))).length })));
    const group = sizes.find((s) => s.files === 21)?.g;
    assert.ok(group !== undefined, 'a group folder with 20 instances and group.json');
    for (const [i, file] of series.files.entries()) {
      const original = await readFile(file);
      const received = await readFile(join(groupsDir, group, `${series.sopInstanceUids[i]}.dcm`));
      const a = readFileMeta(original);
      const b = readFileMeta(received);
      assert.equal(b?.transferSyntaxUid, '1.2.840.10008.1.2.4.90');
      assert.ok(a && b && original.subarray(a.datasetOffset).equals(received.subarray(b.datasetOffset)), `dataset bytes of ${file}`);
    }
    await queuedJobs(before + 1);
    await node.close();
  });
});
