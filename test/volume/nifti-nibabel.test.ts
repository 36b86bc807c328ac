/**
 * The NIfTI codec against nibabel, an independent reader and writer: what Voxgate writes nibabel
 * reads with the same shape, affine and voxels; what nibabel writes Voxgate reads with nibabel's
 * affine; and real files read identically on both sides.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Affine } from '../../src/volume/affine.js';
import { affineRows } from '../../src/volume/affine.js';
import type { DataType, VoxelArray } from '../../src/volume/datatype.js';
import { DataTypes, VoxelArrayOf, valueRange } from '../../src/volume/datatype.js';
import { encodeNifti, readNifti } from '../../src/volume/nifti.js';
import type { Dims, Volume } from '../../src/volume/volume.js';
import { createLabelVolume, createVolume, voxelCount } from '../../src/volume/volume.js';
import type { NibabelImage, NibabelSaveSpec } from '../helpers/nibabel.js';
import { nibabelLoad, nibabelSave } from '../helpers/nibabel.js';
import { ensureNibabel } from '../helpers/system-packages.js';

const nibabel = await ensureNibabel();
const skip = nibabel.ok ? false : nibabel.reason;

const TOLERANCE = 1e-5;
const DIMS: Dims = [5, 4, 3];

type Rows = number[][];

/** Rotation about a fixed oblique axis, columns scaled by the spacing; `leftHanded` flips k (qfac -1). */
function obliqueAffine(leftHanded: boolean): Affine {
  const axis = [1, 2, 3].map((v) => v / Math.hypot(1, 2, 3));
  const angle = 0.4;
  const [x, y, z] = axis;
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const t = 1 - c;
  const rotation = [
    [t * x * x + c, t * x * y - s * z, t * x * z + s * y],
    [t * x * y + s * z, t * y * y + c, t * y * z - s * x],
    [t * x * z - s * y, t * y * z + s * x, t * z * z + c],
  ];
  const spacing = [0.8, 0.9, leftHanded ? -2.5 : 2.5];
  const translation = [-100.25, 50.5, 20.75];
  const out: number[] = [];
  for (let r = 0; r < 3; r++) out.push(...rotation[r].map((v, col) => v * spacing[col]), translation[r]);
  return [...out, 0, 0, 0, 1];
}

const OBLIQUE = obliqueAffine(false);
const LEFT_HANDED = obliqueAffine(true);
/** A sheared sform: no qform can hold it, so a reader that used the qform would disagree. */
const SHEARED: Rows = [[-1.1, 0.2, 0.1, 90.5], [0.05, 1.2, 0.3, -120.25], [0, -0.1, 3, -60], [0, 0, 0, 1]];
const AXIAL: Rows = [[0.8, 0, 0, -10], [0, 0.9, 0, 20], [0, 0, 2.5, 30], [0, 0, 0, 1]];

/** Deterministic values that include each type's extremes. */
function sampleVoxels(type: DataType, count: number): VoxelArray {
  const out = new VoxelArrayOf[type](count);
  const [lo, hi] = valueRange(type);
  const fixed = Number.isFinite(lo) ? [lo, hi, 0, 1] : [-0, 1 / 3, -2.5e10, 1e-7, type === 'float64' ? 1e300 : 3.4e38];
  let seed = 12345;
  for (let n = 0; n < count; n++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const unit = seed / 2147483648;
    out[n] = n < fixed.length ? fixed[n] : Number.isFinite(lo) ? Math.floor(lo + unit * (hi - lo + 1)) : (unit - 0.5) * 2000;
  }
  return out;
}

function sampleLabels(count: number): Uint8Array {
  return Uint8Array.from({ length: count }, (_, n) => (n % 7 === 6 ? 255 : n % 11));
}

function assertAffineClose(actual: Affine, expected: Rows, what: string): void {
  const rows = affineRows(actual);
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      const d = Math.abs(rows[r][c] - expected[r][c]);
      assert.ok(d <= TOLERANCE, `${what}: entry [${r}][${c}] is ${rows[r][c]}, nibabel says ${expected[r][c]} (off by ${d})`);
    }
  }
}

