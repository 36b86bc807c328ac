/**
 * The body: everything of the patient, lungs and airways included, without the table, the air
 * around or clothing-thin strands. Built on a ~3 mm grid (a 512×512×300 CT becomes ~1.2 M voxels
 * instead of 79 M) and refined at full resolution at the skin only:
 *
 * 1. coarse voxel = body-ish when most of its fine voxels are above −500 HU;
 * 2. opening (3 mm, at least one coarse voxel) cuts thin attachments (table shell, cables, blankets);
 * 3. components of at least 5% of the largest are kept (the trunk, arms lying beside it);
 * 4. closing (4 mm, at least one coarse voxel) and slice-wise hole filling across the superior axis put the lungs, airways and
 *    bowel gas inside (slice-wise, since the trachea is open at the top of a chest scan);
 * 5. a fine voxel is body when its coarse voxel is inside the coarse body's 6-eroded interior, or
 *    when it lies in the one-voxel coarse shell around the boundary and is itself above −500 HU: the
 *    skin is located at full resolution, while enclosed air stays inside.
 *
 * `bodyInBox` writes the fine body straight into the box the rest of the engine works on, so the
 * full-grid mask (the image's voxel count in bytes, resident wherever a row holds body) is never
 * made when the box is cropped.
 * @module
 */
import type { VoxelArray } from '../../volume/datatype.js';
import { voxelCount } from '../../volume/volume.js';
import { coarseGrid } from './coarse.js';
import { componentMask, listComponents } from './components.js';
import { fillHolesSlicewise } from './fill-holes.js';
import type { CoarseGrid } from './coarse.js';
import type { Box, Grid } from './grid.js';
import { boundingBox, boxDims, cropArray, padBox, spacingOf, superiorAxis } from './grid.js';
import { close, dilate, erode, open } from './morphology.js';

export const BODY_THRESHOLD_HU = -500;

/** The body on the full grid. */
export function bodyMask(data: VoxelArray, grid: Grid): Uint8Array {
  const body = new Uint8Array(data.length);
  const coarse = coarseBody(data, grid);
  if (coarse) fineBody(data, grid, coarse, wholeBox(grid.dims), body);
  return body;
}

export interface BodyInBox {
  /** The body's voxels' bounds grown by one voxel, or the whole grid (see `bodyInBox`). */
  readonly box: Box;
  readonly whole: boolean;
  /** The body, box-shaped (the full-grid mask when `whole`). */
  readonly mask: Uint8Array;
}

/**
 * The body and the box around it (its bounds grown by one voxel), or undefined when the image holds
 * no body. A box of at least `wholeShare` of the image is replaced by the whole grid: cropping the
 * image to it would cost nearly a second copy of the image for little gain.
 * @example
 * const found = bodyInBox(volume.data, { dims: volume.dims, affine: volume.affine }, 0.7);
 * if (found && !found.whole) console.log(boxDims(found.box));
 */
export function bodyInBox(data: VoxelArray, grid: Grid, wholeShare: number): BodyInBox | undefined {
  const { dims } = grid;
  const coarse = coarseBody(data, grid);
  if (!coarse) return undefined;
  // Body voxels lie in the coarse cells that are not outside; one voxel of margin keeps the padded box inside.
  const region = padBox(coarse.bounds, [1, 1, 1], dims);
  if (voxelCount(boxDims(region)) < wholeShare * data.length) {
    // The padded box lies within `region`, so it is smaller than `wholeShare` too: always a crop.
    const inRegion = new Uint8Array(voxelCount(boxDims(region)));
    const bounds = fineBody(data, grid, coarse, region, inRegion);
    if (!bounds) return undefined;
    const box = padBox(bounds, [1, 1, 1], dims);
    return { box, whole: false, mask: cropInPlace(inRegion, region, box) };
  }
  const body = new Uint8Array(data.length);
  const bounds = fineBody(data, grid, coarse, wholeBox(dims), body);
  if (!bounds) return undefined;
  const padded = padBox(bounds, [1, 1, 1], dims);
  if (voxelCount(boxDims(padded)) >= wholeShare * data.length) return { box: wholeBox(dims), whole: true, mask: body };
  return { box: padded, whole: false, mask: cropArray(body, dims, padded) };
}

function wholeBox(dims: Grid['dims']): Box {
  return { min: [0, 0, 0], max: [dims[0] - 1, dims[1] - 1, dims[2] - 1] };
}

interface CoarseBody {
  readonly coarse: CoarseGrid;
  /** Per coarse voxel: interior (2), boundary shell (1), outside (0). */
  readonly state: Uint8Array;
  /** Fine-grid bounds of the coarse voxels that are not outside. */
  readonly bounds: Box;
}

