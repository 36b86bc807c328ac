/**
 * A round tube (a large vessel) followed through axial slices: from a circle in one slice, the
 * circle of the next slice is the strongest gradient-Hough circle (circle-hough.ts) of a window
 * around it whose centre lies within a few millimetres of the last one and whose radius is within
 * ±30 % — the continuity of centre and radius that tells a vessel from the blobs beside it. The
 * tube ends where no such circle holds at least `minSupport` of its rim (the vessel merges into a
 * chamber, bends out of the plane, or divides), or where `accept` says so.
 * @module
 */
import type { VoxelArray } from '../../volume/datatype.js';
import type { Circle, PlaneGeometry } from './circle-hough.js';
import { houghCircles, planeWindow } from './circle-hough.js';
import type { Grid } from './grid.js';
import { spacingOf, stridesOf, superiorAxis } from './grid.js';
import { quantileSorted } from './intensity.js';
import { planeAxes } from './slices.js';

/** Axial slices of a grid: planes across the array axis closest to superior. */
export interface AxialFrame {
  readonly axis: 0 | 1 | 2;
  /** The plane's two array axes (u, v), ascending. */
  readonly ua: 0 | 1 | 2;
  readonly va: 0 | 1 | 2;
  /** +1 when a higher slice index is more superior. */
  readonly sign: 1 | -1;
  readonly count: number;
  /** Slice spacing in mm. */
  readonly ds: number;
  /** The plane of slice s. */
  plane(s: number): PlaneGeometry;
  /** World (RAS mm) position of plane pixel (u, v) of slice s. */
  world(s: number, u: number, v: number): [number, number, number];
  /** Flat index of plane pixel (u, v) of slice s (rounded). */
  index(s: number, u: number, v: number): number;
}

export function axialFrame(grid: Grid): AxialFrame {
  const { axis, sign } = superiorAxis(grid);
  const [ua, va] = planeAxes(axis);
  const st = stridesOf(grid.dims);
  const spacing = spacingOf(grid);
  const a = grid.affine;
  const nu = grid.dims[ua];
  const nv = grid.dims[va];
  return {
    axis,
    ua,
    va,
    sign,
    count: grid.dims[axis],
    ds: spacing[axis],
    plane: (s) => ({ nu, nv, su: st[ua], sv: st[va], base: s * st[axis], du: spacing[ua], dv: spacing[va] }),
    world: (s, u, v) => {
      const c = [0, 0, 0];
      c[axis] = s;
      c[ua] = u;
      c[va] = v;
      return [0, 1, 2].map((r) => a[r * 4] * c[0] + a[r * 4 + 1] * c[1] + a[r * 4 + 2] * c[2] + a[r * 4 + 3]) as [number, number, number];
    },
    index: (s, u, v) => s * st[axis] + Math.round(u) * st[ua] + Math.round(v) * st[va],
  };
}

/** One cross-section of a tube: centre in plane pixels of slice s, radius in mm. */
export interface Section {
  readonly s: number;
  readonly u: number;
  readonly v: number;
  readonly r: number;
  readonly support: number;
}

export interface TrackOptions {
  readonly rMin: number;
  readonly rMax: number;
  readonly minGradient: number;
  readonly minSupport: number;
  /** Largest in-plane move of the centre from one slice to the next, in mm. */
  readonly maxStepMm: number;
  /** Another test of each new section (anatomy the caller knows); false ends the tube before it. */
  readonly accept?: (section: Section, previous: Section) => boolean;
  /** Slices without an acceptable circle that may be bridged (default 0). */
  readonly maxGap?: number;
  /** Slices [lo, hi] the tube may occupy (default: the whole grid). */
  readonly range?: readonly [number, number];
}

/** The full-plane window of slice s (for searching seeds). */
export function circlesInSlice(data: VoxelArray, body: Uint8Array, frame: AxialFrame, s: number, options: { rMin: number; rMax: number; minGradient: number; peaks: number }): Section[] {
  const plane = frame.plane(s);
  const w = planeWindow(data, body, plane, 0, 0, plane.nu - 1, plane.nv - 1);
  return houghCircles(w, options).map((c) => ({ s, u: c.u + w.u0, v: c.v + w.v0, r: c.r, support: c.support }));
}

/**
 * Follows the tube from `start` in slice direction `step` (±1); the start is not included. The
 * radius window follows the median of the last sections (not the last one alone, so that it cannot
 * shrink step by step into a branch), and up to `maxGap` slices without an acceptable circle are
 * bridged (their sections interpolated) — a slice where a neighbour's edge outvotes the rim.
 */
export function followTube(data: VoxelArray, body: Uint8Array, frame: AxialFrame, start: Section, step: 1 | -1, options: TrackOptions): Section[] {
  const out: Section[] = [];
  let prev = start;
  const recent: number[] = [start.r];
  const [lo, hi] = options.range ?? [0, frame.count - 1];
  const maxGap = options.maxGap ?? 0;
  let gap = 0;
  for (let s = start.s + step; s >= lo && s <= hi; s += step) {
    const plane = frame.plane(s);
    const prior = quantileSorted([...recent].sort((a, b) => a - b), 0.5);
    const rMin = Math.max(options.rMin, 0.75 * prior);
    const rMax = Math.min(options.rMax, 1.3 * prior);
    const reach = options.maxStepMm * (gap + 1);
    const half = rMax + reach + 4;
    const hu = half / plane.du;
    const hv = half / plane.dv;
    const w = planeWindow(data, body, plane, prev.u - hu, prev.v - hv, prev.u + hu, prev.v + hv);
    const near = { u: prev.u - w.u0, v: prev.v - w.v0, mm: reach };
    const found: Circle | undefined = houghCircles(w, { rMin, rMax, minGradient: options.minGradient, near })[0];
    const section: Section | undefined = found && found.support >= options.minSupport ? { s, u: found.u + w.u0, v: found.v + w.v0, r: found.r, support: found.support } : undefined;
    if (!section || (options.accept && !options.accept(section, prev))) {
      if (++gap > maxGap) break;
      continue;
    }
    // Bridge the gap: sections on the straight line between the last two found.
    for (let g = gap; g >= 1; g--) {
      const t = (gap + 1 - g) / (gap + 1);
      out.push({ s: s - g * step, u: prev.u + t * (section.u - prev.u), v: prev.v + t * (section.v - prev.v), r: prev.r + t * (section.r - prev.r), support: 0 });
    }
    gap = 0;
    out.push(section);
    prev = section;
    recent.push(section.r);
    if (recent.length > RECENT) recent.shift();
  }
  return out;
}

const RECENT = 10;
