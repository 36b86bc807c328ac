/**
 * `npm run eval`: agreement of the classic engine with the reference segmentations in
 * ../shared/data (TotalSegmentator outputs, i.e. another model's predictions, not manual truth), for
 * class prompts and for simulated clicks (src/eval/clicks.ts), per structure; prints a table, the
 * medians, for each row under 0.80 after three clicks how much of its error lies at the
 * reference's edge (printEdgeErrors), and the issue's targets.
 *
 *   npm run eval                       # all cases
 *   npm run eval -- --data DIR         # another copy of the shared data folder
 *   npm run eval -- --case B           # cases whose name contains "B"
 *   npm run eval -- --case MR --structure 'stomach|duodenum' --clicks
 *                                      # only those structures' clicks (no class prompts, no
 *                                      # targets), and a line per click: where, how far from the
 *                                      # object, what it added or took, true and false
 *   npm run eval -- --oracle           # each structure's first click with its flood cut at every
 *                                      # 16th level: the best a stopping rule could do (oracle.ts)
 *
 * For each CT case it also runs everything-mode on the image reoriented to SAR (axes permuted and
 * flipped) and prints how well the two answers agree once mapped back; for every case, the same for
 * each structure's first click.
 *
 * Columns: voxels of the reference; class-prompt Dice and HD95 (mm) where the engine segments the
 * structure from a class prompt; Dice after 1 click, after 3 clicks (1 + 2 corrective) and after 4
 * (1 + 3 corrective). Clicks carry the structure's VISTA3D label, as a VISTA3D client's would (the
 * engine is label-aware for bones and its own classes); the MR's structures have none and are
 * zero-shot.
 * @module
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CLASSIC_ENGINE_INFO, segmentClassic } from '../src/engines/classic/classic-engine.js';
import { distanceToMask, superiorAxis } from '../src/engines/classic/grid.js';
import type { PointPrompt, VoxelPoint } from '../src/engines/engine.js';
import { isVoxgateError } from '../src/errors.js';
import type { SimulatedClick } from '../src/eval/clicks.js';
import { correctiveClick, firstClick } from '../src/eval/clicks.js';
import type { CorrectionTally } from '../src/eval/corrections.js';
import { tallyCorrections } from '../src/eval/corrections.js';
import type { BoundaryErrors } from '../src/eval/metrics.js';
import { boundaryErrors, dice, hd95, median } from '../src/eval/metrics.js';
import { sliceRepeats } from '../src/eval/reference-grid.js';
import { LABEL_GROUPS, labelName } from '../src/pipeline/labels.js';
import { columnNorms, determinant3 } from '../src/volume/affine.js';
import type { ReorientResult } from '../src/volume/reorient.js';
import { reorient } from '../src/volume/reorient.js';
import { orthogonalSpacing } from '../src/volume/distance-transform.js';
import type { EvalCase, Reference } from './cases.js';
import { labelMask, mrExample, patientB, patientC, voxelCount } from './cases.js';
import type { OracleRow } from './oracle.js';
import { FLOOD_LEVELS, ORACLE_STEP, firstClickOracle, oracleBest } from './oracle.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CORRECTIONS = 3;
/** Label the simulated clicks are written with when the structure has no VISTA3D index. */
const ZERO_SHOT_LABEL = 140;

interface Row {
  readonly caseName: string;
  readonly name: string;
  readonly vista?: number;
  readonly voxels: number;
  classDice?: number;
  classHd95?: number;
  classNote?: string;
  /** Dice after 1, 2, …, 1 + CORRECTIONS clicks. */
  clickDice?: number[];
  /** The point label of each click given (1 positive, 0 negative); fewer than clickDice when the clicks stopped early. */
  clickLabels?: number[];
  /** The first click on the image stored S, A, R, mapped back, against the first click as stored. */
  clickAgreement?: number;
  /** Where the answer after three clicks is wrong: at the reference's edge or away from it. */
  threeClickErrors?: BoundaryErrors;
}

const { values } = parseArgs({ options: { data: { type: 'string' }, case: { type: 'string' }, structure: { type: 'string' }, clicks: { type: 'boolean' }, oracle: { type: 'boolean' } } });
/** Only the structures whose name matches (their clicks alone: class prompts and targets are skipped). */
const structurePattern = values.structure === undefined ? undefined : new RegExp(values.structure, 'i');
const dataDir = path.resolve(values.data ?? path.join(ROOT, '../shared/data'));
const labelmaps = path.join(dataDir, 'labelmaps');

