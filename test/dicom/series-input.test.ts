import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { convertCommand } from '../../src/commands/convert.js';
import { listDicomSeries, readDicomFolder, readDicomSeries } from '../../src/dicom/read-series.js';
import { isVoxgateError } from '../../src/errors.js';
import { readNifti } from '../../src/volume/nifti.js';
import { readNrrd } from '../../src/volume/nrrd.js';
import { AXIAL, addressValue, axialPositions, makeSeries, testUid, writePart10 } from '../helpers/dicom-series.js';
import { expectLayout } from './expect-layout.js';

const positions = axialPositions(4);
const layout = { rows: 6, columns: 8, pixelSpacing: [0.5, 0.75] as const, orientation: AXIAL, positions, order: [0, 1, 2, 3], value: addressValue };

/** Files a real export folder holds besides images: text, a report, a SEG, a truncated slice, an image without pixels. */
function clutter(): { name: string; bytes: Uint8Array }[] {
  const common = { StudyInstanceUID: testUid(), SeriesInstanceUID: testUid(), Modality: 'SR' };
  const sr = writePart10({ ...common, SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.22', SOPInstanceUID: testUid() }, undefined, 'explicit-le');
  const seg = writePart10(
    { ...common, Modality: 'SEG', SOPClassUID: '1.2.840.10008.5.1.4.1.1.66.4', SOPInstanceUID: testUid(), Rows: 6, Columns: 8, BitsAllocated: 1, BitsStored: 1, HighBit: 0, SamplesPerPixel: 1, NumberOfFrames: 1 },
    new Uint8Array(6),
    'explicit-le',
  );
  const noPixels = writePart10(
    { ...common, Modality: 'CT', SOPClassUID: '1.2.840.10008.5.1.4.1.1.2', SOPInstanceUID: testUid(), Rows: 6, Columns: 8, BitsAllocated: 16, ImagePositionPatient: [0, 0, 0], ImageOrientationPatient: [...AXIAL], PixelSpacing: [1, 1] },
    undefined,
    'explicit-le',
  );
  const [whole] = makeSeries({ positions: [[0, 0, 100]] });
  return [
    { name: 'README.txt', bytes: new TextEncoder().encode('Exported by a PACS. Not DICOM.\n'.repeat(10)) },
    { name: 'report.dcm', bytes: sr },
    { name: 'seg.dcm', bytes: seg },
    { name: 'no-pixels.dcm', bytes: noPixels },
    { name: 'truncated.dcm', bytes: whole.bytes.subarray(0, whole.bytes.length - 10) },
  ];
}

test('files that are not images are skipped, each with a reason naming it; the series is read', async () => {
  const { volume, skipped } = await readDicomSeries([...makeSeries({ positions }), ...clutter()]);
  expectLayout(volume, layout);
  assert.deepEqual(skipped.map((s) => s.file), ['README.txt', 'no-pixels.dcm', 'report.dcm', 'seg.dcm', 'truncated.dcm']);
  const reasons = Object.fromEntries(skipped.map((s) => [s.file, s.reason]));
  assert.equal(reasons['README.txt'], 'README.txt: not a DICOM file (no "DICM" marker at byte 128).');
  assert.equal(reasons['no-pixels.dcm'], 'no-pixels.dcm: no pixel data');
  assert.equal(reasons['report.dcm'], 'report.dcm: not an image: SOP class 1.2.840.10008.5.1.4.1.1.88.22 is Structured Report (SR)');
  assert.equal(reasons['seg.dcm'], 'seg.dcm: not an image: SOP class 1.2.840.10008.5.1.4.1.1.66.4 is Segmentation (SEG)');
  assert.match(reasons['truncated.dcm'], /^truncated\.dcm: truncated DICOM file: the file ends inside the value of \(7FE0,0010\)/);
});

test('a folder without images is VXG_ERR_DICOM_NO_IMAGES, counting what was skipped', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'vxg-dicom-none-'));
  try {
    for (const f of clutter()) await writeFile(path.join(dir, f.name), f.bytes);
    await assert.rejects(readDicomFolder(dir), (err) => {
      assert.ok(isVoxgateError(err, 'VXG_ERR_DICOM_NO_IMAGES'));
      assert.match(err.message, /^No DICOM image series in .*: all 5 files were skipped \(README\.txt: not a DICOM file/);
      return true;
    });
    await rm(path.join(dir, 'README.txt'));
    await assert.rejects(readDicomSeries([]), { code: 'VXG_ERR_DICOM_NO_IMAGES', message: 'No files in the 0 files given.' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a folder is read recursively; the largest series is chosen unless one is named', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'vxg-dicom-folder-'));
  try {
    const bigUid = testUid();
    const smallUid = testUid();
    await mkdir(path.join(dir, 'study', 'big'), { recursive: true });
    await mkdir(path.join(dir, 'study', 'small'), { recursive: true });
    for (const f of makeSeries({ positions, seriesInstanceUID: bigUid })) await writeFile(path.join(dir, 'study', 'big', f.name), f.bytes);
    for (const f of makeSeries({ positions: axialPositions(2), seriesInstanceUID: smallUid, modality: 'MR', sopClassUID: '1.2.840.10008.5.1.4.1.1.4' })) {
      await writeFile(path.join(dir, 'study', 'small', f.name), f.bytes);
    }
    await writeFile(path.join(dir, 'DICOMDIR.txt'), 'index');

    const listed = await listDicomSeries(dir);
    assert.deepEqual(listed.series.map((s) => [s.id, s.modality, s.frames, s.files, s.rows, s.columns]), [[bigUid, 'CT', 4, 4, 6, 8], [smallUid, 'MR', 2, 2, 6, 8]]);
    assert.deepEqual(listed.skipped.map((s) => s.file), ['DICOMDIR.txt']);

    const big = await readDicomFolder(dir);
    expectLayout(big.volume, layout);
    assert.equal(big.series.seriesInstanceUID, bigUid);
    assert.deepEqual(big.series.slices.map((s) => s.file), ['study/big/slice-000.dcm', 'study/big/slice-001.dcm', 'study/big/slice-002.dcm', 'study/big/slice-003.dcm']);
    assert.equal(big.series.patientStudy.PatientID, 'VXG-TEST');
    assert.equal(big.series.slices[0].dataset().SOPInstanceUID, big.series.slices[0].sopInstanceUID);

    const small = await readDicomFolder(dir, { series: smallUid });
    assert.equal(small.volume.dims[2], 2);
    assert.equal(small.series.modality, 'MR');

    await assert.rejects(readDicomFolder(dir, { series: '1.2.3.404' }), (err) => {
      assert.ok(isVoxgateError(err, 'VXG_ERR_DICOM_SERIES_NOT_FOUND'));
      assert.match(err.message, new RegExp(`^Series 1\\.2\\.3\\.404 is not among the files read; they hold: ${bigUid} \\(4 frames, 8×6`));
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('voxgate convert DICOM_DIR writes .nii.gz and .nrrd with the series geometry, printing no patient data', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'vxg-dicom-convert-'));
  try {
    const input = path.join(dir, 'in');
    await mkdir(input);
    for (const f of [...makeSeries({ positions }), ...clutter()]) await writeFile(path.join(input, f.name), f.bytes);
    const expected = (await readDicomFolder(input)).volume;
    for (const [name, read] of [['out.nii.gz', readNifti], ['out.nrrd', readNrrd]] as const) {
      const out = path.join(dir, name);
      const printed = await convertCommand(input, out);
      assert.match(printed, /^DICOM series [\d.]+: CT, 4 slices of 8×6, series number 3\n/);
      assert.match(printed, /: 8×6×4 int16, spacing 0\.75×0\.5×2\.5 mm\nskipped 5 files/);
      assert.doesNotMatch(printed, /Synthetic|Phantom|VXG-TEST/);
      const written = await read(createReadStream(out));
      assert.deepEqual(written.dims, expected.dims);
      assert.deepEqual(written.data, expected.data);
      for (let n = 0; n < 16; n++) assert.ok(Math.abs(written.affine[n] - expected.affine[n]) < 1e-5, `${name} affine[${n}]`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the path of a single file reads that file (an Enhanced image holds a whole volume)', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'vxg-dicom-file-'));
  try {
    const [file] = makeSeries({ positions: [[0, 0, 0]] });
    await writeFile(path.join(dir, 'one.dcm'), file.bytes);
    const { volume, series } = await readDicomFolder(path.join(dir, 'one.dcm'));
    assert.deepEqual(volume.dims, [8, 6, 1]);
    assert.equal(series.slices[0].file, 'one.dcm');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a series over the decoded-size limit is VXG_ERR_VOLUME_TOO_LARGE before anything is allocated', async () => {
  await assert.rejects(readDicomSeries(makeSeries({ positions }), { maxDecodedBytes: 8 * 6 * 4 * 4 - 1 }), {
    code: 'VXG_ERR_VOLUME_TOO_LARGE',
    message: /would decode to 8×6×4 voxels .* over the 0\.00 GB limit\.$/,
  });
});
