/**
 * The bone's surface at half maximum (bone-edge.ts), on a phantom imaged the way a scanner images
 * it: each voxel the mean of 3 × 3 × 3 points of the anatomy (partial volume), blurred in-plane by
 * a Gaussian point spread of σ 0.6 mm, with 15 HU of noise, on 0.8 × 0.8 × 2 mm voxels (patient C's
 * slices). Anatomy: a vertebral body (1 mm cortex of 1 200 HU, marrow 150 HU) and four ribs (tubes of
 * 4 × 6 mm, 1 mm cortex, marrow 120 HU) curving round a body of muscle (50 HU) under a layer of fat
 * (−100 HU). The truth is the voxels at least half bone.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { partialVolumeSurface } from '../../src/engines/classic/bone-edge.js';
import { bodyMask } from '../../src/engines/classic/body-mask.js';
import { segmentBone } from '../../src/engines/classic/bone.js';
import { segmentClassic } from '../../src/engines/classic/classic-engine.js';
import { affineFrom } from '../../src/volume/affine.js';
import { createVolume } from '../../src/volume/volume.js';
import { countOf, dice, labelMask } from '../helpers/phantoms.js';

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

/** A deterministic standard normal deviate per voxel. */
function noise(p: number): number {
  const u = (((p * 2654435761) >>> 0) % 1_000_003) / 1_000_003 + 1e-9;
  const v = (((p * 40503 + 12345) >>> 0) % 999_983) / 999_983;
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

function imaged(): { volume: ReturnType<typeof createVolume<Int16Array>>; truth: Uint8Array } {
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
  // The point spread, in-plane: a Gaussian of PSF_MM along x, then along y.
  const radius = Math.ceil((3 * PSF_MM) / PIXEL);
  const weights = Array.from({ length: 2 * radius + 1 }, (_, t) => Math.exp(-0.5 * (((t - radius) * PIXEL) / PSF_MM) ** 2));
  const blurred = [1, nx].reduce((src, stride) => {
    const out = new Float64Array(n);
    const len = stride === 1 ? nx : ny;
    for (let p = 0; p < n; p++) {
      const at = Math.floor(p / stride) % len;
      let sum = 0;
      let total = 0;
      for (let t = -radius; t <= radius; t++) {
        if (at + t < 0 || at + t >= len) continue;
        sum += weights[t + radius] * src[p + t * stride];
        total += weights[t + radius];
      }
      out[p] = sum / total;
    }
    return out;
  }, mean);
  const data = Int16Array.from(blurred, (v, p) => Math.round(v + (v > -900 ? NOISE_HU * noise(p) : 0)));
  return { volume: createVolume([...DIMS], data, affineFrom([[PIXEL, 0, 0], [0, PIXEL, 0], [0, 0, SLICE]], origin)), truth };
}

describe('classic engine: the bone\'s surface at half maximum', () => {
  const { volume, truth } = imaged();
  const bone = labelMask(segmentClassic(volume, { classes: [21] }).data, 21);

  test('the skeleton of a blurred phantom is the bone, not its partial-volume layer', () => {
    assert.equal(countOf(truth), 39_876);
    assert.equal(countOf(bone), 44_625); // 11.9 % more than the truth
    const d = dice(bone, truth);
    assert.ok(d >= 0.94, `Dice ${d.toFixed(4)}`); // 0.9417
  });

  test('the thresholds alone take a layer of 30 % of the bone: that is what the edge drops', () => {
    const grid = { dims: volume.dims, affine: volume.affine };
    const { mask, partialVolume } = segmentBone(volume.data, grid, bodyMask(volume.data, grid));
    const d = dice(mask, truth);
    assert.equal(countOf(mask), 51_752); // 29.8 % more than the truth
    assert.ok(d <= 0.88, `Dice ${d.toFixed(4)}`); // 0.8704
    let inTruth = 0;
    for (const p of partialVolume) inTruth += truth[p];
    // The layer dropped is bone's surroundings: 7 127 voxels, of which 88 are at least half bone.
    assert.deepEqual({ dropped: partialVolume.length, inTruth }, { dropped: 7_127, inTruth: 88 });
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
    const dims = [11, 11, 1] as const;
    const data = new Int16Array(121).fill(40);
    const block = new Uint8Array(121);
    const body = new Uint8Array(121).fill(1);
    for (let j = 3; j <= 7; j++) {
      for (let i = 3; i <= 7; i++) {
        data[i + 11 * j] = 1000;
        block[i + 11 * j] = 1;
      }
      data[3 + 11 * j] = 521;
      data[7 + 11 * j] = 519;
    }
    const dropped = [...partialVolumeSurface(block, data, dims, body, 2)].sort((a, b) => a - b);
    assert.deepEqual(
      dropped,
      [3, 4, 5, 6, 7].map((j) => 7 + 11 * j),
    );
    // The bone itself is left as it was.
    assert.equal(countOf(block), 25);
  });
});
