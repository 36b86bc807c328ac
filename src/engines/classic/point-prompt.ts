/**
 * Click-to-segment for any object (a VISTA3D label or a zero-shot one): competitive seeded region
 * growing from the positive and negative clicks.
 *
 * - Smoothing. The flood runs on the window smoothed by one binomial [1 2 1] pass along each axis
 *   finer than 1.6 mm: CT noise (σ ≈ 15 HU) is as large as the contrast between abdominal organs,
 *   and unsmoothed, a flood meets a noisy path into the neighbour long before the object is full.
 * - Intensity models. Each positive click has its own model: the median of a 2 mm ball (small, so a
 *   thin object such as a rib is not modelled from its neighbours) and σ = 1.4826·MAD of a 4 mm
 *   ball, at least the window's noise level. Each negative click has its own median. The tolerance
 *   is 3σ, at least 0.5% of the window's 1–99% intensity range.
 * - Growth. Each positive click runs one priority flood (a bucket queue over 256 cost levels up to
 *   its tolerance) against all negative clicks: positive cost |I − μ|, negative cost the distance to
 *   the nearest negative median plus σ/4 (ties go to the object, so a negative click next to the
 *   object in its own tissue does not carve out its middle). A voxel's priority is the largest cost
 *   on the path that reached it (minimax, as in watershed flooding), and the first front to pop it
 *   owns it; across a weak edge the other side is cheaper for the negative front. The object of a
 *   set of clicks grown together is the union of the positive clicks' regions.
 * - Two orders (leastFlood). On a smoothed window, a click that is not in air floods twice: once as
 *   above, and once with each voxel delayed by EDGE_DELAY_MM times the gradient magnitude it lies
 *   on (the delay orders the voxels within the tolerance and excludes none); the smaller object is
 *   kept, unless it is a speck where the other is solid. A leak makes a region larger, and each
 *   order's limits catch leaks the other's miss (patient B's left common carotid, one click: 0.349
 *   → 0.747). Not on an unsmoothed window, where an object's own boundary layer lies on its edge
 *   and would be delayed past the limits.
 * - Corrections. The clicks are taken in their order, each correcting the object of the clicks
 *   before it (the one the user saw), so that a corrective click changes the object only around
 *   itself. A positive click adds what the clicks so far give grown together (its own region; the
 *   earlier clicks' floods are the same as before); after a negative click, of each click's flood
 *   only what lies geodesically nearer that click than every negative click
 *   (additionAfterNegatives): a negative click's "not here" holds for the clicks after it (the MR
 *   example's intervertebral discs: a positive click after a negative one flooded back 1 972 of
 *   the 1 975 voxels it had taken, 0.510 → 0.229; now 326 of them, 0.620). A negative click takes
 *   from the object only the voxels that the clicks so far, grown together, no longer give AND that
 *   lie geodesically nearer to it than to every positive click: the distance within the object,
 *   each step of h mm costing h·(1 + 6·|ΔI|/σ) on the raw values, σ the window's raw noise (click-split.ts), and whole each
 *   6-connected piece of what is no longer given that lies mostly nearer to it (a large leak with
 *   the click deep in it, whose part by the weak edge is nearer the positive click), and its basin of
 *   the object's depth where that is nearer to it too (a click on the object's own tissue, which the
 *   floods keep, takes the part it sits in up to the neck). Grown together, a
 *   negative click whose intensity lies among the object's hands its front a band of the object's
 *   own values wherever they connect, far from it too (patient C's liver with a negative click at
 *   93 HU between positive ones at 88 and 116: 0.97 → 0.93, 31 k of the liver's voxels lost with
 *   4.5 k of the error, now 0.97 → 0.95; MR spleen 0.91 → 0.68, now 0.85), and a re-grown flood
 *   can also grow past its former cut. A negative click outside the object takes what the clicks
 *   grown together no longer give, wherever it is. The clicks so far are grown together once per
 *   negative click (each positive click's flood kept until the next negative click): k clicks cost
 *   at most k² floods.
 * - Leak control (flood-limits.ts, and contrast-cut.ts for (4)). The flood's region at cost level
 *   t, R(t), grows with t; it is cut back to the last plausible level. (1) A jump: once t ≥ 1.5σ,
 *   when R grows by more than 25% within an eighth of the tolerance, the flood broke through a weak
 *   edge. (2) A size limit: R(t) may hold at most
 *   200·d³ mm³, d being the click's depth in R (the largest ball around the click that is at least
 *   half region), judged with the depth a few levels earlier; a flood that breaks from a rib into
 *   the body around it keeps the rib's depth but gains a thousandfold volume. A click under two
 *   voxels deep is judged only in a thin object (its region never solid two voxels around it): a
 *   large organ's flood is sparse with noise at first, its click seemingly shallow. (2b) A compactness
 *   jump, judged once R is solid two voxels of the coarsest axis around the click and only where
 *   (4) finds no edge: when R's volume per d³ grows threefold within 0.2σ, the flood broke into a
 *   neighbour of the object's intensity (unsmoothed, on MR, before the jump test's 1.5σ, and within
 *   the size limit: the MR example's aorta and right autochthon). (3) A cap for a
 *   later positive click: its region may hold at most 10 times the object the clicks before it
 *   gave (the object the user saw, so that the same click given twice floods the same), and at
 *   most that object plus 200·D³ mm³, D the click's distance to it (correctionCap: the missed part
 *   it marks borders the object, so the click is at most D deep in it).
 *   A corrective click on a thin missed part whose tissue runs on through the body (a colon's wall,
 *   a rib's end on soft tissue) floods that tissue, deep in it, with no jump (patient C, 4th clicks:
 *   the colon went from 6 k to 600 k voxels, a rib from 1.5 k to 740 k). After a cut by (1), (2)
 *   or (2b), positive-owned voxels within 2 mm are given back (the object's noisy rim); a cut by the
 *   cap is inside a tissue, with no rim to give back. (4) Within what (1)–(3) allow, the level
 *   whose region's boundary has the largest mean gradient magnitude, when that profile falls by 15%
 *   after its peak (contrast-cut.ts): a click in a rib's marrow models the rib from a ball of marrow,
 *   cortex and muscle, and its flood crosses the cortex into the muscle long before (1)–(3) stop it
 *   (patient C, one click on a rib: Dice 0.55–0.63 → 0.75–0.82). This cut is at an edge already:
 *   nothing is given back.
 * - Rim. Smoothing blurs the object's outer layer towards its surroundings; up to 3 layers of
 *   neighbours (when any axis was smoothed) whose smoothed value is nearer the object's median than the
 *   surroundings' median (and than every negative median) are added: the edge at half contrast.
 * - Window. The flood runs in a box of ±R mm around the positive clicks (R = 40 mm, or more for
 *   clicks far apart); when the object reaches the box's side, R doubles (up to 160 mm and 32 M
 *   voxels) and it runs again. Several clicks run in a box that holds the one the first click grew
 *   to alone (run first): the floods' limits depend on the window, and the object a click corrects
 *   is the one the user saw.
 * - Clean-up: an opening of about one voxel (at least 1 mm) removes one-voxel strands, 3D holes
 *   are filled (not where the negative front owns the voxels), and only the components holding a
 *   positive click are kept; a click the opening took keeps its voxel and its flood's voxels next
 *   to it (a click is never ignored).
 * - Cortex. A lone positive click's region (not air) wrapped in a thin shell much brighter than
 *   itself gets the shell (enclosing-cortex.ts): a click in a long bone's fatty marrow floods the
 *   marrow and stops at the cortex (patient C's one-click left humerus 0.363 → 0.920). Tested in the
 *   region's box widened by the shell's 10 mm reach; the shell does not make the window grow. Not
 *   for clicks grown together (their union's test took C's right humerus 0.819 → 0.261 after three).
 * - Label-aware clicks (ClickTissue, from classic-engine.ts). When the engine knows the clicked
 *   label — a class it answers (aorta, trachea, spinal cord, airway: `object`) or a bone (a member
 *   of group 21 but the costal cartilages: `tissue`, the skeleton) — a positive click on that
 *   tissue gives the tissue's 6-connected piece under it instead of its flood: the class's
 *   component, or the bone's when it is at most 3 times what the click flooded or 200·d³ for the
 *   click's depth d in it (one bone; a larger piece is bones joined at joints or discs, of which
 *   the bone within 2 mm of the flood is kept; a
 *   vertebra clicked in its body is cut out of the spine at the discs, vertebra.ts). Patient C, one
 *   click: ribs 7–11 0.61–0.81 → 0.71–0.85, spinal cord 0.64 → 0.85; patient B's aorta 0.28 →
 *   0.87. A corrective positive click beside the tissue adds its own flood (not the earlier clicks'
 *   floods, which the tissue replaced) within twice its distance to the object plus a voxel: it
 *   marks a missed part about that thick (a click in the 2 mm rim the aorta's answer missed flooded
 *   6 000 voxels of fat and wall). Negative clicks take, at the end, what lies both in their basins
 *   of the object's depth and nearer to them than to every positive click (click-split.ts
 *   negativeBasins): the intensity-weighted split found all of a humerus's cortex nearer a negative
 *   click on it than the positive click in its fatty marrow (0.910 → 0.248), and a cut half-way
 *   between the clicks took half a rib for a negative click in a one-voxel layer at its surface.
 * @module
 */
