import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { correctiveClick, firstClick } from '../../src/eval/clicks.js';
import { boundaryErrors, dice, directedSurfaceDistances, hd95, median, surfaceDistancePercentile, surfaceOf } from '../../src/eval/metrics.js';
import type { Affine } from '../../src/volume/affine.js';
import { depthInside, orthogonalSpacing, squaredDistanceTransform } from '../../src/volume/distance-transform.js';
import type { Dims } from '../../src/volume/volume.js';

const at = (dims: Dims, i: number, j: number, k: number): number => i + dims[0] * (j + dims[1] * k);

/** A box mask [lo, hi] (inclusive voxel bounds). */
function box(dims: Dims, lo: readonly number[], hi: readonly number[]): Uint8Array {
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let k = lo[2]; k <= hi[2]; k++) for (let j = lo[1]; j <= hi[1]; j++) for (let i = lo[0]; i <= hi[0]; i++) m[at(dims, i, j, k)] = 1;
  return m;
}

function diag(s: readonly number[], origin = [0, 0, 0]): Affine {
  return [s[0], 0, 0, origin[0], 0, s[1], 0, origin[1], 0, 0, s[2], origin[2], 0, 0, 0, 1];
}

/** World position of voxel p through the affine. */
function world(a: Affine, dims: Dims, p: number): [number, number, number] {
  const i = p % dims[0];
  const j = Math.floor(p / dims[0]) % dims[1];
  const k = Math.floor(p / (dims[0] * dims[1]));
  return [0, 1, 2].map((r) => a[r * 4] * i + a[r * 4 + 1] * j + a[r * 4 + 2] * k + a[r * 4 + 3]) as [number, number, number];
}

/** HD95 by brute force over world points (an independent implementation of the definition). */
function bruteHd95(a: Uint8Array, b: Uint8Array, dims: Dims, affine: Affine): number {
  const pts = (m: Uint8Array): [number, number, number][] => {
    const s = surfaceOf(m, dims);
    const out: [number, number, number][] = [];
    for (let p = 0; p < s.length; p++) if (s[p]) out.push(world(affine, dims, p));
    return out;
  };
  const pa = pts(a), pb = pts(b);
  const directed = (x: typeof pa, y: typeof pa): number[] => x.map((u) => Math.min(...y.map((v) => Math.hypot(u[0] - v[0], u[1] - v[1], u[2] - v[2]))));
  const all = [...directed(pa, pb), ...directed(pb, pa)].sort((u, v) => u - v);
  const x = 0.95 * (all.length - 1);
  const lo = Math.floor(x);
  return all[lo] + (all[Math.min(all.length - 1, lo + 1)] - all[lo]) * (x - lo);
}

describe('Dice', () => {
  test('two 10-voxel cubes offset by 2 voxels overlap with Dice 0.8', () => {
    const dims: Dims = [30, 20, 20];
    assert.equal(dice(box(dims, [5, 5, 5], [14, 14, 14]), box(dims, [7, 5, 5], [16, 14, 14])), 0.8);
  });

  test('is 1 for two empty masks and 0 when one is empty', () => {
    const dims: Dims = [4, 4, 4];
    assert.equal(dice(new Uint8Array(64), new Uint8Array(64)), 1);
    assert.equal(dice(box(dims, [1, 1, 1], [2, 2, 2]), new Uint8Array(64)), 0);
  });
});

