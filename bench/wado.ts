/**
 * WADO-RS retrieval of a 300-instance CT series (512×512, uncompressed, ~157 MB) from a real
 * Orthanc on loopback: `DicomwebClient.retrieve` (streaming multipart parse, one file per instance
 * written to disk) beside `curl` fetching the same multipart body to /dev/null, in the same run.
 * Target: ≤ 1.2× curl.
 *
 * The series is bench/fixtures/dicom-ct-series.ts (written once by dcmjs into the cache). Orthanc
 * comes from Debian's packages (test/helpers/orthanc.ts); without it the benchmark says so loudly
 * and exits 0. curl sends the client's own Accept header (transfer-syntax=* included) so both ask
 * Orthanc for the same bytes. Every time is the best of 5, runs interleaved, after one warm-up of
 * each; medians are printed beside them. The machine's load matters (Orthanc, curl and Node share
 * its CPUs): the load average is printed, and the client's CPU time (user + system) in its best run,
 * which moves less with the load than wall time does.
 *
 * Fairness, both ways: before each timed run the previous run's output is removed outside the
 * timing (the client's folder of 300 files, and curl's one file, which `-o` would otherwise truncate
 * inside curl's time). curl's wall time includes starting the curl process (~35–50 ms here), which
 * the client does not pay; curl's own `time_total` is printed for scale.
 * @module
 */
import { spawn } from 'node:child_process';
import { readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ACCEPT_MULTIPART_DICOM_AS_STORED, DicomwebClient } from '../src/dicom/net/dicomweb-client.js';
import { readFileMeta, stringValue, topLevelElements } from '../src/dicom/net/part10.js';
import { ensureOrthanc, startOrthanc } from '../test/helpers/orthanc.js';
import type { OrthancServer } from '../test/helpers/orthanc.js';
import { DICOM_CT_SLICES, ensureDicomCtSeries } from './fixtures/dicom-ct-series.js';

const RUNS = 5;
const TARGET = 1.2;
const UPLOAD_CONCURRENCY = 8;
const MiB = 1024 * 1024;

/** Study and Series Instance UID of a Part 10 file. */
async function seriesOf(file: string): Promise<{ study: string; series: string }> {
  const bytes = await readFile(file);
  const meta = readFileMeta(bytes);
  if (!meta) throw new Error(`${file} is not DICOM`);
  let study = '';
  let series = '';
  for (const element of topLevelElements(bytes, meta.datasetOffset, meta.transferSyntaxUid)) {
    if (element.tag === 0x0020000d) study = stringValue(bytes, element);
    if (element.tag === 0x0020000e) series = stringValue(bytes, element);
  }
  return { study, series };
}

async function upload(pacs: OrthancServer, files: readonly string[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: UPLOAD_CONCURRENCY }, async () => {
      while (next < files.length) await pacs.upload(files[next++]);
    }),
  );
}

/** Wall time of curl fetching `url` to /dev/null (or `output`), with the byte count and curl's own time_total. */
function timeCurl(url: string, authorization: string | undefined, output = '/dev/null'): Promise<{ ms: number; bytes: number; ownMs: number }> {
  return new Promise((resolve, reject) => {
    const args = ['-s', '-f', '-H', `Accept: ${ACCEPT_MULTIPART_DICOM_AS_STORED}`, '-o', output, '-w', '%{size_download} %{time_total}'];
    if (authorization) args.push('-H', `Authorization: ${authorization}`);
    args.push(url);
    const started = performance.now();
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      const [bytes, seconds] = out.trim().split(' ').map(Number);
      if (code === 0) resolve({ ms, bytes, ownMs: seconds * 1000 });
      else reject(new Error(`curl exited with ${code}`));
    });
  });
}

