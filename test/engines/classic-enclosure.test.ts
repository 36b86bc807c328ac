/**
 * Whether a pixel is enclosed by a mask in its axial plane (enclosure.ts), on 1 mm planes drawn with
 * known answers: a ring with a gap (a vertebral body's cortex open behind), a ring open over a
 * quarter, a ring out of reach, and a vessel whose lumen the mask holds.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { enclosedInPlane } from '../../src/engines/classic/enclosure.js';

const N = 61;
const C = 30;
const plane = { nu: N, nv: N, su: 1, sv: N, base: 0, du: 1, dv: 1 };

/** A plane with the pixels at distance [r0, r1] of the centre set, but where `open(angle in degrees)` says. */
function ring(r0: number, r1: number, open: (deg: number) => boolean = () => false): Uint8Array {
  const m = new Uint8Array(N * N);
  for (let v = 0; v < N; v++) {
    for (let u = 0; u < N; u++) {
      const r = Math.hypot(u - C, v - C);
      const deg = (Math.atan2(v - C, u - C) * 180) / Math.PI;
      if (r >= r0 && r <= r1 && !open(deg)) m[u + N * v] = 1;
    }
  }
  return m;
}

describe('classic engine: enclosed by a mask in the axial plane', () => {
  test('a ring open over 30° (one of the 8 directions) encloses its centre; open over 100° (two or three), it does not', () => {
    assert.equal(enclosedInPlane(ring(12, 14, (d) => Math.abs(d - 90) < 15), plane, C, C, 25), true);
    assert.equal(enclosedInPlane(ring(12, 14, (d) => Math.abs(d - 90) < 50), plane, C, C, 25), false);
  });

  test('a closed ring farther than the reach does not enclose its centre', () => {
    assert.equal(enclosedInPlane(ring(20, 22), plane, C, C, 25), true);
    assert.equal(enclosedInPlane(ring(20, 22), plane, C, C, 15), false);
  });

  test('a lumen the mask holds is enclosed only by mask beyond its own rim', () => {
    // A vessel of radius 6 taken into the mask, bone behind it only (a half ring, v < C).
    const vessel = ring(0, 6);
    const behind = ring(10, 12, (d) => d > 0);
    const alone = vessel.map((x, p) => x | behind[p]);
    assert.equal(enclosedInPlane(alone, plane, C, C, 25), false);
    // The same vessel inside a whole ring of bone.
    const round = ring(10, 12);
    assert.equal(enclosedInPlane(vessel.map((x, p) => x | round[p]), plane, C, C, 25), true);
  });

  test('the pixel is looked at in its own plane only (base and strides)', () => {
    // Two planes: the ring in the second; the first is empty.
    const two = new Uint8Array(2 * N * N);
    two.set(ring(12, 14), N * N);
    assert.equal(enclosedInPlane(two, { ...plane, base: 0 }, C, C, 25), false);
    assert.equal(enclosedInPlane(two, { ...plane, base: N * N }, C, C, 25), true);
  });
});
