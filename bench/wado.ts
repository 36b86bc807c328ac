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
 * each. The machine's load matters (Orthanc, curl and Node share its CPUs): the load average is printed.
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

/** Wall time of curl fetching `url` to /dev/null; checks the byte count it reports. */
function timeCurl(url: string, authorization: string | undefined, output = '/dev/null'): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const args = ['-s', '-f', '-H', `Accept: ${ACCEPT_MULTIPART_DICOM_AS_STORED}`, '-o', output, '-w', '%{size_download}'];
    if (authorization) args.push('-H', `Authorization: ${authorization}`);
    args.push(url);
    const started = performance.now();
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve({ ms, bytes: Number(out) });
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
    const retrieve = async (): Promise<number> => {
      await rm(work, { recursive: true, force: true });
      const started = performance.now();
      const result = await client.retrieve({ study, series }, work);
      const ms = performance.now() - started;
      instances = result.instances.length;
      bytesWritten = result.bytes;
      return ms;
    };
    let curlBytes = 0;
    const curl = async (): Promise<number> => {
      const { ms, bytes } = await timeCurl(url, pacs.authorization);
      curlBytes = bytes;
      return ms;
    };

    await curl(); // warm-up: Orthanc's storage in the page cache, its DICOMweb plugin loaded
    await retrieve();
    // Interleaved, so that a burst of load elsewhere on the machine hits both alike.
    let curlMs = Infinity;
    let curlFileMs = Infinity;
    let clientMs = Infinity;
    const curlFile = path.join(os.tmpdir(), `voxgate-bench-wado-${process.pid}.multipart`);
    for (let n = 0; n < RUNS; n++) {
      curlMs = Math.min(curlMs, await curl());
      curlFileMs = Math.min(curlFileMs, (await timeCurl(url, pacs.authorization, curlFile)).ms);
      clientMs = Math.min(clientMs, await retrieve());
    }
    await rm(curlFile, { force: true });
    if (instances !== DICOM_CT_SLICES) throw new Error(`retrieved ${instances} instances, expected ${DICOM_CT_SLICES}`);

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
    ];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
    const line = (row: string[]): string => row.map((cell, c) => cell.padEnd(widths[c])).join('  ');
    console.log(line(rows[0]));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const row of rows.slice(1)) console.log(line(row));
  } finally {
    client.close();
    await pacs.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
