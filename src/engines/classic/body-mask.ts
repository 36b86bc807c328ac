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
 * @module
 */
import type { VoxelArray } from '../../volume/datatype.js';
import { coarseGrid } from './coarse.js';
import { componentMask, listComponents } from './components.js';
import { fillHolesSlicewise } from './fill-holes.js';
import type { Grid } from './grid.js';
import { spacingOf, superiorAxis } from './grid.js';
import { close, dilate, erode, open } from './morphology.js';

export const BODY_THRESHOLD_HU = -500;

export function bodyMask(data: VoxelArray, grid: Grid): Uint8Array {
  const coarse = coarseGrid(grid, 3);
  const [cx, cy, cz] = coarse.dims;
  const cn = cx * cy * cz;
  const [nx, ny, nz] = grid.dims;
  const [f0, f1, f2] = coarse.factors;
  const [mi, mj, mk] = coarse.maps;
  const above = new Uint16Array(cn);
  for (let k = 0, p = 0; k < nz; k++) {
    const ck = mk[k] * cx * cy;
    for (let j = 0; j < ny; j++, p += nx) {
      const cjk = ck + mj[j] * cx;
      for (let i = 0; i < nx; i++) if (data[p + i] > BODY_THRESHOLD_HU) above[cjk + mi[i]]++;
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
  if (comps.list.length === 0) return new Uint8Array(data.length);
  mask = componentMask(comps, comps.list.filter((c) => c.size >= 0.05 * comps.list[0].size), cn);
  mask = close(mask, coarse.dims, cs, Math.max(4, oneVoxel));
  mask = fillHolesSlicewise(mask, coarse.dims, superiorAxis(coarse).axis);

  // Interior (2), boundary shell (1), outside (0).
  const inner = erode(mask, coarse.dims, cs, Math.max(...cs) * 1.01, { outside: 1 });
  const outer = dilate(mask, coarse.dims, cs, Math.max(...cs) * 1.75);
  const state = new Uint8Array(cn);
  for (let c = 0; c < cn; c++) state[c] = inner[c] ? 2 : outer[c] ? 1 : 0;

  // Coarse rows with nothing of the body are skipped (most of a CT's field of view is air).
  const rowUsed = new Uint8Array(cy * cz);
  for (let c = 0; c < cn; c++) if (state[c] !== 0) rowUsed[(c / cx) | 0] = 1;
  const body = new Uint8Array(data.length);
  for (let k = 0, p = 0; k < nz; k++) {
    const ck = mk[k] * cx * cy;
    for (let j = 0; j < ny; j++, p += nx) {
      const cjk = ck + mj[j] * cx;
      if (rowUsed[cjk / cx] === 0) continue;
      for (let i = 0; i < nx; i++) {
        const s = state[cjk + mi[i]];
        body[p + i] = s === 2 || (s === 1 && data[p + i] > BODY_THRESHOLD_HU) ? 1 : 0;
      }
    }
  }
  return body;
}
