/**
 * C-STORE receive rate of Voxgate's DICOM node: DCMTK's `storescu` sends a 300-instance CT series
 * (512×512, uncompressed, ~157 MB; bench/fixtures/dicom-ct-series.ts) in one association to a
 * configured AE title of the node (each instance streamed to disk, then moved into its study
 * group), and the same into DCMTK's `storescp` (writing files too), in the same run. Target: the
 * node receives at ≥ 0.8× storescp's instances per second.
 *
 * For scale, the same into a bare dcmjs-dimse SCP that discards the bytes (fixtures/discarding-scp.ts):
 * the library's own floor, which bounds what the node can reach.
 *
 * Both with TCP_NODELAY=1 (DCMTK) / setNoDelay (Voxgate). Best of 3, interleaved, after one warm-up
 * of each; `sync` (untimed) before every run, so no run pays for writing back the one before. storescu, storescp and Node share the machine's CPUs: the load average is printed.
 * Without DCMTK it says so loudly and exits 0.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipelineTable } from '../src/jobs/pipelines.js';
import { SqliteJobStore } from '../src/jobs/sqlite-job-store.js';
import { DicomNode } from '../src/node/dicom-node.js';
import { NodeConfig } from '../src/node/node-config.js';
import { ensureDcmtk, runDcmtk, startStorescp, storescuArgs } from '../test/helpers/dcmtk.js';
import { freePort } from '../test/helpers/orthanc.js';
import { DICOM_CT_SLICES, ensureDicomCtSeries } from './fixtures/dicom-ct-series.js';
import { startDiscardingScp } from './fixtures/discarding-scp.js';

const RUNS = 3;
const TARGET = 0.8;

async function waitForEcho(port: number, calledAeTitle: string): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    if ((await runDcmtk('echoscu', ['-aet', 'BENCH', '-aec', calledAeTitle, '127.0.0.1', String(port)])).code === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing answers C-ECHO on port ${port}`);
}

/** User + system CPU time of a process so far (Linux /proc; 0 elsewhere). */
function storescpCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

async function timeStorescu(calledAeTitle: string, port: number, files: readonly string[]): Promise<number> {
  // Untimed: the previous run's dirty pages go to disk now, not during this run's writes.
  execFileSync('sync');
  const started = performance.now();
  const result = await runDcmtk('storescu', storescuArgs('BENCH', calledAeTitle, port, files), 300_000);
  const ms = performance.now() - started;
  if (result.code !== 0) throw new Error(`storescu to ${calledAeTitle} failed (exit ${result.code}): ${result.stderr.slice(-500)}`);
  return ms;
}

