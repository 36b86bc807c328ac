/**
 * The aorta (VISTA3D 6) on contrast-enhanced CT, as a tube followed through axial slices rather than
 * as a threshold: the lumen of a CT angiogram touches the heart, the pulmonary artery and the spine
 * at the same Hounsfield units, and its lower part may be barely enhanced (contrast layered over
 * unenhanced blood, 0–150 HU), so no intensity separates it — its shape does. In axial slices the
 * descending and the ascending aorta are round (radius ~8–20 mm) and change slowly from slice to
 * slice; the arch joins them over the top.
 *
 * 1. Descending aorta: in slices every 10 mm, circles of radius 7–22 mm (gradient Hough,
 *    circle-hough.ts) whose centre is not bone nor enclosed by bone (enclosure.ts: a vertebral body
 *    the skeleton does not fill), lies within 60 mm of the body's midline (not in an
 *    arm, which has its humerus behind it too) and whose nearest bone, within 15 mm of the rim,
 *    lies posterior of the centre — the vertebral body behind it — are followed up and down
 *    (tube-track.ts); the longest such tube (≥ 40 mm, or ¾ of a shorter field of view) is the
 *    descending aorta. The median of its lumen tells an enhanced aorta from an unenhanced one.
 * 2. Ascending aorta: circles of radius ≥ 9 mm with ≥ 60 % of their rim, 15–90 mm below the
 *    descending tube's top, ≥ 25 mm anterior of it and 8–70 mm to its right, followed up and down;
 *    of the tubes (≥ 20 mm), by Σ radius × length, the first from which the arch (4) reaches the
 *    descending tube is it (the superior vena cava joins no arch, and on patient B it was the longer
 *    tube; the pulmonary trunk lies left of it). Followed down it ends at the aortic root, where the
 *    round section merges into the left ventricle and loses its rim. When no arch joins any, the
 *    best is kept only if the arch may lie above the field of view (it and the descending tube run
 *    to the top) and its lumen is the descending aorta's blood (medians within 25 %): on an
 *    abdominal CT, contrast-filled bowel loops lie in the same search region.
 * 3. Each tube is cut to its longest run of sections whose radius stays within 65 % (below: the
 *    tracking slid into a supra-aortic artery or an iliac) to 150 % of its median. Followed
 *    superior, a tube also ends where the enhanced blood (≥ 150 HU) around its centre spreads over
 *    more than 1.7 × the circle within 2.5 radii — the arch begins. Either way a tube ends where the
 *    inner half of its circle is no longer blood (median < 0 HU): above patient B's arch the
 *    descending tube ran on through 12 slices of lung ringed by the supra-aortic branches.
 * 4. Arch: the cheapest path (minimal-path.ts) on a ~1.5 mm grid from the ascending tube's
 *    best-rimmed middle section to the descending tube within 60 mm below that level, through
 *    enhanced blood (above the ascending lumen's median − 4σ, at least 150 HU; no bone), each step
 *    costing 1 / (depth² + 0.25) with depth the distance to the blood's edge: the centreline up the
 *    ascending aorta, over the arch and down the descending one, which keeps out of the thinner
 *    supra-aortic branches. Above its start, the ascending tube's sections are dropped for it.
 * 5. The lumen: each tube's circle (radius + 0.75 mm: the Hough rim is the half-contrast edge) and
 *    a ball around each centreline point as large as its depth (+ 0.75 mm), in both cases only
 *    voxels of at least 0 HU (fat and lung at the edge stay out; unenhanced blood stays in). Bone
 *    is not taken out: where it touches the spine, the tube's voxels are aorta, and the engine
 *    writes the aorta before bone.
 *
 * Patient B (CTA, 1.5 mm): Dice 0.881 against TotalSegmentator's aorta (docs/classic-engine.md).
 * @module
 */
