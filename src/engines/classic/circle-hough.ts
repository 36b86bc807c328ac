/**
 * Circles in one plane of a volume (a vessel's cross-section in an axial slice) by a gradient
 * Hough transform: every edge pixel votes along its gradient, towards the brighter side, for the
 * centres at distances rMin…rMax; a lumen brighter than its surroundings (fat, lung, muscle) gets
 * votes from all around its rim, whatever its own intensity — a partly enhanced lumen (contrast
 * layered over unenhanced blood) still has its outer edge, while the edge inside it is a line whose
 * votes scatter. The radius is then the mode of the distances of the edge pixels that point at the
 * centre, and the *support* is the share of 15° sectors around the centre that hold such an edge
 * near that radius (1 for a whole rim, ~0.5 for a lumen half merged with a neighbour).
 *
 * Works on a window of the plane copied out once (`PlaneWindow`), in millimetres through the
 * in-plane spacing, so anisotropic pixels and any array order are handled alike.
 * @module
 */
import type { VoxelArray } from '../../volume/datatype.js';

/** A rectangle of one plane: pixel (u, v) of the window is voxel `base + (u0 + u)·su + (v0 + v)·sv`. */
export interface PlaneWindow {
  readonly values: Float32Array;
  /** Whether each pixel may hold an edge (inside the body). */
  readonly inside: Uint8Array;
  readonly nu: number;
  readonly nv: number;
  readonly u0: number;
  readonly v0: number;
  /** Pixel size in mm along u and v. */
  readonly du: number;
  readonly dv: number;
}

export interface Circle {
  /** Centre in window pixels (fractional). */
  readonly u: number;
  readonly v: number;
  /** Radius in mm. */
  readonly r: number;
  /** Votes at the centre (smoothed). */
  readonly votes: number;
  /** Share of the 24 sectors around the centre with a rim edge within 2 mm of `r`. */
  readonly support: number;
}

export interface PlaneGeometry {
  readonly nu: number;
  readonly nv: number;
  /** Flat-index strides of the plane's u and v axes, and the index of pixel (0, 0). */
  readonly su: number;
  readonly sv: number;
  readonly base: number;
  readonly du: number;
  readonly dv: number;
}

/** Copies pixels [u0, u1] × [v0, v1] (clipped to the plane) of one plane. */
export function planeWindow(data: VoxelArray, body: Uint8Array, plane: PlaneGeometry, u0: number, v0: number, u1: number, v1: number): PlaneWindow {
  const a0 = Math.max(0, Math.floor(u0));
  const b0 = Math.max(0, Math.floor(v0));
  const a1 = Math.min(plane.nu - 1, Math.ceil(u1));
  const b1 = Math.min(plane.nv - 1, Math.ceil(v1));
  const nu = Math.max(0, a1 - a0 + 1);
  const nv = Math.max(0, b1 - b0 + 1);
  const values = new Float32Array(nu * nv);
  const inside = new Uint8Array(nu * nv);
  for (let v = 0, n = 0; v < nv; v++) {
    const row = plane.base + (b0 + v) * plane.sv + a0 * plane.su;
    for (let u = 0; u < nu; u++, n++) {
      const p = row + u * plane.su;
      values[n] = data[p];
      inside[n] = body[p];
    }
  }
  return { values, inside, nu, nv, u0: a0, v0: b0, du: plane.du, dv: plane.dv };
}

export interface HoughOptions {
  readonly rMin: number;
  readonly rMax: number;
  /** Smallest gradient magnitude (HU/mm) that counts as an edge. */
  readonly minGradient: number;
  /** Only centres within this many mm of (cu, cv) (window pixels) are considered. */
  readonly near?: { readonly u: number; readonly v: number; readonly mm: number };
  /** Up to this many peaks, at least rMin apart (default 1). */
  readonly peaks?: number;
}

const SECTORS = 24;
const RIM_TOLERANCE_MM = 2;