/** Whether the engine answers `ref` from a class prompt, and with which label. */
function classFor(ref: Reference): number | undefined {
  if (ref.vista === undefined) return undefined;
  return CLASSIC_ENGINE_INFO.supportedClasses.includes(ref.vista) ? ref.vista : undefined;
}

type Reoriented = ReorientResult<EvalCase['volume']['data']>;

function runClicks(
  c: EvalCase,
  ref: Reference,
  spacing: [number, number, number],
  turned: Reoriented,
): { scores: number[]; pointLabels: number[]; agreement?: number; threeClickErrors?: BoundaryErrors } {
  const label = ref.vista ?? ZERO_SHOT_LABEL;
  const first = firstClick(ref.mask, c.volume.dims, spacing);
  if (!first) return { scores: [], pointLabels: [] };
  const clicks: SimulatedClick[] = [first];
  const scores: number[] = [];
  let agreement: number | undefined;
  let threeClickErrors: BoundaryErrors | undefined;
  let previous: Uint8Array | undefined;
  for (let n = 0; n <= CORRECTIONS; n++) {
    const prompt: PointPrompt = {
      label,
      points: clicks.map((k) => k.point as VoxelPoint),
      pointLabels: clicks.map((k) => k.label),
    };
    const started = performance.now();
    const predicted = labelMask(segmentClassic(c.volume, { classes: [], points: prompt }).data, label);
    scores.push(dice(predicted, ref.mask));
    if (values.clicks) console.log(`   · ${clickLine(ref, clicks, n, predicted, scores[n], previous, spacing, c.volume.dims, performance.now() - started)}`);
    previous = predicted;
    if (n === 0) {
      // The same click on the image stored S, A, R: the engine must reason in world coordinates.
      const point = turned.transform.toOutputIndex(first.point) as VoxelPoint;
      const again = segmentClassic(turned.volume, { classes: [], points: { label, points: [point], pointLabels: [1] } }).data;
      agreement = dice(labelMask(turned.transform.invert(again), label), predicted);
    }
    // (Computed for the last answer when the clicks stop early: the answer after three clicks is that one.)
    if (n <= 2) threeClickErrors = boundaryErrors(predicted, ref.mask, c.volume.dims);
    if (n === CORRECTIONS) break;
    const next = correctiveClick(predicted, ref.mask, c.volume.dims, spacing);
    if (!next) {
      while (scores.length <= CORRECTIONS) scores.push(scores[scores.length - 1]);
      break;
    }
    clicks.push(next);
  }
  return { scores, pointLabels: clicks.map((k) => k.label), agreement, threeClickErrors };
}

/**
 * One click of a structure's sequence (--clicks): which, where, how deep in the error region it was
 * put, how far from the object it corrects (a positive click), the object's size and what the click
 * changed, true and false voxels, its Dice (`score`) and the time of the whole request.
 */
function clickLine(ref: Reference, clicks: readonly SimulatedClick[], n: number, predicted: Uint8Array, score: number, previous: Uint8Array | undefined, spacing: readonly number[], dims: EvalCase['volume']['dims'], ms: number): string {
  const click = clicks[n];
  const at = click.point[0] + dims[0] * (click.point[1] + dims[1] * click.point[2]);
  let gainedTrue = 0;
  let gainedFalse = 0;
  let lostTrue = 0;
  let lostFalse = 0;
  for (let p = 0; p < predicted.length; p++) {
    const before = previous?.[p] ?? 0;
    if (predicted[p] === before) continue;
    if (predicted[p] !== 0) {
      if (ref.mask[p] !== 0) gainedTrue++;
      else gainedFalse++;
    } else if (ref.mask[p] !== 0) lostTrue++;
    else lostFalse++;
  }
  const where = `${click.label === 1 ? '+' : '−'} (${click.point.join(', ')}) ${fmt(click.depthMm, 1)} mm deep in a ${click.regionVoxels}-voxel error region`;
  const from = previous && click.label === 1 ? `, ${fmt(distanceToMask(previous, dims, spacing, at), 1)} mm from the object` : '';
  const change = `+${gainedTrue} true +${gainedFalse} false, −${lostTrue} true −${lostFalse} false`;
  return `${ref.name} click ${n + 1} ${where}${from}: ${voxelCount(predicted)} voxels (${change}), Dice ${fmt(score)}, ${(ms / 1000).toFixed(2)} s`;
}

