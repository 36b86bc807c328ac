/**
 * Whether the evaluation's corrective clicks improve the answer (`npm run eval`): a corrective
 * click is put on the largest error region, so each one should raise its structure's Dice. This
 * counts, by kind (positive, negative), how many lowered it instead and by how much, and names the
 * worst: the medians show where the rows end, not which click of a sequence cost them. A pure
 * function of the Dice after each click.
 * @module
 */

/** One structure's click sequence: the Dice after each click and each click's point label (1 positive, 0 negative). */
export interface ClickSequence {
  readonly name: string;
  readonly dice: readonly number[];
  readonly pointLabels: readonly number[];
}

/** A corrective click that lowered its structure's Dice. */
export interface Setback {
  readonly name: string;
  /** 1-based: the first click is 1, so corrective clicks are 2 and later. */
  readonly click: number;
  /** Dice after the click minus Dice before it (negative). */
  readonly change: number;
}

export interface CorrectionTally {
  /** Corrective clicks of this kind. */
  readonly clicks: number;
  /** Those that lowered the Dice, worst first. */
  readonly setbacks: readonly Setback[];
  /** Sum of their changes (≤ 0). */
  readonly lost: number;
}

/**
 * A lowering smaller than this is a tie: Dice is printed with three decimals, and a click that moves a
 * few voxels of a thin row's edge either way is no setback.
 */
export const SETBACK_MIN = 0.001;

/**
 * The corrective clicks (the second and later) of every sequence, by kind, with those that lowered
 * the Dice by at least SETBACK_MIN. A sequence whose clicks stopped early (no error region left)
 * has fewer labels than Dice values; only clicks that were given count.
 * @example
 * const { positive, negative } = tallyCorrections([{ name: 'liver', dice: [0.5, 0.8, 0.7], pointLabels: [1, 1, 0] }]);
 * negative.setbacks[0]; // { name: 'liver', click: 3, change: -0.1 } (to rounding)
 */
export function tallyCorrections(sequences: readonly ClickSequence[]): { positive: CorrectionTally; negative: CorrectionTally } {
  const kinds = { positive: { clicks: 0, setbacks: [] as Setback[] }, negative: { clicks: 0, setbacks: [] as Setback[] } };
  for (const s of sequences) {
    for (let n = 1; n < Math.min(s.dice.length, s.pointLabels.length); n++) {
      const kind = s.pointLabels[n] === 0 ? kinds.negative : kinds.positive;
      kind.clicks++;
      const change = s.dice[n] - s.dice[n - 1];
      if (change <= -SETBACK_MIN) kind.setbacks.push({ name: s.name, click: n + 1, change });
    }
  }
  const done = (k: { clicks: number; setbacks: Setback[] }): CorrectionTally => ({
    clicks: k.clicks,
    setbacks: k.setbacks.sort((a, b) => a.change - b.change),
    lost: k.setbacks.reduce((sum, s) => sum + s.change, 0),
  });
  return { positive: done(kinds.positive), negative: done(kinds.negative) };
}
