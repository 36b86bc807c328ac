/**
 * Where a click's flood stops (flood-limits.ts), on flood histograms made up level by level: a
 * region that fills and then breaks out, and one that only fills.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClickDepths } from '../../src/engines/classic/flood-limits.js';
import { compactnessCut, leakCut, sizeCut } from '../../src/engines/classic/flood-limits.js';

const LEVELS = 256;
const MM = [1, 1, 1] as const;

/** A histogram from the cumulative volume (voxels of 1 mm³) at each level. */
function histogramOf(volume: (t: number) => number): Float64Array {
  const h = new Float64Array(LEVELS);
  for (let t = 0; t < LEVELS; t++) h[t] = volume(t) - (t > 0 ? volume(t - 1) : 0);
  return h;
}

function depthsOf(depth: (t: number) => number, solid: (t: number) => number): ClickDepths {
  return { depth: Float64Array.from({ length: LEVELS }, (_, t) => depth(t)), solid: Float64Array.from({ length: LEVELS }, (_, t) => solid(t)) };
}

describe('classic engine: where a click flood stops', () => {
  // A ball filling up to level 99 (its volume ~4.2·d³, its depth growing with it), then at level
  // 100 a breakout into 50 000 mm³ of the neighbour at the same depth.
  const radius = (t: number): number => 2 + 0.1 * Math.min(t, 99);
  const ball = (t: number): number => Math.round((4 / 3) * Math.PI * radius(t) ** 3);
  const breakout = histogramOf((t) => ball(t) + (t >= 100 ? 50_000 : 0));
  const filling = histogramOf(ball);

  test('the compactness cut stops at the level before volume per depth³ triples within 0.2σ', () => {
    // σ = 85 levels: the span is 17 levels; the first level whose span reaches the breakout is 83.
    const solid = depthsOf(radius, radius);
    assert.equal(compactnessCut(breakout, solid, MM, 85), 83);
    assert.equal(compactnessCut(filling, solid, MM, 85), LEVELS - 1);
  });

  test('the compactness cut does not judge a region that is not solid two voxels around its click', () => {
    assert.equal(compactnessCut(breakout, depthsOf(radius, () => 1.5), MM, 85), LEVELS - 1);
  });

  test('the size limit stops where the volume passes 200·d³ of the depth 8 levels before', () => {
    // 100 mm³ a level at a depth of 2 mm: 200·2³ = 1 600 mm³ is reached at level 15.
    const slab = histogramOf((t) => 100 * (t + 1));
    assert.equal(sizeCut(slab, depthsOf(() => 2, () => 2), MM), 15);
    // Still filling in (the click not yet two voxels deep, the region solid around it only from
    // level 200): never judged.
    assert.equal(sizeCut(slab, depthsOf(() => 1.5, (t) => (t < 200 ? 1 : 2)), MM), LEVELS - 1);
  });

  test('the size limit judges a click in a thin object from the volume a two-voxel depth allows', () => {
    // Never solid two voxels around the click at any level: the region may not pass 200·(2 mm)³ =
    // 1 600 mm³, reached at level 15, however shallow the click.
    const slab = histogramOf((t) => 100 * (t + 1));
    assert.equal(sizeCut(slab, depthsOf(() => 1.5, () => 1.5), MM), 15);
    // On 3 mm voxels (27 mm³, 100 a level) the same holds for a click solid 4 mm around it, under two
    // voxels: 200·(6 mm)³ = 43 200 mm³ = 1 600 voxels, reached at level 15.
    assert.equal(sizeCut(slab, depthsOf(() => 4, () => 4), [3, 3, 3]), 15);
  });

  test('the leak cut looks for a jump only from 1.5σ, where the region is full', () => {
    // Full by level 9 (10 000 mm³), nothing more, then 50 000 mm³ at level 120: the last level before
    // the jump's eighth of the levels (32) is 88.
    const late = histogramOf((t) => 1000 * Math.min(t + 1, 10) + (t >= 120 ? 50_000 : 0));
    assert.equal(leakCut(late, 10), 88);
    // A jump before 1.5σ (σ = 100 levels) is not seen.
    assert.equal(leakCut(histogramOf((t) => 1000 * Math.min(t + 1, 10) + (t >= 60 ? 50_000 : 0)), 100), LEVELS - 1);
  });
});
