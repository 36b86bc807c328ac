/**
 * One whole ACR inference request for a 300-instance CT series (512×512, ~157 MB; the series of
 * bench/wado.ts) against a real Orthanc on loopback, as a client sees it: `POST /api/inference` to
 * a real Voxgate server → status `Completed/Success`, with the request retrieving by WADO-RS,
 * segmenting with the classic engine in everything-mode, writing the DICOM SEG (and NIfTI) and
 * sending the SEG back by STOW-RS. The parts are timed inside the real steps (the retriever,
 * series reader, engine, SEG encoder and exporter are the production ones, wrapped with a clock);
 * "job bookkeeping" is what is left: queueing, state saves, status polling.
 *
 * One run (the engine's minutes-long part dominates; best-of-N would only repeat it). Orthanc
 * comes from Debian's packages (test/helpers/orthanc.ts); without it the benchmark says so loudly
 * and exits 0. The machine's load matters: the load average is printed.
 * @module
 */
import { readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildServer } from '../src/api/server.js';
import { loadConfig } from '../src/config.js';
import type { Engine } from '../src/engines/engine.js';
import { createEngine } from '../src/engines/index.js';
import { DICOM_SERIES_READER, DicomSegmenter } from '../src/jobs/dicom-segmenter.js';
import type { SeriesReader } from '../src/jobs/dicom-segmenter.js';
import { DicomwebExporter, DicomwebRetriever } from '../src/jobs/dicomweb-steps.js';
import { pipelineTable } from '../src/jobs/pipelines.js';
import { JobRunner } from '../src/jobs/runner.js';
import { encodeDicomSeg } from '../src/jobs/seg-encoder.js';
import { jobStorePath } from '../src/jobs/setup.js';
import { SqliteJobStore } from '../src/jobs/sqlite-job-store.js';
import { ensureOrthanc, startOrthanc } from '../test/helpers/orthanc.js';
import { DICOM_CT_SLICES, ensureDicomCtSeries } from './fixtures/dicom-ct-series.js';

const UPLOAD_CONCURRENCY = 8;

/** Accumulated milliseconds per part. */
const parts = new Map<string, number>();
async function timed<T>(part: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    parts.set(part, (parts.get(part) ?? 0) + performance.now() - started);
  }
}

function timedEngine(engine: Engine): Engine {
  return {
    info: engine.info,
    isReady: () => engine.isReady(),
    segment: (volume, prompts, progress) => timed('classic engine, everything-mode', () => engine.segment(volume, prompts, progress)),
    close: () => engine.close(),
  };
}

const timedReader: SeriesReader = {
  list: (folder) => timed('read series (DICOM → volume)', () => DICOM_SERIES_READER.list(folder)),
  read: (folder, id) => timed('read series (DICOM → volume)', () => DICOM_SERIES_READER.read(folder, id)),
};

async function main(): Promise<void> {
  const orthanc = await ensureOrthanc();
  if (!orthanc.ok) {
    console.log(`\n*** SKIPPED bench/acr.ts: ${orthanc.reason} ***\n`);
    return;
  }
  const seriesDir = ensureDicomCtSeries();
  const files = (await readdir(seriesDir)).filter((f) => !f.startsWith('.')).sort().map((f) => path.join(seriesDir, f));
  const work = path.join(os.tmpdir(), `voxgate-bench-acr-${process.pid}`);
  const config = loadConfig({ flags: { dataDir: path.join(work, 'data'), host: '127.0.0.1', port: 0 }, env: {} });
  const pacs = await startOrthanc();
  const engine = await createEngine('classic');
  const store = SqliteJobStore.open(jobStorePath(config));
  const retriever = new DicomwebRetriever();
  const exporter = new DicomwebExporter();
  const runner = new JobRunner({
    store,
    steps: {
      retrievers: { DICOMweb: { retrieve: (s, i, c) => timed('retrieve (WADO-RS → files)', () => retriever.retrieve(s, i, c)) } },
      segmenter: new DicomSegmenter({
        reader: timedReader,
        encodeSeg: (labels, series, options) => {
          const started = performance.now();
          const bytes = encodeDicomSeg(labels, series, options);
          parts.set('DICOM SEG encode', performance.now() - started);
          return bytes;
        },
      }),
      exporters: { DICOMweb: { export: (d, item, c) => timed('export (STOW-RS of the SEG)', () => exporter.export(d, item, c)) } },
    },
    pipelines: pipelineTable(config.pipelines),
    engines: async () => timedEngine(engine),
    dataDir: config.dataDir,
    concurrency: 1,
    maxAttempts: 1,
    pollMs: 20,
  });
  const app = await buildServer({ config, engine, logger: false, jobs: { store, onQueued: () => runner.notify() } });
  try {
    let next = 0;
    const uploadStarted = performance.now();
    await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, async () => { while (next < files.length) await pacs.upload(files[next++]); }));
    const uploadMs = performance.now() - uploadStarted;
    const study = (await pacs.rest<string[]>('/studies'))[0];
    const studyUid = (await pacs.rest<{ MainDicomTags: { StudyInstanceUID: string } }>(`/studies/${study}`)).MainDicomTags.StudyInstanceUID;
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    runner.start();

    const started = performance.now();
    const res = await fetch(`${base}/api/inference`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        transactionID: 'bench-acr',
        inputMetadata: { details: { type: 'DICOM_UID', studies: [{ StudyInstanceUID: studyUid }] } },
        inputResources: [{ interface: 'Algorithm', connectionDetails: { id: 'vista3d' } }, { interface: 'DICOMweb', connectionDetails: { uri: pacs.dicomWebRoot } }],
        outputResources: [{ interface: 'DICOMweb', connectionDetails: { uri: pacs.dicomWebRoot } }],
      }),
    });
    if (res.status !== 200) throw new Error(`POST /api/inference answered ${res.status}: ${await res.text()}`);
    const { jobId } = (await res.json()) as { jobId: string };
    let status: { dicom: { state: string; status: string }; message: string };
    for (;;) {
      status = (await (await fetch(`${base}/api/inference/status/${jobId}`)).json()) as typeof status;
      if (status.dicom.state === 'Completed') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const totalMs = performance.now() - started;
    if (status.dicom.status !== 'Success') throw new Error(`the job failed: ${status.message}`);
    const segs = await pacs.restPost<string[]>('/tools/find', { Level: 'Instance', Query: { Modality: 'SEG' } });
    if (segs.length !== 1) throw new Error(`Orthanc holds ${segs.length} SEG instances, expected 1`);

    console.log(`${DICOM_CT_SLICES} CT instances 512×512 in Orthanc (uploaded in ${(uploadMs / 1000).toFixed(1)} s); one run, node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`);
    const named = [...parts.entries()];
    const accounted = named.reduce((sum, [, ms]) => sum + ms, 0);
    const rows: [string, number][] = [...named, ['NIfTI write, job bookkeeping, polling', totalMs - accounted], ['whole request (POST → Completed/Success)', totalMs]];
    const width = Math.max(...rows.map(([name]) => name.length));
    for (const [name, ms] of rows) console.log(`${name.padEnd(width)}  ${(ms / 1000).toFixed(2).padStart(7)} s  ${((100 * ms) / totalMs).toFixed(0).padStart(3)} %`);
    console.log(`status message: ${status.message}`);
  } finally {
    await app.close();
    await runner.stop();
    await store.close();
    await engine.close();
    await pacs.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