/**
 * Whether the case's references repeat slices along the superior axis (their union): a reference
 * drawn on a coarser grid and resampled onto the image's has its edges on that grid.
 */
function referenceGridNote(c: EvalCase): string {
  const union = new Uint8Array(c.volume.data.length);
  for (const r of c.references) for (let p = 0; p < union.length; p++) union[p] |= r.mask[p];
  const { axis } = superiorAxis({ dims: c.volume.dims, affine: c.volume.affine });
  const { steps, repeated } = sliceRepeats(union, c.volume.dims, axis);
  return repeated > 0
    ? `references: ${repeated} of ${steps} slice steps along the superior axis repeat the slice before, voxel for voxel — drawn on a coarser grid and resampled onto this one, so their edges lie on that grid`
    : `references: no slice repeats the one before (${steps} slice steps along the superior axis)`;
}

async function evaluate(c: EvalCase): Promise<Row[]> {
  const rows: Row[] = [];
  const grid = { dims: c.volume.dims, affine: c.volume.affine };
  const spacing = orthogonalSpacing(c.volume.affine);
  const mlPerVoxel = Math.abs(determinant3(c.volume.affine)) / 1000;
  console.log(`\n## ${c.name}: ${c.volume.dims.join('×')} voxels of ${columnNorms(c.volume.affine).map((s) => s.toFixed(3)).join('×')} mm, ${c.volume.dataType}`);
  for (const note of c.notes) console.log(`   - ${note}`);
  console.log(`   - ${referenceGridNote(c)}`);

  // Class prompts: everything mode (all classes the engine supports) once per case.
  let classLabels: Uint8Array | Int16Array | Uint16Array | undefined;
  const classes = [...CLASSIC_ENGINE_INFO.supportedClasses];
  const started = performance.now();
  if (structurePattern) console.log(`   - only structures matching /${structurePattern.source}/i, their clicks alone`);
  else try {
    classLabels = segmentClassic(c.volume, { classes }).data;
    console.log(`   - everything mode (${classes.join(', ')}) in ${((performance.now() - started) / 1000).toFixed(2)} s${c.ct ? '' : ' — NOT REFUSED on a non-CT image: FAIL'}`);
    console.log(`   - ${reorientedAgreement(c, classes, classLabels)}`);
  } catch (err) {
    if (!c.ct && isVoxgateError(err, 'VXG_ERR_IMAGE_NOT_CT')) console.log(`   - class prompts refused with VXG_ERR_IMAGE_NOT_CT, as they must be: "${err.message}"`);
    else throw err;
  }

  let turned: Reoriented | undefined;
  for (const ref of c.references) {
    if (structurePattern && !(ref.clicks && structurePattern.test(ref.name))) continue;
    const row: Row = { caseName: c.name, name: ref.name, vista: ref.vista, voxels: voxelCount(ref.mask) };
    const cls = classFor(ref);
    if (classLabels && cls !== undefined) {
      const predicted = labelMask(classLabels, cls);
      if (row.voxels === 0 && !c.complete) row.classNote = 'no reference';
      else {
        row.classDice = dice(predicted, ref.mask);
        row.classHd95 = hd95(predicted, ref.mask, grid);
        if (row.voxels === 0) row.classNote = `absent; predicted ${(voxelCount(predicted) * mlPerVoxel).toFixed(1)} mL`;
      }
    }
    if (ref.clicks && row.voxels > 0) {
      turned ??= reorient(c.volume, ['S', 'A', 'R']);
      const { scores, pointLabels, agreement, threeClickErrors } = runClicks(c, ref, spacing, turned);
      row.clickDice = scores;
      row.clickLabels = pointLabels;
      row.clickAgreement = agreement;
      row.threeClickErrors = threeClickErrors;
    }
    rows.push(row);
  }
  const agreements = rows.filter((r) => r.clickAgreement !== undefined).map((r) => ({ name: r.name, dice: r.clickAgreement as number }));
  if (agreements.length > 0) {
    const exact = agreements.filter((a) => a.dice === 1).length;
    const lowest = agreements.reduce((a, b) => (b.dice < a.dice ? b : a));
    console.log(
      `   - the first click on the image reoriented to SAR, mapped back: agreement Dice 1.0000 for ${exact} of ${agreements.length} structures` +
        (exact < agreements.length ? `, the lowest ${fmt(lowest.dice, 4)} (${lowest.name}; flips are kept as stored, and a flood's ties follow them)` : ''),
    );
  }

  // Supported classes with no reference row in this case: their volume, and for a complete reference
  // (one that would have labelled them) a false positive.
  if (classLabels) {
    for (const cls of classes) {
      if (c.references.some((r) => classFor(r) === cls)) continue;
      const members = LABEL_GROUPS.get(cls) ?? [cls];
      const covered = c.references.some((r) => r.vista !== undefined && members.includes(r.vista) && voxelCount(r.mask) > 0);
      const predicted = voxelCount(labelMask(classLabels, cls));
      const note = c.complete && !covered ? 'absent from the reference' : 'no reference';
      rows.push({ caseName: c.name, name: `${labelName(cls)} (${cls})`, vista: cls, voxels: 0, classNote: `${note}; predicted ${(predicted * mlPerVoxel).toFixed(1)} mL` });
    }
  }
  return rows;
}

