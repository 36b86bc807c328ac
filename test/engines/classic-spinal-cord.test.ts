/**
 * The spinal cord (class 121) on a synthetic lumbar slab sampled like patient C of the shared data
 * (0.8 mm pixels, 2 mm slices, 80 mm long): vertebrae 24 mm high whose arch encloses the canal,
 * discs 6 mm high where the arch is absent and the canal opens into the muscle behind it, a cord
 * (35 HU) filling the canal (10 HU) but for a 1 mm rim of fluid, and arms beside the trunk whose
 * humeri hold fatty marrow — holes in bone as round as the canal. The phantom is defined in RAS
 * millimetres and sampled on a RAS grid and on one with permuted, flipped axes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { segmentClassic } from '../../src/engines/classic/classic-engine.js';
import type { Affine } from '../../src/volume/affine.js';
import { affineFrom, multiply } from '../../src/volume/affine.js';
import { createVolume } from '../../src/volume/volume.js';
import { countOf, dice, labelMask } from '../helpers/phantoms.js';

const PIXEL = 0.8;
const SLICE = 2;
const BASE_DIMS = [240, 150, 40] as const; // x −95.6…95.6, y −59.6…59.6, z −39…39 mm
const BASE = affineFrom([[PIXEL, 0, 0], [0, PIXEL, 0], [0, 0, SLICE]], [-95.6, -59.6, -39]);

type Part = 'air' | 'tissue' | 'cortex' | 'cancellous' | 'fluid' | 'cord' | 'fatty';

function partAt(x: number, y: number, z: number, arches: boolean): Part {
  const arm = Math.hypot(Math.abs(x) - 80, y);
  if (arm <= 14) {
    const humerus = Math.hypot(Math.abs(x) - 80, y);
    return humerus <= 6 ? (humerus > 4 ? 'cortex' : 'fatty') : 'tissue';
  }
  if ((x / 62) ** 2 + (y / 55) ** 2 > 1) return 'air';
  // A vertebra every 30 mm: 24 mm of bone, then 6 mm of disc.
  const level = (((z + 39) % 30) + 30) % 30;
  const vertebra = level < 24;
  const body = Math.hypot(x, y + 5);
  if (body <= 15) return vertebra ? (body > 13 ? 'cortex' : 'cancellous') : 'tissue';
  const canal = Math.hypot(x, y + 30);
  if (canal <= 6) return 'cord';
  if (canal <= 7) return 'fluid';
  if (canal <= 10 && vertebra && arches) return 'cortex';
  return 'tissue';
}

const HU: Record<Part, number> = { air: -1000, tissue: 45, cortex: 800, cancellous: 200, fluid: 10, cord: 35, fatty: -70 };

function slab(affine: Affine, dims: readonly [number, number, number], arches = true): { volume: ReturnType<typeof createVolume>; cord: Uint8Array } {
  const data = new Int16Array(dims[0] * dims[1] * dims[2]);
  const cord = new Uint8Array(data.length);
  for (let k = 0, p = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++, p++) {
        const a = affine;
        const part = partAt(a[0] * i + a[1] * j + a[2] * k + a[3], a[4] * i + a[5] * j + a[6] * k + a[7], a[8] * i + a[9] * j + a[10] * k + a[11], arches);
        data[p] = HU[part] + (part === 'air' ? 0 : ((p * 2654435761) >>> 28) - 8);
        cord[p] = part === 'cord' ? 1 : 0;
      }
    }
  }
  return { volume: createVolume([...dims], data, affine), cord };
}

// i runs along z downwards, j along x, k along y flipped (as the aorta test's permuted grid).
const PERMUTED = multiply(BASE, affineFrom([[0, 1, 0], [0, 0, -1], [-1, 0, 0]], [0, BASE_DIMS[1] - 1, BASE_DIMS[2] - 1]));
const PERMUTED_DIMS = [BASE_DIMS[2], BASE_DIMS[0], BASE_DIMS[1]] as const;

describe('classic engine: the spinal cord (class 121) by the vertebral canal', () => {
  const ras = slab(BASE, BASE_DIMS);
  const rasCord = labelMask(segmentClassic(ras.volume, { classes: [121] }).data, 121);

  test('is the canal less its rim of fluid, through the discs too, and not an arm', () => {
    assert.equal(countOf(ras.cord), 7_080);
    const d = dice(rasCord, ras.cord); // 0.9491 (7 840 voxels)
    assert.ok(d >= 0.9, `Dice ${d.toFixed(4)} (${countOf(rasCord)} voxels)`);
  });

  test('is the same tube on a grid with permuted, flipped axes', () => {
    const permuted = slab(PERMUTED, PERMUTED_DIMS);
    const cord = labelMask(segmentClassic(permuted.volume, { classes: [121] }).data, 121);
    assert.ok(Math.abs(countOf(cord) - countOf(rasCord)) <= 0.01 * countOf(rasCord), `${countOf(cord)} voxels vs ${countOf(rasCord)} on RAS`);
    assert.ok(dice(cord, permuted.cord) >= 0.9);
  });

  test('a click labelled spinal cord (121) gives the class answer under it, not what the click floods', () => {
    // A cord voxel of the middle vertebra: x 0, y −30, z 0 mm.
    const at: [number, number, number] = [120, 37, 20];
    const object = labelMask(segmentClassic(ras.volume, { classes: [], points: { label: 121, points: [at], pointLabels: [1] } }).data, 121);
    assert.equal(countOf(object), countOf(rasCord));
    assert.equal(dice(object, rasCord), 1);
    const zeroShot = labelMask(segmentClassic(ras.volume, { classes: [], points: { label: 140, points: [at], pointLabels: [1] } }).data, 140);
    assert.ok(dice(zeroShot, ras.cord) < dice(object, ras.cord), `zero-shot ${dice(zeroShot, ras.cord).toFixed(4)}, labelled ${dice(object, ras.cord).toFixed(4)}`);
  });

  test('is empty on a CT whose vertebrae show no arch', () => {
    const { volume } = slab(BASE, BASE_DIMS, false);
    assert.equal(countOf(labelMask(segmentClassic(volume, { classes: [121] }).data, 121)), 0);
  });
});
