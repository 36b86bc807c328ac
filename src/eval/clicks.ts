/**
 * Simulated user clicks for the evaluation of point prompts, in the manner of interactive
 * segmentation benchmarks (e.g. Sakinis et al. 2019, RITM): the first click goes to the reference
 * object's interior point farthest from its boundary; each corrective click goes to the deepest point
 * of the largest error region — positive inside the largest false-negative component, or negative
 * inside the largest false-positive component, whichever component is bigger. Depth is the 3D
 * distance in mm to the region's outside (the grid's border counts as outside), so clicks sit well
 * inside what they point at even on anisotropic grids. Error components are 6-connected.
 * @module
 */
import { listComponents } from '../engines/classic/components.js';
import type { VoxelPoint } from '../engines/engine.js';
import { depthInside } from '../volume/distance-transform.js';
import type { Dims } from '../volume/volume.js';

export interface SimulatedClick {
  readonly point: VoxelPoint;
  /** 1 inside the object (positive), 0 outside (negative). */
  readonly label: 0 | 1;
  /** Depth of the click inside the region it was put in (mm). */
  readonly depthMm: number;
  /** Voxels of that region. */
  readonly regionVoxels: number;
}

/** The voxel of `mask` farthest from its outside (first in flat order on ties), or undefined for an empty mask. */
export function deepestPoint(mask: Uint8Array, dims: Dims, spacing: readonly [number, number, number]): { point: VoxelPoint; depthMm: number } | undefined {
  const depth = depthInside(mask, dims, spacing);
  let best = -1;
  let at = -1;
  for (let p = 0; p < depth.length; p++) {
    if (mask[p] !== 0 && depth[p] > best) {
      best = depth[p];
      at = p;
    }
  }
  if (at < 0) return undefined;
  return { point: pointOf(at, dims), depthMm: best };
}

/**
 * The first click on `reference`: its deepest voxel.
 * @example
 * const first = firstClick(reference, ct.dims, [1.5, 1.5, 1.5]);
 */
export function firstClick(reference: Uint8Array, dims: Dims, spacing: readonly [number, number, number]): SimulatedClick | undefined {
  let size = 0;
  for (let p = 0; p < reference.length; p++) if (reference[p] !== 0) size++;
  const deepest = deepestPoint(reference, dims, spacing);
  return deepest && { point: deepest.point, label: 1, depthMm: deepest.depthMm, regionVoxels: size };
}

/**
 * The corrective click for `predicted` against `reference`, or undefined when they agree. The error
 * component is cropped to its bounding box before its depth is measured.
 */
export function correctiveClick(predicted: Uint8Array, reference: Uint8Array, dims: Dims, spacing: readonly [number, number, number]): SimulatedClick | undefined {
  const fn = new Uint8Array(reference.length);
  const fp = new Uint8Array(reference.length);
  for (let p = 0; p < reference.length; p++) {
    const r = reference[p] !== 0, q = predicted[p] !== 0;
    if (r && !q) fn[p] = 1;
    else if (q && !r) fp[p] = 1;
  }
  const fnComps = listComponents(fn, dims, 6);
  const fpComps = listComponents(fp, dims, 6);
  const fnTop = fnComps.list[0];
  const fpTop = fpComps.list[0];
  if (!fnTop && !fpTop) return undefined;
  const positive = fnTop !== undefined && (fpTop === undefined || fnTop.size >= fpTop.size);
  const comps = positive ? fnComps : fpComps;
  const top = positive ? fnTop : fpTop;
  const voxels = comps.voxels.subarray(top.offset, top.offset + top.size);
  // The component in its own box (one voxel of margin), so the distance transform stays small.
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-1, -1, -1];
  for (const p of voxels) {
    const c = pointOf(p, dims);
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a], c[a]);
      hi[a] = Math.max(hi[a], c[a]);
    }
  }
  const boxDims = [0, 1, 2].map((a) => hi[a] - lo[a] + 1) as unknown as Dims;
  const box = new Uint8Array(boxDims[0] * boxDims[1] * boxDims[2]);
  for (const p of voxels) {
    const c = pointOf(p, dims);
    box[c[0] - lo[0] + boxDims[0] * (c[1] - lo[1] + boxDims[1] * (c[2] - lo[2]))] = 1;
  }
  // The box holds the whole component, so beyond the box is outside it (as beyond the grid is).
  const deepest = deepestPoint(box, boxDims, spacing);
  if (!deepest) return undefined;
  const point: VoxelPoint = [deepest.point[0] + lo[0], deepest.point[1] + lo[1], deepest.point[2] + lo[2]];
  return { point, label: positive ? 1 : 0, depthMm: deepest.depthMm, regionVoxels: top.size };
}

function pointOf(p: number, dims: Dims): [number, number, number] {
  const nx = dims[0];
  const nxy = nx * dims[1];
  const k = Math.floor(p / nxy);
  const r = p - k * nxy;
  const j = Math.floor(r / nx);
  return [r - j * nx, j, k];
}
