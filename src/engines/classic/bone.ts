/**
 * The skeleton as one label (VISTA3D group 21): voxels ≥ 200 HU inside the body, in components that
 * hold cortical bone (at least 2% of their voxels, and 3, ≥ 500 HU) and measure ≥ 0.1 mL — which
 * drops contrast-filled vessels (200–450 HU) that do not touch bone, calcified specks and noise —
 * then marrow: voxels ≥ 100 HU up to 3 mm into what touches that bone; holes of up to 25 cm² in
 * each axial slice whose mean is ≥ 100 HU (cancellous bone) or, up to 6 cm², ≤ −20 HU (the fatty
 * marrow of a long bone's shaft); and holes of up to 60 mm² in any plane whatever their mean (a
 * rib's marrow, 0–80 HU, enclosed by its cortex where a plane cuts the rib across) are filled, while
 * the spinal canal (cord and CSF, 0–50 HU, ~2 cm² and open along the spine) and fat between bones
 * stay open. Then the bones' partial-volume surface, the in-plane surface voxels under half-way
 * from the tissue beside them to the bone (half-maximum.ts), is marked: the skeleton as answered
 * leaves it out (`partialVolume`). Last, the costal cartilage continuing the ribs' front ends
 * (cartilage.ts).
 * Contrast-filled blood (blood-pool.ts) is never a candidate, never grown into and never filled.
 * Metal (≥ 2500 HU: implants, leads, clips, dental work; dense cortex stays under ~2000 HU) is never
 * bone. Its bloom (the scanner's blur of it, as bright as cortex) is taken to reach 3 mm: a
 * component needs its cortical voxels beyond that (a lead or a clip in soft tissue has none), and
 * metal inside a bone (a prosthesis's stem, a pedicle screw) is taken out of the answer last, after
 * hole filling has closed the bone around it. A small kept component deep in the viscera and far
 * from every other bone is a calcification, not bone (calcifications.ts).
 * @module
 */
import type { VoxelArray } from '../../volume/datatype.js';
import type { BloodPool } from './blood-pool.js';
import { findBloodPool } from './blood-pool.js';
import { addCostalCartilage } from './cartilage.js';
import { partialVolumeSurface } from './half-maximum.js';
import { visceralCalcifications } from './calcifications.js';
import { componentMask, listComponents } from './components.js';
import { growIntoCropped } from './grow-cropped.js';
import { dilate } from './morphology.js';
import { fillHolesSlicewiseInPlace } from './fill-holes.js';
import type { Grid } from './grid.js';
import { sixNeighbours, spacingOf, superiorAxis, voxelVolume } from './grid.js';
import { planeAxes } from './slices.js';

const BONE_HU = 200;
const CORTICAL_HU = 500;
const MARROW_MEAN_HU = 100;
const MARROW_MIN_HU = 100;
const MARROW_GROW_MM = 3;
const FATTY_MARROW_MAX_HU = -20;
const FATTY_MARROW_MAX_MM2 = 600;
const RIB_MARROW_MAX_MM2 = 60;
const MAX_POOL_CONTACT = 0.5;
/** Metal, not bone: above dense cortical bone (~1 900 HU), below the 3 071 HU a 12-bit scanner saturates at. */
const METAL_HU = 2500;
/** How far (mm) the scanner's blur spreads metal's brightness into what is around it. */
const BLOOM_MM = 3;

/**
 * `blood`: the contrast-filled blood when the caller has it already (the aorta needs it too).
 * `spare`: a mask of the grid's size the caller is done with (any content): the bone is built in it,
 * its pages already resident, instead of in a new one. `options.cartilage: false` leaves the costal
 * cartilage out (the skeleton a click labelled as a bone is looked for in).
 */
export interface BoneOptions {
  /** Whether the costal cartilage is grown from the ribs' front ends (default true; cartilage.ts). */
  readonly cartilage?: boolean;
  /**
   * Whether the partial-volume surface is judged (default true): only the skeleton as answered
   * needs it; the spinal canal and the aorta's seeds use the mask (`Skeleton`).
   */
  readonly surface?: boolean;
}

/**
 * The skeleton. `mask` holds every voxel the thresholds take, the partial-volume layer on the
 * bones' surfaces too: the spinal canal is a hole in the arch's ring and the aorta's seeds must
 * keep off the spine, and a thin lamina's ring is broken where that layer goes. `partialVolume`:
 * the voxels of that layer under the half maximum (half-maximum.ts), which the skeleton as answered
 * leaves out.
 */
export interface Skeleton {
  readonly mask: Uint8Array;
  readonly partialVolume: Int32Array;
}