/** The strongest circles of the window, best first. */
export function houghCircles(w: PlaneWindow, options: HoughOptions): Circle[] {
  const { nu, nv, du, dv, values } = w;
  if (nu < 3 || nv < 3) return [];
  const { rMin, rMax, minGradient } = options;
  const acc = new Float32Array(nu * nv);
  // Sobel gradients (HU/mm); edge pixels kept with their unit direction (towards brighter).
  const edgeAt: number[] = [];
  const edgeGu: number[] = [];
  const edgeGv: number[] = [];
  const min2 = minGradient * minGradient;
  const step = 0.5 * Math.min(du, dv);
  for (let v = 1; v < nv - 1; v++) {
    for (let u = 1; u < nu - 1; u++) {
      const n = u + v * nu;
      if (w.inside[n] === 0) continue;
      const a = values[n - nu - 1], b = values[n - nu], c = values[n - nu + 1];
      const d = values[n - 1], f = values[n + 1];
      const g = values[n + nu - 1], h = values[n + nu], k = values[n + nu + 1];
      const gu = (c + 2 * f + k - a - 2 * d - g) / (8 * du);
      const gv = (g + 2 * h + k - a - 2 * b - c) / (8 * dv);
      const m2 = gu * gu + gv * gv;
      if (m2 < min2) continue;
      const m = Math.sqrt(m2);
      const eu = gu / m, ev = gv / m;
      edgeAt.push(n);
      edgeGu.push(eu);
      edgeGv.push(ev);
      for (let t = rMin; t <= rMax; t += step) {
        const cu = Math.round(u + (t * eu) / du);
        const cv = Math.round(v + (t * ev) / dv);
        if (cu < 0 || cu >= nu || cv < 0 || cv >= nv) break;
        acc[cu + cv * nu] += 1;
      }
    }
  }
  if (edgeAt.length === 0) return [];
  // 3×3 box smoothing: a centre's votes scatter over a pixel or two.
  const smooth = new Float32Array(nu * nv);
  for (let v = 1; v < nv - 1; v++) {
    for (let u = 1, n = v * nu + 1; u < nu - 1; u++, n++) {
      smooth[n] = acc[n - nu - 1] + acc[n - nu] + acc[n - nu + 1] + acc[n - 1] + acc[n] + acc[n + 1] + acc[n + nu - 1] + acc[n + nu] + acc[n + nu + 1];
    }
  }
  const wanted = options.peaks ?? 1;
  const found: Circle[] = [];
  const taken: { u: number; v: number }[] = [];
  const near = options.near;
  const near2 = near ? near.mm * near.mm : Infinity;
  // A centre may lie within `near` and not within rMin of a peak already taken.
  const eligible = (u: number, v: number): boolean =>
    !(near && ((u - near.u) * du) ** 2 + ((v - near.v) * dv) ** 2 > near2) && !taken.some((t) => ((u - t.u) * du) ** 2 + ((v - t.v) * dv) ** 2 < rMin * rMin);
  for (let round = 0; round < wanted; round++) {
    let best = -1;
    let bestVotes = 0;
    for (let v = 1; v < nv - 1; v++) {
      for (let u = 1, n = v * nu + 1; u < nu - 1; u++, n++) {
        const s = smooth[n];
        if (s <= bestVotes || !eligible(u, v)) continue;
        best = n;
        bestVotes = s;
      }
    }
    if (best < 0) break;
    const bu = best % nu;
    const bv = (best - bu) / nu;
    // Sub-pixel centre: the vote-weighted mean over the 3×3 neighbourhoods of every pixel within
    // rMin of it tied for the most votes (one peak's plateau). Votes are whole numbers, so
    // neighbours often tie, and the first in scan order depends on which way the array runs:
    // patient B stored S, A, R got another aorta (agreement 0.986 mapped back; now 1.000).
    const tied: number[] = [];
    for (let v = 1; v < nv - 1; v++) {
      for (let u = 1, n = v * nu + 1; u < nu - 1; u++, n++) {
        if (smooth[n] === bestVotes && eligible(u, v) && ((u - bu) * du) ** 2 + ((v - bv) * dv) ** 2 < rMin * rMin) tied.push(n);
      }
    }
    taken.push({ u: bu, v: bv });
    const counted = new Set<number>();
    let su = 0, sv = 0, sw = 0;
    for (const t of tied) {
      const tu = t % nu;
      const tv = (t - tu) / nu;
      for (let dvv = -1; dvv <= 1; dvv++) {
        for (let duu = -1; duu <= 1; duu++) {
          const q = t + duu + dvv * nu;
          if (counted.has(q)) continue;
          counted.add(q);
          su += (tu + duu) * acc[q];
          sv += (tv + dvv) * acc[q];
          sw += acc[q];
        }
      }
    }
    const cu = sw > 0 ? su / sw : bu;
    const cv = sw > 0 ? sv / sw : bv;
    const rim = rimOf(w, cu, cv, edgeAt, edgeGu, edgeGv, rMin, rMax);
    if (rim) found.push({ u: cu, v: cv, r: rim.r, votes: bestVotes, support: rim.support });
  }
  return found;
}

/** Radius (mode of the inward-pointing edges' distances) and rim support around a centre. */
function rimOf(
  w: PlaneWindow,
  cu: number,
  cv: number,
  edgeAt: readonly number[],
  edgeGu: readonly number[],
  edgeGv: readonly number[],
  rMin: number,
  rMax: number,
): { r: number; support: number } | undefined {
  const { nu, du, dv } = w;
  const bin = 0.5;
  const bins = Math.ceil((rMax - rMin) / bin) + 1;
  const hist = new Float64Array(bins);
  const dist: number[] = [];
  const sector: number[] = [];
  for (let e = 0; e < edgeAt.length; e++) {
    const n = edgeAt[e];
    const u = n % nu;
    const v = (n - u) / nu;
    const xu = (cu - u) * du;
    const xv = (cv - v) * dv;
    const d = Math.hypot(xu, xv);
    if (d < rMin || d > rMax) continue;
    // The gradient must point at the centre (within ~25°): the rim of this lumen, not a neighbour's.
    if ((xu * edgeGu[e] + xv * edgeGv[e]) / d < 0.9) continue;
    hist[Math.round((d - rMin) / bin)] += 1;
    dist.push(d);
    sector.push(Math.floor(((Math.atan2(-xv, -xu) + Math.PI) / (2 * Math.PI)) * SECTORS) % SECTORS);
  }
  if (dist.length === 0) return undefined;
  let bestBin = 0;
  let bestCount = -1;
  for (let b = 0; b < bins; b++) {
    const c = (hist[b - 1] ?? 0) + 2 * hist[b] + (hist[b + 1] ?? 0);
    if (c > bestCount) {
      bestCount = c;
      bestBin = b;
    }
  }
  const r = rMin + bestBin * bin;
  const hit = new Uint8Array(SECTORS);
  for (let t = 0; t < dist.length; t++) if (Math.abs(dist[t] - r) <= RIM_TOLERANCE_MM) hit[sector[t]] = 1;
  let support = 0;
  for (let s = 0; s < SECTORS; s++) support += hit[s];
  return { r, support: support / SECTORS };
}

