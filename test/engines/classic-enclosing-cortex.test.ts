/**
 * The cortex around a clicked marrow (enclosing-cortex.ts) on small synthetic grids with known
 * answers: a long bone's shaft in muscle, a canal inside a thick bone, the same shaft on an MR-like
 * scale, and an organ beside a bone.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addEnclosingCortex } from '../../src/engines/classic/enclosing-cortex.js';
import type { Dims } from '../../src/volume/volume.js';
import { countOf } from '../helpers/phantoms.js';

const DIMS: Dims = [40, 40, 10];
const SPACING = [1, 1, 2] as const;

/** A grid of 1 mm pixels and 2 mm slices; `at(x, y)` gives each pixel's part, the same in every slice. */
function grid<T extends string>(at: (x: number, y: number) => T): T[] {
  const parts: T[] = [];
  for (let k = 0; k < DIMS[2]; k++) for (let j = 0; j < DIMS[1]; j++) for (let i = 0; i < DIMS[0]; i++) parts.push(at(i - 19.5, j - 19.5));
  return parts;
}

type Part = 'fat' | 'muscle' | 'cortex' | 'marrow' | 'organ';
const HU: Record<Part, number> = { fat: -100, muscle: 45, cortex: 900, marrow: -60, organ: 60 };

function shaft(x: number, y: number): Part {
  const r = Math.hypot(x, y);
  return r <= 5 ? 'marrow' : r <= 9 ? 'cortex' : r <= 15 ? 'muscle' : 'fat';
}

const mask = (parts: Part[], ...which: Part[]): Uint8Array => Uint8Array.from(parts, (q) => (which.includes(q) ? 1 : 0));
const values = (parts: Part[], offset = 0): Int16Array => Int16Array.from(parts, (q) => HU[q] + offset);
const WHOLE = { min: [0, 0, 0] as [number, number, number], max: [DIMS[0] - 1, DIMS[1] - 1, DIMS[2] - 1] as [number, number, number] };

describe('the cortex enclosing a clicked marrow', () => {
  test('a long bone: the marrow gains its whole cortical wall, and nothing beyond', () => {
    const parts = grid(shaft);
    const region = mask(parts, 'marrow');
    const added = addEnclosingCortex(region, WHOLE, values(parts), DIMS, SPACING);
    assert.equal(added, countOf(mask(parts, 'cortex')));
    assert.deepEqual(region, mask(parts, 'marrow', 'cortex'));
  });

  test('a canal inside a thick bone gains nothing (the bright goes on past 10 mm)', () => {
    const parts = grid((x, y) => (Math.hypot(x, y) <= 4 ? 'marrow' : Math.abs(x) <= 18 && Math.abs(y) <= 18 ? 'cortex' : 'fat'));
    const region = mask(parts, 'marrow');
    assert.equal(addEnclosingCortex(region, WHOLE, values(parts), DIMS, SPACING), 0);
    assert.deepEqual(region, mask(parts, 'marrow'));
  });

  test('not on an MR-like scale (nothing below −50)', () => {
    const parts = grid(shaft);
    const region = mask(parts, 'marrow');
    assert.equal(addEnclosingCortex(region, WHOLE, values(parts, 1100), DIMS, SPACING), 0);
  });

  test('in a box of a larger grid, the same voxels', () => {
    const parts = grid(shaft);
    // The shaft's grid placed at (5, 3, 2) in a 50 × 46 × 14 grid of fat.
    const big: Dims = [50, 46, 14];
    const data = new Int16Array(50 * 46 * 14).fill(HU.fat);
    const box = { min: [5, 3, 2] as [number, number, number], max: [44, 42, 11] as [number, number, number] };
    const v = values(parts);
    for (let k = 0, q = 0; k < DIMS[2]; k++) for (let j = 0; j < DIMS[1]; j++) for (let i = 0; i < DIMS[0]; i++, q++) data[5 + i + 50 * (3 + j) + 50 * 46 * (2 + k)] = v[q];
    const region = mask(parts, 'marrow');
    addEnclosingCortex(region, box, data, big, SPACING);
    assert.deepEqual(region, mask(parts, 'marrow', 'cortex'));
  });

  test('an organ with a bone on one side only gains nothing', () => {
    const parts = grid((x, y) => (Math.hypot(x + 6, y) <= 8 ? 'organ' : Math.hypot(x - 9, y) <= 5 ? 'cortex' : 'fat'));
    const region = mask(parts, 'organ');
    assert.equal(addEnclosingCortex(region, WHOLE, values(parts), DIMS, SPACING), 0);
  });
});
