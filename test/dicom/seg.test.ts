import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dcmjs from 'dcmjs';
import type { DicomElements } from 'dcmjs';
import { isVoxgateError } from '../../src/errors.js';
import type { ErrorCode } from '../../src/errors.js';
import { VERSION } from '../../src/version.js';
import { segmentationToLabelVolume, segmentationToMasks, vista3dLabelOf } from '../../src/dicom/seg-grid.js';
import { readSegmentation } from '../../src/dicom/seg-reader.js';
import type { SegmentInfo } from '../../src/dicom/seg-reader.js';
import { segSourceAffine } from '../../src/dicom/seg-source.js';
import type { SegSourceSeries } from '../../src/dicom/seg-source.js';
import { formatDS } from '../../src/dicom/seg-values.js';
import { createSegmentation } from '../../src/dicom/seg-writer.js';
import type { SegmentationOptions } from '../../src/dicom/seg-writer.js';
import { createLabelVolume } from '../../src/volume/volume.js';
import { labelsOn, syntheticSegSource } from '../helpers/seg-source.js';

const OPTIONS: SegmentationOptions = { algorithmName: 'VISTA3D', algorithmVersion: '0.5.2', labelNames: new Map([[200, 'zero-shot lesion']]) };
/** Row cosines along x rotated 30° in the axial plane; columns along −z: an oblique, coronal-ish plane. */
const OBLIQUE_IOP = [Math.cos(Math.PI / 6), Math.sin(Math.PI / 6), 0, 0, 0, -1] as const;

function expectCode(code: ErrorCode, fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isVoxgateError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
}

/**
 * 5 columns × 7 rows × 6 slices (35 pixels a frame, so frames start mid-byte): liver (1) on slices
 * 0–1, right kidney (5) on 1 and 3, prostate-or-uterus (16) on 3, left kidney cyst (116) on 4, a
 * zero-shot label (200) on 0 and 4, 255 (not computed) on 2, slice 5 empty.
 */
function fixture(source: SegSourceSeries): Uint8Array {
  const [nx, ny] = [source.columns, source.rows];
  const data = new Uint8Array(nx * ny * source.slices.length);
  const set = (i: number, j: number, k: number, v: number): void => {
    data[i + nx * (j + ny * k)] = v;
  };
  for (let j = 0; j < 4; j++) for (let i = 0; i < 3; i++) set(i, j, 0, 1);
  set(4, 6, 0, 200);
  set(2, 2, 1, 1);
  set(0, 0, 1, 5);
  set(4, 6, 1, 5);
  set(1, 1, 2, 255);
  set(3, 5, 3, 5);
  set(0, 6, 3, 16);
  set(4, 0, 4, 116);
  set(2, 3, 4, 200);
  return data;
}

/** The VISTA3D label of each segment, and 200 for the zero-shot one. */
function labelOf(segment: SegmentInfo): number {
  return segment.segmentLabel === 'zero-shot lesion' ? 200 : vista3dLabelOf(segment);
}

/** The three fields of a naturalized code item (dcmjs adds its own bookkeeping). */
function codeOf(item: Record<string, unknown>): Record<string, unknown> {
  return { CodeValue: item.CodeValue, CodingSchemeDesignator: item.CodingSchemeDesignator, CodeMeaning: item.CodeMeaning };
}

