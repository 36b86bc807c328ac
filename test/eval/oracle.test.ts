/**
 * The eval's oracle (`npm run eval -- --oracle`, eval/oracle.ts): a first click run again with its
 * flood cut at every 16th level. On the phantom's two blobs (60 and 80 HU, one weak edge between
 * them) the full flood of a click in blob A takes blob B too; an early cut gives blob A alone.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EvalCase } from '../../eval/cases.js';
import { firstClickOracle, oracleBest } from '../../eval/oracle.js';
import { floodCutForEval } from '../../src/engines/classic/click-flood.js';
import { columnNorms } from '../../src/volume/affine.js';
import { buildPhantom } from '../helpers/phantoms.js';

describe('eval oracle: the best cut of a first click\'s flood', () => {
  const phantom = buildPhantom();
  const blobA = { name: 'blob A', mask: phantom.masks.blobA, clicks: true };
  const c: EvalCase = { name: 'phantom', volume: phantom.volume, references: [blobA], complete: true, ct: true, notes: [] };
  const spacing = columnNorms(phantom.volume.affine) as [number, number, number];
  const row = firstClickOracle(c, blobA, spacing, 140);

  test('cuts the flood at every 16th level and the last, and leaves the engine as it was', () => {
    assert.ok(row);
    assert.deepEqual(row.levels, [0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 255]);
    assert.equal(row.curve.length, 17);
    assert.equal(floodCutForEval.level, undefined);
  });

  test('the full flood crosses the weak edge; an early cut keeps blob A', () => {
    assert.ok(row);
    // The phantom's noise is seeded: these are exact.
    assert.equal(row.engine.toFixed(3), '0.983');
    assert.equal(row.curve[row.curve.length - 1].toFixed(3), '0.804', 'the whole flood, blob B with blob A');
    assert.equal(row.curve[0].toFixed(3), '0.028', 'level 0: the click\'s neighbourhood alone');
    const best = oracleBest(row);
    assert.equal(best.level, 112);
    assert.equal(best.dice.toFixed(3), '0.985');
  });
});
