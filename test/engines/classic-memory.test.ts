/**
 * The classic engine's memory- and time-saving variants (written in place, on a crop of the mask's
 * box, or by runs instead of a flood) must give the voxels of the operations they replace: the
 * engine's outputs stay what they were.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bodyInBox, bodyMask } from '../../src/engines/classic/body-mask.js';
import { componentMask, listComponents, selectComponents } from '../../src/engines/classic/components.js';
import { fillHoles3d, fillHolesSlicewise, fillHolesSlicewiseInPlace } from '../../src/engines/classic/fill-holes.js';
import { growInto } from '../../src/engines/classic/geodesic.js';
import type { Grid } from '../../src/engines/classic/grid.js';
import { boundingBox, boxDims, cropArray, padBox } from '../../src/engines/classic/grid.js';
import { growIntoCropped } from '../../src/engines/classic/grow-cropped.js';
import { close, closeInPlace, dilate, erode, open } from '../../src/engines/classic/morphology.js';
import type { Dims } from '../../src/volume/volume.js';
import { voxelCount } from '../../src/volume/volume.js';
import { noise } from '../../bench/fixtures/synthetic-ct.js';
import { buildPhantom, countOf } from '../helpers/phantoms.js';

const DIMS: Dims = [40, 36, 30];
const SPACING = [0.8, 0.8, 1.5] as const;
const GRID: Grid = { dims: DIMS, affine: [0.8, 0, 0, 0, 0, 0.8, 0, 0, 0, 0, 1.5, 0, 0, 0, 0, 1] };

/** Random balls (deterministic), one of them cut by the grid's low i face and high k face. */
function blobs(seed: number): Uint8Array {
  const rand = noise(seed);
  const m = new Uint8Array(voxelCount(DIMS));
  const centres: [number, number, number, number][] = [[1, 18, 28, 4]];
  for (let n = 0; n < 6; n++) centres.push([8 + (rand() % 24), 8 + (rand() % 20), 6 + (rand() % 18), 2 + (rand() % 4)]);
  for (let k = 0, p = 0; k < DIMS[2]; k++) {
    for (let j = 0; j < DIMS[1]; j++) {
      for (let i = 0; i < DIMS[0]; i++, p++) {
        // Speckle and holes, so filling, closing and growth all have something to do.
        const inBall = centres.some(([ci, cj, ck, r]) => (i - ci) ** 2 + (j - cj) ** 2 + ((k - ck) * 1.5) ** 2 <= r * r);
        m[p] = inBall ? (rand() % 13 === 0 ? 0 : 1) : rand() % 97 === 0 ? 1 : 0;
      }
    }
  }
  return m;
}

describe('classic engine memory-saving variants', () => {
  test('closeInPlace writes exactly the closing over the mask', () => {
    for (const seed of [1, 2, 3]) {
      const mask = blobs(seed);
      const want = close(mask, DIMS, SPACING, 2);
      const got = mask.slice();
      assert.equal(closeInPlace(got, DIMS, SPACING, 2), got);
      assert.deepEqual(got, want);
      assert.ok(countOf(want) > countOf(mask));
    }
  });

  test('open and close equal erosion and dilation composed, as before they shared memory', () => {
    const mask = blobs(4);
    assert.deepEqual(open(mask, DIMS, SPACING, 1.7), dilate(erode(mask, DIMS, SPACING, 1.7, { outside: 1 }), DIMS, SPACING, 1.7));
    const closed = erode(dilate(mask, DIMS, SPACING, 1.7), DIMS, SPACING, 1.7, { outside: 1 });
    for (let p = 0; p < mask.length; p++) closed[p] |= mask[p];
    assert.deepEqual(close(mask, DIMS, SPACING, 1.7), closed);
  });

  test('slice-wise hole filling in place fills what the copying version fills', () => {
    const mask = blobs(5);
    for (const options of [{}, { maxArea: 3 }, { accept: (voxels: Int32Array) => voxels[0] % 2 === 0 }]) {
      const want = fillHolesSlicewise(mask, DIMS, 2, options);
      assert.ok(countOf(want) > countOf(mask));
      const got = mask.slice();
      assert.equal(fillHolesSlicewiseInPlace(got, DIMS, 2, options), got);
      assert.deepEqual(got, want);
    }
  });

  test('growth on the crop of the mask\'s box gives the whole-grid growth, also where it meets the grid\'s faces', () => {
    const inside = blobs(6);
    for (const [seedVoxel, mm] of [[2 + 40 * (18 + 36 * 28), 3], [20 + 40 * (18 + 36 * 15), 6], [39 + 40 * 34, 2.5]] as const) {
      const mask = new Uint8Array(voxelCount(DIMS));
      mask[seedVoxel] = 1;
      const accept = (p: number): boolean => inside[p] !== 0 || p % 3 === 0;
      const want = growInto(mask, GRID, mm, accept);
      assert.ok(countOf(want) > 1);
      assert.deepEqual(growIntoCropped(mask, GRID, mm, accept), want);
    }
  });

  test('componentMask written into the listed mask equals a new one', () => {
    const mask = blobs(7);
    const comps = listComponents(mask, DIMS, 6);
    const chosen = comps.list.slice(0, 3);
    const want = componentMask(comps, chosen, mask.length);
    assert.deepEqual(componentMask(comps, chosen, mask.length, mask), want);
    assert.throws(() => componentMask(comps, chosen, mask.length, new Uint8Array(5)), RangeError);
  });

  test('bodyInBox gives the full-grid body cropped to its box, or the whole grid past the share', () => {
    const { volume } = buildPhantom({ masks: false });
    const grid: Grid = { dims: volume.dims, affine: volume.affine };
    const full = bodyMask(volume.data, grid);
    const bounds = boundingBox(full, volume.dims);
    assert.ok(bounds);
    const padded = padBox(bounds, [1, 1, 1], volume.dims);
    const share = voxelCount(boxDims(padded)) / full.length;
    // Shares above, just above and below the padded box's: the crop from the body's coarse region,
    // the crop from the full-grid body, and the whole grid.
    for (const wholeShare of [1.01, share + 1e-9, share]) {
      const found = bodyInBox(volume.data, grid, wholeShare);
      assert.ok(found);
      if (wholeShare === share) {
        assert.equal(found.whole, true);
        assert.deepEqual(found.mask, full);
      } else {
        assert.equal(found.whole, false);
        assert.deepEqual(found.box, padded);
        assert.deepEqual(found.mask, cropArray(full, volume.dims, padded));
      }
    }
  });
});

