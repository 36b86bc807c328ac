/**
 * Lungs as one label (VISTA3D group 20): air-like voxels (< −400 HU) inside the body, without the
 * trachea and main bronchi, kept when they form large components whose mean is parenchyma rather
 * than gas (bowel and stomach gas sit at −1000; lung parenchyma, with its small airways, higher),
 * then vessels put back in: holes of up to 10 cm² in each axial slice are filled (vessels and
 * nodules are enclosed by lung in-plane; the mediastinum between touching lungs is larger) and a
 * 2 mm closing smooths the surface and takes vessels at the border.
 * @module
 */
import type { VoxelArray } from '../../volume/datatype.js';
import { componentMask, listComponents } from './components.js';
import { fillHolesSlicewiseInPlace } from './fill-holes.js';
import type { Grid } from './grid.js';
import { spacingOf, superiorAxis, voxelVolume } from './grid.js';
import { closeInPlace, dilate } from './morphology.js';
import { planeAxes } from './slices.js';

const LUNG_AIR_HU = -400;
/** A component whose mean is below this is gas (bowel, stomach), not lung parenchyma. */
const GAS_MEAN_HU = -960;

/** `airway`: the trachea and bronchi, left out of the lungs (undefined: none was found). */
export function segmentLungs(data: VoxelArray, grid: Grid, body: Uint8Array, airway: Uint8Array | undefined): Uint8Array {
  const { dims } = grid;
  const spacing = spacingOf(grid);
  const airwayWide = airway ? dilate(airway, dims, spacing, Math.max(...spacing) * 1.01) : undefined;
  // Only the candidates are written: the pages of a mask stay unallocated where it holds nothing.
  const candidate = new Uint8Array(data.length);
  for (let p = 0; p < data.length; p++) if (data[p] < LUNG_AIR_HU && body[p] !== 0 && (!airwayWide || airwayWide[p] === 0)) candidate[p] = 1;
  const comps = listComponents(candidate, dims, 6, (voxels) => {
    let sum = 0;
    for (let t = 0; t < voxels.length; t++) sum += data[voxels[t]];
    return sum / voxels.length;
  });
  const minVoxels = 20_000 / voxelVolume(grid); // 20 mL
  const lungLike = comps.list.filter((c) => c.stats >= GAS_MEAN_HU && c.size >= minVoxels);
  if (lungLike.length === 0) return new Uint8Array(data.length);
  const largest = lungLike[0].size;
  // The candidates are not needed once listed: their mask takes the lungs.
  let lung = componentMask(comps, lungLike.filter((c) => c.size >= 0.1 * largest), data.length, candidate);

  const { axis } = superiorAxis(grid);
  const [ua, va] = planeAxes(axis);
  lung = fillHolesSlicewiseInPlace(lung, dims, axis, { maxArea: Math.floor(1000 / (spacing[ua] * spacing[va])) });
  lung = closeInPlace(lung, dims, spacing, 2);
  for (let p = lung.indexOf(1); p >= 0; p = lung.indexOf(1, p + 1)) if ((airway && airway[p] !== 0) || body[p] === 0) lung[p] = 0;
  return lung;
}
