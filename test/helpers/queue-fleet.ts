/**
 * A fleet of real Voxgate processes on one PostgreSQL database, for tests and benchmarks about the
 * job queue alone (issue 9): `voxgate serve --no-worker` servers and `voxgate worker` workers as
 * child processes, jobs retrieved from and exported to a loopback DICOMweb fake.
 *
 * The workers run light step implementations ({@link queueSteps}) instead of the real DICOMweb
 * client and an engine: a retrieve that GETs one small object per study from the fake, an "infer"
 * that waits `inferMs` and copies it to a result file, an export that POSTs the result back. The
 * fake counts every GET and POST per study, which is what "each job exactly once" is checked on.
 * Everything else — the HTTP API, the store, the runner, leases, heartbeats, takeover — is the
 * product's own code.
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { sleep } from '../../src/jobs/retry.js';
import type { JobSteps } from '../../src/jobs/steps.js';
import { freePort } from './orthanc.js';

export interface QueueDicomweb {
  /** `http://127.0.0.1:<port>/dicom-web/` */
  readonly uri: string;
  /** StudyInstanceUID → GETs of its one instance. */
  readonly retrieved: Map<string, number>;
  /** StudyInstanceUID → result files POSTed (STOW) for it. */
  readonly stored: Map<string, number>;
  close(): Promise<void>;
}

/** The loopback DICOMweb fake: `GET studies/{uid}/instances/1` gives the UID's bytes; `POST studies` stores. */
export async function startQueueDicomweb(): Promise<QueueDicomweb> {
  const retrieved = new Map<string, number>();
  const stored = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const get = /^\/dicom-web\/studies\/([0-9.]+)\/instances\/1$/.exec(req.url ?? '');
      if (req.method === 'GET' && get) {
        const uid = get[1]!;
        retrieved.set(uid, (retrieved.get(uid) ?? 0) + 1);
        res.writeHead(200, { 'content-type': 'application/dicom' }).end(uid);
      } else if (req.method === 'POST' && req.url === '/dicom-web/studies') {
        const uid = Buffer.concat(chunks).toString('utf8');
        stored.set(uid, (stored.get(uid) ?? 0) + 1);
        res.writeHead(200, { 'content-type': 'application/dicom+json' }).end('{}');
      } else {
        res.writeHead(404).end();
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}/dicom-web/`,
    retrieved,
    stored,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The light steps the fleet's workers run (see the module comment). */
export function queueSteps(inferMs: number): JobSteps {
  return {
    retrievers: {
      DICOMweb: {
        async retrieve(source, inputs, context) {
          if (source.interface !== 'DICOMweb') return;
          for (const input of inputs) {
            if (input.type !== 'DICOM_UID') continue;
            for (const { studyInstanceUid } of input.studies) {
              const unit = `${source.uri}studies/${studyInstanceUid}`;
              if (context.hasUnit(unit)) continue;
              const response = await fetch(`${unit}/instances/1`, { signal: context.signal });
              if (!response.ok) throw new Error(`GET ${unit}: HTTP ${response.status}`);
              const sop = `${studyInstanceUid}.1`;
              await context.addInstance(sop, new Uint8Array(await response.arrayBuffer()));
              await context.completeUnit(unit, [sop]);
            }
          }
        },
      },
    },
    segmenter: {
      async segment(context) {
        const [file] = (await readdir(context.inputFolder)).sort();
        if (!file) throw new Error('nothing retrieved');
        const studyUid = await readFile(join(context.inputFolder, file), 'utf8');
        const series = `${studyUid}.2`;
        if (series in context.series) return;
        for (let waited = 0; waited < inferMs; waited += 50) {
          await sleep(Math.min(50, inferMs - waited), context.signal);
          context.progress((waited + 50) / inferMs);
        }
        const name = `${series}.seg.dcm`;
        await writeFile(join(context.resultsFolder, name), studyUid);
        await context.recordSeries(series, { status: 'segmented', modality: 'CT', files: [] }, [
          { name, type: 'seg', mediaType: 'application/dicom', size: Buffer.byteLength(studyUid), seriesInstanceUid: series },
        ]);
      },
    },
    exporters: {
      DICOMweb: {
        async export(destination, item, context) {
          if (destination.interface !== 'DICOMweb') return;
          const response = await fetch(`${destination.uri}studies`, {
            method: 'POST',
            headers: { 'content-type': 'application/dicom' },
            body: await readFile(item.path),
            signal: context.signal,
          });
          if (!response.ok) throw new Error(`STOW: HTTP ${response.status}`);
        },
      },
    },
  };
}

export interface FleetProcess {
  readonly role: 'serve' | 'worker';
  readonly child: ChildProcess;
  /** serve: `http://127.0.0.1:<port>` */
  readonly url?: string;
  /** stdout and stderr so far (failure messages). */
  output(): string;
  /** Resolves with the exit code or signal once it has exited. */
  readonly exited: Promise<number | string>;
}

