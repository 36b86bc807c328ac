import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BucketQueue } from '../../src/engines/classic/bucket-queue.js';
import { MinHeap } from '../../src/engines/classic/min-heap.js';
import { largestComponents, listComponents, selectComponents } from '../../src/engines/classic/components.js';
import { fillHoles3d, fillHolesSlicewise } from '../../src/engines/classic/fill-holes.js';
import { distanceToMask, forEachBoxRow, maskCentre, pasteLabel, pasteVoxels, superiorAxis } from '../../src/engines/classic/grid.js';
import { close, dilate, erode, open } from '../../src/engines/classic/morphology.js';
import type { Dims } from '../../src/volume/volume.js';
import { countOf } from '../helpers/phantoms.js';

const at = (dims: Dims, i: number, j: number, k: number): number => i + dims[0] * (j + dims[1] * k);

function point(dims: Dims, i: number, j: number, k: number): Uint8Array {
  const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
  m[at(dims, i, j, k)] = 1;
  return m;
}

/** Voxels of an ellipsoid ball of radius r mm around (ci, cj, ck), by brute force. */
function ballCount(dims: Dims, spacing: readonly number[], c: readonly number[], r: number): number {
  let n = 0;
  for (let k = 0; k < dims[2]; k++) {
    for (let j = 0; j < dims[1]; j++) {
      for (let i = 0; i < dims[0]; i++) {
        const d2 = ((i - c[0]) * spacing[0]) ** 2 + ((j - c[1]) * spacing[1]) ** 2 + ((k - c[2]) * spacing[2]) ** 2;
        if (d2 <= r * r + 1e-6) n++;
      }
    }
  }
  return n;
}

describe('morphology', () => {
  test('dilating one voxel gives the ball of radius r in mm, on an anisotropic grid', () => {
    const dims: Dims = [41, 41, 21];
    const spacing = [0.7, 0.7, 2.5] as const;
    const grown = dilate(point(dims, 20, 20, 10), dims, spacing, 6);
    assert.equal(countOf(grown), ballCount(dims, spacing, [20, 20, 10], 6));
    assert.equal(grown[at(dims, 20 + 8, 20, 10)], 1); // 5.6 mm
    assert.equal(grown[at(dims, 20 + 9, 20, 10)], 0); // 6.3 mm
    assert.equal(grown[at(dims, 20, 20, 12)], 1); // 5 mm
    assert.equal(grown[at(dims, 20, 20, 13)], 0); // 7.5 mm
  });

  test('erosion is the dual of dilation and undoes it on a ball', () => {
    const dims: Dims = [31, 31, 31];
    const spacing = [1, 1, 1] as const;
    const ball = dilate(point(dims, 15, 15, 15), dims, spacing, 8);
    const eroded = erode(ball, dims, spacing, 3);
    assert.equal(countOf(eroded), ballCount(dims, spacing, [15, 15, 15], 5));
    const inverse = ball.map((v) => 1 - v);
    const viaDual = dilate(inverse, dims, spacing, 3).map((v) => 1 - v);
    assert.deepEqual(eroded, viaDual);
  });

  test('closing fills a gap narrower than 2r and never removes a voxel; opening removes thin strands', () => {
    const dims: Dims = [40, 20, 20];
    const spacing = [1, 1, 1] as const;
    const m = new Uint8Array(dims[0] * dims[1] * dims[2]);
    for (let k = 5; k < 15; k++) for (let j = 5; j < 15; j++) for (let i = 5; i < 35; i++) if (i !== 20 && i !== 21) m[at(dims, i, j, k)] = 1;
    const closed = close(m, dims, spacing, 2);
    assert.equal(closed[at(dims, 20, 10, 10)], 1);
    for (let p = 0; p < m.length; p++) if (m[p]) assert.equal(closed[p], 1);
    const strand = m.slice();
    for (let i = 35; i < 39; i++) strand[at(dims, i, 10, 10)] = 1;
    const opened = open(strand, dims, spacing, 1.5);
    assert.equal(opened[at(dims, 37, 10, 10)], 0);
    assert.equal(opened[at(dims, 10, 10, 10)], 1);
  });

  test('erosion keeps a structure cut by the field of view when told the outside continues', () => {
    const dims: Dims = [10, 10, 10];
    const full = new Uint8Array(1000).fill(1);
    assert.equal(countOf(erode(full, dims, [1, 1, 1], 1)), 8 * 8 * 8);
    assert.equal(countOf(erode(full, dims, [1, 1, 1], 1, { outside: 1 })), 1000);
  });
});

