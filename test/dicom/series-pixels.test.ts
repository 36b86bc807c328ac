import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readDicomSeries } from '../../src/dicom/read-series.js';
import type { Vec3 } from '../../src/volume/affine.js';
import { columnNorms } from '../../src/volume/affine.js';
import { AXIAL, addressValue, axialPositions, makeSeries, testUid, writePart10 } from '../helpers/dicom-series.js';
import type { SyntheticSyntax } from '../helpers/dicom-series.js';
import { expectLayout } from './expect-layout.js';

const positions = axialPositions(3);
const layout = { rows: 6, columns: 8, pixelSpacing: [0.5, 0.75] as const, orientation: AXIAL, positions, order: [0, 1, 2] };

test('uint16 stored values with slope 1, intercept −1024 become int16 Hounsfield units', async () => {
  const { volume } = await readDicomSeries(makeSeries({ positions, pixelRepresentation: 0, rescaleIntercept: -1024, pixel: (c, r, s) => 1000 + addressValue(c, r, s) }));
  assert.equal(volume.dataType, 'int16');
  expectLayout(volume, { ...layout, value: (c, r, s) => addressValue(c, r, s) - 24 });
});

test('signed values and a negative intercept stay exact in int16', async () => {
  const { volume } = await readDicomSeries(makeSeries({ positions, rescaleIntercept: -1024, pixel: (c, r, s) => addressValue(c, r, s) - 500 }));
  assert.equal(volume.dataType, 'int16');
  expectLayout(volume, { ...layout, value: (c, r, s) => addressValue(c, r, s) - 1524 });
});

test('a fractional slope gives float32 values', async () => {
  const { volume } = await readDicomSeries(makeSeries({ positions, rescaleSlope: 0.5, rescaleIntercept: 10.25 }));
  assert.equal(volume.dataType, 'float32');
  expectLayout(volume, { ...layout, value: (c, r, s) => addressValue(c, r, s) * 0.5 + 10.25 });
});

test('integer results that do not fit int16 are kept exactly in uint16 or int32', async () => {
  const big = await readDicomSeries(makeSeries({ positions, pixelRepresentation: 0, pixel: (c, r, s) => 60000 + addressValue(c, r, s) }));
  assert.equal(big.volume.dataType, 'uint16');
  expectLayout(big.volume, { ...layout, value: (c, r, s) => 60000 + addressValue(c, r, s) });
  const wide = await readDicomSeries(makeSeries({ positions, pixelRepresentation: 0, rescaleSlope: 3, rescaleIntercept: -70000, pixel: (c, r, s) => 60000 + addressValue(c, r, s) }));
  assert.equal(wide.volume.dataType, 'int32');
  expectLayout(wide.volume, { ...layout, value: (c, r, s) => 3 * (60000 + addressValue(c, r, s)) - 70000 });
});

test('slices with different rescale intercepts are each rescaled with their own', async () => {
  const files = positions.map((p, s) => makeSeries({ positions: [p], seriesInstanceUID: '1.2.3.99', rescaleIntercept: -1000 * s, pixel: (c, r) => addressValue(c, r, s) + 1000 * s, names: [`s${s}.dcm`] })[0]);
  const { volume } = await readDicomSeries(files);
  expectLayout(volume, { ...layout, value: addressValue });
});

test('signed 12-bit values in 16 bits: bits above BitsStored are masked off and the sign extended', async () => {
  // Garbage in the top four bits (overlay bits in old scanners) must not leak into the values.
  const stored = (c: number, r: number, s: number): number => ((addressValue(c, r, s) - 100) & 0x0fff) | 0xa000;
  const { volume } = await readDicomSeries(makeSeries({ positions, bitsStored: 12, pixelRepresentation: 1, pixel: stored }));
  expectLayout(volume, { ...layout, value: (c, r, s) => addressValue(c, r, s) - 100 });
});

test('unsigned 12-bit values stored in the high bits (HighBit 15) are shifted down', async () => {
  const stored = (c: number, r: number, s: number): number => (addressValue(c, r, s) << 4) | 0x7;
  const { volume } = await readDicomSeries(makeSeries({ positions, bitsStored: 12, highBit: 15, pixelRepresentation: 0, pixel: stored }));
  expectLayout(volume, { ...layout, value: addressValue });
});

