/**
 * Edges at half maximum (half-maximum.ts): the bone's surface and the airway's lumen.
 *
 * The bone, on a phantom imaged the way a scanner images it: each voxel the mean of 3 × 3 × 3 points of the anatomy (partial volume), blurred in-plane by
 * a Gaussian point spread of σ 0.6 mm, with 15 HU of noise, on 0.8 × 0.8 × 2 mm voxels (patient C's
 * slices). Anatomy: a vertebral body (1 mm cortex of 1 200 HU, marrow 150 HU) and four ribs (tubes of
 * 4 × 6 mm, 1 mm cortex, marrow 120 HU) curving round a body of muscle (50 HU) under a layer of fat
 * (−100 HU). The truth is the voxels at least half bone.
 *
 * The airway, on the synthetic chest (test/helpers/phantoms.ts: a trachea of radius 7 mm splitting
 * into two bronchi) at 1.5 mm, blurred by a 0.8 mm point spread along every axis.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { darkLumenRim, partialVolumeSurface } from '../../src/engines/classic/half-maximum.js';
import { bodyMask } from '../../src/engines/classic/body-mask.js';
import { segmentBone } from '../../src/engines/classic/bone.js';
import { segmentClassic } from '../../src/engines/classic/classic-engine.js';
import { affineFrom } from '../../src/volume/affine.js';
import type { Volume } from '../../src/volume/volume.js';
import { createVolume } from '../../src/volume/volume.js';
import { buildPhantom, countOf, dice, imagedByScanner, labelMask } from '../helpers/phantoms.js';

const PIXEL = 0.8;
const SLICE = 2;
const DIMS = [236, 190, 20] as const;
const PSF_MM = 0.6;
const NOISE_HU = 15;
const CORTEX_HU = 1200;
const CORTEX_MM = 1;

/** The anatomy at a world point (mm): its HU and whether it is bone. */
function anatomyAt(x: number, y: number, z: number): [number, 0 | 1] {
  const r = (x / 92) ** 2 + (y / 74) ** 2;
  if (r > 1) return [-1000, 0];
  const vertebra = Math.hypot(x, y + 45);
  if (vertebra < 15) return [vertebra > 15 - CORTEX_MM ? CORTEX_HU : 150, 1];
  const angle = (Math.atan2(y / 60, x / 78) + 2 * Math.PI) % (2 * Math.PI);
  for (const [from, to, height] of [
    [0.3, 1.4, -10],
    [1.7, 2.8, 6],
    [3.5, 4.6, -5],
    [4.9, 6.0, 4],
  ] as const) {
    if (angle < from || angle > to) continue;
    // A rib runs along the ellipse of radii 78 × 60 mm, climbing 6 mm a radian.
    const radial = Math.hypot(x, y) - Math.hypot(78 * Math.cos(angle), 60 * Math.sin(angle));
    const up = z - (height + 6 * (angle - from));
    if ((radial / 4) ** 2 + (up / 6) ** 2 > 1) continue;
    const marrow = (radial / (4 - CORTEX_MM)) ** 2 + (up / (6 - CORTEX_MM)) ** 2 <= 1;
    return [marrow ? 120 : CORTEX_HU, 1];
  }
  return [r > 0.8 ? -100 : 50, 0];
}

function imaged(): { volume: Volume<Int16Array>; truth: Uint8Array } {
  const [nx, ny, nz] = DIMS;
  const origin = [-((nx - 1) / 2) * PIXEL, -((ny - 1) / 2) * PIXEL, -((nz - 1) / 2) * SLICE];
  const n = nx * ny * nz;
  const mean = new Float64Array(n);
  const truth = new Uint8Array(n);
  const sub = 3;
  for (let k = 0, p = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        let hu = 0;
        let bone = 0;
        for (let c = 0; c < sub; c++) {
          for (let b = 0; b < sub; b++) {
            for (let a = 0; a < sub; a++) {
              const [value, inBone] = anatomyAt(
                origin[0] + (i + (a + 0.5) / sub - 0.5) * PIXEL,
                origin[1] + (j + (b + 0.5) / sub - 0.5) * PIXEL,
                origin[2] + (k + (c + 0.5) / sub - 0.5) * SLICE,
              );
              hu += value;
              bone += inBone;
            }
          }
        }
        mean[p] = hu / sub ** 3;
        truth[p] = 2 * bone >= sub ** 3 ? 1 : 0;
      }
    }
  }
  const data = imagedByScanner(mean, DIMS, [PIXEL, PIXEL, SLICE], [PSF_MM, PSF_MM, 0], NOISE_HU);
  return { volume: createVolume([...DIMS], data, affineFrom([[PIXEL, 0, 0], [0, PIXEL, 0], [0, 0, SLICE]], origin)), truth };
}

/**
 * One 11 × 11 axial slice of `outside` HU holding the square `from`…`to` (both axes) of `inside` HU
 * as the object. The columns at `from` and `to` (`edge`: the square's own first and last columns) or
 * at `from − 1` and `to + 1` (`beside`: the columns next to it), over the square's rows, are set to
 * `sides` [left, right].
 */
