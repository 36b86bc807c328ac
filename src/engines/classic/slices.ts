/**
 * 2D connected components in one plane across an axis (8-connected foreground), with the
 * measurements the airway search needs: area, centroid, extent, and world x of the centroid.
 * @module
 */
import type { Grid } from './grid.js';
import { stridesOf } from './grid.js';

export interface SliceComponent {
  readonly label: number;
  /** Pixels. */
  readonly area: number;
  /** Centroid in plane coordinates (u, v) = the two other array axes, ascending. */
  readonly cu: number;
  readonly cv: number;
  readonly minU: number;
  readonly maxU: number;
  readonly minV: number;
  readonly maxV: number;
}

export interface SliceLabels {
  /** Component label per plane pixel (u + nu·v), 0 = background. */
  readonly labels: Int32Array;
  readonly components: SliceComponent[];
  readonly nu: number;
  readonly nv: number;
}

/** The two in-plane axes of planes across `axis`. */
export function planeAxes(axis: 0 | 1 | 2): [0 | 1 | 2, 0 | 1 | 2] {
  return ([0, 1, 2] as const).filter((a) => a !== axis) as [0 | 1 | 2, 0 | 1 | 2];
}

/**
 * Memory `labelSlice` reuses from call to call: fresh memory costs a page fault per 4 KiB on first
 * touch, which for a walk through every slice of a CT is more than the labelling.
 */
export class SliceScratch {
  fg = new Uint8Array(0);
  queue = new Int32Array(0);
  /** Label arrays the caller is done with (`release`). */
  readonly #spare: Int32Array[] = [];

  /** Lets a result's label array be reused by a later call. */
  release(labels: SliceLabels): void {
    this.#spare.push(labels.labels);
  }

  /** A zeroed label array of `n` pixels. */
  labels(n: number): Int32Array {
    const kept = this.#spare.pop();
    return kept && kept.length === n ? kept.fill(0) : new Int32Array(n);
  }
}

/** Labels the pixels of slice `s` where `inside(flatIndex)` holds. */
export function labelSlice(grid: Grid, axis: 0 | 1 | 2, s: number, inside: (p: number) => boolean, scratch = new SliceScratch()): SliceLabels {
  const dims = grid.dims;
  const st = stridesOf(dims);
  const [ua, va] = planeAxes(axis);
  const nu = dims[ua];
  const nv = dims[va];
  const base = s * st[axis];
  const su = st[ua];
  const sv = st[va];
  const labels = scratch.labels(nu * nv);
  if (scratch.fg.length < nu * nv) scratch.fg = new Uint8Array(nu * nv);
  if (scratch.queue.length < nu * nv) scratch.queue = new Int32Array(nu * nv);
  const { fg, queue } = scratch;
  for (let v = 0, n = 0; v < nv; v++) for (let u = 0; u < nu; u++, n++) fg[n] = inside(base + u * su + v * sv) ? 1 : 0;
  const components: SliceComponent[] = [];
  for (let n0 = 0; n0 < nu * nv; n0++) {
    if (fg[n0] === 0 || labels[n0] !== 0) continue;
    const label = components.length + 1;
    labels[n0] = label;
    queue[0] = n0;
    let head = 0, tail = 1;
    let su2 = 0, sv2 = 0, minU = nu, maxU = -1, minV = nv, maxV = -1;
    while (head < tail) {
      const n = queue[head++];
      const v = (n / nu) | 0;
      const u = n - v * nu;
      su2 += u;
      sv2 += v;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
      for (let dv = -1; dv <= 1; dv++) {
        const vv = v + dv;
        if (vv < 0 || vv >= nv) continue;
        for (let du = -1; du <= 1; du++) {
          const uu = u + du;
          if (uu < 0 || uu >= nu) continue;
          const m = uu + vv * nu;
          if (fg[m] !== 0 && labels[m] === 0) {
            labels[m] = label;
            queue[tail++] = m;
          }
        }
      }
    }
    components.push({ label, area: tail, cu: su2 / tail, cv: sv2 / tail, minU, maxU, minV, maxV });
  }
  return { labels, components, nu, nv };
}
