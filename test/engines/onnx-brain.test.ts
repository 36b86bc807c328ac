/**
 * A real trained model as an onnx package: brainchop's MeshNet grey/white-matter model
 * (../shared/models/brainchop-gwm-onnx, package models/brainchop-gwm) on its demo T1, through
 * `POST /v1/vista3d/inference` on a real server on loopback. SOURCE.md measured 518,540 white and
 * 735,212 grey matter voxels of 1 mm³ with the reference preprocessing.
 */
import assert from 'node:assert/strict';
import { createReadStream, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Engine } from '../../src/engines/engine.js';
import { createEngine } from '../../src/engines/index.js';
import { readZip } from '../../src/pipeline/zip.js';
import { determinant3 } from '../../src/volume/affine.js';
import { readNifti } from '../../src/volume/nifti.js';
import { readVolume } from '../../src/volume/volume-file.js';
import type { Volume } from '../../src/volume/volume.js';
import type { RunningServer } from '../helpers/nim-server.js';
import { startVoxgate, tempDir } from '../helpers/nim-server.js';

const PACKAGE = fileURLToPath(new URL('../../models/brainchop-gwm', import.meta.url));
const ONNX = new URL('../../../shared/models/brainchop-gwm-onnx/model.onnx', import.meta.url);
const T1 = fileURLToPath(new URL('../../../shared/models/brainchop-gwm-onnx/t1_crop.nii.gz', import.meta.url));
const missing = [fileURLToPath(ONNX), T1].filter((f) => !existsSync(f));
const skip = missing.length > 0 ? `the brainchop model files are not on this machine (${missing.join(', ')})` : false;

const WHITE = 133;
const GREY = 134;

describe('brainchop grey/white matter model through the NIM API', { skip }, () => {
  let engine: Engine;
  let server: RunningServer;
  let data: { path: string; remove(): Promise<void> };
  let t1: Volume;

  before(async () => {
    engine = await createEngine('onnx', { model: PACKAGE });
    data = await tempDir('voxgate-brain-');
    server = await startVoxgate(engine, { dataDir: data.path, allowPath: [dirname(T1)] });
    t1 = await readNifti(createReadStream(T1));
  });
  after(async () => {
    await server?.close();
    await engine?.close();
    await data?.remove();
  });

  test('info lists the model’s new labels by index and name', async () => {
    const info = (await (await fetch(`${server.url}/v1/vista3d/info`)).json()) as { labels: Record<string, string>; engine: { name: string; supported_classes: number[] } };
    assert.equal(info.engine.name, 'onnx');
    assert.deepEqual(info.engine.supported_classes, [WHITE, GREY]);
    assert.equal(info.labels[String(WHITE)], 'white matter');
    assert.equal(info.labels[String(GREY)], 'grey matter');
    assert.equal(info.labels['1'], 'liver');
  });

  test('segments 519 cm³ of white and 735 cm³ of grey matter (±2 %) on the T1’s own grid', async (t) => {
    const res = await fetch(`${server.url}/v1/vista3d/inference`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ image: T1, prompts: { classes: ['White Matter', 'grey matter'] } }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(res.headers.get('x-voxgate-engine'), 'onnx');
    const [entry] = readZip(new Uint8Array(await res.arrayBuffer()));
    assert.equal(entry.name, 't1_crop_seg.nii.gz');
    const labels = await readVolume(Buffer.from(entry.data));
    assert.deepEqual(labels.dims, t1.dims);
    assert.deepEqual(labels.affine, t1.affine);
    const counts = new Map<number, number>();
    for (const v of labels.data) counts.set(v, (counts.get(v) ?? 0) + 1);
    assert.deepEqual([...counts.keys()].sort((a, b) => a - b), [0, WHITE, GREY]);
    const cm3 = (label: number): number => ((counts.get(label) ?? 0) * Math.abs(determinant3(labels.affine))) / 1000;
    const white = cm3(WHITE);
    const grey = cm3(GREY);
    assert.ok(Math.abs(white - 519) / 519 <= 0.02, `white matter ${white.toFixed(1)} cm³`);
    assert.ok(Math.abs(grey - 735) / 735 <= 0.02, `grey matter ${grey.toFixed(1)} cm³`);
    t.diagnostic(`white matter ${white.toFixed(3)} cm³ (${counts.get(WHITE)} voxels), grey matter ${grey.toFixed(3)} cm³ (${counts.get(GREY)} voxels)`);
  });

  test('a class the model does not have is refused before the image is read', async () => {
    const res = await fetch(`${server.url}/v1/vista3d/inference`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ image: T1, prompts: { classes: ['liver'] } }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { code: string; error_msg: { msg: string }[] };
    assert.equal(body.code, 'VXG_ERR_PROMPT_CLASS_UNSUPPORTED');
    assert.match(body.error_msg[0].msg, /133 \(white matter\), 134 \(grey matter\)/);
  });
});