/** Reference: 6-connected flood through voxels where `inside` holds, from `seeds`, voxel by voxel. */
function floodFrom(dims: Dims, seeds: number[], inside: (p: number) => boolean): Uint8Array {
  const [nx, ny, nz] = dims;
  const seen = new Uint8Array(voxelCount(dims));
  const stack = seeds.filter((p) => inside(p));
  for (const p of stack) seen[p] = 1;
  while (stack.length > 0) {
    const p = stack.pop()!;
    const i = p % nx;
    const j = Math.floor(p / nx) % ny;
    const k = Math.floor(p / (nx * ny));
    const next = [i > 0 ? p - 1 : -1, i < nx - 1 ? p + 1 : -1, j > 0 ? p - nx : -1, j < ny - 1 ? p + nx : -1, k > 0 ? p - nx * ny : -1, k < nz - 1 ? p + nx * ny : -1];
    for (const q of next) {
      if (q >= 0 && seen[q] === 0 && inside(q)) {
        seen[q] = 1;
        stack.push(q);
      }
    }
  }
  return seen;
}

describe('classic engine components by runs', () => {
  test('selectComponents keeps exactly the 6-connected components of the seeds', () => {
    for (const seed of [8, 9]) {
      const mask = blobs(seed);
      const seeds = [20 + 40 * (18 + 36 * 15), 1 + 40 * (18 + 36 * 28), 5, 39 + 40 * 35 + 40 * 36 * 29];
      const want = floodFrom(DIMS, seeds, (p) => mask[p] !== 0);
      assert.ok(countOf(want) > 100);
      assert.deepEqual(selectComponents(mask, DIMS, seeds, 6), want);
    }
    assert.equal(countOf(selectComponents(new Uint8Array(voxelCount(DIMS)), DIMS, [5], 6)), 0);
  });

  test('listComponents finds the components a flood finds: sizes, seeds, order and voxels', () => {
    const mask = blobs(12);
    const seen = new Uint8Array(mask.length);
    const want: { seed: number; voxels: number[] }[] = [];
    for (let p = 0; p < mask.length; p++) {
      if (mask[p] === 0 || seen[p] !== 0) continue;
      const comp = floodFrom(DIMS, [p], (q) => mask[q] !== 0);
      const voxels: number[] = [];
      for (let q = 0; q < comp.length; q++) if (comp[q] !== 0) voxels.push(q);
      for (const q of voxels) seen[q] = 1;
      want.push({ seed: p, voxels });
    }
    want.sort((a, b) => b.voxels.length - a.voxels.length || a.seed - b.seed);
    assert.ok(want.length > 10);
    const got = listComponents(mask, DIMS, 6, (voxels) => Array.from(voxels).sort((a, b) => a - b));
    assert.deepEqual(got.list.map((c) => ({ seed: c.seed, voxels: c.stats })), want);
    assert.deepEqual(got.list.map((c) => c.size), want.map((c) => c.voxels.length));
  });

  test('fillHoles3d fills the background the box\'s faces do not reach', () => {
    for (const seed of [10, 11]) {
      const mask = blobs(seed);
      const bounds = boundingBox(mask, DIMS);
      assert.ok(bounds);
      const box = padBox(bounds, [1, 1, 1], DIMS);
      const inBox = (p: number): boolean => {
        const i = p % DIMS[0], j = Math.floor(p / DIMS[0]) % DIMS[1], k = Math.floor(p / (DIMS[0] * DIMS[1]));
        return i >= box.min[0] && i <= box.max[0] && j >= box.min[1] && j <= box.max[1] && k >= box.min[2] && k <= box.max[2];
      };
      const faces: number[] = [];
      for (let p = 0; p < mask.length; p++) {
        const i = p % DIMS[0], j = Math.floor(p / DIMS[0]) % DIMS[1], k = Math.floor(p / (DIMS[0] * DIMS[1]));
        if (inBox(p) && (i === box.min[0] || i === box.max[0] || j === box.min[1] || j === box.max[1] || k === box.min[2] || k === box.max[2])) faces.push(p);
      }
      const outside = floodFrom(DIMS, faces, (p) => inBox(p) && mask[p] === 0);
      const want = mask.map((v, p) => (v !== 0 || (inBox(p) && outside[p] === 0) ? 1 : 0));
      assert.ok(countOf(want) > countOf(mask));
      assert.deepEqual(fillHoles3d(mask, DIMS), want);
    }
  });
});

