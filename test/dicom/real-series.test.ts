/**
 * Real series from ../shared/data (see its SOURCES.md): geometry against the reference NIfTI and
 * the dcmqi NRRD label maps, voxels against dcm2niix (Debian's package, an independent reader),
 * decoded stored values against the SHA-256 SOURCES.md lists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { initCodecs } from '../../src/dicom/codecs.js';
import { decodeFrame, pixelFormatOf } from '../../src/dicom/pixel-data.js';
import { readPart10 } from '../../src/dicom/read-part10.js';
import type { DicomSeriesResult } from '../../src/dicom/read-series.js';
import { readDicomFolder } from '../../src/dicom/read-series.js';
import type { Affine } from '../../src/volume/affine.js';
import { affineRows, apply, invert, maxAbsDifference, multiply } from '../../src/volume/affine.js';
import { readNifti } from '../../src/volume/nifti.js';
import { readNrrd } from '../../src/volume/nrrd.js';
import type { Volume } from '../../src/volume/volume.js';
import { voxelIndex } from '../../src/volume/volume.js';
import { ensureSystemPackages } from '../helpers/system-packages.js';

const DATA = fileURLToPath(new URL('../../../shared/data/dicom_ct_series/', import.meta.url));
const PATIENT_C = path.join(DATA, 'totalseg_patientC_petct_20slices');
const CT_3SLICE = path.join(DATA, 'dcmqi_ct_3slice_with_seg');

function dataSkip(dir: string): string | false {
  if (existsSync(dir)) return false;
  const reason = `shared data absent: ${path.relative(process.cwd(), dir)} (see ../shared/data/SOURCES.md)`;
  process.stderr.write(`\n*** SKIPPING ${reason} ***\n\n`);
  return reason;
}

const run = promisify(execFile);
// `dcm2niix -h` prints its version and exits 0 (`--version` exits 3).
const dcm2niix = await ensureSystemPackages(['dcm2niix'], async () => (await run('dcm2niix', ['-h'])).stdout.includes('dcm2niiX'));

/** dcm2niix's NIfTI of a folder (`-z n -b n`, one series expected). */
async function convertWithDcm2niix(folder: string): Promise<Volume> {
  const out = await mkdtemp(path.join(tmpdir(), 'vxg-dcm2niix-'));
  try {
    await run('dcm2niix', ['-z', 'n', '-b', 'n', '-f', 'out', '-o', out, folder]);
    const written = (await readdir(out)).filter((f) => f.endsWith('.nii'));
    assert.deepEqual(written, ['out.nii'], `dcm2niix wrote ${written.join(', ')}`);
    return await readNifti(createReadStream(path.join(out, 'out.nii')));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/**
 * Every voxel of `ours` equals the voxel of `reference` at the same world position: the grids must
 * coincide up to axis flips and permutations (an index map of ±1 entries and integer offsets).
 */
function assertSameVoxelsByWorld(ours: Volume, reference: Volume): void {
  const map: Affine = multiply(invert(reference.affine), ours.affine);
  const rounded = map.map((v) => Math.round(v));
  assert.ok(maxAbsDifference(map, rounded) < 1e-3, `grids do not coincide: index map ${JSON.stringify(affineRows(map))}`);
  const [nx, ny, nz] = ours.dims;
  let mismatches = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const [ri, rj, rk] = apply(rounded, [i, j, k]);
        const want = reference.data[voxelIndex(reference.dims, ri, rj, rk)];
        const got = ours.data[voxelIndex(ours.dims, i, j, k)];
        if (got !== want && mismatches++ < 5) console.error(`voxel (${i}, ${j}, ${k}): ${got}, dcm2niix ${want}`);
      }
    }
  }
  assert.equal(mismatches, 0);
  assert.equal(ours.data.length, reference.data.length);
}

function stats(data: ArrayLike<number>): { min: number; max: number; mean: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let n = 0; n < data.length; n++) {
    const v = data[n];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  return { min, max, mean: sum / data.length };
}

/** Mean of `volume` over the voxels where `labels` (same grid) equals `label`. */
function meanInside(volume: Volume, labels: Volume, label: number): number {
  let sum = 0;
  let count = 0;
  for (let n = 0; n < labels.data.length; n++) {
    if (labels.data[n] === label) {
      sum += volume.data[n];
      count++;
    }
  }
  return sum / count;
}

let patientC: Promise<DicomSeriesResult> | undefined;
const readPatientC = (): Promise<DicomSeriesResult> => (patientC ??= readDicomFolder(path.join(PATIENT_C, 'example_ct_dicom')));

