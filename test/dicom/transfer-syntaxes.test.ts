/**
 * The single-image files of ../shared/data/dicom_single in every transfer syntax they come in: each
 * decodes to the pixels SOURCES.md hashes (GDCM's decoding), and to the same volume as its
 * uncompressed version. The Enhanced CT multi-frame gives a volume with its functional-group geometry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initCodecs } from '../../src/dicom/codecs.js';
import { decodeFrame, pixelFormatOf } from '../../src/dicom/pixel-data.js';
import { readPart10 } from '../../src/dicom/read-part10.js';
import { readDicomSeries } from '../../src/dicom/read-series.js';
import { TransferSyntax } from '../../src/dicom/tags.js';
import { isVoxgateError } from '../../src/errors.js';
import { affineRows, axisCodes, columnNorms } from '../../src/volume/affine.js';

const SINGLE = fileURLToPath(new URL('../../../shared/data/dicom_single/', import.meta.url));
const absent = existsSync(SINGLE) ? false : `shared data absent: ${SINGLE} (see ../shared/data/SOURCES.md)`;
if (absent) process.stderr.write(`\n*** SKIPPING ${absent} ***\n\n`);

/** SHA-256 of all frames' stored values, little-endian, as SOURCES.md computed them with GDCM. */
async function decodedHash(file: string): Promise<{ hash: string; syntax: string }> {
  await initCodecs(); // again after a decoder failure, which drops the codec instance
  const part10 = readPart10(path.basename(file), await readFile(file));
  const format = pixelFormatOf(part10.dataset)!;
  const hash = createHash('sha256');
  for (let f = 0; f < format.numberOfFrames; f++) {
    const values = decodeFrame(part10, format, f);
    hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  return { hash: hash.digest('hex'), syntax: part10.transferSyntaxUID };
}

async function volumeOf(file: string): Promise<Awaited<ReturnType<typeof readDicomSeries>>> {
  return readDicomSeries([{ name: path.basename(file), bytes: await readFile(file) }]);
}

const MR_SMALL = [
  ['MR_small.dcm', TransferSyntax.ExplicitVRLittleEndian],
  ['MR_small_implicit.dcm', TransferSyntax.ImplicitVRLittleEndian],
  ['MR_small_bigendian.dcm', TransferSyntax.ExplicitVRBigEndian],
  ['MR_small_RLE.dcm', TransferSyntax.RLELossless],
  ['MR_small_jp2klossless.dcm', TransferSyntax.JPEG2000Lossless],
  ['MR_small_jpeg_ls_lossless.dcm', TransferSyntax.JPEGLSLossless],
] as const;

test('pydicom MR_small in 6 transfer syntaxes decodes to the pixels SOURCES.md hashes, and to one volume', { skip: absent }, async () => {
  await initCodecs();
  const reference = await volumeOf(path.join(SINGLE, 'pydicom', 'MR_small.dcm'));
  assert.equal(reference.volume.dataType, 'int16');
  assert.deepEqual(reference.volume.dims, [64, 64, 1]);
  for (const [name, syntax] of MR_SMALL) {
    const file = path.join(SINGLE, 'pydicom', name);
    assert.deepEqual(await decodedHash(file), { hash: '88617aaa46138fb1b6e2a951e762d962382354d69f47f8c04d4abff2f6a6a63e', syntax }, name);
    const { volume } = await volumeOf(file);
    assert.deepEqual(volume.data, reference.volume.data, name);
    assert.deepEqual(volume.affine, reference.volume.affine, name);
  }
});

const DCM_QA_TS = [
  ['1.dcm', TransferSyntax.ExplicitVRLittleEndian],
  ['2.dcm', TransferSyntax.ImplicitVRLittleEndian],
  ['3.dcm', TransferSyntax.ExplicitVRBigEndian],
  ['4.dcm', TransferSyntax.RLELossless],
  ['5.dcm', TransferSyntax.JPEGLosslessSV1],
  ['6.dcm', TransferSyntax.JPEGLosslessSV1],
  ['7.dcm', TransferSyntax.JPEGLSLossless],
  ['8.dcm', TransferSyntax.JPEGLSLossless],
  ['9.dcm', TransferSyntax.JPEG2000Lossless],
] as const;

test('dcm_qa_ts: the 12-bit Siemens mosaic in 9 transfer syntaxes decodes to identical pixels (SOURCES.md hash)', { skip: absent }, async () => {
  await initCodecs();
  const reference = await volumeOf(path.join(SINGLE, 'dcm_qa_ts', 'In', '1.dcm'));
  assert.equal(reference.volume.dataType, 'int16'); // unsigned 12-bit values fit int16
  assert.match(reference.warnings.join('\n'), /Siemens mosaic.*not de-mosaicked/);
  for (const [name, syntax] of DCM_QA_TS) {
    const file = path.join(SINGLE, 'dcm_qa_ts', 'In', name);
    assert.deepEqual(await decodedHash(file), { hash: 'e4943a308aba1b659425d0d0d21e08b38ff690731184b6d7574834b39bccb81a', syntax }, name);
    if (name !== '1.dcm') assert.deepEqual((await volumeOf(file)).volume.data, reference.volume.data, name);
  }
});

test('pydicom CT_small decodes to its SOURCES.md hash and rescales to HU', { skip: absent }, async () => {
  const file = path.join(SINGLE, 'pydicom', 'CT_small.dcm');
  assert.equal((await decodedHash(file)).hash, '7a481f6ffff833aef4d8bd54819bd8f472aaa7232090208e056c90eacf079926');
  const { volume } = await volumeOf(file);
  let min = Infinity;
  let max = -Infinity;
  for (const v of volume.data) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  assert.deepEqual([volume.dataType, min, max], ['int16', 128 - 1024, 2191 - 1024]);
});

test('the Enhanced CT (2 frames, functional groups) decodes to its hash and gives a 512×512×2 volume with its frame geometry', { skip: absent }, async () => {
  const file = path.join(SINGLE, 'pydicom-data', 'eCT_Supplemental.dcm');
  assert.equal((await decodedHash(file)).hash, 'b6b202c4af4494a26933ffa7834f9ab6b8a5b4b623f105751e84829abbcdd302');
  const { volume, series, warnings } = await volumeOf(file);
  assert.deepEqual(volume.dims, [512, 512, 2]);
  assert.deepEqual(warnings, []);
  // Shared groups: IOP −1\0\0\0\1\0 (rows run to the patient's right), spacing 0.388672 mm; per-frame
  // positions z = −159 and −149 mm, so the normal (0, 0, −1) puts z = −149 first, 10 mm apart.
  assert.deepEqual(axisCodes(volume.affine), ['R', 'A', 'I']);
  const spacing = columnNorms(volume.affine);
  assert.ok(Math.abs(spacing[0] - 0.388672) < 1e-9 && Math.abs(spacing[1] - 0.388672) < 1e-9 && Math.abs(spacing[2] - 10) < 1e-9);
  const rows = affineRows(volume.affine);
  const expectedOrigin = [-99.5, 301.5 - 511 * 0.388672, -149]; // RAS of column 0, row 511 of the z = −149 frame
  for (let a = 0; a < 3; a++) assert.ok(Math.abs(rows[a][3] - expectedOrigin[a]) < 1e-6, `origin ${rows.map((r) => r[3]).join(', ')}`);
  assert.deepEqual(series.slices.map((s) => s.frameNumber), [2, 1]);
  assert.equal(series.slices[0].sopClassUID, '1.2.840.10008.5.1.4.1.1.2.1');
});

/** `bytes` with `count` bytes of noise written `offset` bytes into the first pixel data fragment. */
function damageFragment(bytes: Uint8Array, offset: number, count: number): Uint8Array {
  const fragment = readPart10('x', bytes).dataset.elements.get(0x7fe00010)?.encapsulated?.fragments[0];
  assert.ok(fragment);
  const copy = bytes.slice();
  const start = fragment.byteOffset - bytes.byteOffset + offset;
  for (let n = start; n < start + count; n++) copy[n] = (n * 7919) & 0xff;
  return copy;
}

test('damaged JPEG 2000 and JPEG-LS streams are VXG_ERR_DICOM_DECODE naming the file; the codecs keep working', { skip: absent }, async () => {
  for (const name of ['MR_small_jp2klossless.dcm', 'MR_small_jpeg_ls_lossless.dcm']) {
    const bytes = await readFile(path.join(SINGLE, 'pydicom', name));
    for (const [offset, count] of [[0, 60], [100, 1400]]) {
      await assert.rejects(readDicomSeries([{ name: `damaged-${name}`, bytes: damageFragment(bytes, offset, count) }]), (err) => {
        assert.ok(isVoxgateError(err, 'VXG_ERR_DICOM_DECODE'), String(err));
        assert.ok(err.message.startsWith(`damaged-${name}: the `), err.message);
        return true;
      });
    }
  }
  // A codec that trapped (JPEG-LS aborts inside the WebAssembly) still decodes the next file.
  assert.equal((await decodedHash(path.join(SINGLE, 'pydicom', 'MR_small_jpeg_ls_lossless.dcm'))).hash, '88617aaa46138fb1b6e2a951e762d962382354d69f47f8c04d4abff2f6a6a63e');
});

test('a transfer syntax without a decoder is VXG_ERR_DICOM_UNSUPPORTED_SYNTAX naming the file and the UID', { skip: absent }, async () => {
  const bytes = new Uint8Array(await readFile(path.join(SINGLE, 'pydicom', 'MR_small_jp2klossless.dcm')));
  // Rewrite 1.2.840.10008.1.2.4.90 (JPEG 2000 lossless) as .4.92 (JPEG 2000 Part 2 multi-component), same length.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const at = text.indexOf('1.2.840.10008.1.2.4.90');
  assert.ok(at > 0 && at < 400);
  bytes[at + 21] = '2'.charCodeAt(0);
  await assert.rejects(readDicomSeries([{ name: 'part2.dcm', bytes }]), {
    code: 'VXG_ERR_DICOM_UNSUPPORTED_SYNTAX',
    message: 'part2.dcm: transfer syntax 1.2.840.10008.1.2.4.92 is not one Voxgate decodes.',
  });
});