export function segmentBone(
  data: VoxelArray,
  grid: Grid,
  body: Uint8Array,
  blood: BloodPool = findBloodPool(data, grid, body),
  spare?: Uint8Array,
  options: BoneOptions = {},
): Skeleton {
  const pool = blood.mask;
  const { dims } = grid;
  const spacing = spacingOf(grid);
  if (spare && spare.length !== data.length) throw new RangeError(`segmentBone: the spare mask must hold ${data.length} voxels, not ${spare.length}.`);
  // Contrast-filled blood reaches bone's HU; it is taken out before anything joins it to the skeleton.
  const candidate = spare ?? new Uint8Array(data.length);
  for (let p = 0; p < data.length; p++) candidate[p] = data[p] >= BONE_HU && body[p] !== 0 && pool[p] === 0 ? 1 : 0;
  const minVoxels = 100 / voxelVolume(grid); // 0.1 mL
  const bloom = metalBloom(data, grid, candidate);
  // Per component: its cortical voxels, metal and its bloom not counted.
  const comps = listComponents(candidate, dims, 6, (voxels) => {
    let bright = 0;
    for (let t = 0; t < voxels.length; t++) if (data[voxels[t]] >= CORTICAL_HU && (bloom === undefined || bloom[voxels[t]] === 0)) bright++;
    return bright;
  });
  // Undiluted contrast on its way in (the injected arm's veins, the superior vena cava, the right
  // atrium: 600–2000 HU, streaky, so not part of the homogeneous pool) is as bright as cortex and
  // lies in the pool: a component whose surface mostly touches contrast-filled blood is that, not
  // bone (patient B: 99 % of such a component's surface against 2–18 % for its bones).
  const keep = comps.list.filter(
    (c) => c.size >= minVoxels && c.stats >= Math.max(3, 0.02 * c.size) && !(blood.contrast && poolContact(comps.voxels.subarray(c.offset, c.offset + c.size), candidate, pool, dims) > MAX_POOL_CONTACT),
  );
  // The candidates are not needed once listed: their mask takes the bone.
  let bone = componentMask(comps, keep, data.length, candidate);
  // Small, isolated and deep in the body: a calcification in the viscera (calcifications.ts).
  for (const c of visceralCalcifications(comps, keep, bone, body, grid)) for (let t = c.offset; t < c.offset + c.size; t++) bone[comps.voxels[t]] = 0;
  // Cancellous bone of a low-dose or osteoporotic spine lies at 100–200 HU: what touches the kept
  // bone is taken up to MARROW_GROW_MM deep (muscle and fat stay below 100 HU). (A 2 mm closing
  // before the filling added 0.015 Dice on patient C for 0.6 s on a 512×512×300 CT: left out.)
  bone = growIntoCropped(bone, grid, MARROW_GROW_MM, (p) => body[p] !== 0 && pool[p] === 0 && data[p] >= MARROW_MIN_HU);

  const { axis } = superiorAxis(grid);
  const [ua, va] = planeAxes(axis);
  // A hole that holds blood is a vessel or a heart chamber enclosed by bone, not marrow.
  const noBlood = (voxels: ArrayLike<number>): boolean => {
    for (let t = 0; t < voxels.length; t++) if (pool[voxels[t]] !== 0) return false;
    return true;
  };
  const fattyMaxArea = Math.floor(FATTY_MARROW_MAX_MM2 / (spacing[ua] * spacing[va]));
  bone = fillHolesSlicewiseInPlace(bone, dims, axis, {
    maxArea: Math.floor(2500 / (spacing[ua] * spacing[va])),
    accept: (voxels) => {
      if (!noBlood(voxels)) return false;
      let sum = 0;
      for (let t = 0; t < voxels.length; t++) sum += data[voxels[t]];
      const mean = sum / voxels.length;
      // Red marrow of cancellous bone, or the yellow (fatty) marrow of a long bone's shaft.
      return mean >= MARROW_MEAN_HU || (mean <= FATTY_MARROW_MAX_HU && voxels.length <= fattyMaxArea);
    },
  });
  // A rib's marrow (0–80 HU) is neither: it is enclosed by the cortex where a plane cuts the rib
  // across, which for a rib curving round the trunk is a different plane from place to place. Any
  // hole that small is marrow (or a vessel's foramen); the spinal canal is larger.
  for (const across of [axis, ua, va] as const) {
    const [pa, pb] = planeAxes(across);
    bone = fillHolesSlicewiseInPlace(bone, dims, across, { maxArea: Math.floor(RIB_MARROW_MAX_MM2 / (spacing[pa] * spacing[pb])), accept: noBlood });
  }
  // Judged before the cartilage is grown: cartilage is not the bright bone the half maximum is of.
  const partialVolume = options.surface === false ? new Int32Array(0) : partialVolumeSurface(bone, data, dims, body, axis, METAL_HU);
  if (options.cartilage !== false) bone = addCostalCartilage(bone, data, grid, body, pool);
  for (let p = bone.indexOf(1); p >= 0; p = bone.indexOf(1, p + 1)) if (body[p] === 0 || data[p] >= METAL_HU) bone[p] = 0;
  return { mask: bone, partialVolume };
}

/**
 * The voxels within BLOOM_MM of metal (≥ METAL_HU) among the candidates, or undefined when there
 * is no metal (most CTs: one pass over the candidates, nothing built).
 */
function metalBloom(data: VoxelArray, grid: Grid, candidate: Uint8Array): Uint8Array | undefined {
  let metal: Uint8Array | undefined;
  for (let p = candidate.indexOf(1); p >= 0; p = candidate.indexOf(1, p + 1)) {
    if (data[p] < METAL_HU) continue;
    metal ??= new Uint8Array(data.length);
    metal[p] = 1;
  }
  return metal && dilate(metal, grid.dims, spacingOf(grid), BLOOM_MM);
}

/** Share of a component's surface voxels (a 6-neighbour outside `mask`) that touch `pool`. */
function poolContact(voxels: Int32Array, mask: Uint8Array, pool: Uint8Array, dims: Grid['dims']): number {
  const neighbours = sixNeighbours(dims);
  let surface = 0;
  let touching = 0;
  let outside = 0;
  let blood = 0;
  const look = (q: number): void => {
    if (mask[q] !== 0) return;
    outside = 1;
    blood |= pool[q];
  };
  for (let t = 0; t < voxels.length; t++) {
    outside = 0;
    blood = 0;
    neighbours(voxels[t], look);
    surface += outside;
    touching += blood !== 0 ? 1 : 0;
  }
  return surface > 0 ? touching / surface : 0;
}