const fmt = (v: number | undefined, digits = 3): string => (v === undefined ? '—' : Number.isFinite(v) ? v.toFixed(digits) : 'inf');

function printTable(rows: Row[]): void {
  const header = ['case', 'structure', 'vista', 'voxels', 'class Dice', 'HD95 mm', '1 click', '3 clicks', '4 clicks', 'note'];
  const lines = rows.map((r) => [
    r.caseName,
    r.name,
    r.vista === undefined ? '' : String(r.vista),
    String(r.voxels),
    fmt(r.classDice),
    fmt(r.classHd95, 1),
    fmt(r.clickDice?.[0]),
    fmt(r.clickDice?.[2]),
    fmt(r.clickDice?.[3]),
    r.classNote ?? '',
  ]);
  const widths = header.map((h, n) => Math.max(h.length, ...lines.map((l) => l[n].length)));
  const out = (cells: string[]): string => `| ${cells.map((cell, n) => cell.padEnd(widths[n])).join(' | ')} |`;
  console.log(`\n${out(header)}`);
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const l of lines) console.log(out(l));
}

/**
 * The engine reasons in world coordinates, so the same image stored with its axes permuted and
 * flipped must give the same answer: everything-mode again on the case reoriented to S, A, R (the
 * array's first axis superior, then anterior, then right), mapped back, against the first answer.
 * (The engine puts permuted axes back in world order itself; the flips it keeps.)
 */
function reorientedAgreement(c: EvalCase, classes: number[], labels: ArrayLike<number>): string {
  const { volume, transform } = reorient(c.volume, ['S', 'A', 'R']);
  const back = transform.invert(segmentClassic(volume, { classes }).data);
  const parts: string[] = [];
  for (const cls of classes) {
    const first = labelMask(labels, cls);
    const again = labelMask(back, cls);
    if (voxelCount(first) + voxelCount(again) > 0) parts.push(`${cls} ${fmt(dice(first, again), 4)}`);
  }
  return `the same classes on the image reoriented to SAR (axes permuted, x and y flipped for an LPS image), mapped back: agreement Dice ${parts.length > 0 ? parts.join(', ') : '— (nothing found either way)'}`;
}

/** --oracle: each structure's first click, as the engine cuts its flood and at the best cut tried (oracle.ts), a line each. */
function oracle(c: EvalCase): OracleRow[] {
  console.log(`\n## ${c.name}: the first click's flood cut at every ${ORACLE_STEP}th of its ${FLOOD_LEVELS} cost levels`);
  const spacing = orthogonalSpacing(c.volume.affine);
  const rows: OracleRow[] = [];
  for (const ref of c.references) {
    if (!ref.clicks || (structurePattern && !structurePattern.test(ref.name))) continue;
    const row = firstClickOracle(c, ref, spacing, ref.vista ?? ZERO_SHOT_LABEL);
    if (!row) continue;
    rows.push(row);
    const best = oracleBest(row);
    const at = best.level === undefined ? 'the engine\'s own cut' : `cut at level ${best.level}`;
    console.log(`   · ${ref.name}: engine ${fmt(row.engine)}, best ${fmt(best.dice)} (${at}); by level: ${row.curve.map((d) => d.toFixed(2)).join(' ')}`);
  }
  return rows;
}

