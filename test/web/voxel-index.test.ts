/**
 * The page's world-mm → file-voxel mapping (src/web/voxel-index.ts) against the server's own affine
 * code (src/volume/affine.ts) and its reorientation to RAS, which is what NiiVue shows.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { fileVoxelIndex, flatAffine, voxelToWorld, voxelVolumeMm3, worldToVoxel } from '../../src/web/voxel-index.js';
import type { Affine } from '../../src/volume/affine.js';
import { apply, determinant3, invert, multiply } from '../../src/volume/affine.js';
import { reorient } from '../../src/volume/reorient.js';
import { readVolume } from '../../src/volume/volume-file.js';
import { createVolume, voxelIndex } from '../../src/volume/volume.js';

const CT = fileURLToPath(new URL('../../../shared/data/ct_nifti/totalseg_patientB_cta_crop/ct_cropped.nii.gz', import.meta.url));

function rotation(axis: 0 | 1 | 2, degrees: number): Affine {
  const c = Math.cos((degrees * Math.PI) / 180);
  const s = Math.sin((degrees * Math.PI) / 180);
  const [a, b] = axis === 0 ? [1, 2] : axis === 1 ? [0, 2] : [0, 1];
  const m = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  m[a * 4 + a] = c;
  m[a * 4 + b] = -s;
  m[b * 4 + a] = s;
  m[b * 4 + b] = c;
  return m;
}

/** Affines as files store them: NIfTI RAS, DICOM-like LPS, sagittal-stored (permuted axes), oblique, NRRD LPS flipped back. */
const AFFINES: Record<string, Affine> = {
  'RAS, 1 mm': [1, 0, 0, -90, 0, 1, 0, -126, 0, 0, 1, -72, 0, 0, 0, 1],
  'LPS CT, 0.7 × 0.7 × 2.5 mm': [-0.7, 0, 0, 179.6, 0, -0.7, 0, 201.3, 0, 0, 2.5, -310, 0, 0, 0, 1],
  'sagittal stored (i → A, j → S, k → L)': [0, 0, -1.2, 60, 0.9, 0, 0, -110, 0, 0.9, 0, -40, 0, 0, 0, 1],
  'oblique (20° about z, then 10° about x)': multiply(multiply(rotation(0, 10), rotation(2, 20)), [-0.8, 0, 0, 120, 0, -0.8, 0, 95, 0, 0, 3, -200, 0, 0, 0, 1]),
};
const DIMS = [64, 48, 36] as const;

describe('worldToVoxel and fileVoxelIndex', () => {
  for (const [name, affine] of Object.entries(AFFINES)) {
    test(`inverts the file affine exactly as the Volume code does: ${name}`, () => {
      const inverse = invert(affine);
      for (const voxel of [[0, 0, 0], [63, 47, 35], [10, 20, 30], [31.4, 7.6, 12.5]] as const) {
        const mm = apply(affine, voxel);
        assert.deepEqual(voxelToWorld(affine, voxel), mm);
        const back = worldToVoxel(affine, mm);
        const expected = apply(inverse, mm);
        for (let a = 0; a < 3; a++) {
          assert.ok(Math.abs(back[a] - expected[a]) < 1e-9, `axis ${a}: ${back[a]} vs ${expected[a]}`);
          assert.ok(Math.abs(back[a] - voxel[a]) < 1e-9);
        }
      }
    });

    test(`maps a click anywhere inside a voxel to that voxel, and outside the image to null: ${name}`, () => {
      const [i, j, k] = [12, 33, 7];
      for (const offset of [[0, 0, 0], [0.49, -0.49, 0.3], [-0.3, 0.2, -0.49]] as const) {
        const mm = apply(affine, [i + offset[0], j + offset[1], k + offset[2]]);
        assert.deepEqual(fileVoxelIndex(affine, mm, DIMS), [i, j, k]);
      }
      assert.equal(fileVoxelIndex(affine, apply(affine, [-0.6, 0, 0]), DIMS), null);
      assert.equal(fileVoxelIndex(affine, apply(affine, [0, 47.6, 0]), DIMS), null);
      assert.deepEqual(fileVoxelIndex(affine, apply(affine, [63.4, 47.4, 35.4]), DIMS), [63, 47, 35]);
    });
  }

  test('a click on the RAS-reoriented display (what NiiVue shows) lands on the voxel the file stores there', () => {
    for (const [name, affine] of Object.entries(AFFINES)) {
      const data = new Int16Array(DIMS[0] * DIMS[1] * DIMS[2]).map((_, n) => n % 32749);
      const volume = createVolume(DIMS, data, affine);
      const { volume: ras } = reorient(volume);
      for (const shown of [[0, 0, 0], [5, 17, 29], [ras.dims[0] - 1, ras.dims[1] - 1, ras.dims[2] - 1]] as const) {
        // The display knows its own grid and affine; the world position is what both share.
        const mm = apply(ras.affine, shown);
        const voxel = fileVoxelIndex(affine, mm, DIMS);
        assert.ok(voxel, name);
        assert.equal(data[voxelIndex(DIMS, voxel[0], voxel[1], voxel[2])], ras.data[voxelIndex(ras.dims, shown[0], shown[1], shown[2])], `${name}: shown ${shown.join(',')} → file ${voxel.join(',')}`);
      }
    }
  });

  test('rounds float noise away at voxel centres and takes four rows or sixteen numbers', () => {
    // The real CT's sform: float32 values, as a NIfTI stores them.
    const z0 = Math.fround(540.2);
    const rows = [[-1.5, 0, 0, 71.658203125], [0, -1.5, 0, 255.658203125], [0, 0, 1.5, z0], [0, 0, 0, 1]];
    assert.deepEqual(flatAffine(rows), rows.flat());
    assert.deepEqual(fileVoxelIndex(rows, [56.658203125, 225.658203125, z0 + 45], [120, 126, 164]), [10, 20, 30]);
    assert.throws(() => flatAffine([1, 2, 3]), RangeError);
    assert.throws(() => worldToVoxel([1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], [0, 0, 0]), /singular/);
  });

  test('voxelVolumeMm3 is |det| of the linear part', () => {
    for (const affine of Object.values(AFFINES)) assert.ok(Math.abs(voxelVolumeMm3(affine) - Math.abs(determinant3(affine))) < 1e-12);
  });

  test('the real CT: each voxel maps back to itself through the affine the server reads', { skip: existsSync(CT) ? false : `${CT} is absent` }, async () => {
    const ct = await readVolume(new Uint8Array(await readFile(CT)));
    assert.deepEqual(ct.dims, [120, 126, 164]);
    for (const voxel of [[0, 0, 0], [119, 125, 163], [57, 53, 82], [1, 100, 33]] as const) {
      assert.deepEqual(fileVoxelIndex(ct.affine, apply(ct.affine, voxel), ct.dims), [...voxel]);
    }
    assert.equal(voxelVolumeMm3(ct.affine), 3.375);
  });
});
