/**
 * The behaviour every JobStore must have, as one suite any implementation runs:
 * `jobStoreContract('sqlite', makeSqliteStores)` here, `jobStoreContract('postgres', …)` for the
 * PostgreSQL store (issue 9). Time is the test's: each store is opened with a clock the test moves,
 * so lease expiry is checked without waiting.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isVoxgateError } from '../../src/errors.js';
import { watchConfig } from '../../src/jobs/config-watcher.js';
import type { JobStore } from '../../src/jobs/job-store.js';
import type { StepStates } from '../../src/jobs/job.js';
import { sampleRequest } from '../helpers/jobs.js';

export interface ContractClock {
  now: number;
}

/** Opens stores on one database; a new `StoreFactory` per test gives an empty database. */
export interface StoreFactory {
  /** A store on this factory's database (call it again for a second process, or after close for a restart). */
  open(clock: ContractClock): Promise<JobStore>;
  /** Removes the database. */
  cleanup(): Promise<void>;
}

const LEASE = 30_000;

function isCode(code: string) {
  return (err: unknown) => isVoxgateError(err) && err.code === code;
}

/** Registers the contract suite for one store implementation. */
export function jobStoreContract(name: string, makeFactory: () => Promise<StoreFactory>): void {
  describe(`JobStore contract: ${name}`, () => {
    async function withStore(body: (store: JobStore, clock: ContractClock, factory: StoreFactory) => Promise<void>): Promise<void> {
      const factory = await makeFactory();
      const clock = { now: Date.UTC(2025, 0, 1) };
      const store = await factory.open(clock);
      try {
        await body(store, clock, factory);
      } finally {
        await store.close();
        await factory.cleanup();
      }
    }

    test('create stores the job Queued with its request, found by jobId and by transactionId', () =>
      withStore(async (store, clock) => {
        const request = sampleRequest({ priority: 200 });
        const jobId = randomUUID();
        const created = await store.create({ jobId, request });
        assert.equal(created.state, 'Queued');
        assert.equal(created.status, 'Unknown');
        assert.equal(created.step, 'retrieve');
        assert.equal(created.progress, 0);
        assert.equal(created.priority, 200);
        assert.equal(created.claims, 0);
        assert.equal(created.created.getTime(), clock.now);
        assert.equal(created.started, undefined);
        assert.deepEqual(created.request, request);
        assert.deepEqual(await store.get(jobId), created);
        assert.deepEqual(await store.getByTransactionId(request.transactionId), created);
        assert.equal(await store.get(randomUUID()), undefined);
        assert.equal(await store.getByTransactionId('nobody'), undefined);
      }));

    test('a second job with the same transactionId is refused with VXG_ERR_JOB_DUPLICATE and changes nothing', () =>
      withStore(async (store) => {
        const request = sampleRequest();
        const first = await store.create({ jobId: randomUUID(), request });
        await assert.rejects(
          store.create({ jobId: randomUUID(), request: { ...request, priority: 255 } }),
          (err: unknown) => isCode('VXG_ERR_JOB_DUPLICATE')(err) && (err as Error).message === 'An existing request with same transaction ID already exists.',
        );
        assert.deepEqual(await store.getByTransactionId(request.transactionId), first);
        assert.equal((await store.list()).length, 1);
      }));

    test('claim takes the highest priority first, then arrival order, and nothing twice', () =>
      withStore(async (store, clock) => {
        const priorities = [128, 255, 0, 255, 129, 128];
        const ids: string[] = [];
        for (const priority of priorities) {
          const jobId = randomUUID();
          ids.push(jobId);
          await store.create({ jobId, request: sampleRequest({ priority }) });
          clock.now += 1;
        }
        const order: string[] = [];
        for (;;) {
          const job = await store.claim('worker-a', LEASE);
          if (!job) break;
          order.push(job.jobId);
        }
        assert.deepEqual(order, [ids[1], ids[3], ids[4], ids[0], ids[5], ids[2]]);
      }));

    test('a claimed job is InProcess, leased to its owner, started, and not claimable while the lease holds', () =>
      withStore(async (store, clock) => {
        const jobId = randomUUID();
        await store.create({ jobId, request: sampleRequest() });
        clock.now += 500;
        const job = await store.claim('worker-a', LEASE);
        assert.equal(job?.jobId, jobId);
        assert.equal(job.state, 'InProcess');
        assert.equal(job.claims, 1);
        assert.equal(job.started?.getTime(), clock.now);
        assert.deepEqual(job.lease, { owner: 'worker-a', expires: new Date(clock.now + LEASE) });
        clock.now += LEASE - 1;
        assert.equal(await store.claim('worker-b', LEASE), undefined);
      }));

    test('an expired lease lets another worker take the job over; the old owner can no longer write', () =>
      withStore(async (store, clock) => {
        const jobId = randomUUID();
        await store.create({ jobId, request: sampleRequest() });
        const first = await store.claim('worker-a', LEASE);
        const startedAt = first?.started?.getTime();
        clock.now += LEASE;
        const taken = await store.claim('worker-b', LEASE);
        assert.equal(taken?.jobId, jobId);
        assert.equal(taken.claims, 2);
        assert.equal(taken.lease?.owner, 'worker-b');
        assert.equal(taken.started?.getTime(), startedAt, 'started is the first start');
        assert.equal(await store.renew(jobId, 'worker-a', LEASE), false);
        await assert.rejects(store.update(jobId, 'worker-a', { progress: 50 }), isCode('VXG_ERR_JOB_LEASE_LOST'));
        await assert.rejects(store.saveStepState(jobId, 'worker-a', 'infer', { series: {} }), isCode('VXG_ERR_JOB_LEASE_LOST'));
        await assert.rejects(store.finish(jobId, 'worker-a', { status: 'Success', message: 'x' }), isCode('VXG_ERR_JOB_LEASE_LOST'));
        assert.equal((await store.update(jobId, 'worker-b', { progress: 10 })).progress, 10);
      }));

    test('renewing a lease (heartbeat) keeps the job from being taken over', () =>
      withStore(async (store, clock) => {
        const jobId = randomUUID();
        await store.create({ jobId, request: sampleRequest() });
        await store.claim('worker-a', LEASE);
        for (let beat = 0; beat < 5; beat++) {
          clock.now += LEASE / 2;
          assert.equal(await store.renew(jobId, 'worker-a', LEASE), true);
          assert.equal(await store.claim('worker-b', LEASE), undefined);
        }
        clock.now += LEASE;
        assert.equal((await store.claim('worker-b', LEASE))?.jobId, jobId);
      }));

    test('release gives a job back at once, keeping its step and state; only the owner may release', () =>
      withStore(async (store) => {
        const jobId = randomUUID();
        await store.create({ jobId, request: sampleRequest() });
        await store.claim('worker-a', LEASE);
        await store.update(jobId, 'worker-a', { step: 'infer', progress: 40 });
        assert.equal(await store.release(jobId, 'worker-b'), false);
        assert.equal(await store.claim('worker-b', LEASE), undefined);
        assert.equal(await store.release(jobId, 'worker-a'), true);
        const resumed = await store.claim('worker-b', LEASE);
        assert.equal(resumed?.jobId, jobId);
        assert.equal(resumed.state, 'InProcess');
        assert.equal(resumed.step, 'infer');
        assert.equal(resumed.progress, 40);
      }));

    test('update changes step, message, tries and results; progress never goes back', () =>
      withStore(async (store) => {
        const jobId = randomUUID();
        await store.create({ jobId, request: sampleRequest() });
        await store.claim('w', LEASE);
        await store.update(jobId, 'w', { progress: 35, message: 'Retrieving.' });
        const job = await store.update(jobId, 'w', { progress: 20, step: 'infer', tries: { retrieve: 2 } });
        assert.equal(job.progress, 35);
        assert.equal(job.message, 'Retrieving.');
        assert.equal(job.step, 'infer');
        assert.deepEqual(job.tries, { retrieve: 2 });
        const results = [{ name: 'a.seg.dcm', type: 'seg' as const, mediaType: 'application/dicom', size: 10, seriesInstanceUid: '1.2' }];
        assert.deepEqual((await store.update(jobId, 'w', { results })).results, results);
      }));

    test('step states are saved per step and survive a restart of the store', () =>
      withStore(async (store, clock, factory) => {
        const jobId = randomUUID();
        await store.create({ jobId, request: sampleRequest() });
        await store.claim('w', LEASE);
        const states: StepStates = {
          retrieve: { instances: { '1.2.3': '1.2.3.dcm' }, units: { 'series/1.2': ['1.2.3'] }, sourcesDone: [0], resources: { 'Patient/7': 'resources/1.json' } },
          infer: { series: { '1.2': { status: 'segmented', modality: 'CT', files: ['1.2.seg.dcm'] } } },
          export: { sent: { 0: ['1.2.seg.dcm'] }, warnings: ['partial'] },
        };
        await store.saveStepState(jobId, 'w', 'retrieve', states.retrieve);
        await store.saveStepState(jobId, 'w', 'infer', states.infer);
        await store.saveStepState(jobId, 'w', 'export', states.export);
        await store.update(jobId, 'w', { step: 'export', progress: 95, tries: { retrieve: 3, infer: 1, export: 1 } });
        await store.close();
        assert.equal(store.isOpen(), false);
        const reopened = await factory.open(clock);
        try {
          const job = await reopened.get(jobId);
          assert.deepEqual(job?.steps, states);
          assert.equal(job.step, 'export');
          assert.deepEqual(job.tries, { retrieve: 3, infer: 1, export: 1 });
          // The worker died with the lease: after it expires the job is resumed where it was.
          clock.now += LEASE;
          const resumed = await reopened.claim('w2', LEASE);
          assert.equal(resumed?.jobId, jobId);
          assert.equal(resumed.claims, 2);
          assert.deepEqual(resumed.steps, states);
        } finally {
          await reopened.close();
        }
      }));

    test('finish ends the job Completed (progress 100 on Success), drops the lease, and the job is never claimed again', () =>
      withStore(async (store, clock) => {
        const ok = randomUUID();
        const bad = randomUUID();
        await store.create({ jobId: ok, request: sampleRequest() });
        await store.create({ jobId: bad, request: sampleRequest() });
        await store.claim('w', LEASE);
        await store.claim('w', LEASE);
        await store.update(bad, 'w', { progress: 12 });
        clock.now += 1000;
        const done = await store.finish(ok, 'w', { status: 'Success', message: 'Completed.' });
        assert.equal(done.state, 'Completed');
        assert.equal(done.status, 'Success');
        assert.equal(done.step, 'done');
        assert.equal(done.progress, 100);
        assert.equal(done.message, 'Completed.');
        assert.equal(done.stopped?.getTime(), clock.now);
        assert.equal(done.lease, undefined);
        const failed = await store.finish(bad, 'w', { status: 'Fail', message: 'No CT.' });
        assert.equal(failed.status, 'Fail');
        assert.equal(failed.progress, 12);
        clock.now += 10 * LEASE;
        assert.equal(await store.claim('w2', LEASE), undefined);
        await assert.rejects(store.update(ok, 'w', { progress: 1 }), isCode('VXG_ERR_JOB_LEASE_LOST'));
        assert.equal(await store.release(ok, 'w'), false);
      }));

    test('list filters by state, newest first', () =>
      withStore(async (store) => {
        const ids = [randomUUID(), randomUUID(), randomUUID()];
        for (const jobId of ids) await store.create({ jobId, request: sampleRequest() });
        await store.claim('w', LEASE);
        assert.deepEqual((await store.list()).map((j) => j.jobId), [...ids].reverse());
        assert.deepEqual((await store.list({ states: ['InProcess'] })).map((j) => j.jobId), [ids[0]]);
        assert.deepEqual((await store.list({ states: ['Queued'] })).map((j) => j.jobId), [ids[2], ids[1]]);
        assert.equal((await store.list({ limit: 1 })).length, 1);
      }));

    test('workers claiming at once on separate connections never get the same job', () =>
      withStore(async (store, clock, factory) => {
        const others = await Promise.all([factory.open(clock), factory.open(clock), factory.open(clock)]);
        try {
          const ids = new Set<string>();
          for (let n = 0; n < 24; n++) {
            const jobId = randomUUID();
            ids.add(jobId);
            await store.create({ jobId, request: sampleRequest({ priority: n % 3 }) });
          }
          const stores = [store, ...others];
          const claimed = await Promise.all(
            stores.map(async (s, w) => {
              const mine: string[] = [];
              for (let job = await s.claim(`w${w}`, LEASE); job; job = await s.claim(`w${w}`, LEASE)) mine.push(job.jobId);
              return mine;
            }),
          );
          const all = claimed.flat();
          assert.equal(all.length, 24);
          assert.deepEqual(new Set(all), ids);
        } finally {
          await Promise.all(others.map((s) => s.close()));
        }
      }));

    test('node entries: create, list by kind and name, replace, delete; name and identity unique per kind; every change bumps the version once', () =>
      withStore(async (store, clock, factory) => {
        const pacs = { kind: 'source' as const, name: 'pacs', identity: 'PACS@10.0.0.5', body: { aeTitle: 'PACS', host: '10.0.0.5' } };
        const orthanc = { kind: 'source' as const, name: 'orthanc', identity: 'ORTHANC@10.0.0.6', body: { aeTitle: 'ORTHANC', host: '10.0.0.6' } };
        const self = { kind: 'ae-title' as const, name: 'seg', identity: 'VOXGATE_SEG', body: { aeTitle: 'VOXGATE_SEG', pipeline: 'vista3d' } };
        assert.equal(await store.configVersion(), 0);
        await store.createNodeEntry(pacs);
        await store.createNodeEntry(orthanc);
        await store.createNodeEntry(self);
        assert.equal(await store.configVersion(), 3);
        assert.deepEqual(await store.listNodeEntries('source'), [orthanc, pacs]);
        assert.deepEqual(await store.listNodeEntries('destination'), []);
        await assert.rejects(
          store.createNodeEntry({ ...pacs, identity: 'OTHER@1.2.3.4' }),
          (err: unknown) => isCode('VXG_ERR_NODE_CONFIG_DUPLICATE')(err) && (err as Error).message === 'A source named "pacs" already exists.',
        );
        await assert.rejects(
          store.createNodeEntry({ ...pacs, name: 'pacs2' }),
          (err: unknown) => isCode('VXG_ERR_NODE_CONFIG_DUPLICATE')(err) && (err as Error).message === 'Another source already has PACS@10.0.0.5.',
        );
        // The same name in another kind is another entry.
        await store.createNodeEntry({ ...pacs, kind: 'destination' });
        assert.equal(await store.configVersion(), 4, 'refused changes bump nothing');
        const moved = { ...pacs, identity: 'PACS@10.0.0.9', body: { aeTitle: 'PACS', host: '10.0.0.9' } };
        assert.equal(await store.replaceNodeEntry(moved), true);
        assert.equal(await store.replaceNodeEntry({ ...moved, name: 'nobody' }), false);
        await assert.rejects(store.replaceNodeEntry({ ...moved, identity: orthanc.identity }), isCode('VXG_ERR_NODE_CONFIG_DUPLICATE'));
        assert.equal(await store.deleteNodeEntry('source', 'orthanc'), true);
        assert.equal(await store.deleteNodeEntry('source', 'orthanc'), false);
        assert.equal(await store.configVersion(), 6);
        // Another process on the same database sees the same entries and version.
        const other = await factory.open(clock);
        try {
          assert.equal(await other.configVersion(), 6);
          assert.deepEqual(await other.listNodeEntries('source'), [moved]);
        } finally {
          await other.close();
        }
      }));

    test('countJobs counts each state', () =>
      withStore(async (store) => {
        assert.deepEqual(await store.countJobs(), { Queued: 0, InProcess: 0, Completed: 0 });
        for (let n = 0; n < 4; n++) await store.create({ jobId: randomUUID(), request: sampleRequest() });
        const first = await store.claim('w', LEASE);
        await store.claim('w', LEASE);
        await store.finish(first!.jobId, 'w', { status: 'Success', message: 'Done.' });
        assert.deepEqual(await store.countJobs(), { Queued: 2, InProcess: 1, Completed: 1 });
      }));

    test('watch hears a queued job and a released job; unsubscribing stops it', () =>
      withStore(async (store) => {
        const heard: string[] = [];
        const stopJobs = store.watch('jobs', (payload) => heard.push(`jobs:${payload}`));
        const settle = async (count: number): Promise<void> => {
          for (let waited = 0; heard.length < count && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
        };
        await settle(0);
        // PostgreSQL's LISTEN connection opens on the first watch: wait for it before changing anything.
        await new Promise((r) => setTimeout(r, 200));
        const jobId = randomUUID();
        await store.create({ jobId, request: sampleRequest() });
        await settle(1);
        await store.claim('w', LEASE);
        await store.release(jobId, 'w');
        await settle(2);
        assert.deepEqual(heard, [`jobs:${jobId}`, `jobs:${jobId}`]);
        stopJobs();
        await store.create({ jobId: randomUUID(), request: sampleRequest() });
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(heard.length, 2);
      }));

    test('watchConfig calls back once per new version, also for a change made through another connection', () =>
      withStore(async (store, clock, factory) => {
        const other = await factory.open(clock);
        const versions: number[] = [];
        const watch = watchConfig(store, (version) => void versions.push(version), { pollMs: 50 });
        try {
          await watch.check();
          assert.deepEqual(versions, [], 'the version at start is the loaded one');
          await other.createNodeEntry({ kind: 'destination', name: 'pacs', identity: 'PACS@10.0.0.5:104', body: { aeTitle: 'PACS' } });
          for (let waited = 0; versions.length < 1 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
          assert.deepEqual(versions, [1]);
          await store.replaceNodeEntry({ kind: 'destination', name: 'pacs', identity: 'PACS@10.0.0.5:104', body: { aeTitle: 'PACS', port: 104 } });
          for (let waited = 0; versions.length < 2 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
          await watch.check();
          assert.deepEqual(versions, [1, 2]);
        } finally {
          watch.stop();
          await other.close();
        }
      }));

    test('inference tasks: oldest first, leased, taken over after the lease, finished once by the owner, announced both ways', () =>
      withStore(async (store, clock) => {
        const heard: string[] = [];
        const unwatch = [store.watch('tasks', (id) => heard.push(`tasks:${id}`)), store.watch('task-ended', (id) => heard.push(`ended:${id}`))];
        await new Promise((r) => setTimeout(r, 200));
        const request = { input: 'chest.nii.gz', prompts: { classes: ['liver'] }, output: { extension: '.nii.gz' as const, dtype: 'uint8' as const } };
        await store.createTask('task-1', request);
        clock.now += 1;
        await store.createTask('task-2', { ...request, input: 'other.nii.gz' });
        assert.deepEqual(await store.getTask('task-1'), { taskId: 'task-1', state: 'Queued', request, outcome: undefined, claims: 0 });
        const first = await store.claimTask('worker-a', LEASE);
        assert.equal(first?.taskId, 'task-1');
        assert.equal(first.state, 'InProcess');
        assert.equal((await store.claimTask('worker-b', LEASE))?.taskId, 'task-2');
        assert.equal(await store.claimTask('worker-c', LEASE), undefined, 'both leased');
        assert.equal(await store.renewTask('task-1', 'worker-a', LEASE), true);
        clock.now += LEASE;
        assert.equal(await store.renewTask('task-2', 'worker-b', LEASE), true);
        // worker-a's lease on task-1 ran out: worker-c takes it over; worker-a can no longer end it.
        const taken = await store.claimTask('worker-c', LEASE);
        assert.equal(taken?.taskId, 'task-1');
        assert.equal(taken.claims, 2);
        assert.equal(await store.renewTask('task-1', 'worker-a', LEASE), false);
        const failure = { ok: false as const, worker: 'worker-a', code: 'VXG_ERR_ENGINE_FAILED', message: 'x' };
        await assert.rejects(store.finishTask('task-1', 'worker-a', failure), isCode('VXG_ERR_JOB_LEASE_LOST'));
        const outcome = {
          ok: true as const,
          worker: 'worker-c',
          fileName: 'chest_seg.nii.gz',
          stem: 'chest',
          engine: 'classic',
          timing: { fetch: 1, decode: 2, engine: 3, encode: 4 },
          zeroShot: {},
          labelNames: { 300: 'table' },
        };
        await store.finishTask('task-1', 'worker-c', outcome);
        await assert.rejects(store.finishTask('task-1', 'worker-c', outcome), isCode('VXG_ERR_JOB_LEASE_LOST'), 'ended once');
        assert.deepEqual(await store.getTask('task-1'), { taskId: 'task-1', state: 'Completed', request, outcome, claims: 2 });
        clock.now += 10 * LEASE;
        assert.equal((await store.claimTask('worker-d', LEASE))?.taskId, 'task-2', 'a completed task is never claimed again');
        await store.deleteTask('task-1');
        assert.equal(await store.getTask('task-1'), undefined);
        for (let waited = 0; heard.length < 3 && waited < 5000; waited += 20) await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(heard, ['tasks:task-1', 'tasks:task-2', 'ended:task-1']);
        for (const stop of unwatch) stop();
      }));
  });
}