function printOracleSummary(rows: readonly OracleRow[]): void {
  const engine = rows.map((r) => r.engine);
  const best = rows.map((r) => oracleBest(r).dice);
  const reaching = (scores: number[]): number => scores.filter((d) => d >= 0.7).length;
  console.log(`\nfirst click, ${rows.length} structures: median Dice ${fmt(median(engine))} as the engine cuts, ${fmt(median(best))} at the best cut tried`);
  console.log(`  rows ≥ 0.70: ${reaching(engine)} as the engine cuts, ${reaching(best)} at the best cut tried (the one-click median is at the target once ${Math.floor(rows.length / 2) + 1} are)`);
  const gainers = rows.filter((r) => r.engine < 0.7 && oracleBest(r).dice >= 0.7);
  if (gainers.length > 0) console.log(`  below 0.70 as cut, at it with the best cut: ${gainers.map((r) => `${r.caseName} ${r.name} ${fmt(r.engine)} → ${fmt(oracleBest(r).dice)} (level ${oracleBest(r).level})`).join('; ')}`);
}

/**
 * Of the rows under the three-click target, how much of each one's error lies on the reference's
 * edge (a voxel touching it, in or out): one that would reach the target with its edge put right
 * is bounded by where the two segmentations draw the boundary, not by a leak or a missed part, and
 * more clicks cannot lift it (a corrective click goes to the largest error region, and a one-voxel
 * shell has no depth).
 */
function printEdgeErrors(clicked: readonly Row[]): void {
  const under = clicked.flatMap((r) => (r.threeClickErrors && (r.clickDice?.[2] ?? 1) < 0.8 ? [{ ...r, errors: r.threeClickErrors }] : []));
  if (under.length === 0) return;
  console.log('\nunder 0.80 after three clicks: the wrong voxels at the reference\'s edge (touching it, in or out) and away from it, and the Dice with the edge put right');
  for (const r of under) {
    const e = r.errors;
    const atEdge = e.falsePositivesAtEdge + e.falseNegativesAtEdge;
    const away = e.falsePositivesAway + e.falseNegativesAway;
    console.log(`  ${r.caseName} ${r.name}: ${fmt(r.clickDice?.[2])}; at the edge ${atEdge} (${e.falsePositivesAtEdge} out, ${e.falseNegativesAtEdge} in), away ${away} (${e.falsePositivesAway} out, ${e.falseNegativesAway} in); ${fmt(e.diceWithEdgeRight)} with the edge right`);
  }
  const bounded = under.filter((r) => r.errors.diceWithEdgeRight >= 0.8);
  console.log(`  ${bounded.length} of these ${under.length} rows would reach 0.80 with only their edge put right${bounded.length > 0 ? `: ${bounded.map((r) => `${r.caseName} ${r.name}`).join(', ')}` : ''}`);
}

/**
 * How many corrective clicks lowered their structure's Dice, by kind, and the worst of them: each is
 * put on the largest error region, so each should raise it (tallyCorrections).
 */
function printSetbacks(clicked: readonly Row[]): void {
  const { positive, negative } = tallyCorrections(clicked.map((r) => ({ name: `${r.caseName} ${r.name}`, dice: r.clickDice ?? [], pointLabels: r.clickLabels ?? [] })));
  const line = (kind: string, t: CorrectionTally): string => {
    const worst = t.setbacks.slice(0, 3).map((s) => `${s.name} click ${s.click} ${s.change.toFixed(3)}`);
    return `  ${kind}: ${t.setbacks.length} of ${t.clicks} lowered the Dice${t.setbacks.length > 0 ? ` (${t.lost.toFixed(3)} in all; the worst: ${worst.join(', ')})` : ''}`;
  };
  console.log('\ncorrective clicks that lowered the Dice (each is put on the largest error region):');
  console.log(line('negative', negative));
  console.log(line('positive', positive));
}

