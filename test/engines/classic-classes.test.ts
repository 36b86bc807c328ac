import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bodyMask } from '../../src/engines/classic/body-mask.js';
import { ClassicEngine, CLASSIC_ENGINE_INFO, segmentClassic } from '../../src/engines/classic/classic-engine.js';
import { isVoxgateError } from '../../src/errors.js';
import { createVolume } from '../../src/volume/volume.js';
import type { Phantom, PhantomOptions } from '../helpers/phantoms.js';
import { buildPhantom, countOf, dice, labelMask } from '../helpers/phantoms.js';

const ALL = [20, 21, 57, 132];

interface Outcome {
  lung: Uint8Array;
  bone: Uint8Array;
  airway: Uint8Array;
  trachea: Uint8Array;
}

function run(phantom: Phantom, classes: readonly number[] = ALL): Outcome {
  const labels = segmentClassic(phantom.volume, { classes }).data;
  const airway = new Uint8Array(labels.length);
  for (let p = 0; p < labels.length; p++) airway[p] = labels[p] === 57 || labels[p] === 132 ? 1 : 0;
  return { lung: labelMask(labels, 20), bone: labelMask(labels, 21), airway, trachea: labelMask(labels, 57) };
}

function assertDice(name: string, got: Uint8Array, want: Uint8Array, min: number): void {
  const d = dice(got, want);
  assert.ok(d >= min, `${name}: Dice ${d.toFixed(4)} < ${min} (${countOf(got)} voxels, truth ${countOf(want)})`);
}

const variants: [string, PhantomOptions][] = [
  ['RAS', { orientation: 'RAS' }],
  ['LPS', { orientation: 'LPS' }],
  ['flipped along k', { orientation: 'flipK' }],
  ['permuted axes', { orientation: 'permuted' }],
  ['oblique', { orientation: 'oblique' }],
  ['prone (the table in front)', { orientation: 'prone' }],
  ['anisotropic 0.7×0.7×2.5 mm', { spacing: [0.7, 0.7, 2.5] }],
];

describe('classic engine class prompts on a synthetic chest', () => {
  const reference = run(buildPhantom({ orientation: 'RAS' }));

  for (const [name, options] of variants) {
    test(`segments lung, airway, trachea and bone of the ${name} phantom`, () => {
      const phantom = buildPhantom(options);
      const got = name === 'RAS' ? reference : run(phantom);
      assertDice('lung', got.lung, phantom.masks.lung, 0.97);
      assertDice('airway', got.airway, phantom.masks.airway, 0.9);
      assertDice('trachea', got.trachea, phantom.masks.trachea, 0.85);
      // The contrast-filled aorta (300 HU), the spinal canal and the table are not bone.
      assertDice('bone', got.bone, phantom.masks.bone, 0.97);
    });
  }

  for (const orientation of ['LPS', 'flipK', 'permuted', 'prone'] as const) {
    test(`gives the same world-space result on the ${orientation} grid as on the RAS grid`, () => {
      const got = run(buildPhantom({ orientation }));
      for (const key of ['lung', 'bone', 'airway', 'trachea'] as const) {
        const a = countOf(reference[key]);
        const b = countOf(got[key]);
        assert.ok(Math.abs(a - b) <= 0.01 * a, `${key}: ${b} voxels vs ${a} on RAS`);
      }
    });
  }

  for (const options of [{}, { spacing: [0.7, 0.7, 2.5] as const }, { orientation: 'oblique' as const }, { orientation: 'prone' as const }]) {
    test(`finds the body, lungs included and the table left out (${JSON.stringify(options)})`, () => {
      const phantom = buildPhantom(options);
      const body = bodyMask(phantom.volume.data, { dims: phantom.volume.dims, affine: phantom.volume.affine });
      assertDice('body', body, phantom.masks.body, 0.99);
    });
  }

  test('writes the trachea as 57 and the bronchi as 132 when both are asked', () => {
    const phantom = buildPhantom();
    const labels = segmentClassic(phantom.volume, { classes: [132, 57] }).data;
    assert.ok(countOf(labelMask(labels, 57)) > 0);
    assert.ok(countOf(labelMask(labels, 132)) > 0);
    const onlyAirway = segmentClassic(phantom.volume, { classes: [132] }).data;
    assert.equal(countOf(labelMask(onlyAirway, 132)), countOf(labelMask(labels, 57)) + countOf(labelMask(labels, 132)));
  });

  test('answers only the classes asked', () => {
    const labels = segmentClassic(buildPhantom().volume, { classes: [21] }).data;
    const values = new Set(labels);
    assert.deepEqual([...values].sort((a, b) => a - b), [0, 21]);
  });
});

describe('classic engine input checks', () => {
  test('rejects class prompts on an MR-like image (0…800) with VXG_ERR_IMAGE_NOT_CT', () => {
    const n = 32;
    const data = new Int16Array(n ** 3);
    for (let p = 0; p < data.length; p++) data[p] = (p * 7919) % 801;
    const volume = createVolume([n, n, n], data, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    assert.throws(() => segmentClassic(volume, { classes: [20] }), (err) => isVoxgateError(err, 'VXG_ERR_IMAGE_NOT_CT') && /MR/.test(err.message));
  });

  test('rejects class prompts on a float image normalised to 0…1', () => {
    const data = new Float32Array(16 ** 3).map((_, p) => (p % 100) / 100);
    const volume = createVolume([16, 16, 16], data, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    assert.throws(() => segmentClassic(volume, { classes: [21] }), (err) => isVoxgateError(err, 'VXG_ERR_IMAGE_NOT_CT'));
  });

  test('refuses a class it does not support with VXG_ERR_PROMPT_CLASS_UNSUPPORTED', async () => {
    const engine = new ClassicEngine();
    await assert.rejects(engine.segment(buildPhantom().volume, { classes: [1] }), (err) => isVoxgateError(err, 'VXG_ERR_PROMPT_CLASS_UNSUPPORTED'));
  });

  test('reports what it supports', () => {
    assert.deepEqual(CLASSIC_ENGINE_INFO.supportedClasses, [6, 20, 21, 57, 121, 132]);
    assert.equal(CLASSIC_ENGINE_INFO.pointPrompts, true);
    assert.equal(CLASSIC_ENGINE_INFO.name, 'classic');
    assert.match(CLASSIC_ENGINE_INFO.license, /^Apache-2\.0/);
  });

  test('returns background on an image with no body', () => {
    const volume = createVolume([16, 16, 16], new Int16Array(16 ** 3).fill(-1000), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    const labels = segmentClassic(volume, { classes: ALL });
    assert.equal(countOf(labels.data), 0);
    assert.deepEqual(labels.dims, [16, 16, 16]);
  });
});