async function main(): Promise<void> {
  const orthanc = await ensureOrthanc();
  if (!orthanc.ok) {
    console.log(`\n*** SKIPPED bench/wado.ts: ${orthanc.reason} ***\n`);
    return;
  }
  const dir = ensureDicomCtSeries();
  const files = (await readdir(dir)).filter((f) => !f.startsWith('.')).sort().map((f) => path.join(dir, f));
  if (files.length !== DICOM_CT_SLICES) throw new Error(`expected ${DICOM_CT_SLICES} files in ${dir}, found ${files.length}`);
  const { study, series } = await seriesOf(files[0]);

  const pacs = await startOrthanc();
  const work = path.join(os.tmpdir(), `voxgate-bench-wado-${process.pid}`);
  const client = new DicomwebClient({ uri: pacs.dicomWebRoot });
  try {
    const uploadStarted = performance.now();
    await upload(pacs, files);
    const uploadMs = performance.now() - uploadStarted;
    const url = `${pacs.dicomWebRoot}studies/${study}/series/${series}`;

    let bytesWritten = 0;
    let instances = 0;
    let clientCpuMs = Infinity;
    let clientMs = Infinity;
    const retrieve = async (): Promise<number> => {
      await rm(work, { recursive: true, force: true });
      const cpu = process.cpuUsage();
      const started = performance.now();
      const result = await client.retrieve({ study, series }, work);
      const ms = performance.now() - started;
      const used = process.cpuUsage(cpu);
      if (ms < clientMs) clientCpuMs = (used.user + used.system) / 1000;
      instances = result.instances.length;
      bytesWritten = result.bytes;
      return ms;
    };
    let curlBytes = 0;
    let curlOwnMs = Infinity;
    const curl = async (): Promise<number> => {
      const { ms, bytes, ownMs } = await timeCurl(url, pacs.authorization);
      curlBytes = bytes;
      curlOwnMs = Math.min(curlOwnMs, ownMs);
      return ms;
    };
    const curlFile = path.join(os.tmpdir(), `voxgate-bench-wado-${process.pid}.multipart`);
    const curlToFile = async (): Promise<number> => {
      await rm(curlFile, { force: true });
      return (await timeCurl(url, pacs.authorization, curlFile)).ms;
    };

    await curl(); // warm-up: Orthanc's storage in the page cache, its DICOMweb plugin loaded
    await retrieve();
    clientMs = Infinity;
    curlOwnMs = Infinity;
    // Interleaved, so that a burst of load elsewhere on the machine hits both alike.
    const times = { curl: [] as number[], curlFile: [] as number[], client: [] as number[] };
    for (let n = 0; n < RUNS; n++) {
      times.curl.push(await curl());
      times.curlFile.push(await curlToFile());
      const ms = await retrieve();
      times.client.push(ms);
      clientMs = Math.min(clientMs, ms);
    }
    await rm(curlFile, { force: true });
    if (instances !== DICOM_CT_SLICES) throw new Error(`retrieved ${instances} instances, expected ${DICOM_CT_SLICES}`);
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1];
    const curlMs = Math.min(...times.curl);
    const curlFileMs = Math.min(...times.curlFile);

    const ratio = clientMs / curlMs;
    const rate = (bytes: number, ms: number): string => `${((bytes / MiB) / (ms / 1000)).toFixed(0)} MiB/s`;
    console.log(`${DICOM_CT_SLICES} CT instances 512×512, uploaded to Orthanc in ${(uploadMs / 1000).toFixed(1)} s; best of ${RUNS}, node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`);
    console.log(`multipart body ${(curlBytes / MiB).toFixed(1)} MiB; files written ${(bytesWritten / MiB).toFixed(1)} MiB`);
    const rows = [
      ['figure', 'Voxgate', 'reference', 'ratio', 'target', 'result'],
      [
        'WADO-RS series → files',
        `${clientMs.toFixed(0)} ms (${rate(curlBytes, clientMs)})`,
        `curl → /dev/null ${curlMs.toFixed(0)} ms (${rate(curlBytes, curlMs)})`,
        `${ratio.toFixed(2)}×`,
        `≤ ${TARGET}×`,
        ratio <= TARGET ? 'PASS' : 'MISS',
      ],
      // Not the target: the same body written to one file, to show what the disk costs here.
      ['(for scale)', '', `curl → one file ${curlFileMs.toFixed(0)} ms (${rate(curlBytes, curlFileMs)})`, `${(clientMs / curlFileMs).toFixed(2)}×`, '', ''],
      [
        '(medians)',
        `${median(times.client).toFixed(0)} ms`,
        `curl → /dev/null ${median(times.curl).toFixed(0)} ms, → one file ${median(times.curlFile).toFixed(0)} ms`,
        `${(median(times.client) / median(times.curl)).toFixed(2)}×`,
        '',
        '',
      ],
    ];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
    const line = (row: string[]): string => row.map((cell, c) => cell.padEnd(widths[c])).join('  ');
    console.log(line(rows[0]));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const row of rows.slice(1)) console.log(line(row));
    console.log(`client CPU in its best run ${clientCpuMs.toFixed(0)} ms (user + system); curl's own time_total, best ${curlOwnMs.toFixed(0)} ms (without starting the process)`);
  } finally {
    client.close();
    await pacs.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
