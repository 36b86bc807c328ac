import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGzip, gzipSync } from 'node:zlib';
import { isVoxgateError } from '../../src/errors.js';
import type { Affine } from '../../src/volume/affine.js';
import { DataTypes, VoxelArrayOf } from '../../src/volume/datatype.js';
import { encodeNrrd, readNrrd } from '../../src/volume/nrrd.js';
import { readVolume } from '../../src/volume/volume-file.js';
import { createVolume } from '../../src/volume/volume.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** dcmqi's 3-slice CT segmentations, relative to the repository root (the shared data set sits beside it). */
const SEG_DIR = '../shared/data/dicom_ct_series/dcmqi_ct_3slice_with_seg';

/** RAS+ affine with oblique axes; its LPS and LAS forms are written by hand in the tests below. */
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

/** A NRRD file: the magic, `fields`, the blank line, then `data`. */
function nrrd(fields: readonly string[], data: Uint8Array = new Uint8Array(0), magic = 'NRRD0004'): Buffer {
  return Buffer.concat([Buffer.from(`${magic}\n${fields.join('\n')}\n\n`, 'latin1'), data]);
}

/** Header fields of a plain uint8 image of `sizes` in LPS with unit axes. */
function uint8Fields(sizes: string, encoding = 'raw'): string[] {
  return [
    'type: uint8', 'dimension: 3', 'space: left-posterior-superior', `sizes: ${sizes}`,
    'space directions: (1,0,0) (0,1,0) (0,0,1)', `encoding: ${encoding}`,
  ];
}

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isVoxgateError(err), `expected a VoxgateError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

async function* chunksOf(parts: readonly Uint8Array[], size: number, counter: { pulled: number }): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    for (let o = 0; o < part.length; o += size) {
      counter.pulled++;
      yield part.subarray(o, o + size);
    }
  }
}

/** gzip of `megabytes` MiB of zeros, compressed chunk by chunk (never held uncompressed). */
async function gzipOfZeros(megabytes: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    gzip.on('data', (chunk: Buffer) => out.push(chunk));
    gzip.on('end', resolve);
    gzip.on('error', reject);
  });
  const zeros = Buffer.alloc(1 << 20);
  for (let n = 0; n < megabytes; n++) gzip.write(zeros);
  gzip.end();
  await done;
  return Buffer.concat(out);
}

void describe('NRRD round trips', () => {
  for (const type of DataTypes) {
    for (const encoding of ['raw', 'gzip'] as const) {
      void test(`${type} ${encoding} keeps voxels and affine exactly`, async () => {
        const volume = createVolume([5, 4, 3], ramp(type, 60), OBLIQUE);
        const bytes = await encodeNrrd(volume, { encoding });
        const text = bytes.subarray(0, bytes.indexOf('\n\n')).toString('latin1');
        assert.match(text, /^NRRD0004\n/);
        assert.match(text, new RegExp(`\nencoding: ${encoding}\n`));
        assert.match(text, /\nspace: left-posterior-superior\n/);
        assert.match(text, /\nspace directions: \(-0\.9,-0\.1,-0\.04\) \(0\.1,-0\.88,0\.21\) \(-0\.05,0\.2,2\.5\)\n/);
        assert.match(text, /\nspace origin: \(120\.5,-33\.25,540\.2\)$/);
        const back = await readNrrd(bytes);
        assert.deepEqual(back.dims, [5, 4, 3]);
        assert.equal(back.dataType, type);
        assert.deepEqual(Array.from(back.data), Array.from(volume.data));
        assert.deepEqual(back.affine, OBLIQUE);
        assert.deepEqual(back.source, { format: 'nrrd', nrrd: { space: 'left-posterior-superior' } });
      });
    }
  }

  void test('writes right-anterior-superior on request, and keeps a NRRD source space by default', async () => {
    const volume = createVolume([2, 2, 2], ramp('int16', 8), OBLIQUE);
    const ras = await encodeNrrd(volume, { space: 'right-anterior-superior', encoding: 'raw' });
    assert.match(ras.toString('latin1', 0, 400), /\nspace directions: \(0\.9,0\.1,-0\.04\) \(-0\.1,0\.88,0\.21\) \(0\.05,-0\.2,2\.5\)\n/);
    const read = await readNrrd(ras);
    assert.deepEqual(read.affine, OBLIQUE);
    assert.equal(read.source.nrrd?.space, 'right-anterior-superior');
    const again = await encodeNrrd(read, { encoding: 'raw' });
    assert.match(again.toString('latin1', 0, 400), /\nspace: right-anterior-superior\n/);
    assert.deepEqual(Buffer.compare(again, ras), 0);
  });

  void test('converts to another voxel type with convertVoxels and refuses values that do not fit', async () => {
    const volume = createVolume([2, 2, 1], Float32Array.from([0, 1.4, 2.6, 255]), OBLIQUE);
    const back = await readNrrd(await encodeNrrd(volume, { dataType: 'uint8' }));
    assert.equal(back.dataType, 'uint8');
    assert.deepEqual(Array.from(back.data), [0, 1, 3, 255]);
    const tooBig = createVolume([2, 2, 1], Float32Array.from([0, 1, 2, 256]), OBLIQUE);
    await rejects(encodeNrrd(tooBig, { dataType: 'uint8' }), 'VXG_ERR_VOLUME_DATATYPE', /Value 256 at voxel 3 does not fit in uint8/);
  });

  void test('readVolume detects a NRRD from its magic', async () => {
    const volume = await readVolume(nrrd([...uint8Fields('2 1 1')], Uint8Array.from([7, 9])));
    assert.deepEqual(Array.from(volume.data), [7, 9]);
    assert.equal(volume.source.format, 'nrrd');
  });
});

void describe('NRRD geometry', () => {
  const data = new Uint8Array(24).map((_, i) => i);
  const oblique = (space: string, directions: string, origin: string): Buffer =>
    nrrd([
      'type: unsigned char', 'dimension: 3', `space: ${space}`, 'sizes: 4 3 2',
      `space directions: ${directions}`, 'kinds: domain domain domain', 'encoding: raw', `space origin: ${origin}`,
    ], data);

  void test('LPS, RAS and LAS descriptions of one oblique grid give the same RAS affine', async () => {
    const files = {
      'left-posterior-superior': oblique('left-posterior-superior', '(-0.9,-0.1,-0.04) (0.1,-0.88,0.21) (-0.05,0.2,2.5)', '(120.5,-33.25,540.2)'),
      'LPS': oblique('LPS', '(-0.9, -0.1, -0.04) (0.1, -0.88, 0.21) (-0.05, 0.2, 2.5)', '( 120.5, -33.25, 540.2 )'),
      'right-anterior-superior': oblique('right-anterior-superior', '(0.9,0.1,-0.04) (-0.1,0.88,0.21) (0.05,-0.2,2.5)', '(-120.5,33.25,540.2)'),
      'RAS': oblique('RAS', '(0.9,0.1,-0.04) (-0.1,0.88,0.21) (0.05,-0.2,2.5)', '(-120.5,33.25,540.2)'),
      'left-anterior-superior': oblique('left-anterior-superior', '(-0.9,0.1,-0.04) (0.1,0.88,0.21) (-0.05,-0.2,2.5)', '(120.5,33.25,540.2)'),
    };
    const canonical: Record<keyof typeof files, string> = {
      'left-posterior-superior': 'left-posterior-superior', 'LPS': 'left-posterior-superior',
      'right-anterior-superior': 'right-anterior-superior', 'RAS': 'right-anterior-superior',
      'left-anterior-superior': 'left-anterior-superior',
    };
    for (const [space, file] of Object.entries(files) as [keyof typeof files, Buffer][]) {
      const volume = await readNrrd(file);
      assert.deepEqual(volume.dims, [4, 3, 2], space);
      assert.deepEqual(volume.affine, OBLIQUE, space);
      assert.deepEqual(volume.source.nrrd, { space: canonical[space] }, space);
      assert.deepEqual(Array.from(volume.data), Array.from(data), space);
    }
  });

  void test('a spacings-only header gives an axis-aligned LPS grid at the origin, as ITK reads it', async () => {
    const volume = await readNrrd(nrrd(['type: float', 'dimension: 3', 'sizes: 2 1 1', 'spacings: 0.5 0.75 2.5', 'endian: little', 'encoding: raw'],
      new Uint8Array(Float32Array.from([1.5, -2]).buffer)));
    assert.deepEqual(volume.affine, [-0.5, 0, 0, 0, 0, -0.75, 0, 0, 0, 0, 2.5, 0, 0, 0, 0, 1]);
    assert.deepEqual(Array.from(volume.data), [1.5, -2]);
    assert.deepEqual(volume.source.nrrd, { space: 'left-posterior-superior' });
  });

  void test('a header without spacings or directions gets unit LPS axes', async () => {
    const volume = await readNrrd(nrrd(['type: uchar', 'dimension: 3', 'sizes: 1 1 1', 'encoding: raw'], Uint8Array.from([42])));
    assert.deepEqual(volume.affine, [-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  });

  void test('drops a non-spatial axis of one sample (dimension 4, direction none)', async () => {
    const volume = await readNrrd(nrrd([
      'type: short', 'dimension: 4', 'space: RAS', 'sizes: 1 2 1 3',
      'space directions: none (2,0,0) (0,3,0) (0,0,4)', 'kinds: list domain domain domain', 'endian: little', 'encoding: raw',
      'space origin: (1,2,3)',
    ], new Uint8Array(Int16Array.from([1, 2, 3, 4, 5, 6]).buffer)));
    assert.deepEqual(volume.dims, [2, 1, 3]);
    assert.deepEqual(Array.from(volume.data), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(volume.affine, [2, 0, 0, 1, 0, 3, 0, 2, 0, 0, 4, 3, 0, 0, 0, 1]);
  });

  void test('drops a trailing axis of one sample when there is no geometry to say which axes are spatial', async () => {
    const volume = await readNrrd(nrrd(['type: int8', 'dimension: 4', 'sizes: 3 1 2 1', 'encoding: raw'], new Uint8Array(Int8Array.from([-1, 0, 1, 2, 3, -128]).buffer)));
    assert.deepEqual(volume.dims, [3, 1, 2]);
    assert.deepEqual(Array.from(volume.data), [-1, 0, 1, 2, 3, -128]);
  });

  for (const file of ['heart_seg', 'liver_seg', 'spine_seg', 'liver_spine_seg'] as const) {
    void test(`reads dcmqi's ${file}.nrrd with its exact grid and labels`, async (t) => {
      const at = path.join(REPO_ROOT, SEG_DIR, `${file}.nrrd`);
      if (!existsSync(at)) {
        t.skip(`${SEG_DIR}/${file}.nrrd absent`);
        return;
      }
      const volume = await readNrrd(readFileSync(at));
      assert.deepEqual(volume.dims, [512, 512, 3]);
      assert.equal(volume.dataType, 'int16');
      // Header: space LPS, directions (0.81054700000000002,0,0) (0,0.81054700000000002,0) (0,0,1),
      // origin (-235.19999999999999,-226.80000000000001,-128.69), or for liver_spine_seg
      // (-235.199997,-226.800003,-128.69000199999999). Those decimals are the doubles written below;
      // RAS negates the x and y rows.
      const origin = file === 'liver_spine_seg' ? [235.199997, 226.800003, -128.690002] : [235.2, 226.8, -128.69];
      assert.deepEqual(volume.affine, [
        -0.810547, 0, 0, origin[0],
        0, -0.810547, 0, origin[1],
        0, 0, 1, origin[2],
        0, 0, 0, 1,
      ]);
      const counts = new Map<number, number>();
      for (const v of volume.data) counts.set(v, (counts.get(v) ?? 0) + 1);
      const expected = {
        heart_seg: [[0, 744983], [3, 41449]],
        liver_seg: [[0, 679334], [1, 107098]],
        spine_seg: [[0, 773993], [2, 12439]],
        liver_spine_seg: [[0, 666895], [1, 107098], [2, 12439]],
      }[file];
      assert.deepEqual([...counts].sort((a, b) => a[0] - b[0]), expected);
      const back = await readNrrd(await encodeNrrd(volume));
      assert.deepEqual(back.affine, volume.affine);
      assert.deepEqual(back.source, volume.source);
      assert.ok(Buffer.from(back.data.buffer).equals(Buffer.from(volume.data.buffer)));
    });
  }
});

