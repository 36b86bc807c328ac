/**
 * Contrast-filled vessels against bone: on a CT angiogram the aortic lumen (≈ 380 HU) is as bright
 * as cancellous bone and touches the spine, so a threshold takes it for skeleton. A phantom with a
 * known answer: a body of soft tissue, a vertebra (cortical shell 900 HU around 250 ± noise marrow),
 * an aorta (380 ± 26 HU, 25 mm wide, 59 mL) touching it, and a 4 mm branch leaving the aorta.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contrastBloodPool, coresOutside, findBloodPool } from '../../src/engines/classic/blood-pool.js';
import { bodyMask } from '../../src/engines/classic/body-mask.js';
import { segmentClassic } from '../../src/engines/classic/classic-engine.js';
import { createVolume } from '../../src/volume/volume.js';
import { noise } from '../../bench/fixtures/synthetic-ct.js';
import { labelMask } from '../helpers/phantoms.js';

const DIMS = [96, 96, 120] as const;
const SPACING = 1; // mm, isotropic
type Part = 'outside' | 'tissue' | 'cortex' | 'marrow' | 'aorta' | 'branch';

/** Which structure voxel (i, j, k) belongs to (axial slices across k; superior is +k). */
function partAt(i: number, j: number, k: number): Part {
  const body = ((i - 48) / 44) ** 2 + ((j - 48) / 40) ** 2 <= 1;
  if (!body) return 'outside';
  // The vertebra: a column of radius 12 mm, cortex 2 mm thick, centred at (48, 70).
  const rv = Math.hypot(i - 48, j - 70);
  if (rv <= 12) return rv > 10 ? 'cortex' : 'marrow';
  // The aorta: radius 12.5 mm, centred at (48, 45): it touches the vertebra's cortex at j = 57–58.
  if (Math.hypot(i - 48, j - 45) <= 12.5) return 'aorta';
  // A branch leaving the aorta to the left at mid height: radius 4 mm along i.
  if (i < 37 && i > 10 && Math.hypot(j - 45, k - 60) <= 4) return 'branch';
  return 'tissue';
}

function phantom(contrast: boolean) {
  const rand = noise(2024);
  const data = new Int16Array(DIMS[0] * DIMS[1] * DIMS[2]);
  const parts: Part[] = [];
  let p = 0;
  for (let k = 0; k < DIMS[2]; k++) {
    for (let j = 0; j < DIMS[1]; j++) {
      for (let i = 0; i < DIMS[0]; i++, p++) {
        const part = partAt(i, j, k);
        parts.push(part);
        const r = rand();
        const tri = (r & 63) + ((r >>> 6) & 63) - 63; // triangular noise, σ ≈ 26 HU
        const base = { outside: -1000, tissue: 40, cortex: 900, marrow: 250, aorta: contrast ? 380 : 40, branch: contrast ? 380 : 40 }[part];
        // Marrow is heterogeneous (trabeculae): wider noise than blood's.
        data[p] = base + (part === 'marrow' ? 3 * tri : tri);
      }
    }
  }
  const volume = createVolume(DIMS, data, [SPACING, 0, 0, -48, 0, SPACING, 0, -48, 0, 0, SPACING, -60, 0, 0, 0, 1]);
  return { volume, parts };
}

function count(mask: ArrayLike<number>, parts: Part[], part: Part, value = 1): [number, number] {
  let inPart = 0;
  let hit = 0;
  for (let p = 0; p < parts.length; p++) {
    if (parts[p] !== part) continue;
    inPart++;
    if (mask[p] === value) hit++;
  }
  return [hit, inPart];
}