import type { PointPrompt } from '../engine.js';
import { VoxgateError } from '../../errors.js';
import type { VoxelArray } from '../../volume/datatype.js';
import { dataTypeOf } from '../../volume/datatype.js';
import { ScratchBuffers } from '../../volume/scratch-buffers.js';
import { selectComponents } from './components.js';
import { additionAfterNegatives, geodesicSplit, negativeBasins, negativeTakes, objectDepth } from './click-split.js';
import { contrastCut } from './contrast-cut.js';
import { SIZE_RATIO, clickDepths, compactnessCut, leakCut, sizeCut, solidRadius } from './flood-limits.js';
import { addEnclosingCortex } from './enclosing-cortex.js';
import { fillHoles3d } from './fill-holes.js';
import type { Box, Grid } from './grid.js';
import { boundingBox, boxDims, cropArray, distanceToMask, forEachBoxRow, gridToBox, padBox, pasteArray, sixNeighbours, spacingOf, stridesOf, voxelCoords } from './grid.js';
import { planeAxes } from './slices.js';
import type { Dims } from '../../volume/volume.js';
import type { RobustStats } from './intensity.js';
import { quantileSorted, robustStats } from './intensity.js';
import { dilate, open } from './morphology.js';
import { vertebraOf } from './vertebra.js';

const SAMPLE_RADIUS_MM = 4;
/** Radius (mm) of the ball whose median is the object's intensity: small, so a thin object's neighbours stay out. */
const CENTRE_RADIUS_MM = 2;
/** A later positive click's region may be at most this many times the object of the clicks before it. */
const CORRECTION_RATIO = 10;
/** A region whose click's median is below this (air: lung, bowel gas) is not tested for an enclosing cortex. */
const AIR_HU = -500;
/** How far (mm) an enclosing cortex may reach out of the region (enclosing-cortex.ts grows it up to 10 mm). */
const CORTEX_REACH_MM = 10;
/** Weight of the intensity change (in units of the window's raw noise) in the geodesic distance by which a negative click splits the object. */
const SPLIT_WEIGHT = 6;
/** A clicked bone's component is the object when at most this many times the click's flood, or SIZE_RATIO·d³ (onTissue). */
const TISSUE_RATIO = 3;
/** Else the object is the bone within this distance (mm) of the flood (onTissue). */
const TISSUE_NEAR_MM = 2;
/** Axes finer than this are smoothed (coarser ones are averaged enough by the scanner's voxel). */
const SMOOTH_MAX_SPACING_MM = 1.6;
/** Layers of raw-intensity rim given back after the smoothed flood (the blur's reach, see addRim). */
const RIM_LAYERS = 3;
/** How much nearer (in units of the click's σ) a negative click's intensity must be to take a voxel from the object. */
const NEGATIVE_MARGIN_SIGMA = 0.25;
const K_SIGMA = 3;
const LEVELS = 256;
const START_RADIUS_MM = 40;
const MAX_RADIUS_MM = 160;
/** How far (mm) a leak cut gives back the object's rim. */
const RECOVERY_MM = 2;
/** A window never grows past this many voxels (a click in air or a huge leak stays bounded). */
const MAX_WINDOW_VOXELS = 32 * 1024 * 1024;
/**
 * Weight (mm) of the smoothed window's gradient magnitude (HU/mm) in the edge-aware flood's order
 * (leastFlood): a voxel on a weak edge of 40 HU/mm is reached as if 20 HU further from the click's
 * median. 0.3 and 0.8 mm did worse for the edge-ordered flood alone (docs/classic-engine.md, stop 25).
 */
const EDGE_DELAY_MM = 0.5;

/**
 * For `npm run eval -- --oracle` only: when `level` is set, every flood of a lone positive click
 * (no negative click) is cut at that cost level (0 to LEVELS − 1) instead of where the leak limits
 * put it, and its rim is given back as after a limit's cut. The eval cuts the first click at every
 * level in turn to find the best cut the reference allows: how far the limits are from the best any
 * stopping rule could do with this flood. Never set by the engine or the server.
 */
export const floodCutForEval: { level?: number; readonly levels: number } = { levels: LEVELS };

/**
 * The click window's working arrays (its crop, the two smoothing buffers, the flood's owner and
 * level bytes), kept for the next click: a lung click touched ~150 MB of fresh memory, ~0.4 s of
 * page faults on the benchmark machines (src/volume/scratch-buffers.ts). About 12 bytes a voxel of
 * the largest window so far, at most 512 MiB. The engine runs one request at a time per thread.
 */
const scratch = new ScratchBuffers(512 * 2 ** 20);
const WINDOW_CROP = 'point-prompt.crop';
const SMOOTHED = ['point-prompt.smoothed-a', 'point-prompt.smoothed-b'] as const;

export interface PointResult {
  /** The object, on the full grid (built on first use: a click on a large image only needs `region`). */
  readonly mask: Uint8Array;
  /** The object within `window` (box-shaped, i fastest). */
  readonly region: Uint8Array;
  /** The box the last flood ran in. */
  readonly window: Box;
  readonly model: RobustStats;
  readonly tolerance: number;
}

function noPositiveClick(): VoxgateError {
  return new VoxgateError('VXG_ERR_PROMPT_INVALID', 'Point prompts need at least one positive point (point label 1) inside the object.');
}

/**
 * What the engine knows of the clicked label's tissue (classic-engine.ts clickTissue): its voxels in
 * a click window (window-shaped, i fastest), or undefined when it cannot be told there. `object`:
 * the class's own answer (the aorta, the spinal cord, the airway): a click in it means its component
 * there. `tissue`: the label's tissue (bone for a vertebra, a rib, a humerus): the clicked bone, but
 * joined to its neighbours at joints and discs.
 */
export interface ClickTissue {
  readonly kind: 'object' | 'tissue';
  /** For a label that is a vertebra: the array axis nearest superior, along which the spine is cut into vertebrae (vertebra.ts). */
  readonly vertebraAxis?: 0 | 1 | 2;
  inWindow(window: Box): Uint8Array | undefined;
  /** The bounds of the tissue's pieces under these clicks (grid voxels), when known on the whole grid. */
  reach?(points: readonly (readonly number[])[]): Box | undefined;
}

/** Throws the prompt's error when it has no positive click or a point that is not a voxel of `dims`. */
export function assertPointPrompt(prompt: PointPrompt, dims: Dims): void {
  if (!prompt.points.some((_, n) => prompt.pointLabels[n] !== 0)) throw noPositiveClick();
  for (const p of prompt.points) {
    if (!p.every((v, a) => Number.isInteger(v) && v >= 0 && v < dims[a])) {
      throw new VoxgateError('VXG_ERR_PROMPT_POINT_OUTSIDE', `Point [${p.join(', ')}] is not a voxel of this ${dims.join('×')} image.`);
    }
  }
}

export function segmentFromPoints(data: VoxelArray, grid: Grid, prompt: PointPrompt, tissue?: ClickTissue): PointResult {
  assertPointPrompt(prompt, grid.dims);
  // Each click corrects the object the clicks before it gave, as the user saw it, and the floods'
  // limits depend on the window (a leak cut short by the window's side shows no jump). The object's
  // bulk is the first click's flood: several clicks run in a window holding the one that click grew
  // to alone (`floor`), so that its flood is decided as when the user saw it. The MR example's
  // inferior vena cava: its first click grows its window to the whole image (536 voxels), three
  // clicks too (449); the fourth click started at ±40 mm and stopped at ±80 mm, where the first
  // click's flood is another: 2 815 voxels (Dice 0.784 → 0.241); now 498 (0.832). Each shorter run
  // of the clicks, each in its own window, gives the same on the shared data, at O(k²) floods for
  // k clicks (C's liver, ten clicks: 6.4 → 25.7 s); the first click alone costs one click.
  const first = prompt.pointLabels.findIndex((l) => l !== 0);
  const floor =
    prompt.points.length > 1 ? segmentInWindows(data, grid, { ...prompt, points: [prompt.points[first]], pointLabels: [prompt.pointLabels[first]] }, tissue, undefined).window : undefined;
  return segmentInWindows(data, grid, prompt, tissue, floor);
}

