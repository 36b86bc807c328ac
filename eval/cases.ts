/**
 * The evaluation cases in ../shared/data (see its SOURCES.md): what each image is, how its reference
 * segmentations map to VISTA3D indices, and how they are brought onto the image's grid. Patient A
 * (TotalSegmentator's example_ct*.nii.gz) is held out and never read here.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LABEL_GROUPS } from '../src/pipeline/labels.js';
import { maxAbsDifference } from '../src/volume/affine.js';
import { resampleLabelsTo } from '../src/volume/resample.js';
import type { Volume } from '../src/volume/volume.js';
import { readVolume } from '../src/volume/volume-file.js';

export interface Reference {
  /** Row name, e.g. "aorta" or "bone (union)". */
  readonly name: string;
  /** VISTA3D index the structure corresponds to (a group index for unions), or undefined. */
  readonly vista?: number;
  readonly mask: Uint8Array;
  /** Evaluate clicks on it (unions of separate objects, e.g. all bones, are class-only rows). */
  readonly clicks: boolean;
}

export interface EvalCase {
  readonly name: string;
  readonly volume: Volume;
  readonly references: Reference[];
  /** Whether the reference labels everything its model knows (an absent class is then truly absent). */
  readonly complete: boolean;
  /** Whether the image is CT (class prompts apply) or not (they must be refused). */
  readonly ct: boolean;
  readonly notes: string[];
}

const read = (file: string): Promise<Volume> => readVolume(createReadStream(file));

/** The voxels of a label map that carry `value` (1), the rest 0: a structure's mask from an answer or a reference. */
export function labelMask(labels: ArrayLike<number>, value: number): Uint8Array {
  const m = new Uint8Array(labels.length);
  for (let p = 0; p < labels.length; p++) m[p] = labels[p] === value ? 1 : 0;
  return m;
}

function maskOf(labels: ArrayLike<number>, values: ReadonlySet<number>): Uint8Array {
  const m = new Uint8Array(labels.length);
  for (let p = 0; p < labels.length; p++) m[p] = values.has(labels[p]) ? 1 : 0;
  return m;
}

/** How many voxels of a mask, an answer or a reference are set (not 0). */
export function voxelCount(mask: ArrayLike<number>): number {
  let n = 0;
  for (let p = 0; p < mask.length; p++) if (mask[p] !== 0) n++;
  return n;
}

/** Reference labels onto the image's grid: as is when the grids agree, else by world position. */
function ontoGrid(labels: Volume, image: Volume, notes: string[], what: string): ArrayLike<number> {
  const same = labels.dims.every((n, a) => n === image.dims[a]) && maxAbsDifference(labels.affine, image.affine) < 1e-3;
  if (same) {
    notes.push(`${what}: on the image's grid (dims ${image.dims.join('×')}, affine within 1e-3 mm)`);
    return labels.data;
  }
  notes.push(`${what}: grid ${labels.dims.join('×')} differs from the image's ${image.dims.join('×')}; resampled by world coordinates (nearest)`);
  return resampleLabelsTo(labels.data, labels, image, { fill: 0 });
}

interface TotalMap {
  readonly map: Record<string, { totalsegmentator_name: string; vista3d_id: number; vista3d_name: string }>;
}

/** Patient B: contrast CTA crop with single-structure TotalSegmentator masks (a partial reference). */
export async function patientB(data: string): Promise<EvalCase> {
  const dir = path.join(data, 'ct_nifti/totalseg_patientB_cta_crop');
  const volume = await read(path.join(dir, 'ct_cropped.nii.gz'));
  const notes: string[] = [];
  const references: Reference[] = [];
  const files: [string, string, number][] = [
    ['aorta', 'aorta', 6],
    ['brachiocephalic_trunk', 'brachiocephalic trunk', 109],
    ['subclavian_artery_left', 'left subclavian artery', 123],
    ['common_carotid_artery_left', 'left common carotid artery', 112],
    ['iliac_artery_left', 'left iliac artery', 58],
    ['iliac_artery_right', 'right iliac artery', 59],
    ['vertebrae_T12', 'vertebrae T12', 38],
    ['heart_on_other_grid', 'heart', 115],
  ];
  for (const [file, name, vista] of files) {
    const labels = await read(path.join(dir, `${file}.nii.gz`));
    const mask = maskOf(ontoGrid(labels, volume, notes, file), new Set([1]));
    references.push({ name, vista, mask, clicks: voxelCount(mask) > 0 });
  }
  notes.push('patient B has no whole-skeleton, lung or airway reference: bone (21), lung (20), trachea (57) and airway (132) are reported as volumes only');
  return { name: 'B CTA', volume, references, complete: false, ct: true, notes };
}

