/**
 * Example SEGs from other writers read to the masks they hold, and the SEGs Voxgate writes read by
 * another reader:
 * - dcmqi's liver SEG against the NRRD label map dcmqi made it from (same grid as the 3-slice CT);
 * - highdicom's binary, overlapping and fractional SEGs of the 16×16 CT2 series, per-segment counts
 *   against pydicom + numpy (Debian's python3-pydicom), which decode the pixel data on their own;
 * - a Voxgate SEG of the 3-slice CT decoded by pydicom.
 * Data sets live in ../shared/data (relative to the repository root); absent ones are skipped.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { segmentationToLabelVolume, segmentationToMasks } from '../../src/dicom/seg-grid.js';
import { readSegmentation } from '../../src/dicom/seg-reader.js';
import { gridCornerDistance, segSourceAffine } from '../../src/dicom/seg-source.js';
import { createSegmentation } from '../../src/dicom/seg-writer.js';
import { readNrrd } from '../../src/volume/nrrd.js';
import { labelsOn, segSourceFromFiles } from '../helpers/seg-source.js';
import { ensureSystemPackages, pythonImports, runPython } from '../helpers/system-packages.js';

const DCMQI = '../shared/data/dicom_ct_series/dcmqi_ct_3slice_with_seg';
const HIGHDICOM = '../shared/data/dicom_ct_series/pydicom_CT2_16px_with_highdicom_seg';

const absent = (dir: string): string | false => (existsSync(dir) ? false : `${dir} is absent (the shared data set sits beside the repository)`);

async function sourceOf(dir: string): Promise<Awaited<ReturnType<typeof segSourceFromFiles>>> {
  return segSourceFromFiles((await readdir(dir)).sort().map((f) => path.join(dir, f)));
}

function count(mask: Uint8Array): number {
  let n = 0;
  for (const v of mask) n += v;
  return n;
}

/**
 * pydicom's view of a SEG: foreground pixels per segment (FRACTIONAL: value ≥ ½ maximum), pixels
 * that two segments share on one source instance, and each frame's (segment, source instance).
 */
const PYDICOM_COUNTS = `
import json, sys
import numpy as np
import pydicom
def view(path):
    d = pydicom.dcmread(path)
    a = d.pixel_array
    if a.ndim == 2:
        a = a[None]
    if d.SegmentationType == 'FRACTIONAL':
        a = (a.astype(np.int64) * 2 >= int(d.MaximumFractionalValue))
    else:
        a = a > 0
    counts, frames, by_source = {}, [], {}
    for i, fg in enumerate(d.PerFrameFunctionalGroupsSequence):
        s = int(fg.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        uid = fg.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        counts[s] = counts.get(s, 0) + int(a[i].sum())
        frames.append([s, uid])
        by_source.setdefault(uid, {}).setdefault(s, np.zeros(a[i].shape, bool))
        by_source[uid][s] |= a[i]
    overlap = sum(int((sum(m.astype(np.int64) for m in segs.values()) >= 2).sum()) for segs in by_source.values())
    return {'counts': counts, 'overlap': overlap, 'frames': frames}
print(json.dumps([view(p) for p in sys.argv[1:]]))
`;

interface PydicomView {
  counts: Record<string, number>;
  overlap: number;
  frames: [number, string][];
}

/** pydicom's view of each file, in one interpreter (numpy and pydicom take a while to import). */
async function pydicomViews(files: readonly string[]): Promise<PydicomView[]> {
  return JSON.parse(await runPython(PYDICOM_COUNTS, files)) as PydicomView[];
}

const pydicom = await ensureSystemPackages(['python3-pydicom', 'python3-numpy'], async () => (await pythonImports('pydicom')) && pythonImports('numpy'));

describe('dcmqi liver SEG', { skip: absent(DCMQI) }, () => {
  test('reads to the liver label map dcmqi made it from (107098 voxels on the 3-slice CT grid)', async () => {
    const source = await sourceOf(path.join(DCMQI, 'ct-3slice'));
    const nrrd = await readNrrd(await readFile(path.join(DCMQI, 'liver_seg.nrrd')));
    // The NRRD lies on the CT grid as Voxgate maps it: i = column, j = row, k ascending z.
    assert.deepEqual(nrrd.dims, [512, 512, 3]);
    assert.ok(gridCornerDistance(nrrd.affine, segSourceAffine(source), nrrd.dims) < 1e-4);

    const seg = readSegmentation(await readFile(path.join(DCMQI, 'liver_SEG.dcm')));
    assert.equal(seg.segmentationType, 'BINARY');
    // dcmqi's example still codes the liver in SNOMED RT (SRT T-62000), as it was made before SCT.
    assert.deepEqual(seg.segments.map((s) => [s.segmentNumber, s.segmentLabel, s.type?.CodingSchemeDesignator, s.type?.CodeValue]), [[1, 'Liver', 'SRT', 'T-62000']]);
    assert.equal(seg.frames.length, 3);
    const { labels, overlapVoxels } = segmentationToLabelVolume(seg, source);
    assert.equal(overlapVoxels, 0);
    assert.equal(count(labels.data as Uint8Array), 107098);
    assert.deepEqual(labels.data, Uint8Array.from(nrrd.data, (v) => (v === 1 ? 1 : 0)));
  });
});