/** segmentFromPoints for one prompt: its window, at least `floor`, grown until the object lies inside it. */
function segmentInWindows(data: VoxelArray, grid: Grid, prompt: PointPrompt, tissue: ClickTissue | undefined, floor: Box | undefined): PointResult {
  const { dims } = grid;
  const positives = prompt.points.filter((_, n) => prompt.pointLabels[n] !== 0);
  const spacing = spacingOf(grid);

  let spread = 0;
  for (const a of positives) for (const b of positives) spread = Math.max(spread, Math.hypot(...[0, 1, 2].map((x) => (a[x] - b[x]) * spacing[x])));
  let radius = Math.max(START_RADIUS_MM, spread / 2 + 30);
  // The class's pieces under the clicks are known whole: the window holds them from the start
  // (patient-sized ones reach past the largest radius: a CTA's aorta from its arch to the iliacs).
  const reached = tissue?.reach?.(positives);
  const reach = reached && padBox(reached, [1, 1, 1], dims);
  for (;;) {
    const lo = [0, 1, 2].map((a) => Math.max(0, Math.min(...positives.map((p) => p[a])) - Math.ceil(radius / spacing[a])));
    const hi = [0, 1, 2].map((a) => Math.min(dims[a] - 1, Math.max(...positives.map((p) => p[a])) + Math.ceil(radius / spacing[a])));
    // Not past the largest window (a whole-body CTA's aorta; two far clicks' windows together):
    // then it grows as for any click.
    if (reach) holdBox(lo, hi, reach);
    if (floor) holdBox(lo, hi, floor);
    const window: Box = { min: lo as [number, number, number], max: hi as [number, number, number] };
    const wd = boxDims(window);
    const sub = cropArray(data, dims, window, scratch.array(WINDOW_CROP, dataTypeOf(data), wd[0] * wd[1] * wd[2]));
    const local = (p: readonly number[]): number => p[0] - lo[0] + wd[0] * (p[1] - lo[1] + wd[1] * (p[2] - lo[2]));
    const inWindow = (p: readonly number[]): boolean => [0, 1, 2].every((a) => p[a] >= lo[a] && p[a] <= hi[a]);
    const smooth = smoothBinomial(sub, wd, spacing);
    const smoothed = spacing.some((s) => s <= SMOOTH_MAX_SPACING_MM);
    const clickWindow: ClickWindow = {
      data, dims, box: window, sub, smooth, wd, spacing,
      noise: windowNoise(smooth, wd),
      rawNoise: windowNoise(sub, wd),
      floor: Math.max(0.005 * windowRange(smooth, wd), 1e-6),
      edgeOrdered: smoothed,
    };
    const tissueSub = tissue?.inWindow(window);
    // The clicks in their order, each correcting the object of the clicks before it (see the
    // module comment): a positive click adds what the clicks so far give; a negative click takes
    // from the object only what the clicks so far no longer give AND what lies nearer to it than to
    // every positive click (click-split.ts).
    const floods = new Map<number, Grown>();
    const pos: number[] = [];
    const neg: number[] = [];
    const caps: number[] = [];
    let region: Uint8Array | undefined;
    let last: Combined | undefined;
    // Voxels an enclosing cortex added: they do not make the window grow (the cortex is grown up to
    // 10 mm through bright voxels, often to the window's side: a vertebral body's click ran twice).
    let shells: Uint8Array | undefined;
    // What the negative clicks took so far (with their own voxels).
    let taken: Uint8Array | undefined;
    for (const [n, point] of prompt.points.entries()) {
      const positive = prompt.pointLabels[n] !== 0;
      if (!positive) {
        // A negative click beyond the window cannot touch the object.
        if (!inWindow(point)) continue;
        neg.push(local(point));
        // Every positive click's flood competes with every negative click: grown again.
        floods.clear();
        if (pos.length === 0) continue;
        // On a known tissue the negative clicks act once all clicks are in (below): the floods are
        // grown against them when a later positive click needs them, not here.
        if (tissueSub) continue;
      } else {
        pos.push(local(point));
        caps.push(region ? correctionCap(region, local(point), wd, spacing) : Infinity);
      }
      last = combinedRegion(clickWindow, pos, caps, neg, floods);
      if (last.shell) {
        shells ??= new Uint8Array(last.shell.length);
        for (let p = 0; p < shells.length; p++) shells[p] |= last.shell[p];
      }
      // A positive click on the label's tissue gives the tissue's piece under it (onTissue); one
      // beside it, what the clicks grown together give there.
      const gained =
        positive && tissueSub && tissue ? tissueGain(tissueSub, tissue, last.region, floods.get(pos.length - 1)?.positive ?? last.region, region, pos[pos.length - 1], wd, spacing) : last.region;
      if (!region) region = gained;
      else if (positive) {
        if (!tissueSub && neg.length > 0) {
          const added = additionAfterNegatives(region, gained, pos.map((_, k) => floods.get(k)!.positive), taken, sub, wd, spacing, pos, neg, clickWindow.rawNoise, SPLIT_WEIGHT);
          for (let p = 0; p < region.length; p++) region[p] |= added[p];
        } else for (let p = 0; p < region.length; p++) region[p] |= gained[p];
      } else {
        const at = neg[neg.length - 1];
        const object = region;
        const took = negativeTakes(object, last.region, sub, wd, spacing, pos, at, clickWindow.rawNoise, SPLIT_WEIGHT);
        for (let p = 0; p < object.length; p++) if (took[p] !== 0) object[p] = 0;
        taken ??= new Uint8Array(object.length);
        for (let p = 0; p < object.length; p++) taken[p] |= took[p];
        region = selectComponents(object, wd, pos, 6);
      }
    }
    // (Every positive click lies in the window, so the first one gave a region.)
    if (!region || !last) throw noPositiveClick();
    // On a known tissue the negative clicks take, all at once, from their basins of the object's depth
    // (click-split.ts negativeBasins): in one bone, cortex and marrow are one object, and an
    // intensity-weighted walk from a click in the marrow found all the cortex nearer a negative
    // click on it (patient C's left humerus 0.910 → 0.248).
    // Within a basin, only what also lies nearer the negative click than every positive click
    // (walking inside the object) goes: a rib is a tube of even depth, one basin whichever click is
    // deeper (patient C's left rib 7 went whole to a negative click on its cartilage end).
    if (tissueSub && neg.length > 0) {
      const basins = negativeBasins(region, wd, spacing, pos, neg);
      const nearer = new Uint8Array(region.length);
      for (const at of neg) {
        const split = geodesicSplit(region, sub, wd, spacing, pos, at, 1, 0);
        for (let p = 0; p < region.length; p++) nearer[p] |= split[p];
      }
      for (let p = 0; p < region.length; p++) region[p] &= (basins[p] & nearer[p]) ^ 1;
      region = selectComponents(region, wd, pos, 6);
    }
    const { model, tolerance: rawTolerance } = last;
    let core = region;
    if (shells) {
      core = region.slice();
      for (let p = 0; p < core.length; p++) core[p] &= shells[p] ^ 1;
    }
    const touches = touchesInnerFace(core, wd, window, dims);
    const nextVoxels = wd.reduce((n, d, a) => n * Math.min(dims[a], 2 * d), 1);
    if (touches && radius < MAX_RADIUS_MM && nextVoxels <= MAX_WINDOW_VOXELS) {
      radius *= 2;
      continue;
    }
    const object = region;
    let mask: Uint8Array | undefined;
    return {
      get mask(): Uint8Array {
        if (!mask) {
          mask = new Uint8Array(data.length);
          pasteArray(object, mask, dims, window);
        }
        return mask;
      },
      region: object,
      window,
      model,
      tolerance: rawTolerance,
    };
  }
}

/** Widens the window [lo, hi] (in place) to hold `box`, unless the window would then pass MAX_WINDOW_VOXELS. */
function holdBox(lo: number[], hi: number[], box: Box): void {
  const wlo = [0, 1, 2].map((a) => Math.min(lo[a], box.min[a]));
  const whi = [0, 1, 2].map((a) => Math.max(hi[a], box.max[a]));
  if ((whi[0] - wlo[0] + 1) * (whi[1] - wlo[1] + 1) * (whi[2] - wlo[2] + 1) <= MAX_WINDOW_VOXELS) {
    lo.splice(0, 3, ...wlo);
    hi.splice(0, 3, ...whi);
  }
}