/**
 * Reference morphology by definition: the ball is the offsets whose quantised per-axis squared
 * distances (4096 = r²) sum to at most r²; beyond the grid is background, or foreground for an
 * erosion with `outside: 1`.
 */
function byDefinition(mask: Uint8Array, dims: Dims, spacing: readonly number[], r: number, erosion: boolean, outside: 0 | 1): Uint8Array {
  const radii = spacing.map((s) => Math.floor(r / s + 1e-9));
  const term = (d: number, a: number): number => Math.round((((d * spacing[a]) ** 2) / (r * r)) * 4096);
  const ball: number[] = [];
  for (let dk = -radii[2]; dk <= radii[2]; dk++) {
    for (let dj = -radii[1]; dj <= radii[1]; dj++) {
      for (let di = -radii[0]; di <= radii[0]; di++) if (term(di, 0) + term(dj, 1) + term(dk, 2) <= 4096) ball.push(di, dj, dk);
    }
  }
  const [nx, ny, nz] = dims;
  const out = new Uint8Array(mask.length);
  for (let k = 0, p = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, p++) {
        // Dilation: some feature voxel in the ball; erosion: no background voxel in it.
        let hit = false;
        for (let t = 0; t < ball.length && !hit; t += 3) {
          const x = i + ball[t], y = j + ball[t + 1], z = k + ball[t + 2];
          const v = x < 0 || y < 0 || z < 0 || x >= nx || y >= ny || z >= nz ? (erosion ? outside : 0) : mask[x + nx * (y + ny * z)];
          hit = erosion ? v === 0 : v !== 0;
        }
        out[p] = hit !== erosion ? 1 : 0;
      }
    }
  }
  return out;
}

describe('classic engine morphology by rows of the ball', () => {
  test('dilation and erosion equal their definition, by rows (small balls) and by distances (large)', () => {
    const small: Dims = [23, 19, 14];
    for (const [dims, r] of [[DIMS, 2], [DIMS, 1], [small, 7.2]] as const) {
      const rand = noise(12 + r);
      const mask = new Uint8Array(voxelCount(dims));
      // Random voxels, with a slab along the low i face and the high k face of the grid.
      for (let p = 0; p < mask.length; p++) mask[p] = rand() % 5 === 0 || p % dims[0] === 0 || p >= mask.length - dims[0] * dims[1] ? 1 : 0;
      assert.deepEqual(dilate(mask, dims, SPACING, r), byDefinition(mask, dims, SPACING, r, false, 0), `dilation, r = ${r}`);
      const dense = dilate(mask, dims, SPACING, 1);
      for (const outside of [0, 1] as const) {
        assert.deepEqual(erode(dense, dims, SPACING, r, { outside }), byDefinition(dense, dims, SPACING, r, true, outside), `erosion, r = ${r}, outside ${outside}`);
      }
    }
  });
});