function assertVoxelsEqual(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: voxel count`);
  for (let n = 0; n < actual.length; n++) {
    if (!Object.is(actual[n], expected[n])) {
      assert.fail(`${what}: voxel ${n} is ${actual[n]}, expected ${expected[n]}`);
    }
  }
}

function voxelsOf(img: NibabelImage): VoxelArray {
  assert.ok(img.voxels, `nibabel sent no voxels for ${img.path}`);
  return img.voxels;
}

function sha256(data: VoxelArray): string {
  return createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex');
}

async function readFileNifti(file: string): Promise<Volume> {
  return readNifti(await readFile(file));
}

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'voxgate-nifti-nibabel-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void describe('files Voxgate writes from an affine, read by nibabel', { skip }, () => {
  interface Case {
    name: string;
    volume: Volume;
    dataType: DataType;
    compress: boolean;
    expected: VoxelArray;
  }
  const cases: Case[] = [];
  for (const [geometry, affine] of [['oblique', OBLIQUE], ['left-handed oblique', LEFT_HANDED]] as const) {
    for (const compress of [false, true]) {
      const ext = compress ? '.nii.gz' : '.nii';
      for (const type of DataTypes) {
        const data = sampleVoxels(type, voxelCount(DIMS));
        cases.push({ name: `${type} image, ${geometry}, ${ext}`, volume: createVolume(DIMS, data, affine), dataType: type, compress, expected: data });
      }
      const labels = sampleLabels(voxelCount(DIMS));
      const image = createVolume(DIMS, new Float32Array(voxelCount(DIMS)), affine);
      cases.push(
        { name: `uint8 label map, ${geometry}, ${ext}`, volume: createLabelVolume(image, labels), dataType: 'uint8', compress, expected: labels },
        { name: `int16 label map, ${geometry}, ${ext}`, volume: createLabelVolume(image, Int16Array.from(labels)), dataType: 'int16', compress, expected: Int16Array.from(labels) },
        { name: `float32 label map (uint8 labels stored as float32), ${geometry}, ${ext}`, volume: createLabelVolume(image, labels), dataType: 'float32', compress, expected: Float32Array.from(labels) },
      );
    }
  }
  let read: NibabelImage[] = [];
  before(async () => {
    const files = await Promise.all(
      cases.map(async (c, n) => {
        const file = path.join(dir, `written-${n}${c.compress ? '.nii.gz' : '.nii'}`);
        await writeFile(file, await encodeNifti(c.volume, { dataType: c.dataType, compress: c.compress }));
        return file;
      }),
    );
    read = await nibabelLoad(files, 'stored');
  });

  cases.forEach((c, n) => {
    void it(`writes a ${c.name} that nibabel reads with the same shape, affine, qform and voxels`, () => {
      const img = read[n];
      assert.deepEqual(img.shape, [...DIMS]);
      assert.equal(img.dtype, c.dataType);
      assert.equal(img.qformCode, 1);
      assert.equal(img.sformCode, 1);
      assertAffineClose(c.volume.affine, img.affine, 'affine');
      // The affine is a rotation with voxel sizes, so the qform (quaternion + qfac) holds it too.
      assertAffineClose(c.volume.affine, img.qform, 'qform');
      assert.equal(img.pixdim[0], c.name.includes('left-handed') ? -1 : 1);
      assertVoxelsEqual(voxelsOf(img), c.expected, 'voxels');
    });
  });
});

void describe('files nibabel writes, read by Voxgate and written back', { skip }, () => {
  const shape = [...DIMS];
  const count = voxelCount(DIMS);
  const int16 = sampleVoxels('int16', count);
  const sources: { name: string; spec: Omit<NibabelSaveSpec, 'path'> }[] = [
    ...DataTypes.map((type) => ({
      name: `${type} image with an oblique qform and a different sheared sform`,
      spec: { shape, data: sampleVoxels(type, count), qform: { affine: affineRows(OBLIQUE), code: 1 }, sform: { affine: SHEARED, code: 2 } },
    })),
    { name: 'qform-only image', spec: { shape, data: int16, qform: { affine: affineRows(OBLIQUE), code: 1 } } },
    { name: 'left-handed qform-only image', spec: { shape, data: int16, qform: { affine: affineRows(LEFT_HANDED), code: 1 } } },
    { name: 'sform-only image', spec: { shape, data: int16, affine: SHEARED } },
    { name: 'image with neither qform nor sform', spec: { shape, data: int16, zooms: [0.8, 0.9, 2.5] } },
    {
      name: 'NIfTI-2 image',
      spec: { version: 2, shape, data: sampleVoxels('float64', count), qform: { affine: affineRows(LEFT_HANDED), code: 1 }, sform: { affine: SHEARED, code: 4 } },
    },
    { name: 'big-endian image', spec: { byteOrder: '>', shape, data: sampleVoxels('float32', count), qform: { affine: affineRows(OBLIQUE), code: 2 }, sform: { affine: SHEARED, code: 1 } } },
  ];
  const labels = sampleLabels(count);
  const originals: NibabelImage[] = [];
  const images: NibabelImage[] = [];
  const labelMaps: NibabelImage[][] = [];
  before(async () => {
    originals.push(...(await nibabelSave(sources.map((s, n) => ({ ...s.spec, path: path.join(dir, `source-${n}.nii.gz`) })), 'stored')));
    const written: string[] = [];
    for (const [n, original] of originals.entries()) {
      const volume = await readFileNifti(original.path);
      const outputs: [string, Buffer][] = [
        [`rewritten-${n}.nii`, await encodeNifti(volume, { compress: false })],
        [`labels-${n}.nii.gz`, await encodeNifti(createLabelVolume(volume, labels))],
        [`labels-int16-${n}.nii`, await encodeNifti(createLabelVolume(volume, Int16Array.from(labels)), { compress: false })],
        [`labels-float32-${n}.nii.gz`, await encodeNifti(createLabelVolume(volume, labels), { dataType: 'float32' })],
      ];
      for (const [name, bytes] of outputs) {
        await writeFile(path.join(dir, name), bytes);
        written.push(path.join(dir, name));
      }
    }
    const read = await nibabelLoad(written, 'stored');
    for (let n = 0; n < originals.length; n++) {
      images.push(read[4 * n]);
      labelMaps.push(read.slice(4 * n + 1, 4 * n + 4));
    }
  });

  function assertSameGeometry(img: NibabelImage, original: NibabelImage): void {
    assert.equal(img.version, original.version, 'NIfTI version');
    assert.deepEqual(img.shape, original.shape);
    assert.equal(img.qformCode, original.qformCode, 'qform_code');
    assert.equal(img.sformCode, original.sformCode, 'sform_code');
    assert.deepEqual(img.qform, original.qform, 'qform');
    assert.deepEqual(img.sform, original.sform, 'sform');
    assert.deepEqual(img.affine, original.affine, 'affine');
    assert.deepEqual(img.pixdim.slice(0, 4), original.pixdim.slice(0, 4), 'qfac and voxel sizes');
  }

  sources.forEach((source, n) => {
    void it(`re-encodes a nibabel-written ${source.name} keeping its qform, sform, codes and voxels exactly`, () => {
      const original = originals[n];
      assertSameGeometry(images[n], original);
      assert.equal(images[n].dtype, original.dtype);
      assertVoxelsEqual(voxelsOf(images[n]), voxelsOf(original), 'voxels');
    });
    void it(`writes uint8, int16 and float32 label maps on the grid of a nibabel-written ${source.name} with its exact geometry`, () => {
      const expected = [labels, Int16Array.from(labels), Float32Array.from(labels)];
      labelMaps[n].forEach((img, m) => {
        assertSameGeometry(img, originals[n]);
        assert.equal(img.dtype, ['uint8', 'int16', 'float32'][m]);
        assertVoxelsEqual(voxelsOf(img), expected[m], `label voxels (${img.dtype})`);
      });
    });
  });

  void it('checks its fixtures: nibabel reads back the codes, NIfTI version and byte order each source claims', () => {
    const byName = new Map(sources.map((s, n) => [s.name, originals[n]]));
    const get = (name: string): NibabelImage => byName.get(name) ?? assert.fail(name);
    assert.deepEqual([get('qform-only image').qformCode, get('qform-only image').sformCode], [1, 0]);
    assert.equal(get('left-handed qform-only image').pixdim[0], -1);
    assert.deepEqual([get('sform-only image').qformCode, get('sform-only image').sformCode], [0, 2]);
    assert.deepEqual([get('image with neither qform nor sform').qformCode, get('image with neither qform nor sform').sformCode], [0, 0]);
    assert.equal(get('NIfTI-2 image').version, 2);
    assert.equal(get('big-endian image').byteOrder, '>');
  });
});

void describe('files nibabel writes, read by Voxgate with nibabel\'s affine', { skip }, () => {
  const shape = [...DIMS];
  const count = voxelCount(DIMS);
  const int16 = sampleVoxels('int16', count);
  interface Case {
    name: string;
    spec: Omit<NibabelSaveSpec, 'path'>;
    /** Checks on what nibabel read back, so the fixture is what the test name says. */
    fixture: (img: NibabelImage) => void;
  }
  const codes = (q: number, s: number) => (img: NibabelImage): void => assert.deepEqual([img.qformCode, img.sformCode], [q, s]);
  const cases: Case[] = [
    { name: 'a qform-only file (sform_code 0) with the qform', spec: { shape, data: int16, qform: { affine: affineRows(OBLIQUE), code: 1 } }, fixture: codes(1, 0) },
    {
      name: 'a sform-only file (qform_code 0, different quaternion fields) with the sform',
      spec: { shape, data: int16, affine: SHEARED, qform: { affine: AXIAL, code: 0 } },
      fixture: (img) => {
        codes(0, 2)(img);
        assert.notDeepEqual(img.qform, img.sform);
      },
    },
    {
      name: 'a file with a qform and a different sform with the sform',
      spec: { shape, data: int16, qform: { affine: AXIAL, code: 1 }, sform: { affine: affineRows(OBLIQUE), code: 2 } },
      fixture: codes(1, 2),
    },
    { name: 'a file with neither qform nor sform with nibabel\'s base affine', spec: { shape, data: int16, zooms: [0.8, 0.9, 2.5] }, fixture: codes(0, 0) },
    {
      name: 'an oblique file (qform and sform) with the oblique affine',
      spec: { shape, data: int16, affine: affineRows(OBLIQUE), qform: { affine: affineRows(OBLIQUE), code: 1 } },
      fixture: codes(1, 2),
    },
    {
      name: 'a left-handed qform-only file (qfac -1) with the left-handed affine',
      spec: { shape, data: int16, qform: { affine: affineRows(LEFT_HANDED), code: 1 } },
      fixture: (img) => {
        codes(1, 0)(img);
        assert.equal(img.pixdim[0], -1);
      },
    },
    {
      name: 'a NIfTI-2 file with its affine',
      spec: { version: 2, shape, data: sampleVoxels('float64', count), qform: { affine: affineRows(LEFT_HANDED), code: 1 }, sform: { affine: SHEARED, code: 2 } },
      fixture: (img) => assert.equal(img.version, 2),
    },
    {
      name: 'a big-endian NIfTI-1 int16 file with its affine',
      spec: { byteOrder: '>', shape, data: int16, qform: { affine: affineRows(OBLIQUE), code: 1 } },
      fixture: (img) => assert.equal(img.byteOrder, '>'),
    },
    {
      name: 'a big-endian NIfTI-2 float64 file with its affine',
      spec: { version: 2, byteOrder: '>', shape, data: sampleVoxels('float64', count), affine: SHEARED },
      fixture: (img) => assert.deepEqual([img.version, img.byteOrder], [2, '>']),
    },
    {
      name: 'a 4D file whose 4th dimension is 1 as 3D',
      spec: { shape: [...shape, 1], data: int16, affine: affineRows(OBLIQUE) },
      fixture: (img) => assert.deepEqual(img.shape, [...shape, 1]),
    },
  ];
  let read: NibabelImage[] = [];
  const scaledInt = Int16Array.from({ length: count }, (_, n) => (n * 37) % 3001 - 100);
  const scaledUint8 = Uint8Array.from({ length: count }, (_, n) => (n * 13) % 256);
  let scaled: NibabelImage[] = [];
  let timeSeries: NibabelImage | undefined;
  before(async () => {
    const specs = cases.map((c, n) => ({ ...c.spec, path: path.join(dir, `nibabel-${n}.nii.gz`) }));
    read = await nibabelSave(specs, 'stored');
    scaled = await nibabelSave(
      [
        { path: path.join(dir, 'scaled-int16.nii'), shape, data: scaledInt, affine: AXIAL, slope: 2, inter: -1024 },
        { path: path.join(dir, 'scaled-uint8.nii.gz'), shape, data: scaledUint8, affine: AXIAL, slope: 0.5, inter: 0.25 },
      ],
      'fdata',
    );
    [timeSeries] = await nibabelSave([{ path: path.join(dir, 'time-series.nii.gz'), shape: [...shape, 3], data: new Int16Array(count * 3), affine: AXIAL }]);
  });

  cases.forEach((c, n) => {
    void it(`reads ${c.name}, as nibabel's img.affine, shape and voxels`, async () => {
      const img = read[n];
      c.fixture(img);
      const volume = await readFileNifti(img.path);
      assert.deepEqual(volume.dims, img.shape.slice(0, 3));
      assert.ok(img.shape.slice(3).every((s) => s === 1));
      assertAffineClose(volume.affine, img.affine, 'affine');
      assert.equal(volume.dataType, img.dtype);
      assertVoxelsEqual(volume.data, voxelsOf(img), 'voxels');
    });
  });

  void it('reads int16 data with scl_slope 2 and scl_inter -1024 as int16 values equal to nibabel\'s get_fdata()', async () => {
    const img = scaled[0];
    assert.deepEqual([img.slope, img.inter], [2, -1024]);
    const volume = await readFileNifti(img.path);
    assert.equal(volume.dataType, 'int16');
    assertVoxelsEqual(volume.data, voxelsOf(img), 'scaled voxels');
  });

  void it('reads uint8 data with scl_slope 0.5 and scl_inter 0.25 as float32 values equal to nibabel\'s get_fdata()', async () => {
    const img = scaled[1];
    assert.deepEqual([img.slope, img.inter], [0.5, 0.25]);
    const volume = await readFileNifti(img.path);
    assert.equal(volume.dataType, 'float32');
    assertVoxelsEqual(volume.data, voxelsOf(img), 'scaled voxels');
  });

  void it('rejects a 4D file whose 4th dimension is 3 with VXG_ERR_VOLUME_NOT_3D', async () => {
    assert.ok(timeSeries);
    assert.deepEqual(timeSeries.shape, [...shape, 3]);
    await assert.rejects(readFileNifti(timeSeries.path), { name: 'VoxgateError', code: 'VXG_ERR_VOLUME_NOT_3D' });
  });
});

