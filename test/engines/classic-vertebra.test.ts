/**
 * One vertebra out of the spine's bone (vertebra.ts) on a synthetic column sampled at 1 × 1 × 2 mm:
 * three vertebral bodies (cylinders of radius 15 mm, 24 mm high) joined at the two 6 mm discs by a
 * bony rim (radius 13–15 mm: what the endplates' ring looks like in 2 mm slices), and a rib leaving
 * the middle body sideways for 60 mm — one 6-connected piece, as the skeleton joins a real spine.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { vertebraOf } from '../../src/engines/classic/vertebra.js';
import { countOf } from '../helpers/phantoms.js';

const DIMS: [number, number, number] = [141, 41, 45]; // x −20…120 mm, y −20…20 mm, z 0…88 mm
const SPACING: [number, number, number] = [1, 1, 2];

/** Which part of the column a voxel is: the body of vertebra 0, 1 or 2, a disc's rim, the rib, or nothing. */
function partOf(i: number, j: number, k: number): string | undefined {
  const x = i - 20;
  const y = j - 20;
  const z = 2 * k;
  const r = Math.hypot(x, y);
  // Vertebra n spans z 30·n … 30·n + 22 (twelve 2 mm slices), its disc the next three slices.
  const n = Math.floor(z / 30);
  const inBody = z - 30 * n < 24;
  if (r <= 15 && inBody && n <= 2) return `body ${n}`;
  if (r >= 13 && r <= 15 && !inBody && n <= 1) return 'rim';
  if (n === 1 && inBody && Math.abs(y) <= 3 && Math.abs(z - 40) <= 4 && x > 0 && x <= 75) return 'rib';
  return undefined;
}

const column = new Uint8Array(DIMS[0] * DIMS[1] * DIMS[2]);
const parts: (string | undefined)[] = [];
for (let k = 0, p = 0; k < DIMS[2]; k++) for (let j = 0; j < DIMS[1]; j++) for (let i = 0; i < DIMS[0]; i++, p++) {
  parts.push(partOf(i, j, k));
  column[p] = parts[p] === undefined ? 0 : 1;
}
const at = (x: number, y: number, z: number): number => x + 20 + DIMS[0] * (y + 20 + DIMS[1] * (z / 2));

describe('classic engine: one vertebra out of the spine (a click labelled as a vertebra)', () => {
  test('a click in the middle body gives that vertebra: its body and the rib within 40 mm, not the discs or the next vertebrae', () => {
    const vertebra = vertebraOf(column, DIMS, SPACING, 2, at(0, 0, 40));
    const held = new Map<string, number>();
    let ribBeyond = 0;
    for (let p = 0; p < column.length; p++) {
      if (vertebra[p] === 0) continue;
      held.set(parts[p] as string, (held.get(parts[p] as string) ?? 0) + 1);
      if (parts[p] === 'rib' && (p % DIMS[0]) - 20 > 40) ribBeyond++;
    }
    const body1 = parts.filter((q) => q === 'body 1').length;
    assert.deepEqual([...held.keys()].sort(), ['body 1', 'rib']);
    assert.equal(held.get('body 1'), body1);
    assert.equal(ribBeyond, 0);
  });

  test('a click where the bone does not fill the column (beside the body) leaves the piece as it is', () => {
    // On the rib, 30 mm from the body's axis: its slice's 12 mm disc is mostly not bone.
    const piece = vertebraOf(column, DIMS, SPACING, 2, at(30, 0, 40));
    assert.equal(piece, column);
    assert.equal(countOf(piece), countOf(column));
  });
});