function squareInSlice(from: number, to: number, inside: number, outside: number, sides: readonly [number, number], where: 'edge' | 'beside') {
  const dims = [11, 11, 1] as const;
  const data = new Int16Array(121).fill(outside);
  const object = new Uint8Array(121);
  const body = new Uint8Array(121).fill(1);
  const [left, right] = where === 'edge' ? [from, to] : [from - 1, to + 1];
  for (let j = from; j <= to; j++) {
    for (let i = from; i <= to; i++) {
      data[i + 11 * j] = inside;
      object[i + 11 * j] = 1;
    }
    data[left + 11 * j] = sides[0];
    data[right + 11 * j] = sides[1];
  }
  return { dims, data, object, body };
}

describe('classic engine: the bone\'s surface at half maximum', () => {
  const { volume, truth } = imaged();
  const bone = labelMask(segmentClassic(volume, { classes: [21] }).data, 21);

  test('the skeleton of a blurred phantom is the bone, not its partial-volume layer', () => {
    assert.equal(countOf(truth), 39_876);
    assert.equal(countOf(bone), 44_713); // 12.1 % more than the truth
    const d = dice(bone, truth);
    assert.ok(d >= 0.94, `Dice ${d.toFixed(4)}`); // 0.9408
  });

  test('the thresholds alone take a layer of 30 % of the bone: that is what the edge drops', () => {
    const grid = { dims: volume.dims, affine: volume.affine };
    const { mask, partialVolume } = segmentBone(volume.data, grid, bodyMask(volume.data, grid));
    const d = dice(mask, truth);
    assert.equal(countOf(mask), 51_774); // 29.8 % more than the truth
    assert.ok(d <= 0.88, `Dice ${d.toFixed(4)}`); // 0.8702
    let inTruth = 0;
    for (const p of partialVolume) inTruth += truth[p];
    // The layer dropped is bone's surroundings: 7 061 voxels, of which 85 are at least half bone.
    assert.deepEqual({ dropped: partialVolume.length, inTruth }, { dropped: 7_061, inTruth: 85 });
  });

  test('gives the same voxels on the image stored LPS with its slices running downwards', () => {
    // The same values at the same world points, the array reversed along all three axes.
    const [nx, ny, nz] = DIMS;
    const reversed = volume.data.slice().reverse();
    const a = volume.affine;
    const flipped = affineFrom(
      [
        [-a[0], 0, 0],
        [0, -a[5], 0],
        [0, 0, -a[10]],
      ],
      [a[3] + a[0] * (nx - 1), a[7] + a[5] * (ny - 1), a[11] + a[10] * (nz - 1)],
    );
    const lps = labelMask(segmentClassic(createVolume([...DIMS], reversed, flipped), { classes: [21] }).data, 21);
    assert.equal(dice(lps.reverse(), bone), 1);
  });

  test('a surface voxel stays bone at half-way from the tissue to the bone beside it, and no lower', () => {
    // One axial slice: a 5 × 5 block of 1 000 HU in 40 HU tissue, whose surface voxels are set to
    // just above and just below half-way (520 HU) on the left and right columns.
    const { dims, data, object: block, body } = squareInSlice(3, 7, 1000, 40, [521, 519], 'edge');
    const dropped = [...partialVolumeSurface(block, data, dims, body, 2)].sort((a, b) => a - b);
    assert.deepEqual(
      dropped,
      [3, 4, 5, 6, 7].map((j) => 7 + 11 * j),
    );
    // The bone itself is left as it was.
    assert.equal(countOf(block), 25);
  });
});

describe('classic engine: the airway\'s lumen at half maximum', () => {
  test('the airway and trachea of a blurred chest are the tubes, not their cores', () => {
    const phantom = buildPhantom({ spacing: [1.5, 1.5, 1.5], noise: 0 });
    const { dims, affine } = phantom.volume;
    const data = imagedByScanner(phantom.volume.data, dims, [1.5, 1.5, 1.5], [0.8, 0.8, 0.8], 10);
    const labels = segmentClassic(createVolume([...dims], data, affine), { classes: [57, 132] }).data;
    const airway = Uint8Array.from(labels, (v) => (v === 57 || v === 132 ? 1 : 0));
    const trachea = labelMask(labels, 57);
    // Grown to its threshold alone the airway was 2 913 voxels (Dice 0.808), the trachea 1 616 (0.835).
    assert.deepEqual([countOf(phantom.masks.airway), countOf(airway)], [4_154, 4_090]);
    const d = dice(airway, phantom.masks.airway);
    assert.ok(d >= 0.97, `airway Dice ${d.toFixed(4)}`); // 0.9743
    const t = dice(trachea, phantom.masks.trachea);
    assert.ok(t >= 0.93, `trachea Dice ${t.toFixed(4)}`); // 0.9416
  });

  test('a voxel beside the lumen joins at half-way from the darkest air to the wall, and no brighter', () => {
    // One axial slice: a 3 × 3 lumen of −1 000 HU in a 40 HU wall, its neighbours on the left just
    // darker than half-way (−480 HU), on the right just brighter; the next layer out is wall.
    const { dims, data, object: lumen, body } = squareInSlice(4, 6, -1000, 40, [-481, -479], 'beside');
    const added = darkLumenRim(lumen, data, dims, body, 2, 3);
    assert.equal(added, 3);
    assert.deepEqual(
      [3, 4, 5, 6, 7].flatMap((j) => [3, 7].filter((i) => lumen[i + 11 * j] !== 0).map((i) => [i, j])),
      [
        [3, 4],
        [3, 5],
        [3, 6],
      ],
    );
  });
});
