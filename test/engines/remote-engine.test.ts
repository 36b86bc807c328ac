/**
 * The remote engine (issue 10) against real servers on loopback: a second Voxgate with the classic
 * engine (multipart and URL uploads, the answer compared voxel for voxel with the classic engine run
 * here), and a faulty server that answers broken zips, wrong shapes and grids, 4xx, 503s and slowly.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEngine } from '../../src/engines/index.js';
import type { Engine, SegmentationPrompts } from '../../src/engines/engine.js';
import { CircuitBreaker } from '../../src/engines/remote/circuit-breaker.js';
import { RemoteEngine, nimPrompts } from '../../src/engines/remote/remote-engine.js';
import { RemoteInputs } from '../../src/engines/remote/remote-inputs.js';
import { isVoxgateError } from '../../src/errors.js';
import { createZip, readZip } from '../../src/pipeline/zip.js';
import type { Affine } from '../../src/volume/affine.js';
import { encodeNifti } from '../../src/volume/nifti.js';
import { readVolume } from '../../src/volume/volume-file.js';
import type { Volume } from '../../src/volume/volume.js';
import { createLabelVolume, createVolume } from '../../src/volume/volume.js';
import { chestPhantom, inSphere, startVoxgate } from '../helpers/nim-server.js';

/** Oblique, anisotropic, off-origin: a grid that a lazy round trip would not keep. */
const OBLIQUE: Affine = [-1.2990381, 0.375, 0, 60.5, -0.75, -0.649519, 0, 30.25, 0, 0, 2.5, -120.75, 0, 0, 0, 1];

function copyOf<T extends Volume>(volume: T): T {
  return { ...volume, data: volume.data.slice() } as T;
}