test('patient C (JPEG 2000, blank UIDs): shape and affine equal the reference NIfTI; HU as SOURCES.md states', { skip: dataSkip(PATIENT_C) }, async () => {
  const { volume, series, skipped, warnings } = await readPatientC();
  const reference = await readNifti(createReadStream(path.join(PATIENT_C, 'example_seg_dicom.nii.gz')));
  assert.deepEqual(volume.dims, reference.dims);
  assert.ok(maxAbsDifference(volume.affine, reference.affine) < 1e-4, `affine ${JSON.stringify(affineRows(volume.affine))}`);
  assert.equal(volume.dataType, 'int16');
  const s = stats(volume.data);
  assert.deepEqual([s.min, s.max, Math.round(s.mean * 1000) / 1000], [-1024, 1839, -624.126]);
  assert.deepEqual(skipped, []);
  assert.deepEqual(warnings, []);
  // The SOP UIDs are blank in the datasets: they come from the file meta information.
  assert.equal(series.id, 'no-series-uid');
  assert.equal(series.slices.length, 20);
  assert.ok(series.slices.every((slice) => slice.sopInstanceUID.startsWith('1.3.12.2.1107.5.1.4.60064.') && slice.sopClassUID === '1.2.840.10008.5.1.4.1.1.2'));
  // The row flip is right only if organs get their HU (SOURCES.md: spleen 79.6, liver 89.3).
  assert.equal(Math.round(meanInside(volume, reference, 1) * 10) / 10, 79.6);
  assert.equal(Math.round(meanInside(volume, reference, 5) * 10) / 10, 89.3);
});

test('patient C: decoded stored values in k order hash to the SHA-256 SOURCES.md lists', { skip: dataSkip(PATIENT_C) }, async () => {
  const { series } = await readPatientC();
  await initCodecs();
  const hash = createHash('sha256');
  for (const slice of series.slices) {
    const file = readPart10(slice.file, await readFile(path.join(PATIENT_C, 'example_ct_dicom', slice.file)));
    const values = decodeFrame(file, pixelFormatOf(file.dataset)!, 0);
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  assert.equal(hash.digest('hex'), 'f639c2255b62f19807e29843dc27e2103b9376b66c1a64ccc392cd2a52ed41f1');
});

test('patient C: every voxel equals dcm2niix\'s conversion at the same world position', { skip: dataSkip(PATIENT_C) || (dcm2niix.ok ? false : dcm2niix.reason) }, async () => {
  const [{ volume }, reference] = await Promise.all([readPatientC(), convertWithDcm2niix(path.join(PATIENT_C, 'example_ct_dicom'))]);
  assert.ok(maxAbsDifference(volume.affine, reference.affine) < 1e-4);
  assertSameVoxelsByWorld(volume, reference);
});

test('the 3-slice CT (implicit VR, files in descending z): same voxels as dcm2niix, on the grid of the dcmqi NRRD label maps', { skip: dataSkip(CT_3SLICE) }, async (t) => {
  const { volume, series } = await readDicomFolder(path.join(CT_3SLICE, 'ct-3slice'));
  assert.deepEqual(volume.dims, [512, 512, 3]);
  assert.deepEqual(series.slices.map((s) => s.file), ['03.dcm', '02.dcm', '01.dcm']);
  assert.deepEqual([stats(volume.data).min, stats(volume.data).max], [-3024, 1381]);
  // dcmqi's label maps (NRRD, LPS, first voxel at 03.dcm's first pixel) lie on the same grid without
  // the row flip; the mean HU inside them (SOURCES.md) checks the flip and the slice order.
  for (const [file, label, mean] of [['liver_seg.nrrd', 1, 37.3], ['spine_seg.nrrd', 2, 327.5], ['heart_seg.nrrd', 3, -52.0]] as const) {
    const labels = await readNrrd(createReadStream(path.join(CT_3SLICE, file)));
    const map = multiply(invert(labels.affine), volume.affine);
    assert.ok(maxAbsDifference(map, map.map((v) => Math.round(v))) < 1e-3, `${file}: grids differ`);
    let sum = 0;
    let count = 0;
    for (let k = 0; k < 3; k++) {
      for (let j = 0; j < 512; j++) {
        for (let i = 0; i < 512; i++) {
          const [li, lj, lk] = apply(map, [i, j, k]).map(Math.round);
          if (labels.data[voxelIndex(labels.dims, li, lj, lk)] === label) {
            sum += volume.data[voxelIndex(volume.dims, i, j, k)];
            count++;
          }
        }
      }
    }
    assert.equal(Math.round((sum / count) * 10) / 10, mean, file);
  }
  if (!dcm2niix.ok) {
    t.skip(dcm2niix.reason);
    return;
  }
  assertSameVoxelsByWorld(volume, await convertWithDcm2niix(path.join(CT_3SLICE, 'ct-3slice')));
});
