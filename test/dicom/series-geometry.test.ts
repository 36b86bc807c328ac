import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readDicomSeries } from '../../src/dicom/read-series.js';
import { isVoxgateError } from '../../src/errors.js';
import type { Vec3 } from '../../src/volume/affine.js';
import { affineRows, axisCodes, columnNorms } from '../../src/volume/affine.js';
import { voxelIndex } from '../../src/volume/volume.js';
import { AXIAL, addressValue, axialPositions, makeSeries, testUid } from '../helpers/dicom-series.js';
import { expectLayout } from './expect-layout.js';

const ROWS = 6;
const COLUMNS = 8;
const SPACING = [0.5, 0.75] as const;

function base(positions: readonly Vec3[], orientation: readonly number[] = AXIAL): Parameters<typeof expectLayout>[1] {
  return { rows: ROWS, columns: COLUMNS, pixelSpacing: SPACING, orientation, positions, order: positions.map((_, s) => s), value: addressValue };
}

test('an axial series in ascending order: voxel (i, j, k) is column i, row Rows−1−j of slice k, affine L-A-S with the position spacing', async () => {
  const positions = axialPositions(5);
  const { volume, series, skipped, warnings } = await readDicomSeries(makeSeries({ positions }));
  expectLayout(volume, base(positions));
  assert.equal(volume.dataType, 'int16');
  assert.deepEqual(axisCodes(volume.affine), ['L', 'A', 'S']);
  assert.deepEqual(columnNorms(volume.affine), [0.75, 0.5, 2.5]); // 2.5 from the positions, not SliceThickness 9
  assert.deepEqual(skipped, []);
  assert.deepEqual(warnings, []);
  assert.deepEqual(series.slices.map((s) => s.file), ['slice-000.dcm', 'slice-001.dcm', 'slice-002.dcm', 'slice-003.dcm', 'slice-004.dcm']);
  assert.equal(volume.source.format, 'dicom');
});

test('slices stored in descending order are sorted along the slice normal', async () => {
  const positions = axialPositions(4).reverse();
  const { volume, series } = await readDicomSeries(makeSeries({ positions }));
  expectLayout(volume, { ...base(positions), order: [3, 2, 1, 0] });
  assert.deepEqual(series.slices.map((s) => s.file), ['slice-003.dcm', 'slice-002.dcm', 'slice-001.dcm', 'slice-000.dcm']);
});

test('shuffled files give the same volume as ordered ones', async () => {
  const positions = axialPositions(6);
  const files = makeSeries({ positions });
  const shuffled = [files[3], files[0], files[5], files[1], files[4], files[2]];
  const ordered = await readDicomSeries(files);
  const mixed = await readDicomSeries(shuffled);
  assert.deepEqual(mixed.volume.affine, ordered.volume.affine);
  assert.deepEqual(mixed.volume.data, ordered.volume.data);
  assert.deepEqual(mixed.series.slices.map((s) => s.sopInstanceUID), ordered.series.slices.map((s) => s.sopInstanceUID));
});

test('an oblique series: the affine follows ImageOrientationPatient and the positions exactly', async () => {
  const a = (30 * Math.PI) / 180;
  const b = (20 * Math.PI) / 180;
  const row = [Math.cos(a), Math.sin(a), 0];
  const col = [-Math.sin(a) * Math.cos(b), Math.cos(a) * Math.cos(b), Math.sin(b)];
  const normal = [row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2], row[0] * col[1] - row[1] * col[0]];
  const orientation = [...row, ...col];
  const positions = [0, 1, 2, 3].map((s): Vec3 => [12 + 1.25 * s * normal[0], -7 + 1.25 * s * normal[1], 30 + 1.25 * s * normal[2]]);
  const { volume } = await readDicomSeries(makeSeries({ positions: [positions[2], positions[0], positions[3], positions[1]], orientation }));
  expectLayout(volume, { ...base([positions[2], positions[0], positions[3], positions[1]], orientation), order: [1, 3, 0, 2] });
  const norms = columnNorms(volume.affine);
  assert.ok(Math.abs(norms[2] - 1.25) < 1e-12);
});