import type { VoxelArray } from '../../volume/datatype.js';
import type { Dims } from '../../volume/volume.js';
import { depthInside } from '../../volume/distance-transform.js';
import type { Grid } from './grid.js';
import { spacingOf, stridesOf } from './grid.js';
import { quantileSorted } from './intensity.js';
import { enclosedInPlane } from './enclosure.js';
import { minimalPath } from './minimal-path.js';
import type { AxialFrame, Section, TrackOptions } from './tube-track.js';
import { axialFrame, circlesInSlice, followTube } from './tube-track.js';

const SEED_EVERY_MM = 10;
const SEED_R_MIN = 7;
const SEED_R_MAX = 22;
const SEED_PEAKS = 6;
const MIN_GRADIENT = 40; // HU/mm: lumen against fat or lung, and unenhanced blood against fat
const SPINE_GAP_MM = 15;
const MIDLINE_MM = 60;
const MIN_DESCENDING_MM = 40;
const ASC_BELOW_TOP_MM: readonly [number, number] = [15, 90];
const ASC_R_MIN = 9;
const ASC_ANTERIOR_MM = 25;
const ASC_RIGHT_MM: readonly [number, number] = [8, 70];
const MIN_ASCENDING_MM = 20;
const BRANCH_SHRINK = 0.65;
const CHAMBER_GROWTH = 1.5;
const RIM_MARGIN_MM = 0.75;
const LUMEN_MIN_HU = 0;
const ARCH_CELL_MM = 1.5;
const ARCH_BLOOD_MIN_HU = 150;
const ARCH_MARGIN_MM = 25;
const ROUND_AREA = 1.7;
const BLOB_REACH = 2.5;
const ARCH_TARGET_MM = 60;
/** A tube runs to the field of view's top when it ends this close to it (the tracker stops a slice or two short of an edge). */
const TOP_REACH_MM = 10;
/** An ascending tube no arch joins holds the descending aorta's blood when its lumen's median is within this share of the descending one's. */
const SAME_BLOOD_SHARE = 0.25;

const TRACK: TrackOptions = { rMin: 6, rMax: 25, minGradient: MIN_GRADIENT, minSupport: 0.4, maxStepMm: 3, maxGap: 3 };

/** Where the aorta was found: its tubes, for tests and the docs' figures. */
export interface AortaResult {
  readonly mask: Uint8Array;
  readonly descending: readonly Section[];
  readonly ascending: readonly Section[];
  readonly archPath: number;
  /**
   * Median HU of the descending aorta's lumen (NaN when none was found): enhanced (≥ 100 HU) or
   * not (unenhanced blood is 30–70 HU) — how a CT without a blood pool is told to be contrast CT.
   */
  readonly lumenHu: number;
}

/**
 * The aorta, or an empty mask when no descending aorta is found. The caller decides whether the CT
 * is enhanced (a blood pool, or `lumenHu`). `bone` keeps circles off the spine.
 */
export function segmentAorta(data: VoxelArray, grid: Grid, body: Uint8Array, bone: Uint8Array): AortaResult {
  const frame = axialFrame(grid);
  const mask = new Uint8Array(data.length);
  const descending = findDescending(data, frame, body, bone);
  if (descending.length === 0) return { mask, descending, ascending: [], archPath: 0, lumenHu: NaN };
  const lumenHu = quantileSorted(lumenSamples(data, frame, descending), 0.5);
  // The ascending aorta joins the descending one over the arch: of the candidate tubes (best first),
  // the first from which the arch's centreline reaches the descending tube. The superior vena cava
  // lies in the same search region, longer than the ascending aorta on patient B, and joins no arch.
  const candidates = findAscending(data, frame, body, bone, descending);
  let ascending: Section[] = [];
  let arch: Arch | undefined;
  for (const tube of candidates) {
    arch = archOf(data, grid, frame, body, bone, descending, tube);
    if (arch) {
      ascending = tube;
      break;
    }
  }
  // No arch joins any candidate: the best is the ascending aorta only where the arch may lie above
  // the field of view (it and the descending tube run to its top, as on a cardiac CT) and its lumen
  // holds the descending aorta's blood. Otherwise it is something else: a contrast-filled bowel
  // loop on an abdominal CT with oral contrast (350 HU beside a 160 HU aorta) was painted as aorta.
  const best = candidates[0];
  if (!arch && best && reachesTop(frame, best) && reachesTop(frame, descending) && sameBlood(quantileSorted(lumenSamples(data, frame, best), 0.5), lumenHu)) ascending = best;
  let archPath = 0;
  if (arch) {
    paintArch(mask, data, grid, arch);
    // Above where the centreline leaves the ascending tube, its balls are the lumen: the tube's
    // own sections there may have slid into a supra-aortic branch or along the arch. (Dropping
    // the descending tube's upper sections too lost 0.03 Dice on patient B: the centreline cuts
    // the arch's inner curve, the tube keeps the descending aorta's full width.)
    archPath = arch.path.length;
    const from = arch.from;
    ascending = ascending.filter((t) => frame.sign * (t.s - from) <= 0);
  }
  for (const section of [...descending, ...ascending]) paintDisk(mask, data, frame, section, section.r + RIM_MARGIN_MM);
  return { mask, descending, ascending, archPath, lumenHu };
}