describe('components', () => {
  const dims: Dims = [5, 5, 5];
  const m = new Uint8Array(125);
  m[at(dims, 0, 0, 0)] = 1;
  m[at(dims, 1, 1, 1)] = 1; // touches the first only diagonally
  for (let i = 0; i < 5; i++) m[at(dims, i, 4, 4)] = 1;

  test('6-connectivity separates diagonal neighbours, 26 joins them', () => {
    assert.deepEqual(listComponents(m, dims, 6).list.map((c) => c.size), [5, 1, 1]);
    assert.deepEqual(listComponents(m, dims, 26).list.map((c) => c.size), [5, 2]);
  });

  test('keeps the largest component, or the ones touching seeds', () => {
    assert.equal(countOf(largestComponents(m, dims, 1, 6)), 5);
    const picked = selectComponents(m, dims, [at(dims, 1, 1, 1)], 26);
    assert.equal(countOf(picked), 2);
    assert.equal(picked[at(dims, 0, 0, 0)], 1);
  });

  test('measures each component from its voxel list', () => {
    const comps = listComponents(m, dims, 6, (voxels) => Array.from(voxels));
    for (const c of comps.list) {
      assert.equal(c.stats.length, c.size);
      assert.deepEqual(Array.from(comps.voxels.subarray(c.offset, c.offset + c.size)), c.stats);
    }
  });
});

describe('hole filling', () => {
  const dims: Dims = [12, 12, 12];
  const shell = (open: boolean): Uint8Array => {
    const m = new Uint8Array(12 ** 3);
    for (let k = 2; k < 10; k++) for (let j = 2; j < 10; j++) for (let i = 2; i < 10; i++) {
      const edge = i === 2 || i === 9 || j === 2 || j === 9 || k === 2 || k === 9;
      if (edge) m[at(dims, i, j, k)] = 1;
    }
    if (open) m[at(dims, 5, 5, 9)] = 0;
    return m;
  };

  test('fills a closed cavity in 3D but not one with an opening', () => {
    assert.equal(countOf(fillHoles3d(shell(false), dims)), 8 ** 3);
    assert.equal(countOf(fillHoles3d(shell(true), dims)), countOf(shell(true)));
  });

  test('slice-wise filling closes each plane of an open tube, within the area limit and predicate', () => {
    const tube = shell(true);
    const filled = fillHolesSlicewise(tube, dims, 2);
    assert.equal(filled[at(dims, 5, 5, 5)], 1);
    // The 6×6 holes of the tube's planes are over the limit; the one-pixel opening in its lid is not.
    assert.equal(countOf(fillHolesSlicewise(tube, dims, 2, { maxArea: 35 })), countOf(tube) + 1);
    assert.equal(countOf(fillHolesSlicewise(tube, dims, 2, { accept: () => false })), countOf(tube));
  });
});