/**
 * The most voxels a later positive click's flood may hold (its cap): the click corrects the object
 * the clicks before it gave (`object`), so its flood is that object (which it often floods again)
 * and the part it adds. A flood CORRECTION_RATIO times larger than the object is a leak (a click
 * on a thin missed part whose tissue runs on through the body). And the part it adds is the
 * missed part the click lies in, which borders the object: the click is at most its distance to
 * the object deep in it, so by the size limit (flood-limits.ts) that part holds at most
 * SIZE_RATIO · distance³. A click near the object, in a small missed part, thus cannot add a
 * large leak whose sparse phase the size limit lets through (the MR example's stomach, fourth
 * click 5 mm from the object: 22 732 voxels of its neighbours, 0.870 → 0.249).
 */
function correctionCap(object: Uint8Array, at: number, wd: Dims, spacing: readonly [number, number, number]): number {
  let size = 0;
  for (let p = 0; p < object.length; p++) size += object[p];
  const distance = distanceToMask(object, wd, spacing, at);
  const missed = (SIZE_RATIO * distance ** 3) / (spacing[0] * spacing[1] * spacing[2]);
  return Math.min(CORRECTION_RATIO * size, size + missed);
}

/**
 * What a positive click at `at` adds when the label's tissue is known. Its own part of what the
 * clicks grown together give (`together`): all of it for a first click; for a corrective one the
 * part within TISSUE_NEAR_MM of its own flood (the other clicks' floods were replaced by their
 * tissue pieces: the component of all of it under a corrective click by the spinal cord's rim was
 * the first click's flood, 4 000 voxels of the body around the cord). On the tissue, that part
 * decides which piece of the tissue (onTissue). Beside the tissue, a corrective click marks a part
 * the tissue missed, about as thick as the click's distance to the object (`before`): only that
 * part within twice that distance of the click is added (a click in the 2 mm rim the aorta's answer
 * missed flooded 6 000 voxels of fat and wall).
 */
function tissueGain(
  tissue: Uint8Array,
  spec: ClickTissue,
  together: Uint8Array,
  flood: Uint8Array,
  before: Uint8Array | undefined,
  at: number,
  wd: Dims,
  spacing: readonly [number, number, number],
): Uint8Array {
  if (!before) return tissue[at] !== 0 ? onTissue(tissue, spec, together, at, wd, spacing) : together;
  let own = dilate(flood, wd, spacing, TISSUE_NEAR_MM);
  for (let p = 0; p < own.length; p++) own[p] &= together[p];
  own = selectComponents(own, wd, [at], 6);
  if (tissue[at] !== 0) return onTissue(tissue, spec, own, at, wd, spacing);
  const reach = 2 * distanceToMask(before, wd, spacing, at) + Math.min(...spacing);
  const c = voxelCoords(at, wd);
  for (let p = 0; p < own.length; p++) {
    if (own[p] === 0) continue;
    const q = voxelCoords(p, wd);
    if (((q[0] - c[0]) * spacing[0]) ** 2 + ((q[1] - c[1]) * spacing[1]) ** 2 + ((q[2] - c[2]) * spacing[2]) ** 2 > reach * reach) own[p] = 0;
  }
  return selectComponents(own, wd, [at], 6);
}

/**
 * The object a positive click at `at` gives on the label's tissue (window arrays). The class's own
 * answer (`object`): its component under the click. Bone (`tissue`): the bone component under the
 * click when it is at most TISSUE_RATIO times what the click found (`found`: one bone, whose cortex
 * and marrow the flood follows only in part: patient C's ribs 7–11 after one click 0.61–0.81 as
 * flooded, 0.71–0.85 as the bone's component), or at most SIZE_RATIO·d³ for the click's depth d in
 * it (one bone clicked in its marrow, which the flood gives alone: C's right humerus, 12 508 voxels
 * of bone for 1 579 of marrow, 22·d³; 0.430 → 0.850 after one click); a larger one is bones joined
 * at joints or discs (the spine with its ribs' heads, a rib with its cartilage: 820–13 000·d³ on
 * patients B and C), and the object is then the bone within TISSUE_NEAR_MM of what the click found,
 * its component under the click.
 */
function onTissue(tissue: Uint8Array, spec: ClickTissue, found: Uint8Array, at: number, wd: Dims, spacing: readonly [number, number, number]): Uint8Array {
  const piece = selectComponents(tissue, wd, [at], 6);
  if (spec.kind === 'object') return piece;
  if (spec.vertebraAxis !== undefined) {
    // A vertebra: the spine's piece cut at the discs above and below the click (vertebra.ts).
    const vertebra = vertebraOf(piece, wd, spacing, spec.vertebraAxis, at);
    if (vertebra !== piece) return vertebra;
  }
  let pieceSize = 0;
  let foundSize = 0;
  for (let p = 0; p < piece.length; p++) {
    pieceSize += piece[p];
    foundSize += found[p];
  }
  if (pieceSize <= TISSUE_RATIO * foundSize || pieceSize * spacing[0] * spacing[1] * spacing[2] <= SIZE_RATIO * depthIn(piece, at, wd, spacing) ** 3) return piece;
  const near = dilate(found, wd, spacing, TISSUE_NEAR_MM);
  for (let p = 0; p < near.length; p++) near[p] &= piece[p];
  return selectComponents(near, wd, [at], 6);
}

/** The depth (mm) of voxel `at` in `mask` (window arrays): its distance to the mask's outside (objectDepth). */
function depthIn(mask: Uint8Array, at: number, wd: Dims, spacing: readonly [number, number, number]): number {
  const measured = objectDepth(mask, wd, spacing);
  return measured ? measured.depth[gridToBox(measured.box, wd)(at)] : 0;
}

/** The click window: its raw and smoothed values and what is measured on them once. */
interface ClickWindow {
  /** The image, its grid's dims, and the window's box on it. */
  readonly data: VoxelArray;
  readonly dims: Dims;
  readonly box: Box;
  readonly sub: VoxelArray;
  readonly smooth: Float32Array;
  readonly wd: Dims;
  readonly spacing: readonly [number, number, number];
  /** Noise σ of the smoothed and of the raw window (windowNoise). */
  readonly noise: number;
  readonly rawNoise: number;
  /** Smallest flood tolerance (0.5% of the window's 1–99% range). */
  readonly floor: number;
  /** Whether a click floods a second time, in the edge-delayed order (leastFlood): when an axis was smoothed. */
  readonly edgeOrdered: boolean;
}

interface Combined {
  /** The object of the positive clicks grown against all the negative clicks, in the window. */
  readonly region: Uint8Array;
  /** The first positive click's intensity model (the median of all positive clicks' balls, its σ). */
  readonly model: RobustStats;
  /** The raw tolerance of the rim (see addRim). */
  readonly tolerance: number;
  /** The voxels the enclosing cortex added, if any. */
  readonly shell?: Uint8Array;
}

/**
 * The object of `seeds` (positive clicks, window indices) grown against `negInWindow` all at once:
 * each positive click's own flood against every negative click, the union, the rim, holes filled,
 * the components holding a click. `floods` keeps each positive click's flood (by its index in
 * `seeds`) for the next call with the same negative clicks.
 */
