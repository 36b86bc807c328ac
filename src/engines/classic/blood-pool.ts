/**
 * Contrast-filled blood (CT angiography, arterial or portal-venous phase): the lumen of the heart,
 * the aorta and the large veins reaches bone's Hounsfield range (200–600 HU), so a threshold cannot
 * tell them apart — on a CTA it takes the whole mediastinum for skeleton. What does tell them apart
 * is texture and size: blood is homogeneous (only image noise, ~20–50 HU) over many millimetres and
 * forms large connected pools and tubes, while cancellous bone is heterogeneous at the millimetre
 * scale and enclosed in a cortical shell brighter than contrast.
 *
 * Found on ~3 mm cells (memory: a few bytes per cell, not per voxel): a cell is *homogeneous
 * contrast* when its voxels' mean lies in 150–650 HU with a standard deviation under 100 HU; a
 * *core* cell is homogeneous with its six neighbours homogeneous too (≥ 9 mm of blood across);
 * cores connected into ≥ 20 mL are pools. The fine mask is the pools' cells and their neighbours,
 * voxel by voxel between 150 and 700 HU — the lumen to its wall, without the bright cortex that
 * may touch it — grown up to 60 mm into the branches above the blood's mean − 2.5σ. On a CT without
 * contrast no cell qualifies and the mask is empty.
 * @module
 */
import type { VoxelArray } from '../../volume/datatype.js';
import { coarseGrid } from './coarse.js';
import { listComponents } from './components.js';
import type { Grid } from './grid.js';
import { voxelVolume } from './grid.js';
import { growInto } from './geodesic.js';

const CELL_MM = 3;
const CELL_MEAN_MIN_HU = 150;
const CELL_MEAN_MAX_HU = 650;
const CELL_MAX_STD_HU = 100;
const MIN_POOL_ML = 20;
const POOL_MIN_HU = 150;
const POOL_MAX_HU = 700;
const BRANCH_STD_FACTOR = 2.5;
const BRANCH_MM = 60;

export interface BloodPool {
  readonly mask: Uint8Array;
  /** Whether any contrast-filled blood was found (when not, `mask` is empty and was never written). */
  readonly contrast: boolean;
  /**
   * The core cells (≥ 9 mm of homogeneous 150–650 HU across), pooled or not, as indices of the
   * CELL_MM grid (coresOutside): a vessel too short for a 20 mL pool (a 40 mm abdominal slab's
   * enhanced aorta) has cores too, and so may a dense vertebra's marrow.
   */
  readonly cores: Int32Array;
}

/**
 * Whether a core cell of `blood` lies mostly outside `mask` (0/1 on `grid`, the grid `blood` was
 * found on): enhanced blood as wide as the aorta that is not bone's marrow. Without one, a CT holds
 * no enhanced aorta that bone could have taken.
 */
export function coresOutside(blood: BloodPool, mask: Uint8Array, grid: Grid): boolean {
  if (blood.cores.length === 0) return false;
  const cg = coarseGrid(grid, CELL_MM);
  const [nx, ny] = grid.dims;
  const [cx, cy] = cg.dims;
  const [fx, fy, fz] = cg.factors;
  for (const c of blood.cores) {
    const x0 = (c % cx) * fx;
    const y0 = (Math.floor(c / cx) % cy) * fy;
    const z0 = Math.floor(c / (cx * cy)) * fz;
    let inside = 0;
    let all = 0;
    for (let k = z0; k < Math.min(z0 + fz, grid.dims[2]); k++) {
      for (let j = y0; j < Math.min(y0 + fy, ny); j++) {
        for (let i = x0, p = x0 + nx * (j + ny * k); i < Math.min(x0 + fx, nx); i++, p++) {
          all++;
          inside += mask[p];
        }
      }
    }
    if (2 * inside < all) return true;
  }
  return false;
}

/** The contrast-filled blood (an empty mask on a CT without contrast). */
export function contrastBloodPool(data: VoxelArray, grid: Grid, body: Uint8Array): Uint8Array {
  return findBloodPool(data, grid, body).mask;
}

/**
 * The contrast-filled blood and whether there is any: a caller that asks the mask instead (a scan of
 * it) makes all its pages resident, even on a CT without contrast where it is empty.
 */