void describe('NRRD encodings and header syntax', () => {
  void test('reads big-endian raw int16 and float64', async () => {
    const shorts = [1, -2, 300, -32768, 32767, 0];
    const be16 = Buffer.alloc(12);
    shorts.forEach((v, n) => be16.writeInt16BE(v, n * 2));
    const int16 = await readNrrd(nrrd(['type: int16', 'dimension: 3', 'sizes: 3 2 1', 'endian: big', 'encoding: raw'], be16));
    assert.deepEqual(Array.from(int16.data), shorts);
    const doubles = [Math.PI, -1e-300, 12345.678];
    const be64 = Buffer.alloc(24);
    doubles.forEach((v, n) => be64.writeDoubleBE(v, n * 8));
    const float64 = await readNrrd(nrrd(['type: double', 'dimension: 3', 'sizes: 1 3 1', 'endian: big', 'encoding: gzip'], gzipSync(be64)));
    assert.deepEqual(Array.from(float64.data), doubles);
  });

  void test('reads every NRRD alias of the eight types', async () => {
    const aliases: Record<string, string[]> = {
      int8: ['signed char', 'int8', 'int8_t'],
      uint8: ['uchar', 'unsigned char', 'uint8', 'uint8_t'],
      int16: ['short', 'short int', 'signed short', 'signed short int', 'int16', 'int16_t'],
      uint16: ['ushort', 'unsigned short', 'unsigned short int', 'uint16', 'uint16_t'],
      int32: ['int', 'signed int', 'int32', 'int32_t'],
      uint32: ['uint', 'unsigned int', 'uint32', 'uint32_t'],
      float32: ['float'],
      float64: ['double'],
    };
    for (const [type, names] of Object.entries(aliases)) {
      for (const name of names) {
        const volume = await readNrrd(nrrd([`type: ${name}`, 'dimension: 3', 'sizes: 1 1 2', 'endian: little', 'encoding: ascii'], Buffer.from('3 4\n')));
        assert.equal(volume.dataType, type, name);
        assert.deepEqual(Array.from(volume.data), [3, 4], name);
      }
    }
  });

  void test('reads ascii (text, commas, nan) and hex encodings', async () => {
    const text = await readNrrd(nrrd(['type: float', 'dimension: 3', 'sizes: 2 2 1', 'encoding: text'], Buffer.from('1.5, -2e3\n\t0.25 nan\n')));
    assert.deepEqual(Array.from(text.data), [1.5, -2000, 0.25, NaN]);
    const hex = await readNrrd(nrrd(['type: ushort', 'dimension: 3', 'sizes: 2 1 1', 'endian: big', 'encoding: hex'], Buffer.from('01 02\nFf0a\n')));
    assert.deepEqual(Array.from(hex.data), [0x0102, 0xff0a]);
  });

  void test('applies line skip and byte skip (raw: file bytes; gzip: decoded bytes)', async () => {
    const raw = await readNrrd(nrrd([...uint8Fields('2 1 1'), 'line skip: 2', 'byte skip: 3'], Buffer.from('junk line\nmore\nXYZ\u0005\u0006', 'latin1')));
    assert.deepEqual(Array.from(raw.data), [5, 6]);
    const gz = await readNrrd(nrrd([...uint8Fields('2 1 1', 'gz'), 'byte skip: 3'], gzipSync(Uint8Array.from([9, 9, 9, 7, 8]))));
    assert.deepEqual(Array.from(gz.data), [7, 8]);
    const many = await readNrrd(nrrd([...uint8Fields('2 1 1'), 'line skip: 100000'], Buffer.concat([Buffer.from('x\n'.repeat(100000)), Uint8Array.from([1, 2])])));
    assert.deepEqual(Array.from(many.data), [1, 2]);
    await rejects(readNrrd(nrrd([...uint8Fields('2 1 1'), 'line skip: 3'], Buffer.from('a\nb\n'))), 'VXG_ERR_VOLUME_TRUNCATED', /ends within the 3 lines its NRRD "line skip" names/);
  });

  void test('ignores comments, key:=value pairs and descriptive fields, and reads CRLF headers', async () => {
    const fields = [
      '# a comment', 'type: uint8', 'DWMRI_b-value:=1000', 'Dimension: 3', 'content: labels', 'sizes: 2 1 1',
      'spacings: 1 1 1', 'kinds: domain domain domain', 'centers: cell cell cell', 'labels: "x" "y" "z"', 'encoding: raw',
      'measurement frame: (1,0,0) (0,1,0) (0,0,1)', 'blocksize: 1', 'old min: 0', 'thicknesses: 1 1 1',
    ];
    const crlf = Buffer.concat([Buffer.from(`NRRD0005\r\n${fields.join('\r\n')}\r\n\r\n`, 'latin1'), Uint8Array.from([1, 2])]);
    assert.deepEqual(Array.from((await readNrrd(crlf)).data), [1, 2]);
    assert.deepEqual(Array.from((await readNrrd(nrrd(fields, Uint8Array.from([3, 4]), 'NRRD0001'))).data), [3, 4]);
  });

  void test('reads a whole NRRD file that was gzipped (.nrrd.gz), with raw or gzip encoding inside', async () => {
    const volume = createVolume([3, 2, 2], ramp('uint16', 12), OBLIQUE);
    for (const encoding of ['raw', 'gzip'] as const) {
      const back = await readNrrd(gzipSync(await encodeNrrd(volume, { encoding })));
      assert.deepEqual(Array.from(back.data), Array.from(volume.data), encoding);
      assert.deepEqual(back.affine, OBLIQUE, encoding);
    }
  });

  void test('reads from a stream split into 1-byte chunks', async () => {
    const file = await encodeNrrd(createVolume([3, 2, 2], ramp('int32', 12), OBLIQUE));
    const volume = await readNrrd(chunksOf([file], 1, { pulled: 0 }));
    assert.deepEqual(Array.from(volume.data), Array.from(ramp('int32', 12)));
    assert.deepEqual(volume.affine, OBLIQUE);
  });
});

