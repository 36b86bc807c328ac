/**
 * Geodesic growth: a mask grown step by step through the voxels a predicate accepts, so that it
 * follows a structure (a vessel, a bone's marrow) and never jumps a gap.
 * @module
 */
import type { Grid } from './grid.js';
import { spacingOf } from './grid.js';

/** Geodesic growth of `mask` by up to `mm` (6-connected steps of the smallest spacing) through voxels `inside` accepts. */
export function growInto(mask: Uint8Array, grid: Grid, mm: number, inside: (p: number) => boolean): Uint8Array {
  const [nx, ny, nz] = grid.dims;
  const plane = nx * ny;
  const out = mask.slice();
  const steps = Math.max(1, Math.round(mm / Math.min(...spacingOf(grid))));
  let front: number[] = [];
  for (let p = 0; p < out.length; p++) if (out[p] !== 0) front.push(p);
  for (let s = 0; s < steps && front.length > 0; s++) {
    const next: number[] = [];
    const visit = (q: number): void => {
      if (out[q] !== 0 || !inside(q)) return;
      out[q] = 1;
      next.push(q);
    };
    for (const p of front) {
      const i = p % nx;
      const j = Math.floor(p / nx) % ny;
      const k = Math.floor(p / plane);
      if (i > 0) visit(p - 1);
      if (i < nx - 1) visit(p + 1);
      if (j > 0) visit(p - nx);
      if (j < ny - 1) visit(p + nx);
      if (k > 0) visit(p - plane);
      if (k < nz - 1) visit(p + plane);
    }
    front = next;
  }
  return out;
}