describe('highdicom SEGs of the CT2 series', { skip: absent(HIGHDICOM) }, () => {
  // Per-segment foreground counts, derived once with pydicom + numpy (the test below re-derives
  // them when python3-pydicom is installable): binary 127 + 256 + 255; the overlap SEG's segments
  // hold 16 and 4 pixels on each of the 4 slices, 4 pixels per slice in both; the fractional SEG
  // holding only 0/255 equals the binary one; the true fractional one holds 0, 64 and 128 of 255,
  // 128 exactly where the binary one holds 1: ≥ ½ keeps those 638 and drops the 22 + 1 pixels of 64.
  const cases = [
    { file: 'seg_image_ct_binary.dcm', type: 'BINARY', frames: 3, counts: { 1: 638 }, overlap: 0 },
    { file: 'seg_image_ct_binary_overlap.dcm', type: 'BINARY', frames: 8, counts: { 1: 64, 2: 16 }, overlap: 16 },
    { file: 'seg_image_ct_binary_fractional.dcm', type: 'FRACTIONAL', frames: 3, counts: { 1: 638 }, overlap: 0 },
    { file: 'seg_image_ct_true_fractional.dcm', type: 'FRACTIONAL', frames: 3, counts: { 1: 638 }, overlap: 0 },
  ] as const;

  for (const c of cases) {
    test(`${c.file}: ${c.type}, ${c.frames} frames, foreground per segment ${JSON.stringify(c.counts)}, ${c.overlap} shared`, async () => {
      const source = await sourceOf(path.join(HIGHDICOM, 'CT2'));
      const seg = readSegmentation(await readFile(path.join(HIGHDICOM, c.file)));
      assert.equal(seg.segmentationType, c.type);
      assert.equal(seg.frames.length, c.frames);
      const masks = segmentationToMasks(seg, source);
      assert.deepEqual(Object.fromEntries([...masks].map(([n, m]) => [n, count(m)])), c.counts);
      const { labels, overlapVoxels } = segmentationToLabelVolume(seg, source);
      assert.equal(overlapVoxels, c.overlap);
      // Later segments win shared voxels.
      const expected = new Uint8Array(labels.data.length);
      for (const [n, m] of [...masks].sort((a, b) => a[0] - b[0])) m.forEach((v, i) => v && (expected[i] = n));
      assert.deepEqual(labels.data, expected);
    });
  }

  test('the counts and overlaps above are what pydicom decodes', { skip: pydicom.ok ? false : pydicom.reason }, async () => {
    const views = await pydicomViews(cases.map((c) => path.join(HIGHDICOM, c.file)));
    for (const [n, c] of cases.entries()) {
      const view = views[n];
      assert.deepEqual(view.counts, Object.fromEntries(Object.entries(c.counts)), c.file);
      assert.equal(view.overlap, c.overlap, c.file);
      const seg = readSegmentation(await readFile(path.join(HIGHDICOM, c.file)));
      assert.deepEqual(view.frames, seg.frames.map((f) => [f.segmentNumber, f.sources[0].sopInstanceUid]), c.file);
    }
  });
});

describe('Voxgate SEG read by pydicom', { skip: absent(DCMQI) || (pydicom.ok ? false : pydicom.reason) }, () => {
  test('a liver + spine SEG of the 3-slice CT decodes to the same voxels per segment and frame references', async () => {
    const source = await sourceOf(path.join(DCMQI, 'ct-3slice'));
    const nrrd = await readNrrd(await readFile(path.join(DCMQI, 'liver_spine_seg.nrrd')));
    // dcmqi's values: 1 = liver, 2 = thoracic spine. VISTA3D has no "thoracic spine" label (only
    // single vertebrae), so the spine goes in as zero-shot label 140.
    const data = Uint8Array.from(nrrd.data, (v) => (v === 1 ? 1 : v === 2 ? 140 : 0));
    const bytes = createSegmentation(labelsOn(source, data), source, { algorithmName: 'test', algorithmVersion: '1', labelNames: { 140: 'thoracic spine' } });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'voxgate-seg-'));
    try {
      const file = path.join(dir, 'seg.dcm');
      await writeFile(file, bytes);
      const [view] = await pydicomViews([file]);
      let liver = 0;
      let spine = 0;
      for (const v of data) {
        if (v === 1) liver++;
        else if (v === 140) spine++;
      }
      assert.deepEqual(view.counts, { 1: liver, 2: spine });
      assert.deepEqual([liver, spine], [107098, 12439]);
      assert.equal(view.overlap, 0);
      const slices = source.slices.map((s) => s.sopInstanceUid);
      assert.deepEqual(view.frames, [[1, slices[0]], [1, slices[1]], [1, slices[2]], [2, slices[0]], [2, slices[1]], [2, slices[2]]]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