function combinedRegion(w: ClickWindow, seeds: readonly number[], caps: readonly number[], negInWindow: readonly number[], floods: Map<number, Grown>): Combined {
  const { sub, smooth, wd, spacing, noise, floor } = w;
  const sample = (points: readonly number[], r: number): Float64Array => sampleBalls(smooth, wd, spacing, points, r);
  const centre = robustStats(sample(seeds, CENTRE_RADIUS_MM));
  const negMedians = negInWindow.map((p) => robustStats(sample([p], CENTRE_RADIUS_MM)).median);
  // Each positive click floods on its own, with its own intensity model and its own leak and size
  // limits, against all the negative clicks; the object is the union. Corrective clicks often
  // land on another part of the object (a rib's cortex after its marrow, a thin end of an organ):
  // pooled statistics would blur the parts into neither, and one part's leak would be judged by
  // another part's depth.
  const posMedians = seeds.map((p) => robustStats(sample([p], CENTRE_RADIUS_MM)).median);
  const recovery = Math.max(1, Math.round(RECOVERY_MM / Math.min(...spacing)));
  // The union of the floods (see below for the first one's arrays).
  let positive: Uint8Array = new Uint8Array(0);
  let negativeAny: Uint8Array = new Uint8Array(0);
  let model: RobustStats = centre;
  let tolerance = 0;
  for (const [n, seed] of seeds.entries()) {
    const spreadStats = robustStats(sample([seed], SAMPLE_RADIUS_MM));
    const seedModel: RobustStats = { median: posMedians[n], sigma: Math.max(spreadStats.sigma, noise), count: spreadStats.count };
    const seedTolerance = Math.max(K_SIGMA * seedModel.sigma, floor);
    const grown = floods.get(n) ?? leastFlood(w, seed, negInWindow, seedModel, negMedians, seedTolerance, recovery, caps[n]);
    floods.set(n, grown);
    if (n === 0) {
      // The union is built in place: copied when there is one (the floods are kept for the next
      // call); a lone flood's arrays are taken as they are (a lung window's copy is ~0.2 s of page
      // faults). Its negative voxels are never positive, so the mask below leaves them unchanged.
      positive = seeds.length > 1 ? grown.positive.slice() : grown.positive;
      negativeAny = seeds.length > 1 ? grown.negative.slice() : grown.negative;
    } else {
      for (let p = 0; p < sub.length; p++) {
        positive[p] |= grown.positive[p];
        negativeAny[p] |= grown.negative[p];
      }
    }
    if (n === 0) model = { median: centre.median, sigma: seedModel.sigma, count: centre.count };
    tolerance = Math.max(tolerance, seedTolerance);
  }
  // A voxel one click's front gave to a negative click but another click's front claimed stays the object's.
  const negative = negativeAny;
  if (negInWindow.length > 0) for (let p = 0; p < negative.length; p++) negative[p] &= positive[p] ^ 1;
  const grown = { positive, negative };
  const openRadius = Math.max(1, Math.min(...spacing) * 1.01);
  let region = open(grown.positive, wd, spacing, openRadius);
  if (!seeds.some((s) => region[s] !== 0)) region = grown.positive.slice();
  // The rim goes along every axis once any was smoothed: the flood's tolerance, from the smoothed
  // σ, is tight, so the edge falls short across the slices too (patient C, 2 mm slices: one-click
  // median 0.48 with the in-plane rim only, 0.55 with it). Without smoothing (MR at 3 mm) the
  // edge is not blurred and a rim only spills into the neighbours.
  const rawSpread = withinSpread(seeds.map((p, n) => ({ values: sampleBalls(sub, wd, spacing, [p], SAMPLE_RADIUS_MM), median: posMedians[n] })));
  const rawTolerance = Math.max(K_SIGMA * Math.max(rawSpread.sigma, w.rawNoise), tolerance);
  if (spacing.some((s) => s <= SMOOTH_MAX_SPACING_MM)) {
    const all = [true, true, true];
    const rim: number[] = [];
    forEachRimVoxel(region, grown.negative, wd, all, (p) => rim.push(p));
    const outside = outsideMedian(region, grown.negative, smooth, wd, all, rim);
    // Smoothing mixes a strong neighbour (air, lung, cortex) into the object's last voxels: a rim
    // voxel whose own raw value is the object's (within the raw tolerance, and nearer the object
    // than the surroundings) is the object's too — else an object loses its edge on the side of a
    // bright or dark neighbour only (a sphere touching lung lost that side's layer).
    addRim(region, grown.negative, smooth, sub, rawTolerance, wd, all, rim, posMedians, [outside, ...negMedians]);
  }
  region = fillHoles3d(region, wd);
  if (negInWindow.length > 0) for (let p = 0; p < region.length; p++) if (grown.negative[p] !== 0) region[p] = 0;
  // A click is the user's word that its voxel is the object. A click on a thin part (one voxel
  // thick on a 3 mm grid) whose flood the opening took there, rim or not, gets its voxel and the
  // 6-neighbours of it that its flood took: MR iliopsoas (3 mm), where such a corrective click
  // changed nothing and the next one came to the same voxel, right 0.479 → 0.587 after three
  // clicks. Only the click's own neighbourhood: the rest of what the opening took is strands,
  // through noise or into a tissue of the same intensity, and any opened part they lead to holds
  // no click and is not kept (all of the flood given back: B's left carotid's third click ran
  // into the aortic arch, 388 → 13 874 voxels; C's colon's fourth percolated through the fat).
  const lost = seeds.filter((s) => region[s] === 0);
  region = selectComponents(region, wd, seeds, 6);
  if (lost.length > 0) {
    const neighbours = sixNeighbours(wd);
    for (const [n, seed] of seeds.entries()) {
      if (!lost.includes(seed)) continue;
      const own = floods.get(n)!.positive;
      region[seed] = 1;
      neighbours(seed, (q) => {
        region[q] |= own[q];
      });
    }
  }
  // A lone click's region wrapped in a thin shell much brighter than itself (a long bone's fatty
  // marrow in its cortex) gets the shell (enclosing-cortex.ts; patient C's one-click left humerus
  // 0.363 → 0.920). Not for clicks grown together: their union's shell test took C's right
  // humerus from 0.819 to 0.261 after three clicks.
  // Air (lung, bowel gas) has no cortex: not tested (the test walks the region's whole surface).
  // Tested in the region's box widened by the cortex's reach, not the whole window (the test's
  // arrays are its box's).
  let shell: Uint8Array | undefined;
  const bounds = seeds.length === 1 && model.median > AIR_HU ? boundingBox(region, wd) : undefined;
  if (bounds) {
    // enclosing-cortex.ts grows the shell a step a voxel of the finest axis: as many along each.
    const steps = Math.round(CORTEX_REACH_MM / Math.min(...spacing)) + 1;
    const reach: [number, number, number] = [steps, steps, steps];
    const box = padBox(bounds, reach, wd);
    const part = cropArray(region, wd, box);
    const before = part.slice();
    const onGrid: Box = {
      min: [0, 1, 2].map((a) => box.min[a] + w.box.min[a]) as [number, number, number],
      max: [0, 1, 2].map((a) => box.max[a] + w.box.min[a]) as [number, number, number],
    };
    if (addEnclosingCortex(part, onGrid, w.data, w.dims, spacing) > 0) {
      for (let p = 0; p < part.length; p++) before[p] = part[p] & (before[p] ^ 1);
      shell = new Uint8Array(region.length);
      pasteArray(before, shell, wd, box);
      for (let p = 0; p < region.length; p++) region[p] |= shell[p];
    }
  }
  return { region, model, tolerance: rawTolerance, shell };
}

/** Values in a ball of `radiusMm` (at least the 6-neighbourhood) around each point of a window. */
function sampleBalls(values: ArrayLike<number>, wd: readonly number[], spacing: readonly number[], points: readonly number[], radiusMm: number): Float64Array {
  const r = Math.max(radiusMm, Math.max(...spacing) * 1.01);
  const radii = spacing.map((s) => Math.floor(r / s));
  const out: number[] = [];
  for (const p of points) {
    const k0 = Math.floor(p / (wd[0] * wd[1]));
    const j0 = Math.floor((p - k0 * wd[0] * wd[1]) / wd[0]);
    const i0 = p - wd[0] * (j0 + wd[1] * k0);
    for (let dk = -radii[2]; dk <= radii[2]; dk++) {
      for (let dj = -radii[1]; dj <= radii[1]; dj++) {
        for (let di = -radii[0]; di <= radii[0]; di++) {
          if ((di * spacing[0]) ** 2 + (dj * spacing[1]) ** 2 + (dk * spacing[2]) ** 2 > r * r) continue;
          const i = i0 + di, j = j0 + dj, k = k0 + dk;
          if (i < 0 || j < 0 || k < 0 || i >= wd[0] || j >= wd[1] || k >= wd[2]) continue;
          out.push(values[i + wd[0] * (j + wd[1] * k)]);
        }
      }
    }
  }
  return Float64Array.from(out);
}

/**
 * One binomial [1 2 1]/4 pass along each axis (clamped at the borders): it cuts white noise σ about
 * fourfold, so similar tissues (organs 10 HU apart under 15 HU noise) separate by intensity, at the
 * price of a half-voxel blur of edges.
 */