test('a sagittal series stacks along the normal row × column, whatever the sign of the positions', async () => {
  const orientation = [0, 1, 0, 0, 0, -1]; // rows run anterior→posterior… columns downwards: n = (−1, 0, 0)
  const positions = [0, 1, 2].map((s): Vec3 => [40 - 3 * s, -5, 60]);
  const { volume } = await readDicomSeries(makeSeries({ positions, orientation }));
  // Ascending IPP·n = descending x (LPS), so file order is already k order.
  expectLayout(volume, base(positions, orientation));
  assert.deepEqual(axisCodes(volume.affine), ['P', 'S', 'R']);
});

test('a duplicate SOP instance is used once and reported as skipped', async () => {
  const files = makeSeries({ positions: axialPositions(3) });
  const copy = { name: 'copy-of-slice-001.dcm', bytes: files[1].bytes };
  const { volume, skipped } = await readDicomSeries([...files, copy]);
  assert.equal(volume.dims[2], 3);
  assert.deepEqual(skipped, [{ file: 'slice-001.dcm', reason: 'slice-001.dcm: duplicate of the SOP instance in copy-of-slice-001.dcm' }]);
});

test('a missing slice is refused with VXG_ERR_DICOM_SERIES_INCONSISTENT naming the gap', async () => {
  const positions = axialPositions(5).filter((_, s) => s !== 3);
  await assert.rejects(readDicomSeries(makeSeries({ positions })), (err) => {
    assert.ok(isVoxgateError(err, 'VXG_ERR_DICOM_SERIES_INCONSISTENT'));
    assert.match(err.message, /1 slice is missing \(the slices are 2\.5 mm apart, but 5 mm between slice-002\.dcm and slice-003\.dcm\)/);
    return true;
  });
});

test('a missing slice with resampleIrregular: a regular volume, the gap filled linearly, and a warning', async () => {
  const positions = axialPositions(5).filter((_, s) => s !== 3); // z = −20, −17.5, −15, (−12.5), −10
  const { volume, series, warnings } = await readDicomSeries(makeSeries({ positions }), { resampleIrregular: true });
  assert.deepEqual(volume.dims, [COLUMNS, ROWS, 5]);
  assert.deepEqual(affineRows(volume.affine)[2], [0, 0, 2.5, -20]);
  assert.equal(series.resampled, true);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /1 slice is missing.*Resampled linearly along the stack onto 5 slices 2\.5 mm apart/);
  for (let j = 0; j < ROWS; j++) {
    for (let i = 0; i < COLUMNS; i++) {
      const r = ROWS - 1 - j;
      const at = (k: number): number => volume.data[voxelIndex(volume.dims, i, j, k)];
      assert.equal(at(2), addressValue(i, r, 2));
      assert.equal(at(3), addressValue(i, r, 2) + 128); // halfway between source slices 2 and 3 (256 apart)
      assert.equal(at(4), addressValue(i, r, 3));
    }
  }
});

test('uneven gaps are refused, or resampled with a warning', async () => {
  const positions: Vec3[] = [0, 2.5, 5, 8, 10].map((z): Vec3 => [0, 0, z]);
  await assert.rejects(readDicomSeries(makeSeries({ positions })), (err) => {
    assert.ok(isVoxgateError(err, 'VXG_ERR_DICOM_SERIES_INCONSISTENT'));
    assert.match(err.message, /slice gaps are uneven \(median 2\.5 mm, but 3 mm between slice-002\.dcm and slice-003\.dcm; 2 mm between slice-003\.dcm and slice-004\.dcm\)/);
    return true;
  });
  const { volume, warnings } = await readDicomSeries(makeSeries({ positions }), { resampleIrregular: true });
  assert.deepEqual(volume.dims, [COLUMNS, ROWS, 5]);
  assert.match(warnings[0], /uneven/);
  // z = 7.5 lies 2.5/3 of the way from slice 2 (z 5) to slice 3 (z 8): + 256 · 5/6 = 213.33 → 213.
  assert.equal(volume.data[voxelIndex(volume.dims, 1, ROWS - 1, 3)], addressValue(1, 0, 2) + 213);
});