void describe('real NIfTI files, read by Voxgate and nibabel', { skip }, () => {
  const shared = (relative: string): string => fileURLToPath(new URL(`../../../shared/${relative}`, import.meta.url));
  const files = [
    ...[
      'aorta', 'brachiocephalic_trunk', 'common_carotid_artery_left', 'ct_cropped', 'heart_on_other_grid',
      'iliac_artery_left', 'iliac_artery_right', 'subclavian_artery_left', 'vertebrae_T12',
    ].map((name) => shared(`data/ct_nifti/totalseg_patientB_cta_crop/${name}.nii.gz`)),
    shared('data/mr_nifti/totalseg_mr_example/example_mr_sm.nii.gz'),
    shared('data/mr_nifti/totalseg_mr_example/example_seg_mr.nii.gz'),
    shared('data/dicom_ct_series/totalseg_patientC_petct_20slices/example_seg_dicom.nii.gz'),
    shared('data/dicom_single/dcm_qa_ts/Ref/1.nii'),
    shared('models/brainchop-gwm-onnx/t1_crop.nii.gz'),
  ];
  const present = files.filter((file) => existsSync(file));
  const byPath = new Map<string, NibabelImage>();
  before(async () => {
    for (const img of await nibabelLoad(present, 'sha256')) byPath.set(img.path, img);
  });

  for (const file of files) {
    const name = path.relative(shared(''), file);
    const absent = existsSync(file) ? false : `${file} is absent`;
    void it(`reads ${name} with nibabel's shape, affine and voxel checksum`, { skip: absent }, async () => {
      const img = byPath.get(file) ?? assert.fail(`nibabel did not read ${file}`);
      const volume = await readNifti(createReadStream(file));
      assert.deepEqual(volume.dims, img.shape);
      assertAffineClose(volume.affine, img.affine, 'affine');
      assert.equal(volume.dataType, img.voxelDtype);
      let sum = 0;
      for (let n = 0; n < volume.data.length; n++) sum += volume.data[n];
      assert.equal(sum, img.sum);
      assert.equal(sha256(volume.data), img.sha256);
    });
  }
});
