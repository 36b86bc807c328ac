/**
 * C-STORE receive rate of Voxgate's DICOM node: DCMTK's `storescu` sends a 300-instance CT series
 * (512×512, uncompressed, ~157 MB; bench/fixtures/dicom-ct-series.ts) in one association to a
 * configured AE title of the node (each instance streamed to disk, then moved into its study
 * group), and the same into DCMTK's `storescp` (writing files too), in the same run. Target: the
 * node receives at ≥ 0.8× storescp's instances per second.
 *
 * For scale, the same into SCPs that discard the bytes (fixtures/discarding-scp.ts): Voxgate's own
 * upper layer (scp-association.ts, what the node runs on: the floor that bounds it), and dcmjs-dimse
 * (what the node ran on before; its floor was 0.4–1.0× storescp on this machine, below the target).
 *
 * Both with TCP_NODELAY=1 (DCMTK) / setNoDelay (Voxgate). Best of 3, interleaved, after one warm-up
 * of each; `sync` (untimed) before every run, so no run pays for writing back the one before. The
 * Node receivers run in a process of their own (fixtures/node-receivers.ts), as storescp does: the
 * benchmark's spawns of `sync` and `storescu` fork its process, which cost a receiver inside it a
 * copy-on-write fault per page touched. storescu, storescp and Node share the machine's CPUs: the
 * load average is printed.
 * Without DCMTK it says so loudly and exits 0.
 * @module
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDcmtk, runDcmtk, startStorescp, storescuArgs } from '../test/helpers/dcmtk.js';
import { freePort } from '../test/helpers/orthanc.js';
import { DICOM_CT_SLICES, ensureDicomCtSeries } from './fixtures/dicom-ct-series.js';
import type { ReceiverPorts } from './fixtures/node-receivers.js';

const RUNS = 3;
const TARGET = 0.8;

async function waitForEcho(port: number, calledAeTitle: string): Promise<void> {
  for (let tries = 0; tries < 100; tries++) {
    if ((await runDcmtk('echoscu', ['-aet', 'BENCH', '-aec', calledAeTitle, '127.0.0.1', String(port)])).code === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing answers C-ECHO on port ${port}`);
}

/** CPU time of a process so far, all its threads (Linux /proc; 0 elsewhere). */
function processCpuMs(pid: number | undefined): { total: number; system: number } {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return { total: (Number(fields[11]) + Number(fields[12])) * 10, system: Number(fields[12]) * 10 };
  } catch {
    return { total: 0, system: 0 };
  }
}

/** The Node receivers in a process of their own (fixtures/node-receivers.ts says why). */
async function startReceivers(work: string, aeTitles: number): Promise<{ pid: number | undefined; ports: ReceiverPorts; stop(): Promise<void> }> {
  // process.execArgv carries `--import tsx`, so the child loads TypeScript the same way.
  const child = fork(fileURLToPath(new URL('./fixtures/node-receivers.ts', import.meta.url)), [work, String(aeTitles)], { execArgv: process.execArgv });
  const ports = await new Promise<ReceiverPorts>((resolve, reject) => {
    child.once('message', (message) => resolve(message as ReceiverPorts));
    child.once('exit', (code) => reject(new Error(`the receivers' process exited (${code}) before listening`)));
  });
  const stop = async (): Promise<void> => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.send('stop');
    await exited;
  };
  return { pid: child.pid, ports, stop };
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
  await mkdir(path.join(work, 'data'), { recursive: true });
  const receivers = await startReceivers(work, RUNS + 1);
  const storescpPort = await freePort();
  await mkdir(path.join(work, 'storescp'), { recursive: true });
  const storescp = startStorescp(storescpPort, path.join(work, 'storescp'));
  try {
    await waitForEcho(storescpPort, 'STORESCP');
    let run = 0;
    let voxgateCpuMs = 0;
    let voxgateSysMs = 0;
    const groupsDir = path.join(work, 'data', 'dicom-node', 'groups');
    const voxgate = async (): Promise<number> => {
      const cpu = processCpuMs(receivers.pid);
      const ms = await timeStorescu(`VOXBENCH${run}`, receivers.ports.node, files);
      const used = processCpuMs(receivers.pid);
      voxgateCpuMs = used.total - cpu.total;
      voxgateSysMs = used.system - cpu.system;
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
      const cpu = processCpuMs(storescp.pid).total;
      const ms = await timeStorescu('STORESCP', storescpPort, files);
      referenceCpuMs = processCpuMs(storescp.pid).total - cpu;
      return ms;
    };
    await reference(); // warm-up: files in the page cache, both receivers' code paths hot
    await voxgate();
    const floorCpuMs = { ours: 0, dcmjs: 0 };
    const discard = async (which: 'ours' | 'dcmjs'): Promise<number> => {
      const cpu = processCpuMs(receivers.pid).total;
      const ms = await timeStorescu('FLOOR', which === 'ours' ? receivers.ports.floor : receivers.ports.dcmjs, files);
      floorCpuMs[which] = processCpuMs(receivers.pid).total - cpu;
      return ms;
    };
    await discard('ours');
    await discard('dcmjs');
    let voxgateMs = Infinity;
    let referenceMs = Infinity;
    let floorMs = Infinity;
    let dcmjsMs = Infinity;
    for (run = 1; run <= RUNS; run++) {
      referenceMs = Math.min(referenceMs, await reference());
      voxgateMs = Math.min(voxgateMs, await voxgate());
      floorMs = Math.min(floorMs, await discard('ours'));
      dcmjsMs = Math.min(dcmjsMs, await discard('dcmjs'));
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
      // Not the target: the upper layers alone, writing nothing (the protocol's share of the time).
      ['(for scale)', '', `Voxgate's upper layer, bytes discarded ${floorMs.toFixed(0)} ms (${rate(floorMs).toFixed(0)} inst/s)`, `${(rate(floorMs) / rate(referenceMs)).toFixed(2)}×`, '', ''],
      ['(for scale)', '', `dcmjs-dimse, bytes discarded ${dcmjsMs.toFixed(0)} ms (${rate(dcmjsMs).toFixed(0)} inst/s)`, `${(rate(dcmjsMs) / rate(referenceMs)).toFixed(2)}×`, '', ''],
      // Not the target: the receivers' own CPU time in the last run (Node: the receivers' whole process).
      [
        '(CPU, last run)',
        `${perInstance(voxgateCpuMs)} (${((voxgateSysMs / DICOM_CT_SLICES) * 1000).toFixed(0)} system)`,
        `storescp ${perInstance(referenceCpuMs)}; floors: ours ${perInstance(floorCpuMs.ours)}, dcmjs-dimse ${perInstance(floorCpuMs.dcmjs)}`,
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
    await receivers.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