test('gantry tilt is refused, or sheared back onto an orthogonal grid with a warning', async () => {
  // Each slice 2.5 mm up and 0.5 mm (one row) further posterior: a tilt of atan(0.5/2.5) ≈ 11.3°.
  const positions = [0, 1, 2].map((s): Vec3 => [0, 0.5 * s, 2.5 * s]);
  await assert.rejects(readDicomSeries(makeSeries({ positions })), (err) => {
    assert.ok(isVoxgateError(err, 'VXG_ERR_DICOM_SERIES_INCONSISTENT'));
    assert.match(err.message, /slice-002\.dcm is 1 mm off the line through slice-000\.dcm \(gantry tilt of about 11\.31°\)/);
    return true;
  });
  const { volume, warnings } = await readDicomSeries(makeSeries({ positions }), { resampleIrregular: true });
  assert.match(warnings[0], /gantry tilt.*in-plane \(bilinear\) onto 3 slices 2\.5 mm apart on a grid orthogonal to the slices/);
  assert.deepEqual(affineRows(volume.affine), [[-0.75, 0, 0, 0], [0, 0.5, 0, -2.5], [0, 0, 2.5, 0], [0, 0, 0, 1]]);
  for (let k = 0; k < 3; k++) {
    for (let j = 0; j < ROWS; j++) {
      // Output row r of slice k lies where row r − k of the source slice k is.
      const r = ROWS - 1 - j;
      const want = r - k >= 0 ? addressValue(2, r - k, k) : 0; // uncovered: the stack's minimum
      assert.equal(volume.data[voxelIndex(volume.dims, 2, j, k)], want, `row ${r} of slice ${k}`);
    }
  }
});

test('two slices at one position (echoes, phases) are refused', async () => {
  const positions: Vec3[] = [[0, 0, 0], [0, 0, 2], [0, 0, 2], [0, 0, 4]];
  await assert.rejects(readDicomSeries(makeSeries({ positions })), (err) => {
    assert.ok(isVoxgateError(err, 'VXG_ERR_DICOM_SERIES_INCONSISTENT'));
    assert.match(err.message, /slice-001\.dcm and slice-002\.dcm lie at the same position along the slice normal \(2 mm\)/);
    return true;
  });
});

test('a series mixing orientations is refused unless one stack is named', async () => {
  const uid = testUid();
  const coronal = [1, 0, 0, 0, 0, -1];
  const files = makeSeries({
    seriesInstanceUID: uid,
    positions: [...axialPositions(3), [0, 5, 0], [0, 8, 0]],
    orientations: [undefined, undefined, undefined, coronal, coronal],
  });
  await assert.rejects(readDicomSeries(files), (err) => {
    assert.ok(isVoxgateError(err, 'VXG_ERR_DICOM_SERIES_INCONSISTENT'));
    assert.match(err.message, new RegExp(`Series ${uid} mixes 2 orientations or image sizes.*${uid}#1 \\(3 frames, 8×6, orientation 1\\\\0\\\\0\\\\0\\\\1\\\\0\\); ${uid}#2 \\(2 frames`));
    return true;
  });
  const { volume, series } = await readDicomSeries(files, { series: `${uid}#2` });
  assert.equal(volume.dims[2], 2);
  assert.deepEqual(series.imageOrientationPatient, coronal);
});

test('a single slice takes its k spacing from SliceThickness, with a warning', async () => {
  const { volume, warnings } = await readDicomSeries(makeSeries({ positions: [[1, 2, 3]] }));
  assert.deepEqual(volume.dims, [COLUMNS, ROWS, 1]);
  assert.deepEqual(columnNorms(volume.affine), [0.75, 0.5, 9]);
  assert.match(warnings[0], /single slice.*SliceThickness/);
});

test('a hole wider than four slice gaps is not resampled even when allowed', async () => {
  const positions: Vec3[] = [0, 2, 4, 14, 16].map((z): Vec3 => [0, 0, z]); // 4 slices missing
  await assert.rejects(readDicomSeries(makeSeries({ positions }), { resampleIrregular: true }), (err) => {
    assert.ok(isVoxgateError(err, 'VXG_ERR_DICOM_SERIES_INCONSISTENT'));
    assert.match(err.message, /4 slices are missing.*Not resampled: a gap of 10 mm is more than 4 times the 2 mm spacing\.$/);
    return true;
  });
});