async function main(): Promise<void> {
  const dcmtk = await ensureDcmtk();
  if (!dcmtk.ok) {
    console.log(`\n*** SKIPPED bench/dicom-node.ts: ${dcmtk.reason} ***\n`);
    return;
  }
  const dir = ensureDicomCtSeries();
  const files = readdirSync(dir).filter((f) => !f.startsWith('.')).sort().map((f) => path.join(dir, f));
  if (files.length !== DICOM_CT_SLICES) throw new Error(`expected ${DICOM_CT_SLICES} files in ${dir}, found ${files.length}`);

  const work = path.join(os.tmpdir(), `voxgate-bench-node-${process.pid}`);
  const store = SqliteJobStore.open(path.join(work, 'data', 'jobs.sqlite'));
  const nodeConfig = await NodeConfig.load(store, pipelineTable());
  await nodeConfig.create('source', { name: 'bench', aeTitle: 'BENCH', hostIp: '127.0.0.1' });
  // One AE title per run (a new group folder each time); a timeout longer than the benchmark: only
  // receiving is measured, no job starts.
  for (let n = 0; n <= RUNS; n++) await nodeConfig.create('ae-title', { name: `bench${n}`, aeTitle: `VOXBENCH${n}`, timeout: 3600 });
  const node = await DicomNode.start({ aeTitle: 'VOXGATE', host: '127.0.0.1', port: 0, dataDir: path.join(work, 'data'), store, nodeConfig, rejectUnknownSources: true, maxAssociations: 25 });
  const storescpPort = await freePort();
  await mkdir(path.join(work, 'storescp'), { recursive: true });
  const storescp = startStorescp(storescpPort, path.join(work, 'storescp'));
  const floor = await startDiscardingScp();
  try {
    await waitForEcho(storescpPort, 'STORESCP');
    let run = 0;
    let voxgateCpuMs = 0;
    let voxgateSysMs = 0;
    const groupsDir = path.join(work, 'data', 'dicom-node', 'groups');
    const voxgate = async (): Promise<number> => {
      const cpu = process.cpuUsage();
      const ms = await timeStorescu(`VOXBENCH${run}`, node.port, files);
      const used = process.cpuUsage(cpu);
      voxgateCpuMs = (used.user + used.system) / 1000;
      voxgateSysMs = used.system / 1000;
      // Check the run's group, then remove it (untimed), as storescp's folder is emptied: both
      // receivers then write with the same amount of dirty data in the page cache.
      const groups = readdirSync(groupsDir);
      if (groups.length !== 1) throw new Error(`expected one group, found ${groups.length}`);
      const received = readdirSync(path.join(groupsDir, groups[0])).filter((f) => f.endsWith('.dcm')).length;
      if (received !== DICOM_CT_SLICES) throw new Error(`the group holds ${received} instances, expected ${DICOM_CT_SLICES}`);
      await rm(path.join(groupsDir, groups[0]), { recursive: true, force: true });
      return ms;
    };
    let referenceCpuMs = 0;
    const reference = async (): Promise<number> => {
      await rm(path.join(work, 'storescp'), { recursive: true, force: true });
      await mkdir(path.join(work, 'storescp'));
      const cpu = storescpCpuMs(storescp.pid);
      const ms = await timeStorescu('STORESCP', storescpPort, files);
      referenceCpuMs = storescpCpuMs(storescp.pid) - cpu;
      return ms;
    };
    await reference(); // warm-up: files in the page cache, both receivers' code paths hot
    await voxgate();
    let libraryCpuMs = 0;
    const library = async (): Promise<number> => {
      const cpu = process.cpuUsage();
      const ms = await timeStorescu('FLOOR', floor.port, files);
      const used = process.cpuUsage(cpu);
      libraryCpuMs = (used.user + used.system) / 1000;
      return ms;
    };
    await library();
    let voxgateMs = Infinity;
    let referenceMs = Infinity;
    let libraryMs = Infinity;
    for (run = 1; run <= RUNS; run++) {
      referenceMs = Math.min(referenceMs, await reference());
      voxgateMs = Math.min(voxgateMs, await voxgate());
      libraryMs = Math.min(libraryMs, await library());
    }

    const rate = (ms: number): number => DICOM_CT_SLICES / (ms / 1000);
    const perInstance = (cpuMs: number): string => `${((cpuMs / DICOM_CT_SLICES) * 1000).toFixed(0)} µs CPU/instance`;
    const ratio = rate(voxgateMs) / rate(referenceMs);
    console.log(`${DICOM_CT_SLICES} CT instances 512×512 (~157 MB) by storescu in one association; best of ${RUNS}, node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`);
    const rows = [
      ['figure', 'Voxgate', 'reference', 'ratio', 'target', 'result'],
      [
        'C-STORE receive → files',
        `${voxgateMs.toFixed(0)} ms (${rate(voxgateMs).toFixed(0)} inst/s)`,
        `DCMTK storescp ${referenceMs.toFixed(0)} ms (${rate(referenceMs).toFixed(0)} inst/s)`,
        `${ratio.toFixed(2)}×`,
        `≥ ${TARGET}×`,
        ratio >= TARGET ? 'PASS' : 'MISS',
      ],
      // Not the target: dcmjs-dimse alone, writing nothing (the library's share of Voxgate's time).
      ['(for scale)', '', `dcmjs-dimse, bytes discarded ${libraryMs.toFixed(0)} ms (${rate(libraryMs).toFixed(0)} inst/s)`, `${(rate(libraryMs) / rate(referenceMs)).toFixed(2)}×`, '', ''],
      // Not the target: the receivers' own CPU time in the last run (Voxgate: the whole process).
      [
        '(CPU, last run)',
        `${perInstance(voxgateCpuMs)} (${((voxgateSysMs / DICOM_CT_SLICES) * 1000).toFixed(0)} system)`,
        `storescp ${perInstance(referenceCpuMs)}; dcmjs-dimse ${perInstance(libraryCpuMs)}`,
        '',
        '',
        '',
      ],
    ];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
    const line = (row: string[]): string => row.map((cell, c) => cell.padEnd(widths[c])).join('  ');
    console.log(line(rows[0]));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const row of rows.slice(1)) console.log(line(row));
  } finally {
    storescp.kill();
    floor.server.close();
    await node.close();
    await store.close();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