/** Whether a tube's most superior section lies within TOP_REACH_MM of the field of view's top slice. */
function reachesTop(frame: AxialFrame, tube: readonly Section[]): boolean {
  const top = frame.sign > 0 ? frame.count - 1 : 0;
  const highest = tube.reduce((h, t) => (frame.sign * (t.s - h) > 0 ? t.s : h), tube[0].s);
  return Math.abs(top - highest) * frame.ds <= TOP_REACH_MM;
}

/** Whether two lumens' medians (HU) are one blood: within SAME_BLOOD_SHARE of the descending aorta's. */
function sameBlood(candidateHu: number, descendingHu: number): boolean {
  return Math.abs(candidateHu - descendingHu) <= SAME_BLOOD_SHARE * Math.abs(descendingHu);
}

/** Every `everyMm` a slice, from inferior to superior (the same world positions whichever way the array runs). */
function upwards(frame: AxialFrame, everyMm: number): number[] {
  const step = Math.max(1, Math.round(everyMm / frame.ds));
  const out: number[] = [];
  for (let t = Math.floor(step / 2); t < frame.count; t += step) out.push(frame.sign > 0 ? t : frame.count - 1 - t);
  return out;
}

/** Slice index `mm` above slice s (negative: below). */
function above(frame: AxialFrame, s: number, mm: number): number {
  return s + frame.sign * Math.round(mm / frame.ds);
}

function findDescending(data: VoxelArray, frame: AxialFrame, body: Uint8Array, bone: Uint8Array): Section[] {
  let best: Section[] = [];
  // A circle on a tube already followed is not followed again (each costs a walk along the tube).
  const followed: Section[] = [];
  const midlines = new Map<number, number>();
  for (const s of upwards(frame, SEED_EVERY_MM)) {
    for (const c of circlesInSlice(data, body, frame, s, { rMin: SEED_R_MIN, rMax: SEED_R_MAX, minGradient: MIN_GRADIENT, peaks: SEED_PEAKS })) {
      if (onTube(frame, followed, c) || !besideSpine(frame, bone, c) || !nearMidline(frame, body, c, midlines)) continue;
      const tube = followBoth(data, body, bone, frame, c);
      followed.push(...tube);
      const kept = trimmed(tube);
      if (kept.length > best.length) best = kept;
    }
  }
  return best.length * frame.ds >= minimumLength(frame, MIN_DESCENDING_MM) ? best : [];
}

/**
 * The shortest tube accepted: `mm`, or 3/4 of the image's superior extent when the field of view is
 * shorter than that (a 40 mm abdominal slab holds at most 40 mm of the aorta).
 */
function minimumLength(frame: AxialFrame, mm: number): number {
  return Math.min(mm, 0.75 * frame.count * frame.ds);
}

