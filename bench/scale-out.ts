/**
 * The job queue on PostgreSQL (issue 9): jobs per second with 1 and with 3 `voxgate worker`
 * processes, and the time from POST to the job's start (p50/p99), on a light pipeline: the fleet's
 * queue steps (test/helpers/queue-fleet.ts: one small GET from a loopback DICOMweb fake, no engine,
 * one POST back), so what is measured is the API, the store, the runner and the wake-ups.
 *
 * Per round: a fresh database, one `voxgate serve --no-worker`, N workers (jobConcurrency 1 each).
 * - burst: BURST jobs POSTed 8 at a time as fast as the server takes them; jobs/s = BURST / (last
 *   job stopped − first job created); POST→start includes the wait behind earlier jobs.
 * - the same burst (SLOW_BURST jobs) with an "infer" that waits SLOW_INFER_MS, standing for work
 *   done off this CPU (a GPU box): what more workers buy when the queue is not the bottleneck.
 * - paced: PACED jobs, one every PACE_MS, with workers idle: POST→start is the dispatch latency
 *   (LISTEN/NOTIFY wake-up, claim), not queueing.
 * Times come from the database clock (created/started/stopped columns). The machine's load matters
 * (PostgreSQL, the server and the workers share its CPUs): the CPU count and load average are printed.
 * Without Debian's postgresql the benchmark says so loudly and exits 0.
 * @module
 */
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { makeTempDir } from '../test/helpers/jobs.js';
import { ensurePostgres, startPostgres } from '../test/helpers/postgres.js';
import type { FleetProcess, QueueDicomweb } from '../test/helpers/queue-fleet.js';
import { startFleetServer, startFleetWorker, startQueueDicomweb, startTogether, stopFleetProcess } from '../test/helpers/queue-fleet.js';

const BURST = 120;
const PACED = 30;
const PACE_MS = 100;
/** A job whose "infer" waits this long stands for work done elsewhere (a GPU): what more workers buy. */
const SLOW_INFER_MS = 100;
const SLOW_BURST = 60;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function post(url: string, dicomweb: QueueDicomweb, id: string): Promise<void> {
  const response = await fetch(`${url}/api/inference`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      transactionID: id,
      priority: 128,
      inputMetadata: { details: { type: 'DICOM_UID', studies: [{ StudyInstanceUID: `1.2.826.0.1.3680043.10.1099.${id.replace(/\D/g, '')}` }] } },
      inputResources: [
        { interface: 'Algorithm', connectionDetails: { name: 'VISTA3D', id: 'vista3d' } },
        { interface: 'DICOMweb', connectionDetails: { operations: ['RETRIEVE'], uri: dicomweb.uri, authType: 'None' } },
      ],
      outputResources: [{ interface: 'DICOMweb', connectionDetails: { operations: ['STORE'], uri: dicomweb.uri, authType: 'None' } }],
    }),
  });
  if (response.status !== 200) throw new Error(`POST ${id}: ${response.status} ${await response.text()}`);
}

async function untilCompleted(db: pg.Client, prefix: string, count: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE state = 'Completed' AND transaction_id LIKE $1`, [`${prefix}%`]);
    if (Number(rows[0]!.n) === count) return;
    if (Date.now() > deadline) throw new Error(`only ${rows[0]!.n} of ${count} jobs completed`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Timings {
  created: number;
  started: number;
  stopped: number;
}

async function timings(db: pg.Client, prefix: string): Promise<Timings[]> {
  const { rows } = await db.query<{ created_ms: string; started_ms: string; stopped_ms: string; status: string }>(
    `SELECT created_ms, started_ms, stopped_ms, status FROM jobs WHERE transaction_id LIKE $1`,
    [`${prefix}%`],
  );
  const failed = rows.filter((r) => r.status !== 'Success').length;
  if (failed > 0) throw new Error(`${failed} jobs did not succeed`);
  return rows.map((r) => ({ created: Number(r.created_ms), started: Number(r.started_ms), stopped: Number(r.stopped_ms) }));
}

function latencies(rows: readonly Timings[]): string {
  const waits = rows.map((r) => r.started - r.created).sort((a, b) => a - b);
  return `POST→start p50 ${percentile(waits, 50)} ms, p99 ${percentile(waits, 99)} ms`;
}

async function round(workers: number, inferMs: number, database: Awaited<ReturnType<typeof startPostgres>>, dicomweb: QueueDicomweb): Promise<void> {
  const label = `${workers} worker(s), infer ${inferMs} ms`;
  const burstSize = inferMs > 0 ? SLOW_BURST : BURST;
  const db = await database.createDatabase();
  const dir = await makeTempDir('voxgate-bench-fleet-');
  const client = new pg.Client({ connectionString: db.url });
  const processes: FleetProcess[] = [];
  try {
    const settings = { databaseUrl: db.url, dataDir: path.join(dir.path, 'data') };
    const server = await startFleetServer(settings);
    processes.push(server);
    await startTogether(processes, Array.from({ length: workers }, () => () => startFleetWorker(settings, inferMs)));
    await client.connect();
    // Warm-up: the first requests pay for connections and JIT.
    for (let n = 0; n < 5; n++) await post(server.url!, dicomweb, `warm${n}`);
    await untilCompleted(client, 'warm', 5);

    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < burstSize) await post(server.url!, dicomweb, `burst${next++}`);
      }),
    );
    await untilCompleted(client, 'burst', burstSize);
    const burst = await timings(client, 'burst');
    const span = Math.max(...burst.map((r) => r.stopped)) - Math.min(...burst.map((r) => r.created));
    console.log(`${label}, burst of ${burstSize}: ${((burstSize / span) * 1000).toFixed(1)} jobs/s (${span} ms); ${latencies(burst)}`);
    if (inferMs > 0) return;

    for (let n = 0; n < PACED; n++) {
      await post(server.url!, dicomweb, `paced${n}`);
      await new Promise((r) => setTimeout(r, PACE_MS));
    }
    await untilCompleted(client, 'paced', PACED);
    console.log(`${label}, paced (1 per ${PACE_MS} ms, workers idle): ${latencies(await timings(client, 'paced'))}`);
  } finally {
    await Promise.all(processes.map((p) => stopFleetProcess(p)));
    await client.end().catch(() => {});
    await db.drop();
    await dir.remove();
  }
}

const postgres = await ensurePostgres();
if (!postgres.ok) {
  console.error(`\n!!! bench/scale-out SKIPPED: PostgreSQL is not available (${postgres.reason}) !!!\n`);
} else {
  const database = await startPostgres();
  const dicomweb = await startQueueDicomweb();
  try {
    console.log(`${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    for (const inferMs of [0, SLOW_INFER_MS]) {
      await round(1, inferMs, database, dicomweb);
      await round(3, inferMs, database, dicomweb);
    }
    console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } finally {
    await dicomweb.close();
    await database.stop();
  }
}
