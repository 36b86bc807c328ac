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
 *   the bone within 2 mm of the flood is kept; a vertebra clicked in its body is cut out of the
 *   spine at the discs, or at the endplates where the discs are as dense as the bodies, vertebra.ts;
 *   a click labelled as a vertebra on no bone, in a body the skeleton does not fill, first adds that
 *   body to the skeleton: addVertebralBodies). Patient C, one click: ribs 7–11 0.61–0.81 →
 *   0.71–0.85, spinal cord 0.64 → 0.85; patient B's aorta 0.28 → 0.87; B's T12 0.041 → 0.804 (a
 *   body the skeleton did not fill). A corrective positive click beside the tissue adds its own
 *   flood (not the earlier clicks' floods, which the tissue replaced) within twice its distance to
 *   the object plus a voxel: it marks a missed part about that thick (a click in the 2 mm rim the
 *   aorta's answer missed flooded 6 000 voxels of fat and wall). Negative clicks take, at the end, what lies both in their basins
 *   of the object's depth and nearer to them than to every positive click (click-split.ts
 *   negativeBasins): the intensity-weighted split found all of a humerus's cortex nearer a negative
 *   click on it than the positive click in its fatty marrow (0.910 → 0.248), and a cut half-way
 *   between the clicks took half a rib for a negative click in a one-voxel layer at its surface.
 * - Modules. This one runs the clicks in their windows and combines their floods; a click's flood
 *   and its two orders are click-flood.ts (its limits flood-limits.ts and contrast-cut.ts), the
 *   window's smoothing, noise and kept arrays click-window.ts, the rim click-rim.ts, what a
 *   negative click takes click-split.ts.
 * @module
 */
import type { PointPrompt } from '../engine.js';
import { VoxgateError } from '../../errors.js';
import type { VoxelArray } from '../../volume/datatype.js';
import { dataTypeOf } from '../../volume/datatype.js';
import { selectComponents } from './components.js';
import type { FloodWindow, Grown } from './click-flood.js';
import { AIR_HU, leastFlood } from './click-flood.js';
import { addRim, forEachRimVoxel, outsideMedian } from './click-rim.js';
import { additionAfterNegatives, geodesicSplit, negativeBasins, negativeTakes, objectDepth } from './click-split.js';
import { SMOOTH_MAX_SPACING_MM, clickScratch, sampleBalls, smoothBinomial, windowNoise, windowRange } from './click-window.js';
import { SIZE_RATIO } from './flood-limits.js';
import { addEnclosingCortex } from './enclosing-cortex.js';
import { fillHoles3d } from './fill-holes.js';
import type { Box, Grid } from './grid.js';
import { boundingBox, boxDims, cropArray, distanceToMask, gridToBox, padBox, pasteArray, sixNeighbours, spacingOf, stridesOf, voxelCoords } from './grid.js';
import { planeAxes } from './slices.js';
import type { Dims } from '../../volume/volume.js';
import type { RobustStats } from './intensity.js';
import { robustStats } from './intensity.js';
import { dilate, open } from './morphology.js';
import { vertebraOf, vertebralBody } from './vertebra.js';

const SAMPLE_RADIUS_MM = 4;
/** Radius (mm) of the ball whose median is the object's intensity: small, so a thin object's neighbours stay out. */
const CENTRE_RADIUS_MM = 2;
/** A later positive click's region may be at most this many times the object of the clicks before it. */
const CORRECTION_RATIO = 10;
/** How far (mm) an enclosing cortex may reach out of the region (enclosing-cortex.ts grows it up to 10 mm). */
const CORTEX_REACH_MM = 10;
/** Weight of the intensity change (in units of the window's raw noise) in the geodesic distance by which a negative click splits the object. */
const SPLIT_WEIGHT = 6;
/** A clicked bone's component is the object when at most this many times the click's flood, or SIZE_RATIO·d³ (onTissue). */
const TISSUE_RATIO = 3;
/** Else the object is the bone within this distance (mm) of the flood (onTissue). */
const TISSUE_NEAR_MM = 2;
const K_SIGMA = 3;
const START_RADIUS_MM = 40;
const MAX_RADIUS_MM = 160;
/** How far (mm) a leak cut gives back the object's rim. */
const RECOVERY_MM = 2;
/** A window never grows past this many voxels (a click in air or a huge leak stays bounded). */
const MAX_WINDOW_VOXELS = 32 * 1024 * 1024;
const WINDOW_CROP = 'point-prompt.crop';

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
    const sub = cropArray(data, dims, window, clickScratch.array(WINDOW_CROP, dataTypeOf(data), wd[0] * wd[1] * wd[2]));
    const local = (p: readonly number[]): number => p[0] - lo[0] + wd[0] * (p[1] - lo[1] + wd[1] * (p[2] - lo[2]));
    const inWindow = (p: readonly number[]): boolean => [0, 1, 2].every((a) => p[a] >= lo[a] && p[a] <= hi[a]);
    const smooth = smoothBinomial(sub, wd, spacing);
    const clickWindow: ClickWindow = {
      data, dims, box: window, sub, smooth, wd, spacing,
      noise: windowNoise(smooth, wd),
      rawNoise: windowNoise(sub, wd),
      floor: Math.max(0.005 * windowRange(smooth, wd), 1e-6),
      smoothed: spacing.some((s) => s <= SMOOTH_MAX_SPACING_MM),
    };
    const tissueSub = tissue?.inWindow(window);
    if (tissueSub && tissue?.vertebraAxis !== undefined) addVertebralBodies(tissueSub, sub, wd, spacing, tissue.vertebraAxis, prompt, local, inWindow);
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
        positive && tissueSub && tissue ? tissueGain(tissueSub, tissue, sub, last.region, floods.get(pos.length - 1)?.positive ?? last.region, region, pos[pos.length - 1], wd, spacing) : last.region;
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
 * A click labelled as a vertebra on no bone, in a vertebral body whose cortex is open (vertebra.ts
 * vertebralBody): that body joins the skeleton in the window (`bone`, changed in place), so the
 * click is on the spine and is cut out of it as one on bone is (patient B's T12, an osteopenic body
 * of ~110 HU whose posterior wall is under the bone threshold over 15 mm: its click flooded 203
 * voxels of the body's 9 617). Every positive click in the window is looked at: any of them may be
 * the one that decides, and the skeleton must be the same for all.
 */
function addVertebralBodies(
  bone: Uint8Array,
  values: VoxelArray,
  wd: Dims,
  spacing: readonly [number, number, number],
  axis: 0 | 1 | 2,
  prompt: PointPrompt,
  local: (p: readonly number[]) => number,
  inWindow: (p: readonly number[]) => boolean,
): void {
  for (const [n, point] of prompt.points.entries()) {
    if (prompt.pointLabels[n] === 0 || !inWindow(point) || bone[local(point)] !== 0) continue;
    const body = vertebralBody(bone, values, wd, spacing, axis, local(point));
    if (body) for (let p = 0; p < bone.length; p++) bone[p] |= body[p];
  }
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
  values: VoxelArray,
  together: Uint8Array,
  flood: Uint8Array,
  before: Uint8Array | undefined,
  at: number,
  wd: Dims,
  spacing: readonly [number, number, number],
): Uint8Array {
  if (!before) return tissue[at] !== 0 ? onTissue(tissue, spec, values, together, at, wd, spacing) : together;
  let own = dilate(flood, wd, spacing, TISSUE_NEAR_MM);
  for (let p = 0; p < own.length; p++) own[p] &= together[p];
  own = selectComponents(own, wd, [at], 6);
  if (tissue[at] !== 0) return onTissue(tissue, spec, values, own, at, wd, spacing);
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
function onTissue(tissue: Uint8Array, spec: ClickTissue, values: VoxelArray, found: Uint8Array, at: number, wd: Dims, spacing: readonly [number, number, number]): Uint8Array {
  const piece = selectComponents(tissue, wd, [at], 6);
  if (spec.kind === 'object') return piece;
  if (spec.vertebraAxis !== undefined) {
    // A vertebra: the spine's piece cut at the discs above and below the click (vertebra.ts).
    const vertebra = vertebraOf(piece, values, wd, spacing, spec.vertebraAxis, at);
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
interface ClickWindow extends FloodWindow {
  /** The image, its grid's dims, and the window's box on it. */
  readonly data: VoxelArray;
  readonly dims: Dims;
  readonly box: Box;
  readonly sub: VoxelArray;
  /** Noise σ of the smoothed and of the raw window (windowNoise). */
  readonly noise: number;
  readonly rawNoise: number;
  /** Smallest flood tolerance (0.5% of the window's 1–99% range). */
  readonly floor: number;
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
  if (w.smoothed) {
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

/** 1.4826 · the median absolute deviation of each sample from its own median, pooled. */
function withinSpread(samples: readonly { values: Float64Array; median: number }[]): RobustStats {
  const dev = Float64Array.from(samples.flatMap(({ values, median }) => Array.from(values, (v) => Math.abs(v - median))));
  const { median } = robustStats(dev);
  return { median: 0, sigma: 1.4826 * median, count: dev.length };
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