/** Patient C: 20 slices of upper-abdomen contrast CT (DICOM, JPEG 2000) with TotalSegmentator `total` labels. */
export async function patientC(data: string, labelmaps: string): Promise<EvalCase | { skipped: string }> {
  const dir = path.join(data, 'dicom_ct_series/totalseg_patientC_petct_20slices');
  const notes: string[] = [];
  const converted = convertDicom(path.join(dir, 'example_ct_dicom'), 'patientC');
  if ('skipped' in converted) return converted;
  notes.push(converted.note);
  const volume = await read(converted.file);
  const seg = await read(path.join(dir, 'example_seg_dicom.nii.gz'));
  const labels = ontoGrid(seg, volume, notes, 'example_seg_dicom');
  const { map } = JSON.parse(readFileSync(path.join(labelmaps, 'totalsegmentator_total_to_vista3d.json'), 'utf8')) as TotalMap;
  const present = new Set<number>();
  for (let p = 0; p < labels.length; p++) present.add(labels[p]);
  present.delete(0);
  const references: Reference[] = [];
  for (const total of [...present].sort((a, b) => a - b)) {
    const entry = map[String(total)];
    references.push({ name: entry.vista3d_name, vista: entry.vista3d_id, mask: maskOf(labels, new Set([total])), clicks: true });
  }
  // Unions for the group classes, from every TotalSegmentator label whose VISTA3D index is a member.
  const totalsOf = (members: readonly number[]): Set<number> =>
    new Set(Object.entries(map).filter(([, e]) => members.includes(e.vista3d_id)).map(([k]) => Number(k)));
  references.push({ name: 'bone (union)', vista: 21, mask: maskOf(labels, totalsOf(LABEL_GROUPS.get(21) ?? [])), clicks: false });
  references.push({ name: 'lung (union of lobes)', vista: 20, mask: maskOf(labels, totalsOf(LABEL_GROUPS.get(20) ?? [])), clicks: false });
  return { name: 'C abdomen', volume, references, complete: true, ct: true, notes };
}

/** The MR example with TotalSegmentator `total_mr` labels: class prompts must be refused; clicks are evaluated. */
export async function mrExample(data: string, labelmaps: string): Promise<EvalCase> {
  const dir = path.join(data, 'mr_nifti/totalseg_mr_example');
  const notes: string[] = [];
  const volume = await read(path.join(dir, 'example_mr_sm.nii.gz'));
  const seg = await read(path.join(dir, 'example_seg_mr.nii.gz'));
  const labels = ontoGrid(seg, volume, notes, 'example_seg_mr');
  const names = (JSON.parse(readFileSync(path.join(labelmaps, 'totalsegmentator_total_mr_labels.json'), 'utf8')) as { labels: Record<string, string> }).labels;
  const present = new Set<number>();
  for (let p = 0; p < labels.length; p++) present.add(labels[p]);
  present.delete(0);
  const references = [...present].sort((a, b) => a - b).map((l) => ({ name: names[String(l)], mask: maskOf(labels, new Set([l])), clicks: true }));
  return { name: 'MR', volume, references, complete: true, ct: false, notes };
}

/**
 * A DICOM folder as NIfTI through Debian's dcm2niix (Voxgate's own DICOM series reader is not in
 * this tree yet), cached under the OS temp folder.
 */
function convertDicom(folder: string, name: string): { file: string; note: string } | { skipped: string } {
  const out = path.join(os.tmpdir(), 'voxgate-eval', name);
  const file = path.join(out, 'ct.nii.gz');
  if (!existsSync(file)) {
    mkdirSync(out, { recursive: true });
    try {
      execFileSync('dcm2niix', ['-z', 'y', '-f', 'ct', '-o', out, folder], { stdio: 'ignore' });
    } catch (err) {
      return { skipped: `dcm2niix could not convert ${folder} (${(err as Error).message}); install it with: scripts/test-env.sh install dcm2niix` };
    }
  }
  return { file, note: `CT read from DICOM via dcm2niix (${file})` };
}