export function findBloodPool(data: VoxelArray, grid: Grid, body: Uint8Array): BloodPool {
  const cg = coarseGrid(grid, CELL_MM);
  const [nx, ny, nz] = grid.dims;
  const [cx, cy, cz] = cg.dims;
  const [mi, mj, mk] = cg.maps;
  const cells = cx * cy * cz;
  const count = new Uint16Array(cells);
  const outside = new Uint8Array(cells);
  const sum = new Float64Array(cells);
  const sumSq = new Float64Array(cells);
  let p = 0;
  for (let k = 0; k < nz; k++) {
    const ck = mk[k]! * cy;
    for (let j = 0; j < ny; j++) {
      const cjk = (ck + mj[j]!) * cx;
      for (let i = 0; i < nx; i++, p++) {
        const c = cjk + mi[i]!;
        if (body[p] === 0) {
          outside[c] = 1;
          continue;
        }
        const v = data[p]!;
        count[c]++;
        sum[c] += v;
        sumSq[c] += v * v;
      }
    }
  }

  // Homogeneous contrast cells (wholly inside the body).
  const homogeneous = new Uint8Array(cells);
  for (let c = 0; c < cells; c++) {
    const n = count[c]!;
    if (n === 0 || outside[c] !== 0) continue;
    const mean = sum[c]! / n;
    const variance = sumSq[c]! / n - mean * mean;
    if (mean >= CELL_MEAN_MIN_HU && mean <= CELL_MEAN_MAX_HU && variance < CELL_MAX_STD_HU * CELL_MAX_STD_HU) homogeneous[c] = 1;
  }

  // Cores: homogeneous with all six face neighbours homogeneous (cells at the grid's edge never are).
  const core = new Uint8Array(cells);
  const sx = 1;
  const sy = cx;
  const sz = cx * cy;
  for (let z = 1; z < cz - 1; z++) {
    for (let y = 1; y < cy - 1; y++) {
      for (let x = 1, c = z * sz + y * sy + 1; x < cx - 1; x++, c++) {
        if (
          homogeneous[c] !== 0 &&
          homogeneous[c - sx] !== 0 &&
          homogeneous[c + sx] !== 0 &&
          homogeneous[c - sy] !== 0 &&
          homogeneous[c + sy] !== 0 &&
          homogeneous[c - sz] !== 0 &&
          homogeneous[c + sz] !== 0
        ) {
          core[c] = 1;
        }
      }
    }
  }

  let coreCount = 0;
  for (let c = 0; c < cells; c++) coreCount += core[c];
  const cores = new Int32Array(coreCount);
  for (let c = 0, t = 0; c < cells; c++) if (core[c] !== 0) cores[t++] = c;
  const cellMl = (voxelVolume(grid) * cg.factors[0] * cg.factors[1] * cg.factors[2]) / 1000;
  const comps = listComponents(core, cg.dims, 26);
  const pool = new Uint8Array(cells);
  let any = false;
  for (const comp of comps.list) {
    if (comp.size * cellMl < MIN_POOL_ML) continue;
    any = true;
    for (let t = comp.offset; t < comp.offset + comp.size; t++) pool[comps.voxels[t]!] = 1;
  }
  const mask = new Uint8Array(data.length);
  if (!any) return { mask, contrast: false, cores };

  // The pools' cells and their 26 neighbours: the lumen reaches the wall, beyond the cores.
  const near = new Uint8Array(cells);
  for (let z = 0; z < cz; z++) {
    for (let y = 0; y < cy; y++) {
      for (let x = 0; x < cx; x++) {
        if (pool[z * sz + y * sy + x] === 0) continue;
        for (let dz = Math.max(0, z - 1); dz <= Math.min(cz - 1, z + 1); dz++) {
          for (let dy = Math.max(0, y - 1); dy <= Math.min(cy - 1, y + 1); dy++) {
            for (let dx = Math.max(0, x - 1); dx <= Math.min(cx - 1, x + 1); dx++) near[dz * sz + dy * sy + dx] = 1;
          }
        }
      }
    }
  }
  // The blood's own intensity, from the core cells: what the lumen of a smaller branch looks like.
  let n = 0;
  let s1 = 0;
  let s2 = 0;
  p = 0;
  for (let k = 0; k < nz; k++) {
    const ck = mk[k]! * cy;
    for (let j = 0; j < ny; j++) {
      const cjk = (ck + mj[j]!) * cx;
      for (let i = 0; i < nx; i++, p++) {
        const c = cjk + mi[i]!;
        if (near[c] === 0 || body[p] === 0) continue;
        const v = data[p]!;
        if (v >= POOL_MIN_HU && v < POOL_MAX_HU) mask[p] = 1;
        if (pool[c] !== 0) {
          n++;
          s1 += v;
          s2 += v * v;
        }
      }
    }
  }
  const mean = s1 / n;
  const std = Math.sqrt(Math.max(0, s2 / n - mean * mean));
  // Then into the vessels that leave the pools (the arch's branches, renal and iliac arteries), too
  // narrow for a core: voxels above the blood's mean − 2.5σ (above cancellous bone) and below
  // cortical bone, up to BRANCH_MM along the path.
  const minHu = Math.max(POOL_MIN_HU, mean - BRANCH_STD_FACTOR * std);
  return { mask: growInto(mask, grid, BRANCH_MM, (q) => body[q] !== 0 && data[q]! >= minHu && data[q]! < POOL_MAX_HU), contrast: true, cores };
}