/** Whether circle c lies within a followed section of its slice. */
function onTube(frame: AxialFrame, followed: readonly Section[], c: Section): boolean {
  const plane = frame.plane(c.s);
  return followed.some((t) => t.s === c.s && Math.hypot((t.u - c.u) * plane.du, (t.v - c.v) * plane.dv) < t.r);
}

/**
 * Whether the circle's centre lies within MIDLINE_MM (left–right) of the body's midline in its
 * slice: the descending aorta runs beside the spine, whereas the soft tissue of an arm beside the
 * trunk is as round and has its humerus posterior too. `midlines` keeps each slice's midline (world
 * x of its body pixels' mean position) for the other circles of the slice.
 */
function nearMidline(frame: AxialFrame, body: Uint8Array, c: Section, midlines: Map<number, number>): boolean {
  let midline = midlines.get(c.s);
  if (midline === undefined) {
    const plane = frame.plane(c.s);
    let n = 0;
    let su = 0;
    let sv = 0;
    for (let v = 0; v < plane.nv; v++) {
      for (let u = 0; u < plane.nu; u++) {
        if (body[plane.base + u * plane.su + v * plane.sv] === 0) continue;
        n++;
        su += u;
        sv += v;
      }
    }
    midline = n > 0 ? frame.world(c.s, su / n, sv / n)[0] : NaN;
    midlines.set(c.s, midline);
  }
  return Math.abs(frame.world(c.s, c.u, c.v)[0] - midline) <= MIDLINE_MM;
}

/**
 * A circle whose centre is not bone and whose nearest bone pixel, within SPINE_GAP_MM of its rim,
 * lies posterior of its centre: the descending aorta in front of or beside the vertebral body.
 */
function besideSpine(frame: AxialFrame, bone: Uint8Array, c: Section): boolean {
  const plane = frame.plane(c.s);
  if (bone[frame.index(c.s, c.u, c.v)] !== 0) return false;
  const reach = c.r + SPINE_GAP_MM;
  // Bone all round is a vertebral body the skeleton does not fill (an osteopenic body with its
  // cortex open behind, ~110 HU: a round "lumen" from disc to disc, B's T12 in a click's window).
  if (centreEnclosed(bone, frame, c, reach)) return false;
  const hu = Math.ceil(reach / plane.du);
  const hv = Math.ceil(reach / plane.dv);
  let nearest = Infinity;
  let posterior = false;
  let inside = 0;
  let disk = 0;
  const yc = frame.world(c.s, c.u, c.v)[1];
  for (let v = Math.max(0, Math.round(c.v) - hv); v <= Math.min(plane.nv - 1, Math.round(c.v) + hv); v++) {
    for (let u = Math.max(0, Math.round(c.u) - hu); u <= Math.min(plane.nu - 1, Math.round(c.u) + hu); u++) {
      const d = Math.hypot((u - c.u) * plane.du, (v - c.v) * plane.dv);
      const isBone = bone[plane.base + u * plane.su + v * plane.sv] !== 0;
      if (d <= 0.7 * c.r) {
        disk++;
        if (isBone) inside++;
      }
      if (!isBone || d > reach || d >= nearest) continue;
      nearest = d;
      posterior = frame.world(c.s, u, v)[1] < yc;
    }
  }
  return inside <= 0.2 * disk && posterior;
}

/**
 * Whether bone encloses a circle's centre in its slice (enclosure.ts), within `reach` mm: a
 * vertebral body the skeleton does not fill. The centre is a vote-weighted mean, often half-way
 * between pixels: each pixel it rounds to either way is tried, so that a flipped image decides alike.
 */
function centreEnclosed(bone: Uint8Array, frame: AxialFrame, c: Section, reach: number): boolean {
  const plane = frame.plane(c.s);
  for (const u of new Set([Math.floor(c.u), Math.ceil(c.u)])) {
    for (const v of new Set([Math.floor(c.v), Math.ceil(c.v)])) if (enclosedInPlane(bone, plane, u, v, reach, { between: false })) return true;
  }
  return false;
}