export interface FleetSettings {
  readonly databaseUrl: string;
  readonly dataDir: string;
  /** Extra VOXGATE_* settings. */
  readonly env?: Record<string, string>;
}

const TSX = ['--import', 'tsx'];

function launch(role: 'serve' | 'worker', args: string[], env: NodeJS.ProcessEnv, url?: string): FleetProcess {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => void (output = (output + c.toString()).slice(-20_000)));
  child.stderr!.on('data', (c: Buffer) => void (output = (output + c.toString()).slice(-20_000)));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { role, child, url, output: () => output, exited };
}

function baseEnv(settings: FleetSettings): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('VOXGATE_')) env[k] = v;
  return { ...env, VOXGATE_DATABASE_URL: settings.databaseUrl, VOXGATE_DATA_DIR: settings.dataDir, VOXGATE_LOG_LEVEL: 'warn', ...settings.env };
}

/**
 * `voxgate serve --no-worker` on a free port; resolves once it answers `/v1/health/ready`. Its DICOM
 * node listens on a port of the system's choosing: several servers (and other test files running
 * beside this one) must never race for the default 11112.
 */
export async function startFleetServer(settings: FleetSettings): Promise<FleetProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [...TSX, 'src/cli.ts', 'serve', '--no-worker', '--host', '127.0.0.1', '--port', String(port), '--dicom-port', '0'];
  const server = launch('serve', args, baseEnv(settings), url);
  for (let waited = 0; waited < 60_000; waited += 100) {
    const ok = await fetch(`${url}/v1/health/ready`).then((r) => r.ok, () => false);
    if (ok) return server;
    if (server.child.exitCode !== null) break;
    await sleep(100);
  }
  server.child.kill('SIGKILL');
  throw new Error(`voxgate serve did not become ready:\n${server.output()}`);
}

/** `voxgate worker` with {@link queueSteps}; resolves once it logs that it started. */
export async function startFleetWorker(settings: FleetSettings, inferMs: number): Promise<FleetProcess> {
  const worker = launch('worker', [...TSX, 'test/helpers/fleet-worker.ts'], { ...baseEnv(settings), VOXGATE_LOG_LEVEL: 'info', FLEET_INFER_MS: String(inferMs) });
  for (let waited = 0; waited < 60_000; waited += 50) {
    if (worker.output().includes('worker started')) return worker;
    if (worker.child.exitCode !== null) break;
    await sleep(50);
  }
  worker.child.kill('SIGKILL');
  throw new Error(`voxgate worker did not start:\n${worker.output()}`);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopFleetProcess(process: FleetProcess, graceMs = 5000): Promise<void> {
  if (process.child.exitCode !== null || process.child.signalCode !== null) return;
  process.child.kill('SIGTERM');
  const timer = setTimeout(() => process.child.kill('SIGKILL'), graceMs);
  await process.exited;
  clearTimeout(timer);
}

/**
 * Starts several fleet processes at once and adds each that started to `into`, even when another
 * failed — so the caller's cleanup stops them all and no child outlives its test (a leaked child
 * keeps the test file's process, and so the whole run, alive).
 */
export async function startTogether(into: FleetProcess[], starts: readonly (() => Promise<FleetProcess>)[]): Promise<FleetProcess[]> {
  const settled = await Promise.allSettled(starts.map((start) => start()));
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  into.push(...started);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return started;
}
