/**
 * NIfTI I/O against the floor the system's gzip sets, on a realistic 512×512×300 int16 CT and a
 * uint8 label map of the same grid:
 *
 * 1. read time: `readNifti(fs.createReadStream(file))` vs `gzip -dc file > /dev/null` (target ≤ 1.3×);
 * 2. read peak memory, in a fresh process: (peak RSS − RSS before reading) / decoded bytes (≤ 1.6×);
 * 3. write time: `encodeNifti(labels)` vs `gzip -1 -c labels.raw > /dev/null` (≤ 1.5×).
 *
 * Inputs are generated once and cached in os.tmpdir()/voxgate-bench/. Every time is the best of 3.
 * Prints a table; a missed target is reported, not an error.
 * @module
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, openSync, closeSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { readNifti, encodeNifti } from '../src/volume/nifti.js';
import { createVolume } from '../src/volume/volume.js';
import { AFFINE, CT_FILE, DIMS, LABELS_RAW, VOXELS, ensureBenchCt, generateLabels, writeAtomically } from './fixtures/synthetic-ct.js';

const RUNS = 3;
const MiB = 1024 * 1024;

async function ensureInputs(): Promise<Uint8Array> {
  await ensureBenchCt();
  const labels = generateLabels();
  if (!existsSync(LABELS_RAW)) writeAtomically(LABELS_RAW, labels);
  return labels;
}

/** Wall time of a command with stdout to /dev/null, in ms. */
function timeCommand(command: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const devNull = openSync('/dev/null', 'w');
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', devNull, 'inherit'] });
    child.on('error', (err) => {
      closeSync(devNull);
      reject(err);
    });
    child.on('exit', (code) => {
      const ms = performance.now() - started;
      closeSync(devNull);
      if (code === 0) resolve(ms);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}`));
    });
  });
}

async function best(runs: number, fn: () => Promise<number>): Promise<number> {
  let min = Infinity;
  for (let n = 0; n < runs; n++) min = Math.min(min, await fn());
  return min;
}

async function timeRead(file: string): Promise<number> {
  const started = performance.now();
  const volume = await readNifti(createReadStream(file));
  const ms = performance.now() - started;
  if (volume.data.length !== VOXELS) throw new Error(`read ${volume.data.length} voxels, expected ${VOXELS}`);
  return ms;
}

interface MemoryReport {
  readonly baselineKiB: number;
  readonly peakKiB: number;
  readonly decodedBytes: number;
}

/** In the child: one read, with RSS before it and the peak RSS after. */
async function childRead(file: string): Promise<void> {
  const baselineKiB = process.memoryUsage().rss / 1024;
  const volume = await readNifti(createReadStream(file));
  const peakKiB = process.resourceUsage().maxRSS;
  const report: MemoryReport = { baselineKiB, peakKiB, decodedBytes: volume.data.byteLength };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function measureReadMemory(file: string): Promise<MemoryReport> {
  return new Promise((resolve, reject) => {
    const self = fileURLToPath(import.meta.url);
    const child = spawn(process.execPath, [...process.execArgv, self, '--child-read', file], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`memory child exited with ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '') as MemoryReport);
      } catch (err) {
        reject(new Error(`memory child printed ${JSON.stringify(out)}`, { cause: err }));
      }
    });
  });
}

interface Row {
  readonly figure: string;
  readonly value: string;
  readonly reference: string;
  readonly ratio: number;
  readonly target: number;
}

function printTable(rows: readonly Row[]): void {
  const cells = [
    ['figure', 'Voxgate', 'reference', 'ratio', 'target', 'result'],
    ...rows.map((r) => [r.figure, r.value, r.reference, `${r.ratio.toFixed(2)}×`, `≤ ${r.target}×`, r.ratio <= r.target ? 'PASS' : 'MISS']),
  ];
  const widths = cells[0].map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  const line = (row: string[]): string => row.map((cell, c) => cell.padEnd(widths[c])).join('  ');
  console.log(line(cells[0]));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells.slice(1)) console.log(line(row));
}

async function main(): Promise<void> {
  const labels = await ensureInputs();
  const ms = (t: number): string => `${t.toFixed(0)} ms`;

  // 1. Read time against `gzip -dc`.
  const gunzipMs = await best(RUNS, () => timeCommand('gzip', ['-dc', CT_FILE]));
  await timeRead(CT_FILE); // warm-up: module code compiled, file in the page cache
  const readMs = await best(RUNS, () => timeRead(CT_FILE));

  // 2. Peak memory of one read in a fresh process.
  const memory = await measureReadMemory(CT_FILE);
  const grownMiB = (memory.peakKiB - memory.baselineKiB) / 1024;
  const decodedMiB = memory.decodedBytes / MiB;

  // 3. Write of a label map against `gzip -1 -c`.
  const labelVolume = createVolume(DIMS, labels, AFFINE);
  const gzipMs = await best(RUNS, () => timeCommand('gzip', ['-1', '-c', LABELS_RAW]));
  let written = 0;
  const writeMs = await best(RUNS, async () => {
    const started = performance.now();
    written = (await encodeNifti(labelVolume)).length;
    return performance.now() - started;
  });

  console.log(`CT ${DIMS.join('×')} int16 .nii.gz: ${CT_FILE}`);
  console.log(`label map ${DIMS.join('×')} uint8 → ${(written / MiB).toFixed(1)} MiB .nii.gz; best of ${RUNS}, node ${process.version}, ${os.cpus().length} CPUs`);
  printTable([
    { figure: 'read CT .nii.gz (stream)', value: ms(readMs), reference: `gzip -dc ${ms(gunzipMs)}`, ratio: readMs / gunzipMs, target: 1.3 },
    {
      figure: 'read peak RSS growth', value: `${grownMiB.toFixed(0)} MiB`, reference: `decoded ${decodedMiB.toFixed(0)} MiB`,
      ratio: grownMiB / decodedMiB, target: 1.6,
    },
    { figure: 'write label .nii.gz', value: ms(writeMs), reference: `gzip -1 -c ${ms(gzipMs)}`, ratio: writeMs / gzipMs, target: 1.5 },
  ]);
}

if (process.argv[2] === '--child-read') {
  await childRead(process.argv[3]);
} else {
  await main();
}
