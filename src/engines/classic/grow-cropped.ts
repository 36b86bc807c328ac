/**
 * Geodesic growth (geodesic.ts) on the part of the grid it can reach: the mask's bounds grown by the
 * growth's length. A growth of a few millimetres from a small structure (the spine's marrow, a
 * vessel's branches) then needs memory for that box instead of a second full-grid mask.
 * @module
 */
import { growInto } from './geodesic.js';
import type { Box, Grid } from './grid.js';
import { boundingBox, boxDims, boxToGrid, cropArray, cropGrid, padBox, pasteArray, spacingOf } from './grid.js';

/**
 * `growInto(mask, grid, mm, inside)`, written over `mask` (which is returned). Gives the same voxels:
 * should the growth reach a face of the box that is not the grid's (a growth longer than the
 * margin allows for), it is done again on the whole grid.
 */
export function growIntoCropped(mask: Uint8Array, grid: Grid, mm: number, inside: (p: number) => boolean): Uint8Array {
  const { dims } = grid;
  const bounds = boundingBox(mask, dims);
  if (!bounds) return mask;
  // growInto takes 6-connected steps of the smallest spacing; one voxel more keeps its last step inside.
  const reach = Math.max(1, Math.round(mm / Math.min(...spacingOf(grid)))) + 1;
  const box = padBox(bounds, [reach, reach, reach], dims);
  const onGrid = boxToGrid(box, dims);
  const grown = growInto(cropArray(mask, dims, box), cropGrid(grid, box), mm, (q) => inside(onGrid(q)));
  if (reachesInnerFace(grown, box, dims)) {
    const whole = growInto(mask, grid, mm, inside);
    mask.set(whole);
    return mask;
  }
  pasteArray(grown, mask, dims, box);
  return mask;
}

/** Whether the box-shaped `mask` holds a voxel on a face of `box` that lies inside the grid. */
function reachesInnerFace(mask: Uint8Array, box: Box, dims: Grid['dims']): boolean {
  const [bx, by, bz] = boxDims(box);
  const inner = [0, 1, 2].flatMap((a) => [box.min[a] > 0, box.max[a] < dims[a] - 1]);
  for (let k = 0, p = 0; k < bz; k++) {
    const kFace = (k === 0 && inner[4]) || (k === bz - 1 && inner[5]);
    for (let j = 0; j < by; j++, p += bx) {
      if (kFace || (j === 0 && inner[2]) || (j === by - 1 && inner[3])) {
        const hit = mask.indexOf(1, p);
        if (hit >= 0 && hit < p + bx) return true;
        continue;
      }
      if ((inner[0] && mask[p] !== 0) || (inner[1] && mask[p + bx - 1] !== 0)) return true;
    }
  }
  return false;
}