function coarseBody(data: VoxelArray, grid: Grid): CoarseBody | undefined {
  const coarse = coarseGrid(grid, 3);
  const [cx, cy, cz] = coarse.dims;
  const cn = cx * cy * cz;
  const [nx, ny, nz] = grid.dims;
  const [f0, f1, f2] = coarse.factors;
  const [, mj, mk] = coarse.maps;
  const above = new Uint16Array(cn);
  // Counted a block of f0 voxels at a time: one increment per block instead of one per voxel.
  for (let k = 0, p = 0; k < nz; k++) {
    const ck = mk[k] * cx * cy;
    for (let j = 0; j < ny; j++, p += nx) {
      const cjk = ck + mj[j] * cx;
      for (let ci = 0, i = 0; ci < cx; ci++) {
        const end = Math.min(nx, i + f0);
        let n = 0;
        for (; i < end; i++) n += data[p + i] > BODY_THRESHOLD_HU ? 1 : 0;
        above[cjk + ci] += n;
      }
    }
  }
  const block = (c: number, f: number, n: number): number => Math.min(f, n - c * f);
  let mask: Uint8Array = new Uint8Array(cn);
  for (let ck = 0, c = 0; ck < cz; ck++) {
    for (let cj = 0; cj < cy; cj++) {
      const wjk = block(cj, f1, ny) * block(ck, f2, nz);
      for (let ci = 0; ci < cx; ci++, c++) mask[c] = above[c] * 2 > block(ci, f0, nx) * wjk ? 1 : 0;
    }
  }

  const cs = spacingOf(coarse);
  // At least one coarse voxel, or the opening would do nothing on a coarse grid of 4 mm.
  const oneVoxel = Math.max(...cs) * 1.01;
  mask = open(mask, coarse.dims, cs, Math.max(3, oneVoxel));
  const comps = listComponents(mask, coarse.dims, 6);
  if (comps.list.length === 0) return undefined;
  mask = componentMask(comps, comps.list.filter((c) => c.size >= 0.05 * comps.list[0].size), cn);
  mask = close(mask, coarse.dims, cs, Math.max(4, oneVoxel));
  mask = fillHolesSlicewise(mask, coarse.dims, superiorAxis(coarse).axis);

  // Interior (2), boundary shell (1), outside (0).
  const inner = erode(mask, coarse.dims, cs, Math.max(...cs) * 1.01, { outside: 1 });
  const outer = dilate(mask, coarse.dims, cs, Math.max(...cs) * 1.75);
  const state = new Uint8Array(cn);
  for (let c = 0; c < cn; c++) state[c] = inner[c] ? 2 : outer[c] ? 1 : 0;
  const cells = boundingBox(outer, coarse.dims);
  if (!cells) return undefined;
  const bounds: Box = {
    min: [0, 1, 2].map((a) => cells.min[a] * coarse.factors[a]) as [number, number, number],
    max: [0, 1, 2].map((a) => Math.min(grid.dims[a], (cells.max[a] + 1) * coarse.factors[a]) - 1) as [number, number, number],
  };
  return { coarse, state, bounds };
}

/**
 * Writes the fine body of `region` into `out` (region-shaped, zeroed) and returns the bounds of its
 * voxels (undefined: none). A voxel is body when its coarse voxel is interior, or in the shell and
 * above the threshold.
 */
function fineBody(data: VoxelArray, grid: Grid, body: CoarseBody, region: Box, out: Uint8Array): Box | undefined {
  const { coarse, state } = body;
  const [cx, cy] = coarse.dims;
  const [nx, ny] = grid.dims;
  const [, mj, mk] = coarse.maps;
  const f0 = coarse.factors[0];
  const [i0, j0, k0] = region.min;
  const [i1, j1, k1] = region.max;
  const rx = i1 - i0 + 1;
  let bi0 = Infinity, bj0 = Infinity, bk0 = Infinity, bi1 = -1, bj1 = -1, bk1 = -1;
  for (let k = k0, o = 0; k <= k1; k++) {
    const ck = mk[k] * cx * cy;
    for (let j = j0; j <= j1; j++, o += rx) {
      const cjk = ck + mj[j] * cx;
      const p = j * nx + k * nx * ny;
      let any = false;
      // Coarse voxels along the row: interior runs are filled at once, shell voxels tested, the rest skipped.
      let fillFrom = -1;
      for (let ci = Math.floor(i0 / f0), ciEnd = Math.floor(i1 / f0); ci <= ciEnd + 1; ci++) {
        const s = ci <= ciEnd ? state[cjk + ci] : 0;
        const a = Math.min(i1 + 1, Math.max(i0, ci * f0));
        if (s === 2) {
          if (fillFrom < 0) fillFrom = a;
          continue;
        }
        if (fillFrom >= 0) {
          out.fill(1, o + fillFrom - i0, o + a - i0);
          fillFrom = -1;
          any = true;
        }
        if (s === 0) continue;
        const b = Math.min(i1 + 1, (ci + 1) * f0);
        for (let i = a; i < b; i++) {
          if (data[p + i] > BODY_THRESHOLD_HU) {
            out[o + i - i0] = 1;
            any = true;
          }
        }
      }
      if (!any) continue;
      const first = out.indexOf(1, o);
      const last = out.lastIndexOf(1, o + rx - 1);
      if (first - o + i0 < bi0) bi0 = first - o + i0;
      if (last - o + i0 > bi1) bi1 = last - o + i0;
      if (j < bj0) bj0 = j;
      if (j > bj1) bj1 = j;
      if (k < bk0) bk0 = k;
      if (k > bk1) bk1 = k;
    }
  }
  if (bi1 < 0) return undefined;
  return { min: [bi0, bj0, bk0], max: [bi1, bj1, bk1] };
}

/** `mask` (shaped as `from`) cut down to `to` (a box within `from`), moving rows forward in place. */
function cropInPlace(mask: Uint8Array, from: Box, to: Box): Uint8Array {
  const [fx, fy] = boxDims(from);
  const [tx] = boxDims(to);
  let o = 0;
  for (let k = to.min[2]; k <= to.max[2]; k++) {
    for (let j = to.min[1]; j <= to.max[1]; j++, o += tx) {
      const src = to.min[0] - from.min[0] + fx * (j - from.min[1] + fy * (k - from.min[2]));
      // src ≥ o: every earlier row of `to` is an earlier row of `from`, and `to` is no wider.
      mask.copyWithin(o, src, src + tx);
    }
  }
  return mask.subarray(0, o);
}