async function main(): Promise<void> {
  console.log(`Voxgate classic engine evaluation against ${dataDir} (TotalSegmentator references; patient A held out and not used)`);
  console.log(`engine classes: ${CLASSIC_ENGINE_INFO.supportedClasses.join(', ')}; clicks: 1 at the reference's deepest point, then up to ${CORRECTIONS} corrective clicks`);
  console.log(`clicks carry the structure's VISTA3D label where it has one (label-aware: a bone, or a class above), else the zero-shot label ${ZERO_SHOT_LABEL}`);
  const loaders: [string, () => Promise<EvalCase | { skipped: string }>][] = [
    ['B CTA', () => patientB(dataDir)],
    ['C abdomen', () => patientC(dataDir, labelmaps)],
    ['MR', () => mrExample(dataDir, labelmaps)],
  ];
  const rows: Row[] = [];
  const oracleRows: OracleRow[] = [];
  for (const [name, load] of loaders) {
    if (values.case && !name.includes(values.case)) continue;
    const loaded = await load();
    if ('skipped' in loaded) {
      console.log(`\n## ${name}: skipped — ${loaded.skipped}`);
      continue;
    }
    const started = performance.now();
    if (values.oracle) oracleRows.push(...oracle(loaded));
    else rows.push(...(await evaluate(loaded)));
    console.log(`   - evaluated in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  if (values.oracle) {
    printOracleSummary(oracleRows);
    return;
  }
  printTable(rows);

  const clicked = rows.filter((r) => r.clickDice && r.clickDice.length > 0);
  const med = (subset: Row[], n: number): string => fmt(median(subset.map((r) => r.clickDice?.[n] ?? NaN)));
  console.log('\nmedian Dice over reference structures (clicks):');
  for (const name of [...new Set(clicked.map((r) => r.caseName)), 'all']) {
    const subset = name === 'all' ? clicked : clicked.filter((r) => r.caseName === name);
    console.log(`  ${name.padEnd(10)} n=${String(subset.length).padStart(2)}  1 click ${med(subset, 0)}  3 clicks ${med(subset, 2)}  4 clicks ${med(subset, 3)}`);
  }
  const ct = clicked.filter((r) => r.caseName !== 'MR');
  if (ct.length > 0) console.log(`  CT only    n=${String(ct.length).padStart(2)}  1 click ${med(ct, 0)}  3 clicks ${med(ct, 2)}  4 clicks ${med(ct, 3)}`);

  printEdgeErrors(clicked);
  printSetbacks(clicked);

  if (structurePattern) return;
  console.log('\ntargets (issue 4):');
  const classRow = (vista: number): Row[] => rows.filter((r) => r.vista === vista && r.classDice !== undefined && r.voxels > 0);
  const target = (what: string, vista: number, min: number): void => {
    const found = classRow(vista);
    if (!CLASSIC_ENGINE_INFO.supportedClasses.includes(vista)) {
      const refs = rows.filter((r) => r.vista === vista && r.voxels > 0).map((r) => r.caseName);
      console.log(`  ${what} ≥ ${min}: NOT SEGMENTED — the classic engine refuses class ${vista} (400)${refs.length > 0 ? `; references in: ${refs.join(', ')}` : ''}`);
      return;
    }
    if (found.length === 0) console.log(`  ${what} ≥ ${min}: no reference in the data — not measurable here (npm run eval:phantoms scores it on a blurred synthetic chest)`);
    for (const r of found) console.log(`  ${what} ≥ ${min}: ${r.caseName} ${fmt(r.classDice)} ${(r.classDice ?? 0) >= min ? 'MET' : 'MISSED'}`);
  };
  target('lung (20)', 20, 0.95);
  target('bone union (21)', 21, 0.85);
  target('trachea (57)', 57, 0.8);
  target('airway (132)', 132, 0.8);
  target('aorta (6) on contrast CT', 6, 0.85);
  const all1 = median(clicked.map((r) => r.clickDice?.[0] ?? NaN));
  const all3 = median(clicked.map((r) => r.clickDice?.[2] ?? NaN));
  console.log(`  one-click median ≥ 0.70: ${fmt(all1)} ${all1 >= 0.7 ? 'MET' : 'MISSED'}; three-click median ≥ 0.80: ${fmt(all3)} ${all3 >= 0.8 ? 'MET' : 'MISSED'}`);
  // How far a median target is, in rows: the median of n rows reaches t once ⌊n/2⌋ + 1 of them do.
  const atLeast = (n: number, t: number): number => clicked.filter((r) => (r.clickDice?.[n] ?? NaN) >= t).length;
  const needed = Math.floor(clicked.length / 2) + 1;
  console.log(`  rows at the target: ${atLeast(0, 0.7)} of ${clicked.length} after one click (≥ 0.70), ${atLeast(2, 0.8)} after three (≥ 0.80); the median is at the target once ${needed} are`);
}

await main();