/**
 * The tube through `seed`, both ways. Going superior it stops where the section stops being a
 * round blob of its own (the arch begins: the slice's enhanced blood around the centre spreads over
 * more than ROUND_AREA × the circle); the arch is joined by its centreline instead. Either way it
 * stops where the inner half of the circle is no longer blood (median under LUMEN_MIN_HU): patient
 * B's descending tube ran on above the arch through 12 slices of circles around lung (inner median
 * −770…−13 HU) rimmed by the supra-aortic branches.
 */
function followBoth(data: VoxelArray, body: Uint8Array, bone: Uint8Array, frame: AxialFrame, seed: Section): Section[] {
  const round = (t: Section): boolean => blobArea(data, frame, t, ARCH_BLOOD_MIN_HU) <= ROUND_AREA * Math.PI * t.r * t.r;
  const blood = (t: Section): boolean => quantileSorted(lumenSamples(data, frame, [t]), 0.5) >= LUMEN_MIN_HU;
  // A vessel is never enclosed by bone: a tube that slides into a vertebral body the skeleton does
  // not fill (round, ~110 HU, from disc to disc) ends there.
  const free = (t: Section): boolean => !centreEnclosed(bone, frame, t, t.r + SPINE_GAP_MM);
  if (!blood(seed)) return [];
  const upOptions: TrackOptions = { ...TRACK, accept: (t) => round(t) && blood(t) && free(t) };
  const inferior = followTube(data, body, frame, seed, frame.sign > 0 ? -1 : 1, { ...TRACK, accept: (t) => blood(t) && free(t) });
  const superior = followTube(data, body, frame, seed, frame.sign > 0 ? 1 : -1, upOptions);
  const down = frame.sign > 0 ? inferior.reverse() : superior.reverse();
  const up = frame.sign > 0 ? superior : inferior;
  return [...down, seed, ...up];
}

/**
 * Area (mm²) of the 4-connected region of pixels ≥ minHu around the section's centre, within
 * BLOB_REACH radii of it (0 when the centre itself is darker: a partly enhanced lumen).
 */
function blobArea(data: VoxelArray, frame: AxialFrame, t: Section, minHu: number): number {
  const plane = frame.plane(t.s);
  const reach = BLOB_REACH * t.r;
  const u0 = Math.max(0, Math.floor(t.u - reach / plane.du));
  const u1 = Math.min(plane.nu - 1, Math.ceil(t.u + reach / plane.du));
  const v0 = Math.max(0, Math.floor(t.v - reach / plane.dv));
  const v1 = Math.min(plane.nv - 1, Math.ceil(t.v + reach / plane.dv));
  const w = u1 - u0 + 1;
  const seen = new Uint8Array(w * (v1 - v0 + 1));
  const cu = Math.round(t.u), cv = Math.round(t.v);
  if (data[plane.base + cu * plane.su + cv * plane.sv] < minHu) return 0;
  const queue = [cu - u0 + (cv - v0) * w];
  seen[queue[0]] = 1;
  let count = 0;
  while (queue.length > 0) {
    const n = queue.pop() as number;
    count++;
    const u = n % w, v = (n - u) / w;
    for (const [du, dv] of [[1, 0], [-1, 0], [0, 1], [0, -1]] as const) {
      const uu = u + du, vv = v + dv;
      if (uu < 0 || uu >= w || vv < 0 || vv > v1 - v0) continue;
      const m = uu + vv * w;
      if (seen[m] !== 0) continue;
      seen[m] = 1;
      if (data[plane.base + (uu + u0) * plane.su + (vv + v0) * plane.sv] >= minHu) queue.push(m);
    }
  }
  return count * plane.du * plane.dv;
}