describe('distance transform', () => {
  test('gives exact world distances on an anisotropic grid', () => {
    const dims: Dims = [21, 17, 9];
    const spacing = [0.7, 1.1, 2.5] as const;
    const feature = new Uint8Array(dims[0] * dims[1] * dims[2]);
    feature[at(dims, 3, 4, 5)] = 1;
    feature[at(dims, 18, 12, 1)] = 1;
    const d2 = squaredDistanceTransform(feature, dims, spacing);
    for (let k = 0; k < dims[2]; k++) {
      for (let j = 0; j < dims[1]; j++) {
        for (let i = 0; i < dims[0]; i++) {
          const want = Math.min(
            ((i - 3) * 0.7) ** 2 + ((j - 4) * 1.1) ** 2 + ((k - 5) * 2.5) ** 2,
            ((i - 18) * 0.7) ** 2 + ((j - 12) * 1.1) ** 2 + ((k - 1) * 2.5) ** 2,
          );
          assert.ok(Math.abs(d2[at(dims, i, j, k)] - want) < 1e-3 * (1 + want), `(${i}, ${j}, ${k}): ${d2[at(dims, i, j, k)]} vs ${want}`);
        }
      }
    }
  });

  test('measures depth inside a box, with the grid border as outside', () => {
    const dims: Dims = [12, 12, 12];
    const depth = depthInside(box(dims, [0, 2, 2], [9, 9, 9]), dims, [1, 1, 2]);
    assert.equal(depth[at(dims, 0, 5, 5)], 1); // next to the grid's border
    assert.equal(depth[at(dims, 5, 5, 5)], 4); // 4 voxels of 1 mm to j = 1 … or 2 voxels of 2 mm along k
    assert.equal(depth[at(dims, 11, 5, 5)], 0); // outside
  });

  test('refuses a sheared affine', () => {
    assert.throws(() => orthogonalSpacing([1, 0.5, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]), RangeError);
    assert.deepEqual(orthogonalSpacing([0, -2, 0, 5, 1.5, 0, 0, 3, 0, 0, 3, 1, 0, 0, 0, 1]), [1.5, 2, 3]);
  });
});

describe('surface distances', () => {
  test('are 0 between a mask and itself', () => {
    const dims: Dims = [16, 16, 16];
    const cube = box(dims, [3, 3, 3], [10, 12, 9]);
    assert.equal(hd95(cube, cube, { dims, affine: diag([1, 1, 1]) }), 0);
  });

  test('the Hausdorff distance of a cube and the cube shifted 3 voxels of 2 mm is 6 mm', () => {
    const dims: Dims = [30, 20, 20];
    const a = box(dims, [5, 5, 5], [14, 14, 14]);
    const b = box(dims, [8, 5, 5], [17, 14, 14]);
    const grid = { dims, affine: diag([2, 1, 1]) };
    assert.equal(surfaceDistancePercentile(a, b, grid, 100), 6);
    const ab = directedSurfaceDistances(a, b, grid);
    assert.equal(Math.max(...ab), 6);
  });

  test('HD95 of two offset cubes matches a brute-force world-space computation, on an oblique grid too', () => {
    const dims: Dims = [24, 22, 18];
    const a = box(dims, [4, 4, 4], [13, 15, 11]);
    const b = box(dims, [6, 3, 5], [17, 14, 13]);
    const c = Math.cos(0.3), s = Math.sin(0.3);
    for (const affine of [diag([0.8, 1.2, 2.5], [10, -4, 7]), [0.8 * c, -1.2 * s, 0, 3, 0.8 * s, 1.2 * c, 0, 2, 0, 0, -2.5, 1, 0, 0, 0, 1]] as Affine[]) {
      const got = hd95(a, b, { dims, affine });
      const want = bruteHd95(a, b, dims, affine);
      assert.ok(Math.abs(got - want) < 1e-4, `${got} vs ${want}`);
      assert.ok(want > 0);
    }
  });

  test('HD95 is Infinity when exactly one mask is empty, 0 when both are', () => {
    const dims: Dims = [8, 8, 8];
    const grid = { dims, affine: diag([1, 1, 1]) };
    assert.equal(hd95(box(dims, [1, 1, 1], [3, 3, 3]), new Uint8Array(512), grid), Infinity);
    assert.equal(hd95(new Uint8Array(512), new Uint8Array(512), grid), 0);
  });

  test('median ignores NaN and copes with Infinity', () => {
    assert.equal(median([3, 1, NaN, 2]), 2);
    assert.equal(median([1, Infinity, Infinity]), Infinity);
    assert.ok(Number.isNaN(median([])));
  });
});