describe('contrast-filled blood is not bone', () => {
  test('the pool covers the aorta and its branch, none of the vertebra; bone keeps the vertebra without them', () => {
    const { volume, parts } = phantom(true);
    const grid = { dims: volume.dims, affine: volume.affine };
    const pool = contrastBloodPool(volume.data, grid, bodyMask(volume.data, grid));
    const [aortaInPool, aorta] = count(pool, parts, 'aorta');
    const [branchInPool, branch] = count(pool, parts, 'branch');
    assert.ok(aortaInPool / aorta >= 0.97, `aorta in the pool: ${aortaInPool}/${aorta}`);
    assert.ok(branchInPool / branch >= 0.9, `branch in the pool: ${branchInPool}/${branch}`);
    assert.deepEqual(count(pool, parts, 'cortex')[0], 0);
    assert.deepEqual(count(pool, parts, 'marrow')[0], 0);

    const labels = segmentClassic(volume, { classes: [21] }).data;
    const [aortaAsBone] = count(labels, parts, 'aorta', 21);
    const [branchAsBone] = count(labels, parts, 'branch', 21);
    const [cortexAsBone, cortex] = count(labels, parts, 'cortex', 21);
    const [marrowAsBone, marrow] = count(labels, parts, 'marrow', 21);
    assert.ok(aortaAsBone / aorta <= 0.02, `aorta taken for bone: ${aortaAsBone}/${aorta}`);
    assert.equal(branchAsBone, 0);
    assert.ok(cortexAsBone / cortex >= 0.98, `cortex: ${cortexAsBone}/${cortex}`);
    assert.ok(marrowAsBone / marrow >= 0.95, `marrow: ${marrowAsBone}/${marrow}`);
  });

  test('without contrast there is no pool, and bone is the same vertebra', () => {
    const { volume, parts } = phantom(false);
    const grid = { dims: volume.dims, affine: volume.affine };
    const pool = contrastBloodPool(volume.data, grid, bodyMask(volume.data, grid));
    assert.equal(pool.reduce((n, v) => n + v, 0), 0);
    const labels = segmentClassic(volume, { classes: [21] }).data;
    const [cortexAsBone, cortex] = count(labels, parts, 'cortex', 21);
    assert.ok(cortexAsBone / cortex >= 0.98);
    assert.equal(count(labels, parts, 'aorta', 21)[0], 0);
    // Cores are no proof of contrast: this marrow (250 HU, σ 78) is homogeneous at 3 mm too — but
    // inside bone.
    const blood = findBloodPool(volume.data, grid, bodyMask(volume.data, grid));
    assert.ok(blood.cores.length > 0);
    assert.equal(coresOutside(blood, labelMask(labels, 21), grid), false);
  });

  test('a vessel too short for a pool has no pool, but its cores are found', () => {
    // The first 12 of the 120 slices: 12 mm of the aorta, 5.9 mL — under the pool's 20 mL.
    const { volume } = phantom(true);
    const slices = 12;
    const dims = [DIMS[0], DIMS[1], slices] as const;
    const short = createVolume(dims, volume.data.slice(0, DIMS[0] * DIMS[1] * slices), volume.affine);
    const grid = { dims: short.dims, affine: short.affine };
    const blood = findBloodPool(short.data, grid, bodyMask(short.data, grid));
    assert.equal(blood.contrast, false);
    assert.equal(blood.mask.reduce((n, v) => n + v, 0), 0);
    // Its cores lie outside a mask that leaves the aorta out, inside one that holds it (at 380 HU
    // and touching the spine, with no pool to keep it out, bone takes it whole: a known limit).
    const parts = phantom(true).parts.slice(0, DIMS[0] * DIMS[1] * slices);
    const vertebra = Uint8Array.from(parts, (part) => (part === 'cortex' || part === 'marrow' ? 1 : 0));
    assert.equal(coresOutside(blood, vertebra, grid), true);
    const withAorta = Uint8Array.from(parts, (part) => (part === 'cortex' || part === 'marrow' || part === 'aorta' ? 1 : 0));
    assert.equal(coresOutside(blood, withAorta, grid), false);
    // The full phantom: a pool, and cores.
    const full = phantom(true).volume;
    const fullGrid = { dims: full.dims, affine: full.affine };
    const pooled = findBloodPool(full.data, fullGrid, bodyMask(full.data, fullGrid));
    assert.equal(pooled.contrast, true);
    assert.ok(pooled.cores.length > 0);
  });
});