/** The run around the tube's middle whose radius stays within BRANCH_SHRINK…CHAMBER_GROWTH of the median. */
function trimmed(tube: Section[]): Section[] {
  if (tube.length === 0) return tube;
  const radii = Float64Array.from(tube, (t) => t.r).sort();
  const median = quantileSorted(radii, 0.5);
  const ok = (t: Section): boolean => t.r >= BRANCH_SHRINK * median && t.r <= CHAMBER_GROWTH * median;
  // The longest run of acceptable sections.
  let bestStart = 0, bestEnd = -1, start = 0;
  for (let n = 0; n <= tube.length; n++) {
    if (n < tube.length && ok(tube[n])) continue;
    if (n - 1 - start > bestEnd - bestStart) {
      bestStart = start;
      bestEnd = n - 1;
    }
    start = n + 1;
  }
  return tube.slice(bestStart, bestEnd + 1);
}

function findAscending(data: VoxelArray, frame: AxialFrame, body: Uint8Array, bone: Uint8Array, descending: readonly Section[]): Section[][] {
  const bySlice = new Map(descending.map((t) => [t.s, t]));
  const top = frame.sign > 0 ? descending[descending.length - 1].s : descending[0].s;
  const from = above(frame, top, -ASC_BELOW_TOP_MM[1]);
  const to = above(frame, top, -ASC_BELOW_TOP_MM[0]);
  const step = Math.max(1, Math.round(7.5 / frame.ds));
  const candidates: { tube: Section[]; score: number }[] = [];
  const followed: Section[] = [];
  // From inferior to superior, so that the same world slices are searched whichever way the array runs.
  for (let s = from; frame.sign * (to - s) >= 0; s += frame.sign * step) {
    const d = bySlice.get(s);
    if (!d) continue;
    const [xd, yd] = frame.world(s, d.u, d.v);
    for (const c of circlesInSlice(data, body, frame, s, { rMin: ASC_R_MIN, rMax: SEED_R_MAX, minGradient: MIN_GRADIENT, peaks: SEED_PEAKS })) {
      if (c.support < 0.6 || bone[frame.index(s, c.u, c.v)] !== 0) continue;
      const [x, y] = frame.world(s, c.u, c.v);
      if (y - yd < ASC_ANTERIOR_MM || x - xd < ASC_RIGHT_MM[0] || x - xd > ASC_RIGHT_MM[1]) continue;
      if (onTube(frame, followed, c)) continue;
      const whole = followBoth(data, body, bone, frame, c);
      followed.push(...whole);
      const tube = trimmed(whole);
      const score = tube.reduce((sum, t) => sum + t.r, 0) * frame.ds;
      if (tube.length * frame.ds >= MIN_ASCENDING_MM) candidates.push({ tube, score });
    }
  }
  return candidates.sort((a, b) => b.score - a.score).map((c) => c.tube);
}

/** Voxels of slice `section.s` within `radius` mm of its centre, of at least LUMEN_MIN_HU and not bone. */
function paintDisk(mask: Uint8Array, data: VoxelArray, frame: AxialFrame, section: Section, radius: number): void {
  const plane = frame.plane(section.s);
  const hu = radius / plane.du;
  const hv = radius / plane.dv;
  for (let v = Math.max(0, Math.ceil(section.v - hv)); v <= Math.min(plane.nv - 1, Math.floor(section.v + hv)); v++) {
    for (let u = Math.max(0, Math.ceil(section.u - hu)); u <= Math.min(plane.nu - 1, Math.floor(section.u + hu)); u++) {
      if (((u - section.u) * plane.du) ** 2 + ((v - section.v) * plane.dv) ** 2 > radius * radius) continue;
      const p = plane.base + u * plane.su + v * plane.sv;
      if (data[p] >= LUMEN_MIN_HU) mask[p] = 1;
    }
  }
}

/** The arch's centreline: cells of a coarse grid over `box`, each with its depth (mm) in the blood. */
interface Arch {
  readonly path: readonly number[];
  readonly depth: Float32Array;
  /** The coarse grid: the box on the image (inclusive [lo, hi] per axis), its cell size in voxels, its dims. */
  readonly box: readonly (readonly number[])[];
  readonly f: readonly number[];
  readonly cd: Dims;
  /** The slice where the centreline leaves the ascending tube. */
  readonly from: number;
}