void describe('NRRD errors', () => {
  void test('refuses a wrong magic with VXG_ERR_VOLUME_FORMAT', async () => {
    await rejects(readNrrd(nrrd(uint8Fields('1 1 1'), Uint8Array.from([1]), 'NRRX0004')), 'VXG_ERR_VOLUME_FORMAT', /Not a NRRD file: it does not start with NRRD0001 to NRRD0005/);
    await rejects(readNrrd(nrrd(uint8Fields('1 1 1'), Uint8Array.from([1]), 'NRRD0009')), 'VXG_ERR_VOLUME_FORMAT', /NRRD version "NRRD0009" is not one Voxgate reads/);
    await rejects(readNrrd(Buffer.from('NRRD')), 'VXG_ERR_VOLUME_TRUNCATED', /ends after 4 bytes, inside its NRRD magic/);
  });

  void test('refuses a detached data file with VXG_ERR_VOLUME_FORMAT', async () => {
    const fields = ['type: short', 'dimension: 3', 'sizes: 2 2 2', 'endian: little', 'encoding: raw', 'data file: ct.raw'];
    await rejects(readNrrd(nrrd(fields)), 'VXG_ERR_VOLUME_FORMAT', /separate file \(data file: ct\.raw\); send a single \.nrrd with attached data/);
    // A .nhdr ends at the end of the file, without the blank line.
    await rejects(readNrrd(Buffer.from(`NRRD0004\n${fields.join('\n')}\n`)), 'VXG_ERR_VOLUME_FORMAT', /send a single \.nrrd with attached data/);
  });

  void test('gives VXG_ERR_VOLUME_TRUNCATED for short raw data, naming expected and got', async () => {
    await rejects(readNrrd(nrrd(uint8Fields('5 4 3'), new Uint8Array(50))), 'VXG_ERR_VOLUME_TRUNCATED', /holds 50 of the 60 bytes of voxel data its NRRD header declares \(5×4×3 uint8\)/);
    await rejects(readNrrd(Buffer.from(`NRRD0004\n${uint8Fields('5 4 3').join('\n')}\n`)), 'VXG_ERR_VOLUME_TRUNCATED', /inside its NRRD header/);
  });

  void test('gives VXG_ERR_VOLUME_TRUNCATED for a cut gzip stream, inside the data or in its trailer', async () => {
    const gz = gzipSync(new Uint8Array(60).fill(7));
    await rejects(readNrrd(nrrd(uint8Fields('5 4 3', 'gzip'), gz.subarray(0, 12))), 'VXG_ERR_VOLUME_TRUNCATED', /gzip data ends early: it decodes to \d+ of the 60 bytes/);
    await rejects(readNrrd(nrrd(uint8Fields('5 4 3', 'gzip'), gz.subarray(0, gz.length - 3))), 'VXG_ERR_VOLUME_TRUNCATED', /before its end-of-stream trailer \(all 60 bytes of 5×4×3 uint8 decoded, checksum missing\)/);
    await rejects(readNrrd(nrrd(uint8Fields('5 4 3', 'gzip'))), 'VXG_ERR_VOLUME_TRUNCATED', /decodes to 0 of the 60 bytes/);
  });

  void test('gives VXG_ERR_VOLUME_CORRUPT for a damaged gzip stream', async () => {
    const gz = gzipSync(new Uint8Array(60).fill(7));
    gz[gz.length - 6] ^= 0xff; // the CRC
    await rejects(readNrrd(nrrd(uint8Fields('5 4 3', 'gzip'), gz)), 'VXG_ERR_VOLUME_CORRUPT', /gzip data is corrupt/);
    await rejects(readNrrd(nrrd(uint8Fields('5 4 3', 'gzip'), new Uint8Array(60))), 'VXG_ERR_VOLUME_CORRUPT', /incorrect header check/);
  });

  void test('refuses lying sizes: more than the data is truncated, less is VXG_ERR_VOLUME_HEADER', async () => {
    const bytes = new Uint8Array(60);
    await rejects(readNrrd(nrrd(uint8Fields('5 4 4'), bytes)), 'VXG_ERR_VOLUME_TRUNCATED', /holds 60 of the 80 bytes/);
    await rejects(readNrrd(nrrd(uint8Fields('5 4 2'), bytes)), 'VXG_ERR_VOLUME_HEADER', /more data than the 40 bytes its NRRD header declares \(5×4×2 uint8\)/);
    await rejects(readNrrd(nrrd(uint8Fields('5 4 4', 'gzip'), gzipSync(bytes))), 'VXG_ERR_VOLUME_TRUNCATED', /holds 60 of the 80 bytes/);
    await rejects(readNrrd(nrrd(uint8Fields('5 4 2', 'gzip'), gzipSync(bytes))), 'VXG_ERR_VOLUME_HEADER', /gzip data decodes to more than the 40 bytes its header declares \(5×4×2 uint8\)/);
    await rejects(readNrrd(nrrd(['type: uint8', 'dimension: 3', 'sizes: 2 2 1', 'encoding: ascii'], Buffer.from('1 2 3'))), 'VXG_ERR_VOLUME_TRUNCATED', /ascii data holds 3 of the 4 values/);
    await rejects(readNrrd(nrrd(['type: uint8', 'dimension: 3', 'sizes: 2 1 1', 'encoding: ascii'], Buffer.from('1 2 3'))), 'VXG_ERR_VOLUME_HEADER', /more than the 2 values/);
  });

  void test('refuses zero spacing with VXG_ERR_VOLUME_SPACING and parallel axes with VXG_ERR_VOLUME_AFFINE', async () => {
    const withDirections = (directions: string): Buffer => nrrd([
      'type: uint8', 'dimension: 3', 'space: LPS', 'sizes: 1 1 1', `space directions: ${directions}`, 'encoding: raw',
    ], Uint8Array.from([1]));
    await rejects(readNrrd(withDirections('(1,0,0) (0,0,0) (0,0,1)')), 'VXG_ERR_VOLUME_SPACING', /space directions give voxel spacing 1 × 0 × 1 mm/);
    await rejects(readNrrd(withDirections('(1,0,0) (0,nan,0) (0,0,1)')), 'VXG_ERR_VOLUME_SPACING', /spacing must be finite and non-zero/);
    await rejects(readNrrd(withDirections('(1,0,0) (2,0,0) (0,0,1)')), 'VXG_ERR_VOLUME_AFFINE', /NRRD space directions is singular/);
    await rejects(readNrrd(nrrd(['type: uint8', 'dimension: 3', 'sizes: 1 1 1', 'spacings: 1 0 1', 'encoding: raw'], Uint8Array.from([1]))),
      'VXG_ERR_VOLUME_SPACING', /NRRD spacings give voxel spacing 1 × 0 × 1 mm/);
  });

  void test('refuses unknown and 64-bit types with VXG_ERR_VOLUME_DATATYPE', async () => {
    const withType = (type: string): Buffer => nrrd([`type: ${type}`, 'dimension: 3', 'sizes: 1 1 1', 'endian: little', 'encoding: raw'], new Uint8Array(8));
    await rejects(readNrrd(withType('complex')), 'VXG_ERR_VOLUME_DATATYPE', /NRRD type "complex" is not a type Voxgate reads/);
    await rejects(readNrrd(withType('char')), 'VXG_ERR_VOLUME_DATATYPE', /NRRD type "char" is not a type/);
    await rejects(readNrrd(withType('long long')), 'VXG_ERR_VOLUME_DATATYPE', /64-bit integers/);
    await rejects(readNrrd(withType('uint64_t')), 'VXG_ERR_VOLUME_DATATYPE', /64-bit integers/);
    await rejects(readNrrd(withType('block')), 'VXG_ERR_VOLUME_DATATYPE', /"block"/);
  });

  void test('refuses a 4D vector or time series with VXG_ERR_VOLUME_NOT_3D', async () => {
    await rejects(readNrrd(nrrd([
      'type: float', 'dimension: 4', 'space: left-posterior-superior', 'sizes: 3 4 3 2',
      'space directions: none (1,0,0) (0,1,0) (0,0,1)', 'kinds: vector domain domain domain', 'endian: little', 'encoding: raw',
    ], new Uint8Array(4 * 72))), 'VXG_ERR_VOLUME_NOT_3D', /has 4 axes \(3×4×3×2\); axis 0 \(kind vector\) holds 3 values per voxel/);
    await rejects(readNrrd(nrrd([
      'type: uint8', 'dimension: 4', 'sizes: 4 3 2 5', 'kinds: domain domain domain time', 'encoding: raw',
    ], new Uint8Array(120))), 'VXG_ERR_VOLUME_NOT_3D', /axis 3 \(kind time\) holds 5 values per voxel/);
    await rejects(readNrrd(nrrd(['type: uint8', 'dimension: 2', 'sizes: 4 3', 'encoding: raw'], new Uint8Array(12))),
      'VXG_ERR_VOLUME_NOT_3D', /has 2 spatial axes/);
  });

  void test('refuses header fields it cannot honour with VXG_ERR_VOLUME_HEADER', async () => {
    const base = ['type: short', 'dimension: 3', 'sizes: 1 1 1', 'encoding: raw'];
    const data = new Uint8Array(2);
    await rejects(readNrrd(nrrd(base, data)), 'VXG_ERR_VOLUME_HEADER', /no "endian" field, which int16 data in raw encoding needs/);
    await rejects(readNrrd(nrrd([...base, 'endian: little', 'space: scanner-xyz'], data)), 'VXG_ERR_VOLUME_HEADER', /NRRD space "scanner-xyz" is not one Voxgate reads/);
    await rejects(readNrrd(nrrd([...base, 'endian: little', 'space directions: (1,0,0) (0,1,0) (0,0,1)'], data)), 'VXG_ERR_VOLUME_HEADER', /no "space"/);
    await rejects(readNrrd(nrrd([...base, 'endian: little', 'space direction: (1,0,0) (0,1,0) (0,0,1)'], data)), 'VXG_ERR_VOLUME_HEADER', /unknown field "space direction"/);
    await rejects(readNrrd(nrrd([...base, 'endian: little', 'endian: big'], data)), 'VXG_ERR_VOLUME_HEADER', /gives the field "endian" twice/);
    await rejects(readNrrd(nrrd(['type: short', 'dimension: 3', 'sizes: 1 1', 'endian: little', 'encoding: raw'], data)), 'VXG_ERR_VOLUME_HEADER', /sizes has 2 entries; dimension 3 needs 3/);
    await rejects(readNrrd(nrrd(['type: short', 'dimension: 3', 'sizes: 1 1 1', 'endian: little'], data)), 'VXG_ERR_VOLUME_HEADER', /no "encoding" field/);
    await rejects(readNrrd(nrrd([...base, 'endian: little', 'space: RAS', 'space origin: (1,2)'], data)), 'VXG_ERR_VOLUME_HEADER', /space origin "\(1,2\)" has 2 components/);
  });

  void test('refuses bzip2 and byte skip -1 with VXG_ERR_VOLUME_FORMAT', async () => {
    await rejects(readNrrd(nrrd(uint8Fields('1 1 1', 'bz2'), new Uint8Array(1))), 'VXG_ERR_VOLUME_FORMAT', /bzip2 encoding is not supported/);
    await rejects(readNrrd(nrrd([...uint8Fields('1 1 1'), 'byte skip: -1'], new Uint8Array(1))), 'VXG_ERR_VOLUME_FORMAT', /"byte skip: -1" .* is not supported/);
  });

  void test('refuses bad ascii values: VXG_ERR_VOLUME_CORRUPT for text, VXG_ERR_VOLUME_DATATYPE out of range', async () => {
    const fields = ['type: uint8', 'dimension: 3', 'sizes: 2 1 1', 'encoding: ascii'];
    await rejects(readNrrd(nrrd(fields, Buffer.from('1 0x10'))), 'VXG_ERR_VOLUME_CORRUPT', /"0x10" at value 1, which is not a number/);
    await rejects(readNrrd(nrrd(fields, Buffer.from('1 256'))), 'VXG_ERR_VOLUME_DATATYPE', /ascii value 256 at value 1 is not a uint8 \(0\.\.255\)/);
  });

  void test('refuses a header with no blank line in its first MiB', async () => {
    const long = Buffer.concat([Buffer.from('NRRD0004\n# '), Buffer.alloc(2 << 20, 0x61)]);
    await rejects(readNrrd(long), 'VXG_ERR_VOLUME_HEADER', /no blank line within its first 1048576 bytes/);
  });

  void test('refuses a declared size over the limit before allocating, with VXG_ERR_VOLUME_TOO_LARGE', async () => {
    const huge = nrrd(['type: double', 'dimension: 3', 'sizes: 100000 100000 100000', 'endian: little', 'encoding: gzip']);
    await rejects(readNrrd(huge), 'VXG_ERR_VOLUME_TOO_LARGE', /100000×100000×100000 float64 \(8000000000000000 bytes\), over the limit of 1500000000/);
    await rejects(readNrrd(nrrd(uint8Fields('10 10 10'), new Uint8Array(1000)), { maxDecodedBytes: 1000 }), 'VXG_ERR_VOLUME_TOO_LARGE', /over the limit of 1000 decoded bytes/);
  });

  void test('stops a gzip bomb at the limit without inflating it', async () => {
    const bomb = await gzipOfZeros(200);
    const header = nrrd(uint8Fields('10 10 10', 'gzip'));
    const small = { pulled: 0 };
    await rejects(readNrrd(chunksOf([header, bomb], 4096, small), { maxDecodedBytes: 1 << 20 }),
      'VXG_ERR_VOLUME_TOO_LARGE', /gzip data decodes to more than 1048576 bytes, the configured limit; its header declares 1000 bytes \(10×10×10 uint8\)/);
    const total = 1 + Math.ceil(bomb.length / 4096);
    assert.ok(small.pulled <= 8, `pulled ${small.pulled} of ${total} chunks`);
    // Under the default limit the excess stops it after a bounded probe, as a lying header.
    const large = { pulled: 0 };
    await rejects(readNrrd(chunksOf([header, bomb], 4096, large)), 'VXG_ERR_VOLUME_HEADER', /gzip data decodes to more than the 1000 bytes its header declares \(10×10×10 uint8\)/);
    assert.ok(large.pulled <= 8, `pulled ${large.pulled} of ${total} chunks`);
  });
});
