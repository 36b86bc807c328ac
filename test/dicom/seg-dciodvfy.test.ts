/**
 * The SEGs Voxgate writes against dciodvfy (dicom3tools), which checks them against the
 * Segmentation IOD: no line may start with "Error"; warnings are printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSegmentation } from '../../src/dicom/seg-writer.js';
import type { SegSourceSeries } from '../../src/dicom/seg-source.js';
import { ensureSystemPackages } from '../helpers/system-packages.js';
import { labelsOn, segSourceFromFiles, syntheticSegSource } from '../helpers/seg-source.js';

const DCIODVFY = '/usr/bin/dciodvfy';
const CT_3SLICE = '../shared/data/dicom_ct_series/dcmqi_ct_3slice_with_seg/ct-3slice';

const dicom3tools = await ensureSystemPackages(['dicom3tools'], () => existsSync(DCIODVFY));

function dciodvfy(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // dciodvfy writes its findings to stderr and exits non-zero when it finds errors.
    execFile(DCIODVFY, [file], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve(`${stdout}${stderr}`);
    });
  });
}

async function verify(name: string, bytes: Uint8Array): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'voxgate-seg-'));
  try {
    const file = path.join(dir, `${name}.dcm`);
    await writeFile(file, bytes);
    const lines = (await dciodvfy(file)).split('\n').map((l) => l.trim()).filter(Boolean);
    const warnings = lines.filter((l) => l.startsWith('Warning'));
    if (warnings.length > 0) console.log(`dciodvfy warnings for ${name}:\n  ${warnings.join('\n  ')}`);
    assert.deepEqual(lines.filter((l) => l.startsWith('Error')), [], `dciodvfy errors for ${name}:\n${lines.join('\n')}`);
    assert.ok(lines.includes('Segmentation'), `dciodvfy did not recognise a Segmentation: ${lines.join(' | ')}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every kind of segment: plain, laterality modifier, anatomic region + modifier, label 16, zero-shot. */
function labelData(source: SegSourceSeries): Uint8Array {
  const data = new Uint8Array(source.columns * source.rows * source.slices.length);
  const values = [1, 5, 16, 23, 116, 200, 255];
  values.forEach((v, n) => (data[(n * 37) % data.length] = v));
  data[data.length - 1] = 1;
  return data;
}

const skip = dicom3tools.ok ? false : dicom3tools.reason;
const options = { algorithmName: 'VISTA3D', algorithmVersion: '0.5.2', labelNames: { 200: 'zero-shot object' } };

test('an oblique SEG with every kind of segment passes dciodvfy', { skip }, async () => {
  const source = syntheticSegSource({ rows: 7, columns: 5, slices: 6, imageOrientationPatient: [Math.cos(0.5), Math.sin(0.5), 0, 0, 0, -1] });
  await verify('oblique', createSegmentation(labelsOn(source, labelData(source)), source, options));
});

test('a SEG with rows flipped, one slice, or frames of a multi-frame source passes dciodvfy', { skip }, async () => {
  const flipped = syntheticSegSource({ rows: 9, columns: 11, slices: 4, flipRows: true, patientSex: 'M' });
  await verify('flipped', createSegmentation(labelsOn(flipped, labelData(flipped)), flipped, options));

  const single = syntheticSegSource({ rows: 4, columns: 4, slices: 1 });
  await verify('single', createSegmentation(labelsOn(single, labelData(single)), single, options));

  const base = syntheticSegSource({ rows: 8, columns: 8, slices: 5 });
  const enhanced: SegSourceSeries = {
    ...base,
    slices: base.slices.map((s, k) => ({ ...s, sopClassUid: '1.2.840.10008.5.1.4.1.1.2.1', sopInstanceUid: '2.25.77', referencedFrameNumber: k + 1 })),
  };
  await verify('enhanced', createSegmentation(labelsOn(enhanced, labelData(enhanced)), enhanced, options));
});

test('a SEG of the real 3-slice CT (its UIDs and patient attributes) passes dciodvfy', { skip: skip || (!existsSync(CT_3SLICE) && `${CT_3SLICE} is absent`) }, async () => {
  const files = (await readdir(CT_3SLICE)).sort().map((f) => path.join(CT_3SLICE, f));
  const source = await segSourceFromFiles(files);
  await verify('ct-3slice', createSegmentation(labelsOn(source, labelData(source)), source, options));
});