/**
 * The arch: the centreline from the ascending tube's best-rimmed middle section to the descending
 * tube, the cheapest path through enhanced blood on a coarse grid of the region above, or
 * undefined when the blood joins no such path (a tube that is not the ascending aorta).
 */
function archOf(
  data: VoxelArray,
  grid: Grid,
  frame: AxialFrame,
  body: Uint8Array,
  bone: Uint8Array,
  descending: readonly Section[],
  ascending: readonly Section[],
): Arch | undefined {
  // The source: the ascending tube's best-rimmed section of its middle half (clear of root and arch).
  const middle = ascending.slice(Math.floor(ascending.length / 4), Math.ceil((3 * ascending.length) / 4));
  const source = middle.reduce((a, b) => (b.support > a.support ? b : a));
  const sorted = lumenSamples(data, frame, ascending);
  const median = quantileSorted(sorted, 0.5);
  const sigma = (quantileSorted(sorted, 0.84) - quantileSorted(sorted, 0.16)) / 2;
  const minHu = Math.max(ARCH_BLOOD_MIN_HU, median - 4 * sigma);

  // Targets: the descending tube from the source's level down to ARCH_TARGET_MM below it; the region:
  // from the lowest target to the grid's top, around both tubes' parts in it.
  const below = (t: Section, mm: number): boolean => frame.sign * (source.s - t.s) >= 0 && frame.sign * (source.s - t.s) * frame.ds <= mm;
  const goals = descending.filter((t) => below(t, ARCH_TARGET_MM));
  if (goals.length === 0) return undefined;
  const lowest = frame.sign > 0 ? Math.min(...goals.map((t) => t.s)) : Math.max(...goals.map((t) => t.s));
  const lowS = frame.sign > 0 ? lowest : 0;
  const highS = frame.sign > 0 ? frame.count - 1 : lowest;
  const inSlab = (s: number): boolean => s >= lowS && s <= highS;
  const spacing = spacingOf(grid);
  const st = stridesOf(grid.dims);
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const t of [...descending, ...ascending].filter((t) => inSlab(t.s))) {
    const coords = toIjk(frame, t.s, t.u, t.v);
    for (let a = 0; a < 3; a++) {
      const r = a === frame.axis ? 0 : (t.r + ARCH_MARGIN_MM) / spacing[a];
      lo[a] = Math.min(lo[a], coords[a] - r);
      hi[a] = Math.max(hi[a], coords[a] + r);
    }
  }
  lo[frame.axis] = lowS;
  hi[frame.axis] = highS;
  const box = [0, 1, 2].map((a) => [Math.max(0, Math.floor(lo[a])), Math.min(grid.dims[a] - 1, Math.ceil(hi[a]))]);
  const f = spacing.map((sp) => Math.max(1, Math.round(ARCH_CELL_MM / sp)));
  const cd = [0, 1, 2].map((a) => Math.ceil((box[a][1] - box[a][0] + 1) / f[a])) as unknown as Dims;
  const cells = cd[0] * cd[1] * cd[2];
  // Coarse blood: the cell's mean is enhanced blood and the cell holds no bone, inside the body.
  const sum = new Float32Array(cells);
  const n = new Uint16Array(cells);
  const blocked = new Uint8Array(cells);
  for (let k = box[2][0]; k <= box[2][1]; k++) {
    for (let j = box[1][0]; j <= box[1][1]; j++) {
      for (let i = box[0][0]; i <= box[0][1]; i++) {
        const c = Math.floor((i - box[0][0]) / f[0]) + cd[0] * (Math.floor((j - box[1][0]) / f[1]) + cd[1] * Math.floor((k - box[2][0]) / f[2]));
        const p = i * st[0] + j * st[1] + k * st[2];
        if (bone[p] !== 0 || body[p] === 0) blocked[c] = 1;
        sum[c] += data[p];
        n[c]++;
      }
    }
  }
  const blood = new Uint8Array(cells);
  for (let c = 0; c < cells; c++) blood[c] = blocked[c] === 0 && n[c] > 0 && sum[c] / n[c] >= minHu ? 1 : 0;
  const cellSpacing = [0, 1, 2].map((a) => spacing[a] * f[a]) as [number, number, number];
  const depth = depthInside(blood, cd, cellSpacing, { outsideIsFeature: false });
  const cost = new Float32Array(cells);
  for (let c = 0; c < cells; c++) cost[c] = blood[c] !== 0 ? 1 / (depth[c] * depth[c] + 0.25) : Infinity;
  const cellOf = (t: Section): number => {
    const ijk = toIjk(frame, t.s, t.u, t.v);
    const q = [0, 1, 2].map((a) => Math.min(cd[a] - 1, Math.max(0, Math.floor((Math.round(ijk[a]) - box[a][0]) / f[a]))));
    return q[0] + cd[0] * (q[1] + cd[1] * q[2]);
  };
  const start = cellOf(source);
  const targets = new Set(goals.map(cellOf));
  if (blood[start] === 0) return undefined;
  const path = minimalPath(cost, cd, cellSpacing, start, targets);
  if (!path) return undefined;
  return { path, depth, box, f, cd, from: source.s };
}

