/**
 * A click in the marrow of a long bone's shaft (fat, −100…0 HU) floods the marrow and stops at the
 * cortex around it, so the object is the bone's inside without its wall (patient C, one click in
 * each humerus: Dice 0.26–0.36). When a region is wrapped in a shell much brighter than itself —
 * most of its outer neighbours at least 150 HU above its median and at least 250 HU — that shell
 * is its cortex and belongs to the object: it is added, grown through voxels that bright up to
 * 10 mm out.
 *
 * Only a *thin* shell is a cortex: when the bright voxels still go on 10 mm out (the front of the
 * growth is still more than a fifth of the shell's inner surface), the region is a cavity inside a
 * thick bone — the spinal canal in its vertebra — and nothing is added. Only on Hounsfield units:
 * a window without anything below −50 (fat, air) is not CT, and on MR fat is what is bright.
 * @module
 */
import type { VoxelArray } from '../../volume/datatype.js';
import type { Dims } from '../../volume/volume.js';
import type { Box } from './grid.js';
import { boxDims, boxToGrid, sixNeighbours } from './grid.js';

const MIN_SHELL_SHARE = 0.5;
const ABOVE_MEDIAN_HU = 150;
const MIN_CORTEX_HU = 250;
const CORTEX_MM = 10;
const MAX_OPEN_FRONT = 0.2;
const CT_BELOW_HU = -50;
const HU_MIN = -1024;
const HU_BINS = 4096;

/**
 * Adds the cortex enclosing `region` (0/1, the shape of `box` on the grid of `data`; written in
 * place); returns the number of voxels added (0 when the region is not wrapped in a thin bright
 * shell). Only the box is searched: a click's window.
 */
export function addEnclosingCortex(region: Uint8Array, box: Box, data: VoxelArray, dims: Dims, spacing: readonly [number, number, number]): number {
  const at = boxToGrid(box, dims);
  // Hounsfield units at all? (Every 7th voxel of the box is enough to meet fat or air.)
  let lowest = Infinity;
  for (let q = 0; q < region.length; q += 7) lowest = Math.min(lowest, data[at(q)]);
  if (lowest >= CT_BELOW_HU) return 0;
  // The region's median, from a histogram (a region may hold millions of voxels).
  const histogram = new Uint32Array(HU_BINS);
  let count = 0;
  for (let q = region.indexOf(1); q >= 0; q = region.indexOf(1, q + 1)) {
    histogram[Math.min(HU_BINS - 1, Math.max(0, Math.round(data[at(q)]) - HU_MIN))]++;
    count++;
  }
  if (count === 0) return 0;
  let median = HU_MIN;
  for (let b = 0, seen = 0; b < HU_BINS; b++) {
    seen += histogram[b];
    if (seen * 2 >= count) {
      median = b + HU_MIN;
      break;
    }
  }
  const bright = Math.max(median + ABOVE_MEDIAN_HU, MIN_CORTEX_HU);

  // The region's outer neighbours in the box (marked 2), and the bright ones among them.
  const state = new Uint8Array(region.length);
  let ring = 0;
  let front: number[] = [];
  const neighbours = sixNeighbours(boxDims(box));
  for (let q = region.indexOf(1); q >= 0; q = region.indexOf(1, q + 1)) {
    neighbours(q, (r) => {
      if (region[r] !== 0 || state[r] !== 0) return;
      state[r] = 2;
      ring++;
      if (data[at(r)] >= bright) front.push(r);
    });
  }
  if (ring === 0 || front.length < MIN_SHELL_SHARE * ring) return 0;

  // The shell: bright voxels from those neighbours outwards, up to CORTEX_MM.
  const shell = [...front];
  for (const r of front) state[r] = 3;
  const steps = Math.max(1, Math.round(CORTEX_MM / Math.min(...spacing)));
  const inner = front.length;
  for (let s = 1; s < steps && front.length > 0; s++) {
    const next: number[] = [];
    for (const q of front) {
      neighbours(q, (r) => {
        if (region[r] !== 0 || state[r] === 3 || data[at(r)] < bright) return;
        state[r] = 3;
        next.push(r);
        shell.push(r);
      });
    }
    front = next;
  }
  if (front.length > MAX_OPEN_FRONT * inner) return 0;
  for (const r of shell) region[r] = 1;
  return shell.length;
}
