import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { readPart10 } from '../../src/dicom/read-part10.js';
import { readDicomSeries } from '../../src/dicom/read-series.js';
import { Tag, TransferSyntax } from '../../src/dicom/tags.js';
import { isVoxgateError } from '../../src/errors.js';
import { axialPositions, makeSeries } from '../helpers/dicom-series.js';

const J2K_SLICE = new URL(
  '../../../shared/data/dicom_ct_series/totalseg_patientC_petct_20slices/example_ct_dicom/CT.1.3.12.2.1107.5.1.4.60064.30000022120808113428000016573',
  import.meta.url,
);

test('reads the meta information, transfer syntax, SOP UIDs and values of a synthetic file', () => {
  const [file] = makeSeries({ positions: [[1.5, -2, 30.25]], sopInstanceUIDs: ['1.2.3.4.5'] });
  const part10 = readPart10(file.name, file.bytes);
  assert.equal(part10.transferSyntaxUID, TransferSyntax.ExplicitVRLittleEndian);
  assert.equal(part10.sopInstanceUID, '1.2.3.4.5');
  assert.equal(part10.sopClassUID, '1.2.840.10008.5.1.4.1.1.2');
  assert.deepEqual(part10.dataset.numbers(Tag.ImagePositionPatient), [1.5, -2, 30.25]);
  assert.equal(part10.dataset.number(Tag.Rows), 6);
  assert.equal(part10.dataset.string(Tag.Modality), 'CT');
  assert.equal(part10.naturalized().PatientID, 'VXG-TEST');
});

test('a text file is refused with VXG_ERR_DICOM_NOT_DICOM naming the file', () => {
  assert.throws(() => readPart10('notes.txt', new TextEncoder().encode('Not an image, just some words.\n'.repeat(10))), (err) => {
    assert.ok(isVoxgateError(err, 'VXG_ERR_DICOM_NOT_DICOM'));
    assert.equal(err.message, 'notes.txt: not a DICOM file (no "DICM" marker at byte 128).');
    return true;
  });
  assert.throws(() => readPart10('empty', new Uint8Array(0)), { code: 'VXG_ERR_DICOM_NOT_DICOM', message: 'empty: not a DICOM file (only 0 bytes).' });
});

test('every truncation of a file is refused or leaves the pixel data out, never shortened', () => {
  const [file] = makeSeries({ positions: axialPositions(1) });
  const full = readPart10('full.dcm', file.bytes);
  const pixelBytes = full.dataset.value(Tag.PixelData)?.length;
  let truncated = 0;
  for (let cut = 0; cut < file.bytes.length; cut++) {
    try {
      const part = readPart10('cut.dcm', file.bytes.subarray(0, cut));
      // A cut exactly between two elements is a shorter valid dataset; it must not hold pixel data.
      assert.equal(part.dataset.has(Tag.PixelData), false, `cut at ${cut} kept pixel data`);
    } catch (err) {
      assert.ok(isVoxgateError(err), `cut at ${cut}: ${String(err)}`);
      assert.ok(['VXG_ERR_DICOM_TRUNCATED', 'VXG_ERR_DICOM_NOT_DICOM'].includes(err.code), `cut at ${cut}: ${err.code}`);
      assert.ok(err.message.startsWith('cut.dcm: '));
      if (err.code === 'VXG_ERR_DICOM_TRUNCATED') truncated++;
    }
  }
  assert.ok(truncated > file.bytes.length / 2);
  assert.equal(pixelBytes, 6 * 8 * 2);
});

test('a JPEG 2000 file cut inside its pixel data is VXG_ERR_DICOM_TRUNCATED, naming the element', async (t) => {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(J2K_SLICE);
  } catch {
    t.skip('shared data absent: ../shared/data/dicom_ct_series/totalseg_patientC_petct_20slices');
    return;
  }
  assert.throws(() => readPart10('CT.cut', bytes.subarray(0, bytes.length - 1000)), (err) => {
    assert.ok(isVoxgateError(err, 'VXG_ERR_DICOM_TRUNCATED'));
    assert.match(err.message, /^CT\.cut: truncated DICOM file: the file ends inside a pixel data fragment/);
    return true;
  });
});

test('a broken sequence item is VXG_ERR_DICOM_MALFORMED', () => {
  const [file] = makeSeries({ positions: axialPositions(1), extra: { ReferencedImageSequence: [{ ReferencedSOPClassUID: '1.2.3', ReferencedSOPInstanceUID: '1.2.3.4' }] } });
  const bytes = file.bytes.slice();
  // dcmjs writes sequences with undefined length: find the item tag (FFFE,E000) and damage it.
  let at = -1;
  for (let n = 132; n < bytes.length - 4; n++) {
    if (bytes[n] === 0xfe && bytes[n + 1] === 0xff && bytes[n + 2] === 0x00 && bytes[n + 3] === 0xe0) {
      at = n;
      break;
    }
  }
  assert.ok(at > 0);
  bytes[at + 2] = 0x01;
  assert.throws(() => readPart10('bad-item.dcm', bytes), (err) => {
    assert.ok(isVoxgateError(err, 'VXG_ERR_DICOM_MALFORMED'));
    assert.match(err.message, /^bad-item\.dcm: malformed DICOM at offset \d+: \(FFFE,E001\) where an item of \(0008,1140\) must be\.$/);
    return true;
  });
});

test('randomly damaged files never crash the reader: each gives a volume or a VoxgateError', async () => {
  const seeds = (['explicit-le', 'implicit-le', 'explicit-be', 'deflate'] as const).map(
    (syntax) => makeSeries({ positions: axialPositions(1), syntax, extra: { ReferencedImageSequence: [{ ReferencedSOPClassUID: '1.2.3', ReferencedSOPInstanceUID: '1.2.3.4' }] } })[0].bytes,
  );
  let state = 12345; // xorshift32: the same damage every run
  const random = (): number => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  const outcomes = new Map<string, number>();
  for (let n = 0; n < 600; n++) {
    const bytes = seeds[n % seeds.length].slice();
    for (let flips = 1 + (random() % 4); flips > 0; flips--) bytes[128 + (random() % (bytes.length - 128))] = random() & 0xff;
    try {
      await readDicomSeries([{ name: `damaged-${n}.dcm`, bytes }]);
      outcomes.set('volume', (outcomes.get('volume') ?? 0) + 1);
    } catch (err) {
      assert.ok(isVoxgateError(err), `damaged-${n}.dcm: ${(err as Error).stack}`);
      outcomes.set(err.code, (outcomes.get(err.code) ?? 0) + 1);
    }
  }
  assert.ok((outcomes.get('volume') ?? 0) > 100 && (outcomes.get('VXG_ERR_DICOM_NO_IMAGES') ?? 0) > 100, JSON.stringify([...outcomes]));
});
