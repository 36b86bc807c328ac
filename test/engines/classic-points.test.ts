import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { segmentClassic } from '../../src/engines/classic/classic-engine.js';
import { selectComponents } from '../../src/engines/classic/components.js';
import { segmentFromPoints } from '../../src/engines/classic/point-prompt.js';
import type { PointPrompt } from '../../src/engines/engine.js';
import { isVoxgateError } from '../../src/errors.js';
import { createVolume } from '../../src/volume/volume.js';
import type { Phantom } from '../helpers/phantoms.js';
import { buildPhantom, countOf, dice, labelMask } from '../helpers/phantoms.js';

type World = readonly [number, number, number];

function click(phantom: Phantom, label: number, positives: World[], negatives: World[] = []): PointPrompt {
  return {
    label,
    points: [...positives, ...negatives].map((w) => phantom.voxelOf(w)),
    pointLabels: [...positives.map(() => 1 as const), ...negatives.map(() => 0 as const)],
  };
}

function overlap(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let p = 0; p < a.length; p++) if (a[p] && b[p]) n++;
  return n;
}

const grid = (phantom: Phantom): { dims: Phantom['volume']['dims']; affine: Phantom['volume']['affine'] } => ({ dims: phantom.volume.dims, affine: phantom.volume.affine });

describe('classic engine point prompts', () => {
  const fine = buildPhantom({ spacing: [1.5, 1.5, 1.5] });

  for (const [name, phantom] of [
    ['1.5 mm RAS', fine],
    ['2 mm oblique', buildPhantom({ orientation: 'oblique' })],
    ['0.7×0.7×2.5 mm LPS', buildPhantom({ orientation: 'LPS', spacing: [0.7, 0.7, 2.5] })],
  ] as const) {
    test(`a click in a sphere of 120 HU yields the sphere (${name})`, () => {
      const { mask } = segmentFromPoints(phantom.volume.data, grid(phantom), click(phantom, 1, [phantom.landmarks.sphere]));
      const d = dice(mask, phantom.masks.sphere);
      assert.ok(d >= 0.95, `Dice ${d.toFixed(4)}`);
    });
  }

  test('several clicks on one object, one near its edge, still give the object', () => {
    const s = fine.landmarks.sphere;
    const prompt = click(fine, 1, [s, [s[0] + 8, s[1], s[2]], [s[0], s[1] - 6, s[2] + 5]]);
    const d = dice(segmentFromPoints(fine.volume.data, grid(fine), prompt).mask, fine.masks.sphere);
    assert.ok(d >= 0.95, `Dice ${d.toFixed(4)}`);
  });

  for (const [name, phantom] of [
    ['1.5 mm RAS', fine],
    ['2 mm oblique', buildPhantom({ orientation: 'oblique' })],
  ] as const) {
    test(`a negative click stops a leak across a weak edge (60 vs 80 HU blobs, ${name})`, () => {
      const { blobA, blobB } = phantom.landmarks;
      const positiveOnly = segmentFromPoints(phantom.volume.data, grid(phantom), click(phantom, 1, [blobA]));
      // A plain threshold at the same tolerance, connected to the click, runs into the other blob.
      const naive = new Uint8Array(phantom.volume.data.length);
      for (let p = 0; p < naive.length; p++) naive[p] = Math.abs(phantom.volume.data[p] - positiveOnly.model.median) <= positiveOnly.tolerance ? 1 : 0;
      const seed = phantom.voxelOf(blobA);
      const naiveRegion = selectComponents(naive, phantom.volume.dims, [seed[0] + phantom.volume.dims[0] * (seed[1] + phantom.volume.dims[1] * seed[2])]);
      assert.ok(overlap(naiveRegion, phantom.masks.blobB) > 0.3 * countOf(phantom.masks.blobB), 'the weak edge should defeat a threshold');

      const withNegative = segmentFromPoints(phantom.volume.data, grid(phantom), click(phantom, 1, [blobA], [blobB]));
      const before = dice(positiveOnly.mask, phantom.masks.blobA);
      const after = dice(withNegative.mask, phantom.masks.blobA);
      const leak = overlap(withNegative.mask, phantom.masks.blobB) / countOf(phantom.masks.blobB);
      assert.ok(after > before, `Dice ${after.toFixed(4)} with the negative click, ${before.toFixed(4)} without`);
      assert.ok(after >= 0.95, `Dice ${after.toFixed(4)}`);
      assert.ok(leak < 0.05, `leak ${(100 * leak).toFixed(1)}% into the other blob`);
    });
  }

  test('writes the object with the prompt label (zero-shot 140), over class labels', () => {
    const labels = segmentClassic(fine.volume, { classes: [21], points: click(fine, 140, [fine.landmarks.sphere]) }).data;
    assert.ok(dice(labelMask(labels, 140), fine.masks.sphere) >= 0.95);
    assert.ok(dice(labelMask(labels, 21), fine.masks.bone) >= 0.95);
  });

  test('works on a non-CT image (MR-like intensities 0…800)', () => {
    const data = Int16Array.from(fine.volume.data, (v) => Math.max(0, Math.min(800, Math.round((v + 1000) * 0.4))));
    const mr = createVolume(fine.volume.dims, data, fine.volume.affine);
    const labels = segmentClassic(mr, { classes: [], points: click(fine, 7, [fine.landmarks.sphere]) }).data;
    const d = dice(labelMask(labels, 7), fine.masks.sphere);
    assert.ok(d >= 0.9, `Dice ${d.toFixed(4)}`);
  });

  test('refuses a point outside the image with VXG_ERR_PROMPT_POINT_OUTSIDE', () => {
    const [nx] = fine.volume.dims;
    assert.throws(
      () => segmentFromPoints(fine.volume.data, grid(fine), { label: 1, points: [[nx, 0, 0]], pointLabels: [1] }),
      (err) => isVoxgateError(err, 'VXG_ERR_PROMPT_POINT_OUTSIDE'),
    );
  });

  test('needs a positive click', () => {
    assert.throws(
      () => segmentFromPoints(fine.volume.data, grid(fine), click(fine, 1, [], [fine.landmarks.sphere])),
      (err) => isVoxgateError(err, 'VXG_ERR_PROMPT_INVALID'),
    );
  });
});