function smoothBinomial(sub: VoxelArray, wd: readonly number[], spacing: readonly number[]): Float32Array {
  let cur = scratch.array<Float32Array>(SMOOTHED[0], 'float32', sub.length);
  cur.set(sub);
  // Two buffers, passed back and forth: a large window is tens of MB a buffer.
  let spare: Float32Array | undefined;
  const [nx, ny, nz] = wd;
  const strides = [1, nx, nx * ny];
  for (let a = 0; a < 3; a++) {
    if (spacing[a] > SMOOTH_MAX_SPACING_MM || wd[a] < 2) continue;
    const st = strides[a];
    const len = wd[a];
    const next = spare ?? scratch.array<Float32Array>(SMOOTHED[1], 'float32', cur.length);
    if (a === 0) {
      for (let start = 0; start < cur.length; start += nx) {
        const last = start + nx - 1;
        next[start] = 0.75 * cur[start] + 0.25 * cur[start + 1];
        next[last] = 0.75 * cur[last] + 0.25 * cur[last - 1];
        for (let p = start + 1; p < last; p++) next[p] = 0.25 * (cur[p - 1] + cur[p + 1]) + 0.5 * cur[p];
      }
    } else {
      // Along y or z the lines are strided: run over whole rows (i fastest) instead, so memory is
      // read in order; each voxel gets the same arithmetic as along its own line.
      const rowsPerBlock = a === 1 ? 1 : ny;
      const blocks = a === 1 ? nz : 1;
      const rowLen = nx * rowsPerBlock; // voxels of one coordinate value on axis a, within one block
      for (let blk = 0; blk < blocks; blk++) {
        const base = blk * nx * ny;
        for (let c = 0; c < len; c++) {
          const off = base + c * st;
          const lo = c === 0 ? 0 : -st;
          const hi = c === len - 1 ? 0 : st;
          if (c === 0 || c === len - 1) {
            const other = c === 0 ? hi : lo;
            for (let p = off; p < off + rowLen; p++) next[p] = 0.75 * cur[p] + 0.25 * cur[p + other];
          } else {
            for (let p = off; p < off + rowLen; p++) next[p] = 0.25 * (cur[p + lo] + cur[p + hi]) + 0.5 * cur[p];
          }
        }
      }
    }
    spare = cur;
    cur = next;
  }
  return cur;
}

/**
 * Positions along an axis of length n, every `step` counted from the nearer end: a set that is its
 * own mirror image, so that a window stored flipped samples the same voxels (a stride from index 0
 * samples others, and the window's noise and range, and with them every tolerance, changed with the
 * way the array runs: the MR example's gallbladder click agreed with itself at 0.947 stored R, A, S).
 */
function mirroredSteps(n: number, step: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (Math.min(i, n - 1 - i) % step === 0) out.push(i);
  return out;
}

/** About how many voxels of a window its noise and range are read from. */
const WINDOW_SAMPLE = 20000;

/**
 * `value(p)` at the voxels p of a window of `wd` on a lattice that is its own mirror image along
 * every axis (mirroredSteps; about WINDOW_SAMPLE of them), in a new array. `pairs`: the lattice's
 * first axis runs over the pairs (i, i + 1), whose mirror starts at wd[0] − 2 − i.
 */
function mirroredSample(wd: Dims, pairs: boolean, value: (p: number) => number): Float64Array {
  const step = Math.max(1, Math.floor(Math.cbrt((wd[0] * wd[1] * wd[2]) / WINDOW_SAMPLE)));
  const is = mirroredSteps(pairs ? wd[0] - 1 : wd[0], step);
  const js = mirroredSteps(wd[1], step);
  const ks = mirroredSteps(wd[2], step);
  const sample = new Float64Array(is.length * js.length * ks.length);
  let t = 0;
  for (const k of ks) {
    for (const j of js) {
      const row = wd[0] * (j + wd[1] * k);
      for (const i of is) sample[t++] = value(row + i);
    }
  }
  return sample;
}

/**
 * The image noise σ in a window: 1.4826 · median |I(p) − I(p+1)| / √2 over neighbours along the
 * first axis, sampled on a lattice that is its own mirror image along every axis (mirroredSample).
 * Differences cancel the anatomy except at edges, which the median ignores; this guards the seed
 * model's σ, which a small ball estimates poorly.
 */
function windowNoise(sub: ArrayLike<number>, wd: Dims): number {
  if (wd[0] < 2) return 0;
  const diffs = mirroredSample(wd, true, (p) => Math.abs(sub[p + 1] - sub[p])).sort();
  return (1.4826 * quantileSorted(diffs, 0.5)) / Math.SQRT2;
}

/** The 1st–99th percentile spread of a window (sampled as windowNoise is). */
function windowRange(sub: ArrayLike<number>, wd: Dims): number {
  const sample = mirroredSample(wd, false, (p) => sub[p]).sort();
  return quantileSorted(sample, 0.99) - quantileSorted(sample, 0.01);
}

/**
 * The flood's priority queue: a monotone bucket queue, FIFO within a bucket, a push below the
 * bucket being popped going to that bucket (the order of BucketQueue, whose results it keeps). Each
 * bucket is a growing array of `voxel · 4 + tag`, read in order and dropped once drained: the hot
 * loop pushes and pops in sequence through memory instead of following linked slots, a tenth of a
 * large click's time.
 */
class FloodQueue {
  readonly #buckets: Int32Array[];
  readonly #heads: Int32Array;
  readonly #tails: Int32Array;
  #current = 0;
  size = 0;
  /** Bucket and tag of the last pop. */
  level = 0;
  tag = 0;

  constructor(buckets: number) {
    this.#buckets = Array.from({ length: buckets }, () => new Int32Array(0));
    this.#heads = new Int32Array(buckets);
    this.#tails = new Int32Array(buckets);
  }

  push(voxel: number, bucket: number, tag: number): void {
    const b = bucket < this.#current ? this.#current : bucket;
    let items = this.#buckets[b];
    const tail = this.#tails[b];
    if (tail === items.length) {
      const grown = new Int32Array(Math.max(64, 2 * items.length));
      grown.set(items);
      this.#buckets[b] = items = grown;
    }
    items[tail] = voxel * 4 + tag;
    this.#tails[b] = tail + 1;
    this.size++;
  }

  /** The next voxel in priority order (the queue must not be empty); sets `level` and `tag`. */
  pop(): number {
    let b = this.#current;
    while (this.#heads[b] === this.#tails[b]) {
      // Drained, and never pushed to again (pushes go to the current bucket or above).
      this.#buckets[b] = new Int32Array(0);
      this.#heads[b] = this.#tails[b] = 0;
      b++;
    }
    this.#current = b;
    const item = this.#buckets[b][this.#heads[b]++];
    this.size--;
    this.level = b;
    this.tag = item & 3;
    return item >> 2;
  }
}

interface Grown {
  readonly positive: Uint8Array;
  readonly negative: Uint8Array;
  /** Whether the flood at its cut is solid two voxels of the coarsest axis around its click (flood-limits.ts solidRadius): an object, not a speck still filling in. */
  readonly solid: boolean;
}

/**
 * A click's flood, grown twice on a smoothed window: in the order of |I − μ| alone, and with each
 * voxel delayed by the edges it lies on (edgeDelayAt); the smaller object is kept, unless it is a
 * speck (not solid two voxels around its click, flood-limits.ts solidRadius) and the other is not.
 * Each order's leak limits miss leaks the other's catch, and a leak only ever makes a region
 * larger. In a textured tissue the gradient is everywhere: the benchmark's cancellous vertebral
 * body (±130 HU from voxel to voxel) gave a delayed flood of 63 voxels, cut while still sparse,
 * against 119 996 (kept as the smaller, the click answered 151 voxels instead of 266 131).
 * The delay orders voxels, it excludes none (a voxel within the tolerance is reached, at the
 * tolerance's level at the latest): through a weak edge between tissues of one intensity, the flood
 * passes late, and the limits judge the object before it (patient B's left common carotid, one
 * click 0.349 → 0.747; the phantom rib's marrow click 4 593 → 4 096 voxels for a 3 920-voxel
 * bone). Not on an unsmoothed
 * window (3 mm MR): there an object's own boundary layer, a third of a small object, lies on its
 * edge and would be delayed past the jump test's 1.5σ (the 8-voxel cube of a plate test lost its
 * outer layer, 425 → 387 of 512 voxels). Not in air (a lung, bowel gas), whose edges are strong
 * and whose windows are the largest: one flood.
 */
function leastFlood(w: ClickWindow, seed: number, negatives: readonly number[], model: RobustStats, negMedians: readonly number[], tolerance: number, recovery: number, cap: number): Grown {
  const plain = competitiveGrow(w.smooth, w.wd, w.spacing, [seed], negatives, model, negMedians, tolerance, recovery, cap);
  if (!w.edgeOrdered || model.median < AIR_HU) return plain;
  const delayed = competitiveGrow(w.smooth, w.wd, w.spacing, [seed], negatives, model, negMedians, tolerance, recovery, cap, true);
  // A speck is not an object: in a textured tissue (cancellous bone, ±130 HU from voxel to voxel)
  // the gradient is everywhere, and the delayed flood, still sparse, is cut early.
  if (plain.solid && !delayed.solid) return plain;
  return countOf(delayed.positive) < countOf(plain.positive) ? delayed : plain;
}

function countOf(mask: Uint8Array): number {
  let n = 0;
  for (let p = 0; p < mask.length; p++) n += mask[p];
  return n;
}

