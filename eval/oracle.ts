/**
 * `npm run eval -- --oracle`: how far the flood's leak limits are from the best any stopping rule
 * could do. A first click's flood grows level by level up to its tolerance and the limits
 * (point-prompt.ts, flood-limits.ts, contrast-cut.ts) choose the level it is cut at; here the same
 * click is run again with its flood cut at every 16th level in turn (everything after the cut — the
 * rim, hole filling, the window's growth, a bone's piece — as usual), and the best Dice the
 * reference allows is kept. A rule that knew the answer could do no better with this flood (up to
 * the levels between the samples), so a target the oracle does not reach asks for another flood,
 * not another limit.
 * @module
 */
import { segmentClassic } from '../src/engines/classic/classic-engine.js';
import { floodCutForEval } from '../src/engines/classic/click-flood.js';
import type { PointPrompt, VoxelPoint } from '../src/engines/engine.js';
import { firstClick } from '../src/eval/clicks.js';
import { dice } from '../src/eval/metrics.js';
import type { EvalCase, Reference } from './cases.js';
import { labelMask } from './cases.js';

/** Every this many of the flood's cost levels is tried as its cut. */
export const ORACLE_STEP = 16;
/** How many cost levels a flood has (point-prompt.ts). */
export const FLOOD_LEVELS = floodCutForEval.levels;

export interface OracleRow {
  readonly caseName: string;
  readonly name: string;
  /** Dice of the first click as the engine cuts its flood. */
  readonly engine: number;
  /** Dice with the flood cut at each level tried (`levels`). */
  readonly curve: readonly number[];
  readonly levels: readonly number[];
}

/** The best of the engine's cut and every level tried. */
export function oracleBest(row: OracleRow): { dice: number; level?: number } {
  let best: { dice: number; level?: number } = { dice: row.engine };
  row.curve.forEach((d, k) => {
    if (d > best.dice) best = { dice: d, level: row.levels[k] };
  });
  return best;
}

/**
 * The first click of `ref` (at its deepest point, as the eval puts it), as the engine cuts its flood
 * and cut at every ORACLE_STEP-th level; undefined when the reference is empty.
 */
export function firstClickOracle(c: EvalCase, ref: Reference, spacing: readonly [number, number, number], label: number): OracleRow | undefined {
  const first = firstClick(ref.mask, c.volume.dims, spacing);
  if (!first) return undefined;
  const prompt: PointPrompt = { label, points: [first.point as VoxelPoint], pointLabels: [1] };
  const score = (): number => dice(labelMask(segmentClassic(c.volume, { classes: [], points: prompt }).data, label), ref.mask);
  const levels: number[] = [];
  for (let level = 0; level < floodCutForEval.levels; level += ORACLE_STEP) levels.push(level);
  if (levels[levels.length - 1] !== floodCutForEval.levels - 1) levels.push(floodCutForEval.levels - 1);
  floodCutForEval.level = undefined;
  const engine = score();
  const curve: number[] = [];
  try {
    for (const level of levels) {
      floodCutForEval.level = level;
      curve.push(score());
    }
  } finally {
    floodCutForEval.level = undefined;
  }
  return { caseName: c.name, name: ref.name, engine, curve, levels };
}
