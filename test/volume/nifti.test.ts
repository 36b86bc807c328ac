import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { isVoxgateError } from '../../src/errors.js';
import type { Affine } from '../../src/volume/affine.js';
import { DataTypes, VoxelArrayOf } from '../../src/volume/datatype.js';
import { encodeNifti, readNifti } from '../../src/volume/nifti.js';
import { serializeNiftiHeader } from '../../src/volume/nifti-header.js';
import { createVolume } from '../../src/volume/volume.js';

const OBLIQUE: Affine = [
  0.9, -0.1, 0.05, -120.5,
  0.1, 0.88, -0.2, 33.25,
  -0.04, 0.21, 2.5, 540.2,
  0, 0, 0, 1,
];

function ramp(type: (typeof DataTypes)[number], n: number) {
  const data = new VoxelArrayOf[type](n);
  for (let i = 0; i < n; i++) data[i] = type.startsWith('float') ? i * 0.5 - 7.25 : (i * 7) % 100 + (type.startsWith('u') ? 0 : -50);
  return data;
}

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isVoxgateError(err), `expected a VoxgateError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe('NIfTI round trips', () => {
  for (const type of DataTypes) {
    for (const compress of [true, false]) {
      test(`${type} ${compress ? '.nii.gz' : '.nii'} keeps voxels and affine`, async () => {
        const volume = createVolume([5, 4, 3], ramp(type, 60), OBLIQUE);
        const bytes = await encodeNifti(volume, { compress });
        assert.equal(bytes[0] === 0x1f && bytes[1] === 0x8b, compress);
        const back = await readNifti(bytes);
        assert.deepEqual(back.dims, [5, 4, 3]);
        assert.equal(back.dataType, type);
        assert.deepEqual(Array.from(back.data), Array.from(volume.data));
        // sform holds the matrix as float32: the affine read back is the float32 rounding of ours.
        assert.deepEqual(back.affine, OBLIQUE.map((v) => Math.fround(v)));
        assert.equal(back.source.nifti?.sformCode, 1);
        assert.equal(back.source.nifti?.qformCode, 1);
      });
    }
  }

  test('a label map written for a NIfTI image carries its qform and sform verbatim', async () => {
    const header = serializeNiftiHeader({
      version: 1, dims: [4, 3, 2], dataType: 'int16',
      pixdim: [-1, 0.8, 0.8, 2.5, 0, 0, 0, 0],
      qformCode: 1, sformCode: 4,
      quatern: [0.1, 0.2, 0.05, -50.5, 20.25, 100],
      srow: [-0.8, 0, 0, 10, 0, 0.8, 0, -20, 0, 0, 2.5, 30],
      xyztUnits: 2,
    });
    const image = await readNifti(Buffer.concat([header, Buffer.alloc(4 * 3 * 2 * 2)]));
    const labels = createVolume(image.dims, new Uint8Array(24).fill(3), image.affine, image.source);
    const back = await readNifti(await encodeNifti(labels, { dataType: 'int16' }));
    assert.deepEqual(back.source.nifti, image.source.nifti);
    assert.deepEqual(back.affine, image.affine);
    assert.equal(back.dataType, 'int16');
  });

  test('NIfTI-2 images read and write as NIfTI-2 with float64 geometry', async () => {
    const header = serializeNiftiHeader({
      version: 2, dims: [3, 2, 2], dataType: 'float64', pixdim: [1, 0.3, 0.3, 0.7, 0, 0, 0, 0],
      qformCode: 0, sformCode: 2, quatern: [0, 0, 0, 0, 0, 0],
      srow: [0.3, 0, 0, 123.456789012345, 0, 0.3, 0, -1.000000000001, 0, 0, 0.7, 5], xyztUnits: 10,
    });
    const data = Float64Array.from({ length: 12 }, (_, i) => i / 3);
    const image = await readNifti(Buffer.concat([header, Buffer.from(data.buffer)]));
    assert.equal(image.source.nifti?.version, 2);
    assert.equal(image.affine[3], 123.456789012345);
    assert.equal(image.affine[7], -1.000000000001);
    assert.deepEqual(Array.from(image.data), Array.from(data));
    const again = await readNifti(await encodeNifti(image));
    assert.deepEqual(again.affine, image.affine);
    assert.equal(again.source.nifti?.version, 2);
  });
});

describe('NIfTI header semantics', () => {
  function headerWith(overrides: Partial<Parameters<typeof serializeNiftiHeader>[0]>): Buffer {
    return serializeNiftiHeader({
      version: 1, dims: [2, 2, 2], dataType: 'int16', pixdim: [1, 2, 3, 4, 0, 0, 0, 0],
      qformCode: 0, sformCode: 0, quatern: [0, 0, 0, 0, 0, 0], srow: new Array(12).fill(0), xyztUnits: 2,
      ...overrides,
    });
  }
  const eightVoxels = Buffer.from(Int16Array.from([1, 2, 3, 4, 5, 6, 7, 8]).buffer);

  test('without qform or sform the affine is nibabel’s centred base affine', async () => {
    const v = await readNifti(Buffer.concat([headerWith({}), eightVoxels]));
    assert.deepEqual(v.affine, [-2, 0, 0, 1, 0, 3, 0, -1.5, 0, 0, 4, -2, 0, 0, 0, 1]);
  });

  test('qform with qfac -1 flips the third axis', async () => {
    const v = await readNifti(Buffer.concat([headerWith({ qformCode: 1, pixdim: [-1, 2, 3, 4, 0, 0, 0, 0], quatern: [0, 0, 0, 5, 6, 7] }), eightVoxels]));
    assert.deepEqual(v.affine, [2, 0, 0, 5, 0, 3, 0, 6, 0, 0, -4, 7, 0, 0, 0, 1]);
  });

  test('sform wins over qform when both codes are set', async () => {
    const v = await readNifti(Buffer.concat([
      headerWith({ qformCode: 1, sformCode: 1, quatern: [0, 0, 1, 0, 0, 0], srow: [1, 0, 0, 9, 0, 1, 0, 8, 0, 0, 1, 7] }),
      eightVoxels,
    ]));
    assert.deepEqual(v.affine, [1, 0, 0, 9, 0, 1, 0, 8, 0, 0, 1, 7, 0, 0, 0, 1]);
  });

  test('big-endian files are byte-swapped', async () => {
    const le = Buffer.concat([headerWith({}), eightVoxels]);
    const be = Buffer.from(le);
    // Swap every multi-byte header field we set, and the data.
    const v = new DataView(be.buffer, be.byteOffset);
    const lv = new DataView(le.buffer, le.byteOffset);
    v.setInt32(0, 348, false);
    for (let n = 0; n < 8; n++) v.setInt16(40 + 2 * n, lv.getInt16(40 + 2 * n, true), false);
    v.setInt16(70, 4, false);
    v.setInt16(72, 16, false);
    for (let n = 0; n < 8; n++) v.setFloat32(76 + 4 * n, lv.getFloat32(76 + 4 * n, true), false);
    v.setFloat32(108, 352, false);
    for (let n = 0; n < 8; n++) v.setInt16(352 + 2 * n, n + 1, false);
    const vol = await readNifti(be);
    assert.deepEqual(Array.from(vol.data), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(vol.affine, [-2, 0, 0, 1, 0, 3, 0, -1.5, 0, 0, 4, -2, 0, 0, 0, 1]);
  });

  test('scl_slope and scl_inter give HU; integer scaling stays int16', async () => {
    const h = headerWith({ dataType: 'uint16', sclSlope: 1, sclInter: -1024 });
    const vol = await readNifti(Buffer.concat([h, Buffer.from(Uint16Array.from([0, 1024, 2048, 3000, 0, 0, 0, 24]).buffer)]));
    assert.equal(vol.dataType, 'int16');
    assert.deepEqual(Array.from(vol.data), [-1024, 0, 1024, 1976, -1024, -1024, -1024, -1000]);
  });

  test('fractional scaling gives float32', async () => {
    const vol = await readNifti(Buffer.concat([headerWith({ sclSlope: 0.5, sclInter: 1 }), eightVoxels]));
    assert.equal(vol.dataType, 'float32');
    assert.deepEqual(Array.from(vol.data), [1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5]);
  });

  test('a 4D image with one volume is read as 3D', async () => {
    const h = headerWith({});
    h.writeInt16LE(4, 40);
    h.writeInt16LE(1, 48);
    const vol = await readNifti(Buffer.concat([h, eightVoxels]));
    assert.deepEqual(vol.dims, [2, 2, 2]);
  });

  test('rejects a time series with VXG_ERR_VOLUME_NOT_3D', async () => {
    const h = headerWith({});
    h.writeInt16LE(4, 40);
    h.writeInt16LE(3, 48);
    await rejects(readNifti(Buffer.concat([h, eightVoxels, eightVoxels, eightVoxels])), 'VXG_ERR_VOLUME_NOT_3D', /4 dimensions \(2×2×2×3\)/);
  });

  test('rejects zero spacing with VXG_ERR_VOLUME_SPACING', async () => {
    await rejects(readNifti(Buffer.concat([headerWith({ qformCode: 1, pixdim: [1, 2, 0, 4, 0, 0, 0, 0] }), eightVoxels])), 'VXG_ERR_VOLUME_SPACING', /qform gives voxel spacing 2 × 0 × 4 mm/);
  });

  test('rejects a singular sform with VXG_ERR_VOLUME_AFFINE', async () => {
    await rejects(
      readNifti(Buffer.concat([headerWith({ sformCode: 1, srow: [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0] }), eightVoxels])),
      'VXG_ERR_VOLUME_AFFINE',
      /sform is singular/,
    );
  });

  test('rejects truncated voxel data naming the sizes', async () => {
    await rejects(readNifti(Buffer.concat([headerWith({}), eightVoxels.subarray(0, 10)])), 'VXG_ERR_VOLUME_TRUNCATED', /holds 10 of the 16 bytes/);
  });

  test('rejects a truncated gzip stream', async () => {
    const gz = gzipSync(Buffer.concat([headerWith({}), eightVoxels]));
    await rejects(readNifti(gz.subarray(0, gz.length - 12)), 'VXG_ERR_VOLUME_TRUNCATED', /gzip stream ends early/);
  });

  test('rejects more data than the header declares', async () => {
    await rejects(readNifti(Buffer.concat([headerWith({}), eightVoxels, eightVoxels])), 'VXG_ERR_VOLUME_HEADER', /more data than its header declares/);
  });

  test('refuses an image over the decoded-size limit before allocating it', async () => {
    const h = headerWith({ dims: [30000, 30000, 30000] });
    await rejects(readNifti(h), 'VXG_ERR_VOLUME_TOO_LARGE', /30000×30000×30000 int16/);
  });

  test('rejects non-NIfTI bytes with VXG_ERR_VOLUME_FORMAT', async () => {
    await rejects(readNifti(Buffer.from('hello world, this is not an image')), 'VXG_ERR_VOLUME_FORMAT', /Not a NIfTI file/);
  });

  test('refuses a label that does not fit the requested output type', async () => {
    const vol = createVolume([2, 1, 1], Int16Array.from([1, 300]), OBLIQUE);
    await rejects(encodeNifti(vol, { dataType: 'uint8' }), 'VXG_ERR_VOLUME_DATATYPE', /Value 300 at voxel 1 does not fit in uint8/);
  });
});

test('an axis longer than 32767 voxels is written as NIfTI-2 (NIfTI-1 dims are int16)', async () => {
  const volume = createVolume([40000, 1, 1], new Uint8Array(40000).fill(7), OBLIQUE);
  const back = await readNifti(await encodeNifti(volume));
  assert.equal(back.source.nifti?.version, 2);
  assert.deepEqual(back.dims, [40000, 1, 1]);
  assert.equal(back.data[39999], 7);
});

test('label maps are written with intent code 1002 (NIFTI_INTENT_LABEL) so viewers colour them as labels', async () => {
  const { parseNiftiHeader } = await import('../../src/volume/nifti-header.js');
  const labels = createVolume([2, 2, 1], Uint8Array.from([0, 1, 2, 3]), OBLIQUE);
  const plain = parseNiftiHeader(await encodeNifti(labels, { compress: false }));
  const marked = parseNiftiHeader(await encodeNifti(labels, { compress: false, labels: true }));
  assert.equal(plain.intentCode, 0);
  assert.equal(marked.intentCode, 1002);
});