test('8-bit unsigned and 32-bit signed pixel data', async () => {
  const u8 = await readDicomSeries(makeSeries({ positions, bitsAllocated: 8, pixelRepresentation: 0, pixel: (c, r, s) => (c + 8 * r + 50 * s) & 0xff }));
  expectLayout(u8.volume, { ...layout, value: (c, r, s) => (c + 8 * r + 50 * s) & 0xff });
  const s32 = await readDicomSeries(makeSeries({ positions, bitsAllocated: 32, pixelRepresentation: 1, rescaleIntercept: -5, pixel: (c, r, s) => -addressValue(c, r, s) }));
  expectLayout(s32.volume, { ...layout, value: (c, r, s) => -addressValue(c, r, s) - 5 });
});

for (const syntax of ['implicit-le', 'explicit-be', 'deflate'] as SyntheticSyntax[]) {
  test(`${syntax} files give the same volume as explicit VR little endian`, async () => {
    const spec = { positions, rescaleIntercept: -1024, pixel: (c: number, r: number, s: number) => addressValue(c, r, s) - 300 };
    const reference = await readDicomSeries(makeSeries(spec));
    const { volume } = await readDicomSeries(makeSeries({ ...spec, syntax }));
    expectLayout(volume, { ...layout, value: (c, r, s) => addressValue(c, r, s) - 1324 });
    assert.deepEqual(volume.data, reference.volume.data);
    assert.deepEqual(volume.affine, reference.volume.affine);
  });
}

test('big-endian 12-bit unsigned values are swapped, then masked', async () => {
  const stored = (c: number, r: number, s: number): number => addressValue(c, r, s) | 0xf000;
  const { volume } = await readDicomSeries(makeSeries({ positions, syntax: 'explicit-be', bitsStored: 12, pixelRepresentation: 0, pixel: stored }));
  expectLayout(volume, { ...layout, value: addressValue });
});

test('an enhanced multi-frame CT: per-frame positions, shared orientation, spacing and rescale', async () => {
  const rows = 4;
  const columns = 5;
  const framePositions: Vec3[] = [[3, 4, 10], [3, 4, 4], [3, 4, 7]]; // stored out of order
  const pixels = new Int16Array(rows * columns * 3);
  for (let f = 0; f < 3; f++) for (let p = 0; p < rows * columns; p++) pixels[f * rows * columns + p] = p + 100 * f;
  const uid = testUid();
  const bytes = writePart10(
    {
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.2.1',
      SOPInstanceUID: uid,
      StudyInstanceUID: testUid(),
      SeriesInstanceUID: testUid(),
      FrameOfReferenceUID: testUid(),
      Modality: 'CT',
      NumberOfFrames: 3,
      Rows: rows,
      Columns: columns,
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      BitsAllocated: 16,
      BitsStored: 16,
      HighBit: 15,
      PixelRepresentation: 1,
      SharedFunctionalGroupsSequence: [
        {
          PixelMeasuresSequence: [{ PixelSpacing: [0.6, 0.7], SliceThickness: 5 }],
          PlaneOrientationSequence: [{ ImageOrientationPatient: [1, 0, 0, 0, 1, 0] }],
          PixelValueTransformationSequence: [{ RescaleIntercept: -1024, RescaleSlope: 1, RescaleType: 'HU' }],
        },
      ],
      PerFrameFunctionalGroupsSequence: framePositions.map((p) => ({ PlanePositionSequence: [{ ImagePositionPatient: [...p] }] })),
    },
    pixels,
    'explicit-le',
  );
  const { volume, series } = await readDicomSeries([{ name: 'enhanced.dcm', bytes }]);
  expectLayout(volume, {
    rows,
    columns,
    pixelSpacing: [0.6, 0.7],
    orientation: AXIAL,
    positions: framePositions,
    order: [1, 2, 0],
    value: (c, r, f) => r * columns + c + 100 * f - 1024,
  });
  assert.deepEqual(columnNorms(volume.affine), [0.7, 0.6, 3]);
  assert.deepEqual(series.slices.map((s) => [s.sopInstanceUID, s.frameNumber, s.numberOfFrames]), [[uid, 2, 3], [uid, 3, 3], [uid, 1, 3]]);
});