describe('simulated clicks', () => {
  test('the first click is the centre of a box, measured in mm', () => {
    const dims: Dims = [30, 30, 12];
    const first = firstClick(box(dims, [2, 2, 2], [22, 22, 8]), dims, [1, 1, 3]);
    assert.deepEqual(first?.point.slice(0, 2), [12, 12]);
    assert.equal(first?.label, 1);
    assert.equal(first?.regionVoxels, 21 * 21 * 7);
  });

  test('a corrective click is positive in a larger missed part, negative in a larger leak', () => {
    const dims: Dims = [40, 20, 20];
    const reference = box(dims, [2, 2, 2], [19, 17, 17]);
    const missedHalf = box(dims, [2, 2, 2], [9, 17, 17]);
    const fix = correctiveClick(missedHalf, reference, dims, [1, 1, 1]);
    assert.equal(fix?.label, 1);
    assert.ok(fix && fix.point[0] >= 10 && fix.point[0] <= 19, `click at ${fix?.point}`);
    assert.equal(reference[at(dims, ...(fix?.point ?? [0, 0, 0]))], 1);

    const leaked = box(dims, [2, 2, 2], [37, 17, 17]);
    const cut = correctiveClick(leaked, reference, dims, [1, 1, 1]);
    assert.equal(cut?.label, 0);
    assert.ok(cut && cut.point[0] >= 20, `click at ${cut?.point}`);
    assert.equal(cut?.regionVoxels, 18 * 16 * 16);
    assert.equal(correctiveClick(reference, reference, dims, [1, 1, 1]), undefined);
  });
});

describe('boundaryErrors', () => {
  test('splits the wrong voxels into those touching the other mask and those away from it', () => {
    // The reference is a 10-voxel cube; the prediction is that cube shifted one voxel along x, with
    // a 3×3×3 hole inside it and an 8-voxel blob far away. The shift's two slices (100 voxels each)
    // are at the edge; of the hole, only its centre voxel touches no predicted voxel; the blob is away.
    const dims: Dims = [40, 20, 20];
    const reference = box(dims, [5, 5, 5], [14, 14, 14]);
    const predicted = box(dims, [6, 5, 5], [15, 14, 14]);
    const hole = box(dims, [9, 9, 9], [11, 11, 11]);
    const blob = box(dims, [30, 5, 5], [31, 6, 6]);
    for (let p = 0; p < predicted.length; p++) predicted[p] = (predicted[p] & (hole[p] ^ 1)) | blob[p];
    const errors = boundaryErrors(predicted, reference, dims);
    assert.deepEqual(
      { ...errors, diceWithEdgeRight: undefined },
      { truePositives: 873, falsePositivesAtEdge: 100, falsePositivesAway: 8, falseNegativesAtEdge: 126, falseNegativesAway: 1, diceWithEdgeRight: undefined },
    );
    assert.equal(dice(predicted, reference), 1746 / 1981);
    // Put right at the edge: 873 + 126 agreed voxels, 8 + 1 still wrong.
    assert.equal(errors.diceWithEdgeRight, 1998 / 2007);
  });

  test('masks that agree have no errors, and two empty masks a Dice of 1', () => {
    const dims: Dims = [4, 4, 4];
    const cube = box(dims, [1, 1, 1], [2, 2, 2]);
    assert.deepEqual(boundaryErrors(cube, cube, dims), { truePositives: 8, falsePositivesAtEdge: 0, falsePositivesAway: 0, falseNegativesAtEdge: 0, falseNegativesAway: 0, diceWithEdgeRight: 1 });
    assert.equal(boundaryErrors(new Uint8Array(64), new Uint8Array(64), dims).diceWithEdgeRight, 1);
  });
});