/**
 * EDGE_DELAY_MM · the gradient magnitude of `smooth` at voxel p = (i, j, k) of a window of `dims`
 * (central differences in HU/mm; 0 along an axis at the window's side), rounded to float32 as when
 * it was a window-sized array. Taken for the voxels a flood reaches only: a large window's array
 * was 4 bytes a voxel and a pass over all of it (the benchmark's vertebral body: 55 ms of 480).
 */
function edgeDelayAt(smooth: ArrayLike<number>, p: number, i: number, j: number, k: number, dims: readonly [number, number, number], weights: readonly [number, number, number]): number {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  const gx = i > 0 && i < nx - 1 ? (smooth[p + 1] - smooth[p - 1]) * weights[0] : 0;
  const gy = j > 0 && j < ny - 1 ? (smooth[p + nx] - smooth[p - nx]) * weights[1] : 0;
  const gz = k > 0 && k < nz - 1 ? (smooth[p + nxy] - smooth[p - nxy]) * weights[2] : 0;
  return Math.fround(Math.sqrt(gx * gx + gy * gy + gz * gz));
}

function competitiveGrow(
  data: ArrayLike<number>,
  dims: readonly [number, number, number],
  spacing: readonly number[],
  positives: readonly number[],
  negatives: readonly number[],
  model: RobustStats,
  negMedians: readonly number[],
  tolerance: number,
  recoveryLayers: number,
  maxVoxels: number,
  edgeOrdered = false,
): Grown {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  const n = data.length;
  // Bits 0–1: the owner (0 none, 1 positive, 2 negative); bits 2–3: pushed by the positive or the
  // negative front. One byte for both, so the flood reads one array per neighbour (a large window
  // does not fit the cache); the pushed bits are cleared once the flood is done.
  const owner = scratch.array<Uint8Array>('point-prompt.owner', 'uint8', n).fill(0);
  const level = scratch.array<Uint8Array>('point-prompt.level', 'uint8', n).fill(0);
  const histogram = new Float64Array(LEVELS);
  const queue = new FloodQueue(LEVELS);
  const scale = (LEVELS - 1) / tolerance;
  // Ties go to the object: a negative click takes only what is clearly nearer its own intensity
  // or what the object reaches only over a barrier, so a negative click that lands in the object's
  // own tissue (next to it, to trim a bulge) cannot carve its middle out.
  const negativeMargin = NEGATIVE_MARGIN_SIGMA * model.sigma;
  const median = model.median;
  const negValues = Float64Array.from(negMedians);
  const negCount = negValues.length;
  for (const p of negatives) {
    owner[p] |= 2 << 2;
    queue.push(p, 0, 2);
  }
  for (const p of positives) {
    owner[p] |= 1 << 2;
    queue.push(p, 0, 1);
  }
  // The hot loop (every voxel of the flood, six neighbours each): costs inline, no closure, and
  // the neighbours in the same order as ever (−x, +x, −y, +y, −z, +z), as the queue is FIFO within
  // a level and the order of pushes decides ties.
  const offsets = [-1, 1, -nx, nx, -nxy, nxy];
  // The edge delay's factors per axis (edgeDelayAt): EDGE_DELAY_MM over the central difference's span.
  const edgeWeights = spacing.map((s) => EDGE_DELAY_MM / (2 * s)) as [number, number, number];
  // The box of the voxels either front owns: every voxel pushed is popped, so it holds every voxel
  // this flood marked; the passes after the flood scan it, not the window (a vertebral body's
  // window is 8.6 M voxels, its floods 0.1–0.2 M).
  let i0 = nx, j0 = ny, k0 = nz, i1 = -1, j1 = -1, k1 = -1;
  while (queue.size > 0) {
    const p = queue.pop();
    if ((owner[p] & 3) !== 0) continue;
    const front = queue.tag;
    const b = queue.level;
    owner[p] |= front;
    level[p] = b;
    if (front === 1) histogram[b]++;
    const k = (p / nxy) | 0;
    const r = p - k * nxy;
    const j = (r / nx) | 0;
    const i = r - j * nx;
    if (i < i0) i0 = i;
    if (i > i1) i1 = i;
    if (j < j0) j0 = j;
    if (j > j1) j1 = j;
    if (k < k0) k0 = k;
    if (k > k1) k1 = k;
    const inside = (i !== 0 ? 1 : 0) | (i !== nx - 1 ? 2 : 0) | (j !== 0 ? 4 : 0) | (j !== ny - 1 ? 8 : 0) | (k !== 0 ? 16 : 0) | (k !== nz - 1 ? 32 : 0);
    for (let t = 0; t < 6; t++) {
      if ((inside & (1 << t)) === 0) continue;
      const q = p + offsets[t];
      const state = owner[q];
      if ((state & 3) !== 0 || (state & (front << 2)) !== 0) continue;
      const v = data[q];
      let c: number;
      if (front === 1) c = Math.abs(v - median);
      else {
        let best = Infinity;
        for (let m = 0; m < negCount; m++) best = Math.min(best, Math.abs(v - negValues[m]));
        c = best + negativeMargin;
      }
      if (c > tolerance) continue;
      // The edge delay orders the voxels within the tolerance; it never excludes one.
      if (edgeOrdered) {
        const qi = t === 0 ? i - 1 : t === 1 ? i + 1 : i;
        const qj = t === 2 ? j - 1 : t === 3 ? j + 1 : j;
        const qk = t === 4 ? k - 1 : t === 5 ? k + 1 : k;
        c = Math.min(tolerance, c + edgeDelayAt(data, q, qi, qj, qk, dims, edgeWeights));
      }
      owner[q] = state | (front << 2);
      queue.push(q, Math.floor(c * scale), front);
    }
  }
  const reached: Box = { min: [i0, j0, k0], max: [i1, j1, k1] };
  forEachBoxRow(reached, dims, (start, end) => {
    for (let p = start; p < end; p++) owner[p] &= 3;
  });
  let capCut = LEVELS - 1;
  for (let b = 0, volume = 0; b < LEVELS; b++) {
    volume += histogram[b];
    if (volume > maxVoxels) {
      capCut = Math.max(0, b - 1);
      break;
    }
  }
  const depths = clickDepths(level, owner, dims, spacing, positives, LEVELS);
  const sizeLimit = Math.min(leakCut(histogram, model.sigma * scale), sizeCut(histogram, depths, spacing));
  // Within what the leak, size and cap limits allow, the level whose boundary lies on the strongest
  // edges (contrast-cut.ts): a limit stops a flood that crossed a weak edge only once the leak is
  // large, a rib's marrow flood at 2–30 times the rib. Where the profile has no such edge, the
  // compactness jump (compactnessCut) marks the breakout. An edge found wins over the jump: a click in
  // a rib's marrow jumps in volume when its flood takes the cortex (the phantom rib: 4 593 voxels
  // at the bone's surface, 5 721 at the jump with its rim; patient C's right rib 11, zero-shot, 0.75
  // → 0.52).
  const upTo = Math.min(sizeLimit, capCut);
  const edge = contrastCut(data, dims, spacing, owner, level, histogram, upTo, LEVELS, reached);
  // (An edge at the limit itself is the profile still rising there: no edge.)
  const limitCut = edge < upTo ? sizeLimit : Math.min(sizeLimit, compactnessCut(histogram, depths, spacing, model.sigma * scale));
  const edgeCut = Math.min(limitCut, edge);
  const forced = positives.length === 1 && negatives.length === 0 ? floodCutForEval.level : undefined;
  const cut = forced ?? Math.min(edgeCut, capCut);
  const positive = new Uint8Array(n);
  const negative = new Uint8Array(n);
  // A cut by the cap stops the flood inside a tissue, not at the object's edge: no rim to give back
  // (given back, two layers around a noisy partial flood are most of the tissue around it).
  // A cut at the strongest edges is at the object's edge already: nothing to give back either.
  const recovering = cut < LEVELS - 1 && (cut === limitCut || forced !== undefined);
  // The positive-owned voxels above the cut, as many as the histogram counts there (a lung drops
  // most of a million: a typed list, not an array of numbers).
  let droppedCount = 0;
  if (recovering) for (let b = cut + 1; b < LEVELS; b++) droppedCount += histogram[b];
  const dropped = scratch.array<Int32Array>('point-prompt.dropped', 'int32', droppedCount);
  let d = 0;
  forEachBoxRow(reached, dims, (start, end) => {
    for (let p = start; p < end; p++) {
      const o = owner[p];
      if (o === 1) {
        if (level[p] <= cut) positive[p] = 1;
        else if (recovering && d < droppedCount) dropped[d++] = p;
      } else if (o === 2) negative[p] = 1;
    }
  });
  if (recovering) {
    // The cut also dropped the object's own rim (voxels whose noise put them above the cut level):
    // give back positive-owned voxels within a few layers of the cut region. Across the weak edge
    // this adds only those few layers over the contact, not the neighbour behind it. The first
    // layer is found from the dropped voxels (usually far fewer than the region's), each judged
    // against the region before any is given back.
    const offsets = [-1, 1, -nx, nx, -nxy, nxy];
    const insideOf = (p: number): number => {
      const k = (p / nxy) | 0;
      const r = p - k * nxy;
      const j = (r / nx) | 0;
      const i = r - j * nx;
      return (i !== 0 ? 1 : 0) | (i !== nx - 1 ? 2 : 0) | (j !== 0 ? 4 : 0) | (j !== ny - 1 ? 8 : 0) | (k !== 0 ? 16 : 0) | (k !== nz - 1 ? 32 : 0);
    };
    let layer: number[] = [];
    for (let e = 0; e < d; e++) {
      const p = dropped[e];
      const inside = insideOf(p);
      for (let t = 0; t < 6; t++) {
        if ((inside & (1 << t)) !== 0 && positive[p + offsets[t]] !== 0) {
          layer.push(p);
          break;
        }
      }
    }
    for (const p of layer) positive[p] = 1;
    for (let step = 1; step < recoveryLayers; step++) {
      const next: number[] = [];
      for (const p of layer) {
        const inside = insideOf(p);
        for (let t = 0; t < 6; t++) {
          if ((inside & (1 << t)) === 0) continue;
          const q = p + offsets[t];
          if (owner[q] === 1 && positive[q] === 0) {
            positive[q] = 1;
            next.push(q);
          }
        }
      }
      layer = next;
    }
  }
  return { positive, negative, solid: depths.solid[cut] >= solidRadius(spacing) };
}