describe('remote engine against a second Voxgate on loopback', () => {
  test('class prompts, clicks with a negative point, the front API, URL uploads and readiness all match the classic engine on the input grid', async (t) => {
    const classic = await createEngine('classic');
    const back = await startVoxgate(classic, { allowHost: ['127.0.0.1'] });
    const inputs = new RemoteInputs();
    const remote = await RemoteEngine.start({ url: `${back.url}/v1`, pollMs: 100, retryBaseMs: 10 });
    const front = await startVoxgate(remote, {}, { remoteInputs: inputs });
    let backClosed = false;
    t.after(async () => {
      await front.close();
      await remote.close();
      if (!backClosed) await back.close();
      await classic.close();
    });

    const phantom = chestPhantom([64, 56, 40], OBLIQUE);
    // What the remote says it can do is the back's engine.
    assert.deepEqual(remote.info.supportedClasses, classic.info.supportedClasses);
    assert.equal(remote.info.pointPrompts, true);
    assert.equal(remote.isReady(), true);
    assert.match(remote.info.description, /^forwards each request to VISTA3D \(Voxgate\) with its classic engine at http:\/\/127\.0\.0\.1:\d+/);

    const cases: SegmentationPrompts[] = [
      { classes: [20, 21, 57] },
      { classes: [], points: { label: 140, points: [[10, 28, 8], [11, 28, 9], [40, 28, 20]], pointLabels: [1, 1, 0] } },
      { classes: [], points: { label: 3, points: [[10, 28, 8]], pointLabels: [1] } },
    ];
    for (const prompts of cases) {
      const direct = await classic.segment(copyOf(phantom), prompts);
      const viaRemote = await remote.segment(copyOf(phantom), prompts);
      assert.deepEqual(viaRemote.dims, phantom.dims);
      assert.deepEqual(viaRemote.affine, phantom.affine, 'the answer lies on the input grid exactly');
      assert.ok(Buffer.from(viaRemote.data.buffer, viaRemote.data.byteOffset, viaRemote.data.byteLength).equals(Buffer.from(direct.data.buffer, direct.data.byteOffset, direct.data.byteLength)), `same voxels as the classic engine for ${JSON.stringify(prompts)}`);
    }
    // The clicked sphere, written with the zero-shot index the front asked for.
    const sphere = await remote.segment(copyOf(phantom), cases[1]!);
    assert.equal(sphere.data[10 + 64 * (28 + 56 * 8)], 140);
    assert.ok(inSphere(10, 28, 8));

    // Through the front's own NIM API (multipart upload in, .nii.gz out): what a client sees.
    const form = new FormData();
    form.append('image', new Blob([await encodeNifti(phantom)]), 'chest.nii.gz');
    form.append('request', JSON.stringify({ prompts: { classes: ['lung', 'airway'] } }));
    const response = await fetch(`${front.url}/v1/vista3d/inference`, { method: 'POST', body: form });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(response.headers.get('x-voxgate-engine'), 'remote');
    const [entry] = readZip(new Uint8Array(await response.arrayBuffer()));
    assert.equal(entry!.name, 'chest_seg.nii.gz');
    const answered = await readVolume(entry!.data);
    const expected = await classic.segment(copyOf(phantom), { classes: [20, 132] });
    assert.deepEqual(answered.dims, phantom.dims);
    for (let n = 0; n < 12; n++) assert.ok(Math.abs(answered.affine[n]! - phantom.affine[n]!) < 1e-5, `affine[${n}]`);
    assert.deepEqual(Array.from(answered.data), Array.from(expected.data));
    const info = (await (await fetch(`${front.url}/v1/vista3d/info`)).json()) as { engine: { name: string; supported_classes: number[] } };
    assert.deepEqual(info.engine, { ...info.engine, name: 'remote', supported_classes: [...classic.info.supportedClasses] });

    // URL upload, as a NIM needs: the back fetches the image the front lends, then it is gone.
    const byUrl = await RemoteEngine.start({ url: back.url, upload: 'url', publicUrl: front.url, inputs, pollMs: 60_000 });
    t.after(() => byUrl.close());
    const lentPaths: string[] = [];
    const lend = inputs.lend.bind(inputs);
    inputs.lend = (name, bytes) => {
      const lent = lend(name, bytes);
      lentPaths.push(lent.path);
      return lent;
    };
    const viaUrl = await byUrl.segment(copyOf(phantom), { classes: [20] });
    const direct = await classic.segment(copyOf(phantom), { classes: [20] });
    assert.deepEqual(Array.from(viaUrl.data), Array.from(direct.data));
    assert.equal(lentPaths.length, 1);
    assert.match(lentPaths[0]!, /^\/v1\/remote-inputs\/[A-Za-z0-9_-]{32}\/image\.nii\.gz$/);
    assert.equal(inputs.size, 0, 'released once the request ended');
    assert.equal((await fetch(`${front.url}${lentPaths[0]}`)).status, 404);

    // Readiness follows the remote's: the back stops, the front's /v1/health/ready says so.
    assert.equal((await fetch(`${front.url}/v1/health/ready`)).status, 200);
    await back.close();
    backClosed = true;
    for (let waited = 0; remote.isReady() && waited < 3000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    const ready = await fetch(`${front.url}/v1/health/ready`);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { status: 'not ready' });
  });
});

type Mode = 'ok' | 'broken-zip' | 'empty-zip' | 'wrong-shape' | 'wrong-grid' | 'not-labels' | '400' | '401' | '503' | 'slow';

