import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SETBACK_MIN, tallyCorrections } from '../../src/eval/corrections.js';

describe('tallyCorrections: which corrective clicks lowered the Dice', () => {
  test('counts corrective clicks by kind and lists those that lowered the Dice, worst first', () => {
    const { positive, negative } = tallyCorrections([
      // 0.718 → 0.415 (negative: −0.303), → 0.784 (positive), → 0.832 (positive)
      { name: 'MR inferior vena cava', dice: [0.718, 0.415, 0.784, 0.832], pointLabels: [1, 0, 1, 1] },
      // 0.736 → 0.660 (negative: −0.076), → 0.781 (positive), → 0.781 (negative, unchanged)
      { name: 'C left rib 7', dice: [0.736, 0.66, 0.781, 0.781], pointLabels: [1, 0, 1, 0] },
      // 0.625 → 0.700 (positive), → 0.194 (positive: −0.506)
      { name: 'MR duodenum', dice: [0.625, 0.7, 0.194], pointLabels: [1, 1, 1] },
    ]);
    assert.equal(negative.clicks, 3);
    assert.deepEqual(
      negative.setbacks.map((s) => [s.name, s.click, Number(s.change.toFixed(3))]),
      [
        ['MR inferior vena cava', 2, -0.303],
        ['C left rib 7', 2, -0.076],
      ],
    );
    assert.equal(Number(negative.lost.toFixed(3)), -0.379);
    assert.equal(positive.clicks, 5);
    assert.deepEqual(
      positive.setbacks.map((s) => [s.name, s.click, Number(s.change.toFixed(3))]),
      [['MR duodenum', 3, -0.506]],
    );
    assert.equal(Number(positive.lost.toFixed(3)), -0.506);
  });

  test('a first click is not a correction, and a lowering under SETBACK_MIN is a tie', () => {
    const { positive, negative } = tallyCorrections([{ name: 'rib', dice: [0.9, 0.9 - SETBACK_MIN / 2], pointLabels: [1, 1] }]);
    assert.equal(positive.clicks, 1);
    assert.deepEqual(positive.setbacks, []);
    assert.equal(positive.lost, 0);
    assert.equal(negative.clicks, 0);
  });

  test('only the clicks given count when a sequence stopped early (its last Dice repeated)', () => {
    // No error region was left after the second click: the eval repeats its Dice for the rest.
    const { positive, negative } = tallyCorrections([{ name: 'sphere', dice: [0.95, 0.97, 0.97, 0.97], pointLabels: [1, 0] }]);
    assert.equal(negative.clicks, 1);
    assert.equal(positive.clicks, 0);
    assert.deepEqual(negative.setbacks, []);
  });
});
