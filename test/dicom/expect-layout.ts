/**
 * Checks a volume read from a synthetic series (test/helpers/dicom-series.ts) against the
 * documented convention: voxel (i, j, k) is column i, row Rows − 1 − j of the k-th slice along the
 * slice normal, and the affine puts it where DICOM says that pixel is.
 * @module
 */
import assert from 'node:assert/strict';
import type { Vec3 } from '../../src/volume/affine.js';
import { apply, flipXY } from '../../src/volume/affine.js';
import type { Volume } from '../../src/volume/volume.js';
import { voxelIndex } from '../../src/volume/volume.js';

export interface LayoutExpectation {
  readonly rows: number;
  readonly columns: number;
  /** [between rows, between columns]. */
  readonly pixelSpacing: readonly [number, number];
  readonly orientation: readonly number[];
  /** Source slice positions (file order) and, for each k, the index of the source slice. */
  readonly positions: readonly Vec3[];
  readonly order: readonly number[];
  /** Expected voxel value of pixel (column, row) of source slice s. */
  readonly value: (column: number, row: number, slice: number) => number;
}

export function expectLayout(volume: Volume, e: LayoutExpectation): void {
  assert.deepEqual(volume.dims, [e.columns, e.rows, e.order.length]);
  const lps = flipXY(volume.affine);
  const row = e.orientation.slice(0, 3);
  const col = e.orientation.slice(3, 6);
  for (let k = 0; k < e.order.length; k++) {
    const s = e.order[k];
    const ipp = e.positions[s];
    for (let j = 0; j < e.rows; j++) {
      const r = e.rows - 1 - j;
      for (let i = 0; i < e.columns; i++) {
        const got: number = volume.data[voxelIndex(volume.dims, i, j, k)];
        const want: number = e.value(i, r, s);
        if (got !== want) assert.fail(`voxel (${i}, ${j}, ${k}) holds ${got}, expected ${want} (column ${i}, row ${r} of slice ${s})`);
        const world = apply(lps, [i, j, k]);
        for (let a = 0; a < 3; a++) {
          const expected = ipp[a] + i * e.pixelSpacing[1] * row[a] + r * e.pixelSpacing[0] * col[a];
          if (Math.abs(world[a] - expected) > 1e-6) {
            assert.fail(`voxel (${i}, ${j}, ${k}) maps to LPS ${world.join(', ')}, DICOM puts it at ${expected} on axis ${a}`);
          }
        }
      }
    }
  }
}