function parse(bytes: Uint8Array): { meta: DicomElements; dict: DicomElements } {
  return dcmjs.data.DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

describe('DICOM SEG round trip', () => {
  for (const flipRows of [false, true]) {
    test(`an oblique 5×7×6 label map reads back exactly${flipRows ? ' with rows flipped' : ''}, empty slices omitted`, () => {
      const source = syntheticSegSource({ rows: 7, columns: 5, slices: 6, imageOrientationPatient: OBLIQUE_IOP, flipRows });
      const data = fixture(source);
      const seg = readSegmentation(createSegmentation(labelsOn(source, data), source, OPTIONS));

      assert.deepEqual(
        seg.segments.map((s) => [s.segmentNumber, s.segmentLabel]),
        [[1, 'liver'], [2, 'right kidney'], [3, 'prostate or uterus'], [4, 'left kidney cyst'], [5, 'zero-shot lesion']],
      );
      // One frame per segment and non-empty slice: 2 + 2 + 1 + 1 + 2.
      assert.equal(seg.frames.length, 8);
      assert.deepEqual(
        seg.frames.map((f) => [f.segmentNumber, source.slices.findIndex((s) => s.sopInstanceUid === f.sources[0].sopInstanceUid)]),
        [[1, 0], [1, 1], [2, 1], [2, 3], [3, 3], [4, 4], [5, 0], [5, 4]],
      );
      for (const frame of seg.frames) {
        const k = source.slices.findIndex((s) => s.sopInstanceUid === frame.sources[0].sopInstanceUid);
        assert.deepEqual(frame.imagePositionPatient, source.slices[k].imagePositionPatient.map((v) => Number(formatDS(v))));
        assert.deepEqual(frame.dimensionIndexValues, [frame.segmentNumber, k + 1]);
      }

      const { labels, overlapVoxels } = segmentationToLabelVolume(seg, source, { labelOf });
      const expected = data.map((v) => (v === 255 ? 0 : v));
      assert.deepEqual(labels.data, expected);
      assert.equal(overlapVoxels, 0);
      assert.deepEqual(labels.dims, [5, 7, 6]);
      assert.deepEqual(labels.affine, segSourceAffine(source));
    });
  }

  test('packs frames bit after bit with no padding between them (35-pixel frames start mid-byte)', () => {
    const source = syntheticSegSource({ rows: 7, columns: 5, slices: 6 });
    const data = fixture(source);
    const bytes = createSegmentation(labelsOn(source, data), source, OPTIONS);
    const pixels = new Uint8Array(parse(bytes).dict['7FE00010'].Value![0] as ArrayBuffer);
    // 8 frames × 35 bits = 280 bits = 35 bytes, padded to 36.
    assert.equal(pixels.length, 36);
    assert.equal(pixels[35], 0);
    const bit = (n: number): number => (pixels[n >> 3] >> (n & 7)) & 1;
    const ones: number[] = [];
    for (let n = 0; n < 280; n++) if (bit(n)) ones.push(n);
    // Frame f starts at bit 35·f; pixel (row, column) is bit row·5 + column within it.
    const at = (f: number, row: number, column: number): number => 35 * f + row * 5 + column;
    const liver0 = [0, 1, 2, 3].flatMap((row) => [0, 1, 2].map((column) => at(0, row, column)));
    assert.deepEqual(ones, [
      ...liver0, at(1, 2, 2), // liver, slices 0 and 1
      at(2, 0, 0), at(2, 6, 4), at(3, 5, 3), // right kidney, slices 1 and 3
      at(4, 6, 0), // prostate or uterus, slice 3
      at(5, 0, 4), // left kidney cyst, slice 4
      at(6, 6, 4), at(7, 3, 2), // zero-shot, slices 0 and 4
    ].sort((a, b) => a - b));
  });

  test('labels above 255 (uint16 label maps) round-trip as generic segments', () => {
    const source = syntheticSegSource({ rows: 3, columns: 3, slices: 2 });
    const data = new Uint16Array(18);
    data[4] = 300;
    data[13] = 1;
    const seg = readSegmentation(createSegmentation(labelsOn(source, data), source, { ...OPTIONS, labelNames: { 300: 'object 300' } }));
    assert.deepEqual(seg.segments.map((s) => [s.segmentLabel, s.type?.CodeValue]), [['liver', '10200004'], ['object 300', '85756007']]);
    const { labels } = segmentationToLabelVolume(seg, source, { labelOf: (s) => (s.segmentLabel === 'object 300' ? 300 : vista3dLabelOf(s)) });
    assert.ok(labels.data instanceof Uint16Array);
    assert.deepEqual(labels.data, data);
  });

  test('a frame that references no instance of the grid is placed by its position', () => {
    const source = syntheticSegSource({ rows: 7, columns: 5, slices: 6, imageOrientationPatient: OBLIQUE_IOP });
    const data = fixture(source);
    const seg = readSegmentation(createSegmentation(labelsOn(source, data), source, OPTIONS));
    const renamed: SegSourceSeries = { ...source, slices: source.slices.map((s, k) => ({ ...s, sopInstanceUid: `2.25.9${k}` })) };
    const { labels } = segmentationToLabelVolume(seg, renamed, { labelOf });
    assert.deepEqual(labels.data, data.map((v) => (v === 255 ? 0 : v)));
  });

  test('per-segment masks', () => {
    const source = syntheticSegSource({ rows: 7, columns: 5, slices: 6 });
    const data = fixture(source);
    const masks = segmentationToMasks(readSegmentation(createSegmentation(labelsOn(source, data), source, OPTIONS)), source);
    const labelsBySegment = [1, 5, 16, 116, 200];
    assert.deepEqual([...masks.keys()], [1, 2, 3, 4, 5]);
    for (const [number, mask] of masks) {
      assert.deepEqual(mask, data.map((v) => (v === labelsBySegment[number - 1] ? 1 : 0)));
    }
  });
});

describe('DICOM SEG attributes', () => {
  const source = syntheticSegSource({ rows: 7, columns: 5, slices: 6, imageOrientationPatient: OBLIQUE_IOP });
  const bytes = createSegmentation(labelsOn(source, fixture(source)), source, { ...OPTIONS, now: new Date(2025, 2, 4, 5, 6, 7) });
  const { meta, dict } = parse(bytes);
  const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict);

  test('dcmjs reads the file meta and the Segmentation IOD attributes', () => {
    const fileMeta = dcmjs.data.DicomMetaDictionary.naturalizeDataset(meta);
    assert.equal(fileMeta.TransferSyntaxUID, '1.2.840.10008.1.2.1');
    assert.equal(fileMeta.MediaStorageSOPClassUID, '1.2.840.10008.5.1.4.1.1.66.4');
    assert.equal(fileMeta.MediaStorageSOPInstanceUID, ds.SOPInstanceUID);
    assert.equal(bytes.length % 2, 0);
    assert.equal(Buffer.from(bytes.subarray(128, 132)).toString('latin1'), 'DICM');

    assert.equal(ds.SOPClassUID, '1.2.840.10008.5.1.4.1.1.66.4');
    assert.match(String(ds.SOPInstanceUID), /^2\.25\.\d{1,39}$/);
    assert.match(String(ds.SeriesInstanceUID), /^2\.25\.\d{1,39}$/);
    assert.notEqual(ds.SeriesInstanceUID, source.seriesInstanceUid);
    assert.equal(ds.StudyInstanceUID, source.studyInstanceUid);
    assert.equal(ds.FrameOfReferenceUID, source.frameOfReferenceUid);
    assert.equal(ds.Modality, 'SEG');
    assert.equal(ds.SegmentationType, 'BINARY');
    assert.deepEqual(ds.ImageType, ['DERIVED', 'PRIMARY']);
    assert.deepEqual([ds.Rows, ds.Columns, ds.NumberOfFrames], [7, 5, 8]);
    assert.deepEqual([ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.SamplesPerPixel, ds.PixelRepresentation], [1, 1, 0, 1, 0]);
    assert.equal(ds.PhotometricInterpretation, 'MONOCHROME2');
    assert.equal(ds.LossyImageCompression, '00');
    assert.equal(ds.SegmentsOverlap, 'NO');
    assert.equal(ds.Manufacturer, 'Voxgate');
    assert.equal(ds.ManufacturerModelName, 'Voxgate');
    assert.equal(ds.SoftwareVersions, VERSION);
    assert.equal(ds.DeviceSerialNumber, '0');
    assert.equal(ds.SeriesDescription, 'VISTA3D segmentation');
    assert.equal(ds.SeriesNumber, 99);
    assert.equal(ds.InstanceNumber, 1);
    assert.equal(ds.ContentLabel, 'SEGMENTATION');
    assert.equal(ds.ContentDescription, 'VISTA3D 0.5.2 automatic segmentation');
    assert.deepEqual(ds.ContentCreatorName, [{ Alphabetic: 'Voxgate^Engine' }]);
    assert.deepEqual([ds.ContentDate, ds.ContentTime, ds.SeriesDate, ds.SeriesTime], ['20250304', '050607', '20250304', '050607']);
    assert.equal(ds.SpecificCharacterSet, 'ISO_IR 192');
  });

  test('patient and study attributes are the source series\'', () => {
    assert.deepEqual(ds.PatientName, [{ Alphabetic: 'Doe^Jane' }]);
    assert.deepEqual(
      [ds.PatientID, ds.PatientBirthDate, ds.PatientSex, ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber, ds.StudyDescription],
      ['VXG-0001', '19700101', 'F', '20240102', '101112', 'S1', 'ACC1', 'CT abdomen'],
    );
    assert.equal(dict['00080090'].Value?.length ?? 0, 0, 'ReferringPhysicianName is present and empty (Type 2)');
  });

  test('shared and per-frame functional groups, dimensions, references', () => {
    const shared = (ds.SharedFunctionalGroupsSequence as Record<string, unknown>[])[0] as Record<string, Record<string, unknown>[]>;
    assert.deepEqual(shared.PlaneOrientationSequence[0].ImageOrientationPatient, OBLIQUE_IOP.map((v) => Number(formatDS(v))));
    assert.deepEqual(shared.PixelMeasuresSequence[0].PixelSpacing, [0.8, 0.7]);
    assert.equal(shared.PixelMeasuresSequence[0].SliceThickness, 1.25);
    assert.equal(shared.PixelMeasuresSequence[0].SpacingBetweenSlices, 1.25);

    const dimensions = ds.DimensionIndexSequence as Record<string, unknown>[];
    assert.deepEqual(dimensions.map((d) => [d.DimensionIndexPointer, d.FunctionalGroupPointer, d.DimensionDescriptionLabel]), [
      [0x0062000b, 0x0062000a, 'Segment Number'],
      [0x00200032, 0x00209113, 'Image Position Patient'],
    ]);
    const organization = (ds.DimensionOrganizationSequence as Record<string, unknown>[])[0].DimensionOrganizationUID;
    assert.ok(dimensions.every((d) => d.DimensionOrganizationUID === organization));

    const frame = (ds.PerFrameFunctionalGroupsSequence as Record<string, Record<string, unknown>[]>[])[2];
    const derivation = frame.DerivationImageSequence[0] as Record<string, Record<string, unknown>[]>;
    const sourceImage = derivation.SourceImageSequence[0] as Record<string, unknown>;
    assert.equal(sourceImage.ReferencedSOPClassUID, '1.2.840.10008.5.1.4.1.1.2');
    assert.equal(sourceImage.ReferencedSOPInstanceUID, source.slices[1].sopInstanceUid);
    assert.equal(sourceImage.SpatialLocationsPreserved, 'YES');
    assert.deepEqual(codeOf((sourceImage.PurposeOfReferenceCodeSequence as Record<string, unknown>[])[0]), {
      CodeValue: '121322', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Source image for image processing operation',
    });
    assert.deepEqual(codeOf(derivation.DerivationCodeSequence[0]), { CodeValue: '113076', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Segmentation' });
    assert.deepEqual(frame.FrameContentSequence[0].DimensionIndexValues, [2, 2]);
    assert.equal(frame.SegmentIdentificationSequence[0].ReferencedSegmentNumber, 2);
    assert.deepEqual(frame.PlanePositionSequence[0].ImagePositionPatient, source.slices[1].imagePositionPatient.map((v) => Number(formatDS(v))));

    const referenced = (ds.ReferencedSeriesSequence as Record<string, unknown>[])[0];
    assert.equal(referenced.SeriesInstanceUID, source.seriesInstanceUid);
    assert.deepEqual(
      (referenced.ReferencedInstanceSequence as Record<string, unknown>[]).map((r) => r.ReferencedSOPInstanceUID),
      source.slices.map((s) => s.sopInstanceUid),
    );
  });

  test('segments carry VISTA3D names, codes, modifiers, anatomic regions and colours', () => {
    const seg = readSegmentation(bytes);
    const [liver, rightKidney, prostateOrUterus, cyst, zeroShot] = seg.segments;
    assert.deepEqual(liver, {
      segmentNumber: 1,
      segmentLabel: 'liver',
      segmentAlgorithmType: 'AUTOMATIC',
      segmentAlgorithmName: 'VISTA3D',
      category: { CodeValue: '91723000', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Anatomical Structure' },
      type: { CodeValue: '10200004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Liver' },
      typeModifiers: [],
      anatomicRegions: [],
      anatomicRegionModifiers: [],
      recommendedDisplayCIELabValue: [41661, 41167, 40792],
    });
    assert.deepEqual(rightKidney.typeModifiers, [{ CodeValue: '24028007', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Right' }]);
    // The source patient is F: "prostate or uterus" is the uterus; no colour in the table.
    assert.deepEqual(prostateOrUterus.type, { CodeValue: '35039007', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Uterus' });
    assert.equal(prostateOrUterus.recommendedDisplayCIELabValue, undefined);
    assert.deepEqual(cyst.type, { CodeValue: '367643001', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Cyst' });
    assert.deepEqual(cyst.typeModifiers, []);
    assert.deepEqual(cyst.anatomicRegions, [{ CodeValue: '64033007', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Kidney' }]);
    assert.deepEqual(cyst.anatomicRegionModifiers, [{ CodeValue: '7771000', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Left' }]);
    assert.deepEqual([zeroShot.segmentLabel, zeroShot.category?.CodeValue, zeroShot.type?.CodeValue, zeroShot.recommendedDisplayCIELabValue], [
      'zero-shot lesion', '91723000', '85756007', undefined,
    ]);
    const algorithm = ((ds.SegmentSequence as Record<string, unknown>[])[0].SegmentationAlgorithmIdentificationSequence as Record<string, unknown>[])[0];
    assert.deepEqual([algorithm.AlgorithmName, algorithm.AlgorithmVersion], ['VISTA3D', '0.5.2']);
    assert.deepEqual(codeOf((algorithm.AlgorithmFamilyCodeSequence as Record<string, unknown>[])[0]), {
      CodeValue: '123110', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Artificial Intelligence',
    });
  });

  test('"prostate or uterus" follows PatientSex: M → Prostate, none → Tissue', () => {
    for (const [sex, type] of [['M', '41216001'], ['', '85756007'], ['O', '85756007']] as const) {
      const s = syntheticSegSource({ rows: 2, columns: 2, slices: 1, patientSex: sex });
      const seg = readSegmentation(createSegmentation(labelsOn(s, Uint8Array.of(0, 16, 0, 0)), s, OPTIONS));
      assert.equal(seg.segments[0].type?.CodeValue, type);
    }
  });
});

describe('DICOM SEG writer refuses', () => {
  const source = syntheticSegSource({ rows: 7, columns: 5, slices: 6 });

  test('a label map without segments with VXG_ERR_SEG_EMPTY', () => {
    const data = new Uint8Array(5 * 7 * 6);
    data[3] = 255;
    expectCode('VXG_ERR_SEG_EMPTY', () => createSegmentation(labelsOn(source, data), source, OPTIONS));
  });

  test('a label map of another size with VXG_ERR_SEG_SOURCE_MISMATCH', () => {
    const other = syntheticSegSource({ rows: 5, columns: 7, slices: 6 });
    expectCode('VXG_ERR_SEG_SOURCE_MISMATCH', () => createSegmentation(labelsOn(other, fixture(other)), source, OPTIONS));
  });

  test('a label map whose rows run the other way with VXG_ERR_SEG_SOURCE_MISMATCH', () => {
    const flipped = { ...source, flipRows: true };
    expectCode('VXG_ERR_SEG_SOURCE_MISMATCH', () => createSegmentation(labelsOn(source, fixture(source)), flipped, OPTIONS));
  });

  test('negative labels with VXG_ERR_VOLUME_DATATYPE', () => {
    const data = new Int16Array(5 * 7 * 6);
    data[7] = -3;
    const labels = createLabelVolume({ dims: [5, 7, 6], affine: segSourceAffine(source), source: { format: 'dicom' } }, data);
    expectCode('VXG_ERR_VOLUME_DATATYPE', () => createSegmentation(labels, source, OPTIONS));
  });

  test('names, person names, code strings and UIDs DICOM cannot carry with VXG_ERR_SEG_INVALID_OPTION', () => {
    const labels = labelsOn(source, fixture(source));
    for (const bad of [
      { labelNames: { 200: 'a\\b' } },
      { labelNames: { 200: 'x'.repeat(65) } },
      { contentCreatorName: 'a^b^c^d^e^f' },
      { contentLabel: 'lower case' },
      { seriesDescription: 'line\nbreak' },
      { sopInstanceUid: '1.2.03' },
      { seriesNumber: -1 },
    ]) {
      expectCode('VXG_ERR_SEG_INVALID_OPTION', () => createSegmentation(labels, source, { ...OPTIONS, ...bad }));
    }
  });
});

describe('DICOM SEG reader refuses', () => {
  const source = syntheticSegSource({ rows: 7, columns: 5, slices: 6 });
  const bytes = createSegmentation(labelsOn(source, fixture(source)), source, OPTIONS);

  test('bytes that are not DICOM, and DICOM that is not a SEG, with VXG_ERR_SEG_FORMAT', () => {
    expectCode('VXG_ERR_SEG_FORMAT', () => readSegmentation(new Uint8Array(300)));
    const { meta, dict } = parse(bytes);
    dict['00080016'] = { vr: 'UI', Value: ['1.2.840.10008.5.1.4.1.1.2'] };
    const message = new dcmjs.data.DicomDict(meta);
    message.dict = dict;
    expectCode('VXG_ERR_SEG_FORMAT', () => readSegmentation(new Uint8Array(message.write())));
  });

  test('pixel data shorter than the frames need with VXG_ERR_SEG_FORMAT', () => {
    const { meta, dict } = parse(bytes);
    dict['00280008'] = { vr: 'IS', Value: [9] };
    const message = new dcmjs.data.DicomDict(meta);
    message.dict = dict;
    expectCode('VXG_ERR_SEG_FORMAT', () => readSegmentation(new Uint8Array(message.write())));
  });

  test('a grid of another size, orientation or position with VXG_ERR_SEG_GEOMETRY', () => {
    const seg = readSegmentation(bytes);
    expectCode('VXG_ERR_SEG_GEOMETRY', () => segmentationToMasks(seg, syntheticSegSource({ rows: 5, columns: 7, slices: 6 })));
    expectCode('VXG_ERR_SEG_GEOMETRY', () => segmentationToMasks(seg, { ...source, imageOrientationPatient: OBLIQUE_IOP }));
    const shifted: SegSourceSeries = {
      ...source,
      slices: source.slices.map((s) => ({ ...s, imagePositionPatient: [s.imagePositionPatient[0] + 0.5, s.imagePositionPatient[1], s.imagePositionPatient[2]] })),
    };
    expectCode('VXG_ERR_SEG_GEOMETRY', () => segmentationToMasks(seg, shifted));
    const elsewhere: SegSourceSeries = { ...shifted, slices: shifted.slices.map((s, k) => ({ ...s, sopInstanceUid: `2.25.9${k}` })) };
    expectCode('VXG_ERR_SEG_GEOMETRY', () => segmentationToMasks(seg, elsewhere));
    expectCode('VXG_ERR_SEG_GEOMETRY', () => segmentationToMasks(seg, { ...source, frameOfReferenceUid: '2.25.4' }));
  });
});

describe('decimal strings', () => {
  test('fit 16 characters and keep what fits', () => {
    assert.equal(formatDS(0.1 + 0.2), '0.3');
    assert.equal(formatDS(-0), '0');
    assert.equal(formatDS(-123456.78901234567), '-123456.78901235');
    assert.equal(formatDS(1e-20), '1e-20');
    assert.equal(formatDS(-125.000000123456), '-125.00000012346');
    assert.equal(formatDS(Math.cos(Math.PI / 6)), '0.86602540378444');
    for (const v of [Math.PI * 1e10, -Math.E * 1e-10, 1 / 3, -2 / 3, 2 ** 60 + 2 ** 10]) {
      const s = formatDS(v);
      assert.ok(s.length <= 16, s);
      // 16 characters keep at least 10 significant digits, even with an exponent.
      assert.ok(Math.abs(Number(s) - v) <= Math.abs(v) * 1e-9, `${s} for ${v}`);
    }
  });
});