describe('geometry', () => {
  test('finds the superior array axis from the affine, whatever the order', () => {
    assert.deepEqual(superiorAxis({ dims: [2, 2, 2], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1] }), { axis: 2, sign: 1 });
    assert.deepEqual(superiorAxis({ dims: [2, 2, 2], affine: [0, 1, 0, 0, 0, 0, 1, 0, -2, 0, 0, 0, 0, 0, 0, 1] }), { axis: 0, sign: -1 });
  });

  test('the distance from a voxel to the nearest voxel of a mask is in millimetres along each axis', () => {
    const dims: Dims = [5, 4, 3];
    const at = (i: number, j: number, k: number): number => i + 5 * (j + 4 * k);
    const mask = new Uint8Array(60);
    mask[at(4, 0, 2)] = 1; // 3 voxels along i, 2 along j, 2 along k from (1, 2, 0)
    mask[at(1, 2, 2)] = 1; // 2 along k only
    const spacing = [0.5, 1, 2.5];
    assert.equal(distanceToMask(mask, dims, spacing, at(1, 2, 0)), 5); // the second: 2 × 2.5 mm
    assert.equal(distanceToMask(mask, dims, spacing, at(4, 0, 0)), 5); // the first, straight along k
    assert.equal(distanceToMask(mask, dims, spacing, at(3, 2, 2)), 1); // the second, 2 × 0.5 mm along i
    assert.equal(distanceToMask(mask, dims, spacing, at(1, 2, 2)), 0);
    assert.equal(distanceToMask(new Uint8Array(60), dims, spacing, at(0, 0, 0)), Infinity);
  });

  test("a box's rows are visited in index order, each as the span of its voxels", () => {
    const dims: Dims = [6, 5, 4];
    const rows: [number, number][] = [];
    forEachBoxRow({ min: [1, 2, 1], max: [4, 3, 2] }, dims, (start, end) => rows.push([start, end]));
    // (1..4, j, k) is 1 + 6j + 30k up to 4 + 6j + 30k, the end exclusive.
    assert.deepEqual(rows, [[43, 47], [49, 53], [73, 77], [79, 83]]);
    // A box whose max lies below its min (a flood that owned nothing) has no rows.
    forEachBoxRow({ min: [6, 5, 4], max: [-1, -1, -1] }, dims, () => assert.fail('an empty box has no rows'));
  });

  test("a list of a box's voxels is written like the same voxels as a mask, over background only", () => {
    const dims: Dims = [6, 5, 4];
    const box = { min: [1, 2, 1] as [number, number, number], max: [4, 3, 3] as [number, number, number] }; // 4 × 2 × 3
    const mask = new Uint8Array(24);
    for (const q of [0, 5, 9, 23]) mask[q] = 1;
    const viaMask = new Uint8Array(120);
    const viaList = new Uint8Array(120);
    viaMask[1 + 2 * 6 + 1 * 30] = 7;
    viaList[1 + 2 * 6 + 1 * 30] = 7;
    pasteLabel(mask, viaMask, dims, box, 3);
    pasteVoxels(Int32Array.from([0, 5, 9, 23]), viaList, dims, box, 3);
    assert.deepEqual(viaList, viaMask);
    // Box voxel 23 = (3, 1, 2) in the box = (4, 3, 3) on the grid; voxel 0 kept its label 7.
    assert.equal(viaList[4 + 3 * 6 + 3 * 30], 3);
    assert.equal(viaList[1 + 2 * 6 + 1 * 30], 7);
  });

  test("a mask's world centre is the mean of its voxels' positions", () => {
    const dims: Dims = [5, 4, 3];
    const mask = new Uint8Array(60);
    for (const [i, j, k] of [[0, 0, 0], [1, 0, 0], [2, 0, 0], [4, 3, 2]]) mask[i + 5 * j + 20 * k] = 1;
    const affine = [2, 0, 0, 10, 0, -1, 0, 5, 0, 0, 3, -1, 0, 0, 0, 1];
    // Mean (i, j, k) = (7/4, 3/4, 2/4).
    assert.deepEqual(maskCentre(mask, { dims, affine }), [2 * 1.75 + 10, -0.75 + 5, 3 * 0.5 - 1]);
    assert.equal(maskCentre(new Uint8Array(60), { dims, affine }), undefined);
  });

  test('the min-heap pops by key through its growth, and keeps keys in the precision asked', () => {
    const heap = new MinHeap();
    // 3000 items (the arrays double twice), keys a scrambled permutation.
    for (let n = 0; n < 3000; n++) heap.push(n, (n * 1237) % 3000);
    const popped: number[] = [];
    while (heap.size > 0) {
      const key = heap.topKey();
      const item = heap.pop();
      assert.equal((item * 1237) % 3000, key);
      popped.push(key);
    }
    assert.deepEqual(popped, Array.from({ length: 3000 }, (_, n) => n));
    const single = new MinHeap(Float32Array);
    single.push(7, 0.1);
    assert.equal(single.topKey(), Math.fround(0.1));
    assert.equal(single.pop(), 7);
    assert.equal(single.size, 0);
  });

  test('the bucket queue pops by priority, first in first out within a bucket', () => {
    const q = new BucketQueue(4, 2);
    q.push(10, 2);
    q.push(11, 0);
    q.push(12, 2);
    q.push(13, 1, 7);
    assert.deepEqual([q.pop(), q.pop()], [11, 13]);
    assert.equal(q.tag, 7);
    assert.deepEqual([q.pop(), q.pop(), q.pop()], [10, 12, -1]);
  });
});
