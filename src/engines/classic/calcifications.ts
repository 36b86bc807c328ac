/**
 * Calcifications in the viscera, which a bone threshold takes for bone: a calcified splenic artery
 * or aortic plaque, a granuloma in the liver, a kidney or gall stone. They pass bone's component
 * test (≥ 0.1 mL, some of it ≥ 500 HU) as an isolated rib does; what tells them apart is where they
 * lie. The skeleton of the trunk is its wall (ribs, sternum, scapulae, arms) and its spine; a bright
 * component that is small, far from every other bone and deep inside the body in its axial plane
 * is in the viscera.
 *
 * Patient C (a 40 mm slab of the upper abdomen): of its bone answer, 900 voxels by the pancreas
 * (a calcified splenic artery) and 379 in the liver held no voxel of the reference's bone.
 * @module
 */
import type { ComponentInfo, Components } from './components.js';
import type { Box, Grid } from './grid.js';
import { boxDims, cropArray, gridToBox, padBox, spacingOf, superiorAxis, voxelCoords, voxelVolume } from './grid.js';
import { depthInside, squaredDistanceTransform } from '../../volume/distance-transform.js';

/** Only components under this volume (mL) are judged: a vertebra or a rib's piece is larger. */
const MAX_ML = 2;
/** Deeper than this (mm) inside the body in every voxel's axial plane: not the trunk's wall. */
const DEEP_MM = 30;
/** Farther than this (mm) from every other kept component: not a piece of a bone beside it. */
const ISOLATED_MM = 15;

/**
 * The components of `chosen` (bone's kept candidates, their voxels in `components`) that are
 * visceral calcifications: under MAX_ML, every voxel more than DEEP_MM inside `body` within its
 * axial plane (the image's edge counts as the body's), and no voxel of another kept component
 * (`kept`, full grid) within ISOLATED_MM.
 */
export function visceralCalcifications<T>(components: Components<T>, chosen: readonly ComponentInfo<T>[], kept: Uint8Array, body: Uint8Array, grid: Grid): ComponentInfo<T>[] {
  const { dims } = grid;
  const spacing = spacingOf(grid);
  const { axis } = superiorAxis(grid);
  const maxVoxels = (MAX_ML * 1000) / voxelVolume(grid);
  const out: ComponentInfo<T>[] = [];
  for (const c of chosen) {
    if (c.size >= maxVoxels) continue;
    const voxels = components.voxels.subarray(c.offset, c.offset + c.size);
    const bounds = boundsOf(voxels, dims);
    // Depth first, in the axial plane over the component's own slices (the cheaper test: most
    // small components lie in the body's wall): the superior axis's spacing made so large that no
    // distance runs across the slices (a 40 mm slab is no deeper than 20 mm through its slices
    // anywhere). The box's sides count as outside: where it meets the image's edge, the body may go on.
    const pad = spacing.map((s, a) => (a === axis ? 0 : Math.ceil(DEEP_MM / s) + 1)) as [number, number, number];
    const plane = padBox(bounds, pad, dims);
    const pd = boxDims(plane);
    const planar = spacing.map((s, a) => (a === axis ? 1e6 : s)) as [number, number, number];
    const depth = depthInside(cropArray(body, dims, plane), pd, planar);
    const toPlane = gridToBox(plane, dims);
    let deep = true;
    for (let t = 0; t < voxels.length && deep; t++) if (depth[toPlane(voxels[t])] <= DEEP_MM) deep = false;
    if (!deep) continue;
    // Then isolation, for the deep ones only (a distance transform in the box padded by
    // ISOLATED_MM along every axis, slices included: the dearer test).
    const near = padBox(bounds, spacing.map((s) => Math.ceil(ISOLATED_MM / s) + 1) as [number, number, number], dims);
    const nd = boxDims(near);
    const toNear = gridToBox(near, dims);
    const own = new Uint8Array(nd[0] * nd[1] * nd[2]);
    for (let t = 0; t < voxels.length; t++) own[toNear(voxels[t])] = 1;
    const d2 = squaredDistanceTransform(own, nd, spacing);
    const others = cropArray(kept, dims, near);
    let isolated = true;
    for (let q = 0; q < others.length && isolated; q++) if (others[q] !== 0 && own[q] === 0 && d2[q] <= ISOLATED_MM * ISOLATED_MM) isolated = false;
    if (isolated) out.push(c);
  }
  return out;
}

/** The bounding box of a list of voxels (flat indices on `dims`). */
function boundsOf(voxels: Int32Array, dims: Grid['dims']): Box {
  const min: [number, number, number] = [Infinity, Infinity, Infinity];
  const max: [number, number, number] = [-1, -1, -1];
  for (let t = 0; t < voxels.length; t++) {
    const c = voxelCoords(voxels[t], dims);
    for (let a = 0; a < 3; a++) {
      if (c[a] < min[a]) min[a] = c[a];
      if (c[a] > max[a]) max[a] = c[a];
    }
  }
  return { min, max };
}
