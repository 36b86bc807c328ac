/**
 * Scale-out (issue 9): 2 `voxgate serve --no-worker` servers and 3 `voxgate worker` processes on one
 * real PostgreSQL (loopback, started for this file), 60 ACR jobs POSTed through both servers
 * against a loopback DICOMweb fake, one worker killed with SIGKILL while it holds a job. Every job
 * must end Completed/Success, each study retrieved and exported exactly once, and the jobs must
 * start in priority order. The workers run light steps (queue-fleet.ts): this test is about the
 * queue, not about segmentation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { encodeNifti } from '../../src/volume/nifti.js';
import { chestPhantom } from '../helpers/nim-server.js';
import { sleep } from '../../src/jobs/retry.js';
import { makeTempDir } from '../helpers/jobs.js';
import { ensurePostgres, startPostgres } from '../helpers/postgres.js';
import type { FleetProcess } from '../helpers/queue-fleet.js';
import { startFleetServer, startFleetWorker, startQueueDicomweb, startTogether, stopFleetProcess } from '../helpers/queue-fleet.js';

const postgres = await ensurePostgres();

const JOBS = 60;
const PRIORITIES = [10, 255, 128, 60, 200] as const;
const INFER_MS = 150;
const LEASE_MS = 2000;

const studyUid = (n: number): string => `1.2.826.0.1.3680043.10.1099.${n + 1}`;

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

test(
  `2 servers and 3 workers on one PostgreSQL: ${JOBS} jobs, a worker killed mid-job, every job exactly once, in priority order`,
  { skip: postgres.ok ? false : postgres.reason, timeout: 240_000 },
  async (t) => {
    const database = await startPostgres();
    const dicomweb = await startQueueDicomweb();
    const dir = await makeTempDir('voxgate-fleet-');
    const db = new pg.Client({ connectionString: database.url });
    const processes: FleetProcess[] = [];
    try {
      const images = join(dir.path, 'images');
      await mkdir(images);
      await writeFile(join(images, 'chest.nii.gz'), await encodeNifti(chestPhantom()));
      const settings = {
        databaseUrl: database.url,
        dataDir: join(dir.path, 'data'),
        // NIM requests too are handed to the workers.
        env: { VOXGATE_JOB_LEASE_MS: String(LEASE_MS), VOXGATE_NIM_INFERENCE: 'workers', VOXGATE_ALLOW_PATH: images },
      };
      const servers = await startTogether(processes, [() => startFleetServer(settings), () => startFleetServer(settings)]);
      await db.connect();

      // All jobs are queued before any worker runs, so their start order is the queue's choice.
      const jobIds: string[] = [];
      for (let n = 0; n < JOBS; n += 10) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, async (_, k) => {
            const i = n + k;
            const response = await fetch(`${servers[i % 2]!.url}/api/inference`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({
                transactionID: `fleet-${i}`,
                priority: PRIORITIES[i % PRIORITIES.length],
                inputMetadata: { details: { type: 'DICOM_UID', studies: [{ StudyInstanceUID: studyUid(i) }] } },
                inputResources: [
                  { interface: 'Algorithm', connectionDetails: { name: 'VISTA3D', id: 'vista3d' } },
                  { interface: 'DICOMweb', connectionDetails: { operations: ['RETRIEVE'], uri: dicomweb.uri, authType: 'None' } },
                ],
                outputResources: [{ interface: 'DICOMweb', connectionDetails: { operations: ['STORE'], uri: dicomweb.uri, authType: 'None' } }],
              }),
            });
            assert.equal(response.status, 200, await response.clone().text());
            return ((await response.json()) as { jobId: string }).jobId;
          }),
        );
        jobIds.push(...batch);
      }

      const workers = await startTogether(processes, [0, 1, 2].map(() => () => startFleetWorker(settings, INFER_MS)));

      // kill -9 a worker while it holds a job in its infer step (retrieved, not yet exported).
      const victim = workers[0]!;
      const victimJob = await until(
        'the victim worker to be inferring',
        async () => {
          const { rows } = await db.query<{ job_id: string }>(
            `SELECT job_id FROM jobs WHERE state = 'InProcess' AND step = 'infer' AND lease_owner LIKE '%/' || $1::text || '/%'`,
            [String(victim.child.pid)],
          );
          return rows[0]?.job_id;
        },
        60_000,
        10,
      );
      victim.child.kill('SIGKILL');
      assert.equal(await victim.exited, 'SIGKILL');

      await until(
        `all ${JOBS} jobs Completed`,
        async () => {
          const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM jobs WHERE state = 'Completed'`);
          return Number(rows[0]!.n) === JOBS ? true : undefined;
        },
        120_000,
        200,
      );

      // A synchronous NIM request to a server that does not run inference: a live worker answers it.
      const nim = await fetch(`${servers[1]!.url}/v1/vista3d/inference`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ image: join(images, 'chest.nii.gz'), prompts: { classes: ['lung'] } }),
      });
      assert.equal(nim.status, 200, await nim.clone().text());
      const ranBy = nim.headers.get('x-voxgate-worker') ?? '';
      assert.ok(
        workers.slice(1).some((w) => ranBy.includes(`/${w.child.pid}/`)),
        `run by a live worker process (${ranBy})`,
      );
      assert.equal(((await nim.json()) as { file: string }).file, 'chest_seg.nii.gz');

      // Every job, as the user sees it through either server: Completed/Success, progress 100.
      for (const [i, jobId] of jobIds.entries()) {
        const status = (await (await fetch(`${servers[(i + 1) % 2]!.url}/api/inference/status/${jobId}`)).json()) as {
          dicom: { state: string; status: string };
          platform: { progress: number };
          message: string;
        };
        assert.deepEqual(status.dicom, { state: 'Completed', status: 'Success' }, `job ${i}: ${status.message}`);
        assert.equal(status.platform.progress, 100);
      }
      // Exactly once at the PACS: each study fetched once and its result stored once.
      const expected = new Map(Array.from({ length: JOBS }, (_, i) => [studyUid(i), 1]));
      assert.deepEqual(new Map([...dicomweb.retrieved].sort()), new Map([...expected].sort()), 'each study retrieved exactly once');
      assert.deepEqual(new Map([...dicomweb.stored].sort()), new Map([...expected].sort()), 'each result exported exactly once');

      // The killed worker's job was taken over once, after its lease expired, and not fetched again.
      const { rows: taken } = await db.query<{ claims: number; lease_owner: string | null }>('SELECT claims, lease_owner FROM jobs WHERE job_id = $1', [victimJob]);
      assert.equal(taken[0]!.claims, 2);
      const { rows: claimCounts } = await db.query<{ claims: number; n: string }>('SELECT claims, count(*) AS n FROM jobs GROUP BY claims ORDER BY claims');
      assert.deepEqual(
        claimCounts.map((r) => [r.claims, Number(r.n)]),
        [
          [1, JOBS - 1],
          [2, 1],
        ],
      );

      // Priorities: ordered by first start, a job may start before a higher-priority one only by
      // the few claims running at the same instant (the other workers); never by more.
      const { rows: started } = await db.query<{ priority: number; started_ms: string }>('SELECT priority, started_ms FROM jobs ORDER BY started_ms, seq');
      const order = started.map((r) => r.priority);
      let worst = 0;
      for (let i = 0; i < order.length; i++) {
        const overtaken = order.slice(i + 1).filter((p) => p > order[i]!).length;
        worst = Math.max(worst, overtaken);
      }
      t.diagnostic(`start order by priority: ${order.join(' ')}; most higher-priority jobs started after one: ${worst}`);
      assert.ok(worst <= workers.length - 1, `start order by priority: ${order.join(' ')} (a job started ahead of ${worst} higher-priority ones)`);
      assert.deepEqual(order.slice(0, 6), [255, 255, 255, 255, 255, 255], `the first jobs started are the 255s: ${order.join(' ')}`);
    } catch (err) {
      for (const p of processes) console.error(`--- ${p.role} ${p.child.pid}:\n${p.output()}`);
      throw err;
    } finally {
      await Promise.all(processes.map((p) => stopFleetProcess(p)));
      await db.end().catch(() => {});
      await dicomweb.close();
      await database.stop();
      await dir.remove();
    }
  },
);