/** A ball around each point of the arch's centreline, as large as its depth in the blood (voxels ≥ LUMEN_MIN_HU). */
function paintArch(mask: Uint8Array, data: VoxelArray, grid: Grid, arch: Arch): void {
  const { path, depth, box, f, cd } = arch;
  const spacing = spacingOf(grid);
  const st = stridesOf(grid.dims);
  for (const c of path) {
    const ci = c % cd[0];
    const cj = Math.floor(c / cd[0]) % cd[1];
    const ck = Math.floor(c / (cd[0] * cd[1]));
    const centre = [box[0][0] + ci * f[0] + (f[0] - 1) / 2, box[1][0] + cj * f[1] + (f[1] - 1) / 2, box[2][0] + ck * f[2] + (f[2] - 1) / 2];
    const radius = depth[c] + RIM_MARGIN_MM;
    const r = spacing.map((sp) => radius / sp);
    for (let k = Math.max(0, Math.ceil(centre[2] - r[2])); k <= Math.min(grid.dims[2] - 1, Math.floor(centre[2] + r[2])); k++) {
      for (let j = Math.max(0, Math.ceil(centre[1] - r[1])); j <= Math.min(grid.dims[1] - 1, Math.floor(centre[1] + r[1])); j++) {
        for (let i = Math.max(0, Math.ceil(centre[0] - r[0])); i <= Math.min(grid.dims[0] - 1, Math.floor(centre[0] + r[0])); i++) {
          const d2 = ((i - centre[0]) * spacing[0]) ** 2 + ((j - centre[1]) * spacing[1]) ** 2 + ((k - centre[2]) * spacing[2]) ** 2;
          if (d2 > radius * radius) continue;
          const p = i * st[0] + j * st[1] + k * st[2];
          if (data[p] >= LUMEN_MIN_HU) mask[p] = 1;
        }
      }
    }
  }
}

/** The blood of the tubes' lumen, sorted: the inner half of their circles (clear of the wall). */
function lumenSamples(data: VoxelArray, frame: AxialFrame, tubes: readonly Section[]): Float64Array {
  const samples: number[] = [];
  for (const t of tubes) {
    const plane = frame.plane(t.s);
    const h = (0.5 * t.r) / plane.du;
    for (let v = Math.ceil(t.v - h); v <= Math.floor(t.v + h); v++) {
      for (let u = Math.ceil(t.u - h); u <= Math.floor(t.u + h); u++) samples.push(data[plane.base + u * plane.su + v * plane.sv]);
    }
  }
  return Float64Array.from(samples).sort();
}

/** Array coordinates (i, j, k) of plane pixel (u, v) of slice s. */
function toIjk(frame: AxialFrame, s: number, u: number, v: number): [number, number, number] {
  const out: [number, number, number] = [0, 0, 0];
  out[frame.axis] = s;
  out[frame.ua] = u;
  out[frame.va] = v;
  return out;
}