/** A loopback server that answers the NIM routes as told: `modes` are used one per inference request, the last one repeats. */
async function startFaultyRemote(answerFor: Volume) {
  const state = { modes: ['ok'] as Mode[], inferences: 0, ready: true, bodies: [] as string[] };
  const ok = createZip([{ name: 'image_seg.nii.gz', data: await encodeNifti(createLabelVolume(answerFor, new Uint8Array(answerFor.data.length).fill(7))) }]);
  const answers: Partial<Record<Mode, Buffer>> = {
    ok,
    'broken-zip': Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(40, 0x55)]),
    'empty-zip': createZip([{ name: 'readme.txt', data: Buffer.from('nothing here') }]),
    'wrong-shape': createZip([{ name: 'image_seg.nii.gz', data: await encodeNifti(createVolume([4, 4, 4], new Uint8Array(64), answerFor.affine)) }]),
    'wrong-grid': createZip([{ name: 'image_seg.nii.gz', data: await encodeNifti(createVolume(answerFor.dims, new Uint8Array(answerFor.data.length), answerFor.affine.map((v, n) => (n === 3 ? v + 2 : v)))) }]),
    'not-labels': createZip([{ name: 'image_seg.nii.gz', data: await encodeNifti(createVolume(answerFor.dims, new Float32Array(answerFor.data.length).fill(0.5), answerFor.affine)) }]),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/health/ready') return void res.writeHead(state.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: state.ready ? 'ready' : 'not ready' }));
      if (req.url === '/v1/vista3d/info') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'VISTA3D', version: '1.0.0', labels: { 0: 'background', 1: 'liver' } }));
      if (req.url === '/v1/license') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ license: 'NVIDIA AI Foundation Models Community License' }));
      if (req.url !== '/v1/vista3d/inference' || req.method !== 'POST') return void res.writeHead(404).end();
      const mode = state.modes[Math.min(state.inferences, state.modes.length - 1)]!;
      state.inferences++;
      state.bodies.push(Buffer.concat(chunks).toString('latin1'));
      if (mode === '400') return void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error_msg: [{ msg: 'Class "brain" is not supported.' }] }));
      if (mode === '401') return void res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: 'Not authenticated' }));
      if (mode === '503') return void res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error_msg: [{ msg: 'Model is loading' }] }));
      if (mode === 'slow') return void setTimeout(() => res.writeHead(200).end(ok), 1500);
      res.writeHead(200, { 'content-type': 'application/zip' }).end(answers[mode]);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    state,
    url,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('remote engine against a faulty server on loopback', () => {
  const image = createVolume([8, 9, 10], new Int16Array(720).fill(40), OBLIQUE);
  const prompts: SegmentationPrompts = { classes: [1, 3] };

  async function setup(t: { after(fn: () => Promise<void>): void }, options: Partial<Parameters<typeof RemoteEngine.start>[0]> = {}) {
    const remote = await startFaultyRemote(image);
    const engine = await RemoteEngine.start({ url: remote.url, retryBaseMs: 5, pollMs: 50, timeoutMs: 5000, ...options });
    t.after(async () => {
      await engine.close();
      await remote.close();
    });
    return { remote, engine };
  }

  async function rejects(engine: Engine, code: string, message: RegExp | string): Promise<Error> {
    let caught: unknown;
    await engine.segment(copyOf(image), prompts).catch((err: unknown) => (caught = err));
    assert.ok(isVoxgateError(caught), `expected ${code}, got ${String(caught)}`);
    assert.equal(caught.code, code);
    if (typeof message === 'string') assert.equal(caught.message.replace(/127\.0\.0\.1:\d+/, 'HOST'), message);
    else assert.match(caught.message, message);
    return caught;
  }

  test('a NIM answer is a label map on the input grid; a NIM gets names, its own schema, and VISTA3D everything', async (t) => {
    const { remote, engine } = await setup(t, { publicUrl: 'http://127.0.0.1:1', upload: 'multipart' });
    const labels = await engine.segment(copyOf(image), prompts);
    assert.deepEqual(labels.affine, image.affine);
    assert.equal(labels.data.length, 720);
    assert.ok(labels.data.every((v) => v === 7));
    assert.match(remote.state.bodies[0]!, /\{"prompts":\{"classes":\["liver","spleen"\]\}\}/);
    assert.equal(engine.info.supportedClasses.length, 117);
    assert.match(engine.info.description, /VISTA3D at http:\/\/127\.0\.0\.1:\d+/);
    assert.equal(engine.info.license, 'NVIDIA AI Foundation Models Community License');
    assert.deepEqual(nimPrompts({ classes: [], points: { label: 140, points: [[1, 2, 3]], pointLabels: [1] } }), { points: { 140: [[1, 2, 3]] } });
    assert.deepEqual(nimPrompts({ classes: [], points: { label: 6, points: [[1, 2, 3], [4, 5, 6]], pointLabels: [1, 0] } }), {
      points: { aorta: [[1, 2, 3], [4, 5, 6]] },
      point_labels: { aorta: [1, 0] },
    });
  });

  test('broken answers are refused with what was wrong, without retrying', async (t) => {
    const { remote, engine } = await setup(t);
    remote.state.modes = ['broken-zip'];
    await rejects(engine, 'VXG_ERR_REMOTE_RESPONSE', /^The remote engine at http:\/\/127\.0\.0\.1:\d+ answered a broken zip: /);
    assert.equal(remote.state.inferences, 1);
    remote.state.modes = ['empty-zip'];
    await rejects(engine, 'VXG_ERR_REMOTE_RESPONSE', 'The remote engine at http://HOST answered a zip with 0 label files (it holds readme.txt); expected one .nii.gz, .nii or .nrrd.');
    remote.state.modes = ['wrong-shape'];
    await rejects(engine, 'VXG_ERR_REMOTE_RESPONSE', 'The remote engine at http://HOST answered a label map of 4×4×4 voxels for an image of 8×9×10.');
    remote.state.modes = ['wrong-grid'];
    await rejects(engine, 'VXG_ERR_REMOTE_RESPONSE', 'The remote engine at http://HOST answered a label map on another grid: its affine differs from the image\'s by up to 2.00 mm.');
    remote.state.modes = ['not-labels'];
    const err = await rejects(engine, 'VXG_ERR_REMOTE_RESPONSE', 'The remote engine at http://HOST answered a label map with the value 0.5, which is not a label index (0–255).');
    assert.equal((err as { statusCode?: number }).statusCode, 502);
    assert.equal(remote.state.inferences, 5);
  });

  test('503s are retried with backoff; a refusal (400, 401) is not, and quotes the remote', async (t) => {
    const { remote, engine } = await setup(t);
    remote.state.modes = ['503', '503', 'ok'];
    const labels = await engine.segment(copyOf(image), prompts);
    assert.equal(labels.data[0], 7);
    assert.equal(remote.state.inferences, 3);

    remote.state.inferences = 0;
    remote.state.modes = ['503'];
    const err = await rejects(engine, 'VXG_ERR_REMOTE_UNAVAILABLE', 'The remote engine at http://HOST answered HTTP 503: Model is loading (after 3 tries)');
    assert.equal((err as { statusCode?: number }).statusCode, 503);
    assert.equal(remote.state.inferences, 3);

    remote.state.inferences = 0;
    remote.state.modes = ['400'];
    const refused = await rejects(engine, 'VXG_ERR_REMOTE_REJECTED', 'The remote engine at http://HOST refused the request (HTTP 400): Class "brain" is not supported.');
    assert.equal((refused as { statusCode?: number }).statusCode, 400);
    remote.state.modes = ['401'];
    await rejects(engine, 'VXG_ERR_REMOTE_REJECTED', /refused this server's credentials \(HTTP 401\): set remoteToken \(VOXGATE_REMOTE_TOKEN\)\. It said: Not authenticated$/);
    assert.equal(remote.state.inferences, 2);
  });

  test('a slow answer times out per attempt; an unreachable server says so', async (t) => {
    const { remote, engine } = await setup(t, { timeoutMs: 300, attempts: 2 });
    remote.state.modes = ['slow'];
    await rejects(engine, 'VXG_ERR_REMOTE_UNAVAILABLE', 'The remote engine at http://HOST did not answer within 300 ms. (after 2 tries)');
    assert.equal(remote.state.inferences, 2);

    const gone = await startFaultyRemote(image);
    await gone.close();
    const unreachable = await RemoteEngine.start({ url: gone.url, attempts: 1, pollMs: 60_000 });
    t.after(() => unreachable.close());
    assert.equal(unreachable.isReady(), false);
    assert.match(unreachable.info.description, /\(not reached yet\)/);
    await rejects(unreachable, 'VXG_ERR_REMOTE_UNAVAILABLE', 'The remote engine at http://HOST could not be reached (ECONNREFUSED).');
  });

  test('the circuit opens after failures in a row (refusing at once, not ready), and a trial after the cooldown closes it', async (t) => {
    const { remote, engine } = await setup(t, { attempts: 1, breaker: { threshold: 2, cooldownMs: 400 }, pollMs: 60_000 });
    remote.state.modes = ['503'];
    await rejects(engine, 'VXG_ERR_REMOTE_UNAVAILABLE', /answered HTTP 503/);
    assert.equal(engine.isReady(), true);
    await rejects(engine, 'VXG_ERR_REMOTE_UNAVAILABLE', /answered HTTP 503/);
    assert.equal(engine.isReady(), false, 'open circuit: not ready');
    await rejects(engine, 'VXG_ERR_REMOTE_UNAVAILABLE', /^The remote engine at http:\/\/127\.0\.0\.1:\d+ failed 2 requests in a row \(last: .*HTTP 503: Model is loading\); requests are refused for 1 s more before it is tried again\.$/);
    assert.equal(remote.state.inferences, 2, 'refused without asking the remote');
    await new Promise((r) => setTimeout(r, 450));
    remote.state.modes = ['ok'];
    assert.equal((await engine.segment(copyOf(image), prompts)).data[0], 7);
    assert.equal(engine.isReady(), true);
  });

  test('readiness follows the remote /v1/health/ready', async (t) => {
    const { remote, engine } = await setup(t);
    assert.equal(engine.isReady(), true);
    remote.state.ready = false;
    for (let waited = 0; engine.isReady() && waited < 2000; waited += 25) await new Promise((r) => setTimeout(r, 25));
    assert.equal(engine.isReady(), false);
    remote.state.ready = true;
    for (let waited = 0; !engine.isReady() && waited < 2000; waited += 25) await new Promise((r) => setTimeout(r, 25));
    assert.equal(engine.isReady(), true);
  });

  test('createEngine("remote") needs a URL; url uploads need a public URL', async () => {
    await assert.rejects(createEngine('remote'), (err) => isVoxgateError(err, 'VXG_ERR_CONFIG_INVALID') && /--remote-url URL/.test(err.message));
    await assert.rejects(RemoteEngine.start({ url: 'http://127.0.0.1:1', upload: 'url' }), (err) => isVoxgateError(err, 'VXG_ERR_CONFIG_INVALID') && /publicUrl/.test(err.message));
  });
});

describe('circuit breaker', () => {
  test('closed → open after the threshold → half-open after the cooldown lets one trial through', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ threshold: 3, cooldownMs: 1000, now: () => now });
    assert.equal(breaker.state, 'closed');
    breaker.failed('a');
    breaker.failed('b');
    assert.equal(breaker.tryAcquire(), true);
    breaker.succeeded();
    assert.equal(breaker.consecutiveFailures, 0, 'a success resets the count');
    for (const m of ['c', 'd', 'e']) breaker.failed(m);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.tryAcquire(), false);
    now = 999;
    assert.equal(breaker.retryInMs, 1);
    now = 1000;
    assert.equal(breaker.state, 'half-open');
    assert.equal(breaker.tryAcquire(), true, 'the trial');
    assert.equal(breaker.tryAcquire(), false, 'only one trial at a time');
    breaker.failed('f');
    assert.equal(breaker.state, 'open', 'a failed trial reopens at once');
    assert.equal(breaker.lastError, 'f');
    now = 2000;
    assert.equal(breaker.tryAcquire(), true);
    breaker.succeeded();
    assert.equal(breaker.state, 'closed');
  });
});