/** 1.4826 · the median absolute deviation of each sample from its own median, pooled. */
function withinSpread(samples: readonly { values: Float64Array; median: number }[]): RobustStats {
  const dev = Float64Array.from(samples.flatMap(({ values, median }) => Array.from(values, (v) => Math.abs(v - median))));
  const { median } = robustStats(dev);
  return { median: 0, sigma: 1.4826 * median, count: dev.length };
}

/**
 * The median (smoothed) intensity of the surroundings: the layer RIM_LAYERS + 1 voxels outside
 * `region`, beyond the blurred edge (the negative front's voxels excluded). `rim` is the first
 * layer (forEachRimVoxel); each next layer is the unseen neighbours of the last one, as a voxel
 * touching the grown region touches either the region (then it was in the first layer) or the last
 * layer.
 */
function outsideMedian(region: Uint8Array, negative: Uint8Array, values: ArrayLike<number>, wd: readonly number[], axes: readonly boolean[], rim: readonly number[]): number {
  if (rim.length === 0) return robustStats(new Float64Array(0)).median;
  const grown = region.slice();
  for (const p of rim) grown[p] = 1;
  let shell: readonly number[] = rim;
  for (let layer = 1; layer <= RIM_LAYERS; layer++) {
    const next: number[] = [];
    forEachNeighbour(shell, wd, axes, (q) => {
      if (grown[q] !== 0 || negative[q] !== 0) return;
      grown[q] = 1;
      next.push(q);
    });
    if (next.length === 0) break;
    shell = next;
  }
  return robustStats(Float64Array.from(shell, (p) => values[p])).median;
}

/**
 * Adds to `region`, RIM_LAYERS times, its 6-neighbours whose smoothed intensity is nearer a
 * positive click's median than the median of the surroundings and than every negative click's
 * median (`others`): the smoothing blurred the object's outer layer halfway towards its
 * surroundings, out of the flood's tolerance; the half-way point between object and surroundings is
 * where the edge is. The negative front's voxels are never added. `rim` is the region's first
 * outer layer; a voxel that fails the test fails it in every layer (it depends on the voxel's value
 * alone), so each next layer only tests the new neighbours of the voxels just added.
 */
function addRim(
  region: Uint8Array,
  negative: Uint8Array,
  values: ArrayLike<number>,
  raw: ArrayLike<number>,
  rawTolerance: number,
  wd: readonly number[],
  axes: readonly boolean[],
  rim: readonly number[],
  medians: readonly number[],
  others: readonly number[],
): void {
  const tested = new Uint8Array(region.length);
  const nearest = (v: number): number => {
    let near = Infinity;
    for (const m of medians) near = Math.min(near, Math.abs(v - m));
    return near;
  };
  const closer = (v: number): boolean => {
    const near = nearest(v);
    for (const o of others) if (!(near < Math.abs(v - o))) return false;
    return true;
  };
  const passes = (p: number): boolean => closer(values[p]) || (nearest(raw[p]) <= rawTolerance && closer(raw[p]));
  let candidates: readonly number[] = rim;
  for (const p of rim) tested[p] = 1;
  for (let layer = 0; layer < RIM_LAYERS && candidates.length > 0; layer++) {
    const added = candidates.filter((p) => passes(p));
    for (const p of added) region[p] = 1;
    if (layer === RIM_LAYERS - 1) break;
    const next: number[] = [];
    forEachNeighbour(added, wd, axes, (q) => {
      if (tested[q] !== 0 || region[q] !== 0 || negative[q] !== 0) return;
      tested[q] = 1;
      next.push(q);
    });
    candidates = next;
  }
}

/** Calls `visit` for each neighbour of each voxel of `voxels` along one of `axes` (repeats included). */
function forEachNeighbour(voxels: readonly number[], wd: readonly number[], axes: readonly boolean[], visit: (q: number) => void): void {
  const [ax, ay, az] = axes;
  const [nx, ny, nz] = wd;
  const nxy = nx * ny;
  for (const p of voxels) {
    const k = (p / nxy) | 0;
    const r = p - k * nxy;
    const j = (r / nx) | 0;
    const i = r - j * nx;
    if (ax && i > 0) visit(p - 1);
    if (ax && i < nx - 1) visit(p + 1);
    if (ay && j > 0) visit(p - nx);
    if (ay && j < ny - 1) visit(p + nx);
    if (az && k > 0) visit(p - nxy);
    if (az && k < nz - 1) visit(p + nxy);
  }
}

/**
 * Calls `visit` for each voxel outside `region` (and not `negative`) that touches it along one of
 * `axes`; only the region's bounding box, one voxel wider, is scanned.
 */
function forEachRimVoxel(region: Uint8Array, negative: Uint8Array, wd: readonly number[], axes: readonly boolean[], visit: (p: number) => void): void {
  const [ax, ay, az] = axes;
  const [nx, ny, nz] = wd;
  const nxy = nx * ny;
  const box = boundingBox(region, wd as Dims);
  if (!box) return;
  const lo = box.min.map((v) => Math.max(0, v - 1));
  const hi = box.max.map((v, a) => Math.min(wd[a] - 1, v + 1));
  for (let k = lo[2]; k <= hi[2]; k++) {
    for (let j = lo[1]; j <= hi[1]; j++) {
      for (let i = lo[0], p = lo[0] + nx * (j + ny * k); i <= hi[0]; i++, p++) {
        if (region[p] !== 0 || negative[p] !== 0) continue;
        const touches =
          (ax && ((i > 0 && region[p - 1] !== 0) || (i < nx - 1 && region[p + 1] !== 0))) ||
          (ay && ((j > 0 && region[p - nx] !== 0) || (j < ny - 1 && region[p + nx] !== 0))) ||
          (az && ((k > 0 && region[p - nxy] !== 0) || (k < nz - 1 && region[p + nxy] !== 0)));
        if (touches) visit(p);
      }
    }
  }
}

/** Whether the region reaches a side of the window that is not the image's border. */
function touchesInnerFace(region: Uint8Array, wd: Dims, window: Box, dims: readonly number[]): boolean {
  // Only the window's faces that are not the image's border: check the region's voxels on them.
  const strides = stridesOf(wd);
  const face = (a: 0 | 1 | 2, at: number): boolean => {
    const [ui, uj] = planeAxes(a);
    for (let v = 0; v < wd[uj]; v++) {
      for (let u = 0; u < wd[ui]; u++) {
        if (region[at * strides[a] + u * strides[ui] + v * strides[uj]] !== 0) return true;
      }
    }
    return false;
  };
  for (const a of [0, 1, 2] as const) {
    if (window.min[a] > 0 && face(a, 0)) return true;
    if (window.max[a] < dims[a] - 1 && face(a, wd[a] - 1)) return true;
  }
  return false;
}
