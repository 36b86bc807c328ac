/**
 * SEG frames → volumes on the grid of a source series (seg-source.ts has the i/j/k convention):
 * each frame goes to the slice whose SOP instance (and frame number) it references, or, when it
 * references none of the grid's instances, to the slice at its ImagePositionPatient. A frame whose
 * reference and position disagree, or that matches no slice, is refused, never guessed.
 * @module
 */
import { VoxgateError } from '../errors.js';
import type { LabelVolume } from '../volume/volume.js';
import { createLabelVolume } from '../volume/volume.js';
import type { SegmentInfo, Segmentation } from './seg-reader.js';
import { labelOfVista3dName } from './seg-segments.js';
import type { SegGrid } from './seg-source.js';
import { dicomRowOf, segSourceAffine, sliceNormal } from './seg-source.js';

/** Frame positions may differ from the slices' by this share of the smallest voxel spacing (DS rounding). */
const POSITION_TOLERANCE_VOXELS = 0.05;
/** Largest difference of direction cosines between the SEG's orientation and the grid's. */
const ORIENTATION_TOLERANCE = 1e-3;

/**
 * The slice k of each frame.
 * @throws VXG_ERR_SEG_GEOMETRY when the SEG does not fit the grid.
 */
export function frameSlices(seg: Segmentation, grid: SegGrid): Int32Array {
  if (seg.rows !== grid.rows || seg.columns !== grid.columns) {
    throw geometry(`its frames are ${seg.columns}×${seg.rows} (columns × rows), the grid's slices ${grid.columns}×${grid.rows}.`);
  }
  if (seg.frameOfReferenceUid && grid.frameOfReferenceUid && seg.frameOfReferenceUid !== grid.frameOfReferenceUid) {
    throw geometry(`its FrameOfReferenceUID ${seg.frameOfReferenceUid} is not the grid's ${grid.frameOfReferenceUid}.`);
  }
  const byInstance = new Map<string, number>();
  grid.slices.forEach((slice, k) => byInstance.set(instanceKey(slice.sopInstanceUid, slice.referencedFrameNumber), k));
  const spacingK = grid.slices.length > 1 ? sliceDistance(grid, 0, grid.slices.length - 1) / (grid.slices.length - 1) : Infinity;
  const tolerance = POSITION_TOLERANCE_VOXELS * Math.min(grid.pixelSpacing[0], grid.pixelSpacing[1], spacingK);

  const out = new Int32Array(seg.frames.length);
  seg.frames.forEach((frame, f) => {
    const iop = frame.imageOrientationPatient;
    if (iop && iop.some((v, n) => Math.abs(v - grid.imageOrientationPatient[n]) > ORIENTATION_TOLERANCE)) {
      throw geometry(`frame ${f + 1} has ImageOrientationPatient ${iop.join('\\')}, the grid ${grid.imageOrientationPatient.join('\\')}.`);
    }
    let k = -1;
    for (const ref of frame.sources) {
      k = byInstance.get(instanceKey(ref.sopInstanceUid, ref.frameNumber)) ?? byInstance.get(instanceKey(ref.sopInstanceUid, undefined)) ?? -1;
      if (k >= 0) break;
    }
    const position = frame.imagePositionPatient;
    if (k >= 0) {
      if (position) {
        const off = distance(position, grid.slices[k].imagePositionPatient);
        if (off > tolerance) {
          throw geometry(`frame ${f + 1} references slice ${k} (${grid.slices[k].sopInstanceUid}) but lies ${off.toFixed(3)} mm from it.`);
        }
      }
    } else if (position) {
      let best = Infinity;
      grid.slices.forEach((slice, n) => {
        const off = distance(position, slice.imagePositionPatient);
        if (off < best) [best, k] = [off, n];
      });
      if (best > tolerance) throw geometry(`frame ${f + 1} at ${position.join('\\')} references no slice of the grid and lies on none (nearest ${best.toFixed(3)} mm away).`);
    } else {
      throw geometry(`frame ${f + 1} references no slice of the grid and has no ImagePositionPatient.`);
    }
    out[f] = k;
  });
  return out;
}

/**
 * One 0/1 mask per segment number, each in volume order (`i + columns·(j + rows·k)`).
 * @example
 * const masks = segmentationToMasks(readSegmentation(bytes), source);
 * masks.get(1)!.reduce((a, b) => a + b, 0); // voxels of segment 1
 */
export function segmentationToMasks(seg: Segmentation, grid: SegGrid): Map<number, Uint8Array> {
  const slices = frameSlices(seg, grid);
  const size = grid.columns * grid.rows * grid.slices.length;
  const masks = new Map<number, Uint8Array>(seg.segments.map((s) => [s.segmentNumber, new Uint8Array(size)]));
  const frame = new Uint8Array(grid.columns * grid.rows);
  seg.frames.forEach((info, f) => {
    seg.frameMask(f, frame);
    const mask = masks.get(info.segmentNumber)!;
    forEachSet(frame, grid, slices[f], (n) => (mask[n] = 1));
  });
  return masks;
}

export interface LabelMapOptions {
  /** The voxel value of each segment; default its SegmentNumber. See {@link vista3dLabelOf}. */
  readonly labelOf?: (segment: SegmentInfo) => number;
}

export interface LabelMapResult {
  readonly labels: LabelVolume;
  /** Voxels that more than one segment claims; the segment with the higher number wins them. */
  readonly overlapVoxels: number;
}

/**
 * The SEG as one label map on the grid: segments painted in ascending SegmentNumber order, so a
 * later segment wins a voxel two segments share (counted in `overlapVoxels`).
 * @example
 * const { labels } = segmentationToLabelVolume(seg, source, { labelOf: vista3dLabelOf });
 */
export function segmentationToLabelVolume(seg: Segmentation, grid: SegGrid, options: LabelMapOptions = {}): LabelMapResult {
  const slices = frameSlices(seg, grid);
  const labelOf = options.labelOf ?? ((s: SegmentInfo) => s.segmentNumber);
  const values = new Map(seg.segments.map((s) => [s.segmentNumber, labelOf(s)]));
  const max = Math.max(...values.values());
  for (const [number, value] of values) {
    if (!Number.isInteger(value) || value < 1 || value > 65535) {
      throw new VoxgateError('VXG_ERR_SEG_INVALID_OPTION', `Segment ${number} maps to label ${value}; labels are integers 1–65535.`);
    }
  }
  const size = grid.columns * grid.rows * grid.slices.length;
  const data = max <= 255 ? new Uint8Array(size) : new Uint16Array(size);
  // The segment that last painted each voxel, to count voxels that two segments claim even when
  // both map to one label value; frames of one segment may repeat a slice without counting.
  const owner = new Uint16Array(size);
  const shared = new Uint8Array(size);
  let overlapVoxels = 0;
  const frame = new Uint8Array(grid.columns * grid.rows);
  const order = seg.frames.map((info, f) => [info.segmentNumber, f] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (const [number, f] of order) {
    seg.frameMask(f, frame);
    const value = values.get(number)!;
    forEachSet(frame, grid, slices[f], (n) => {
      if (owner[n] !== 0 && owner[n] !== number && shared[n] === 0) {
        shared[n] = 1;
        overlapVoxels++;
      }
      owner[n] = number;
      data[n] = value;
    });
  }
  const labels = createLabelVolume(
    { dims: [grid.columns, grid.rows, grid.slices.length], affine: segSourceAffine(grid), source: { format: 'dicom' } },
    data,
  );
  return { labels, overlapVoxels };
}

/** The VISTA3D label of a segment named after a VISTA3D class (case-insensitive); else its SegmentNumber. */
export function vista3dLabelOf(segment: SegmentInfo): number {
  return labelOfVista3dName(segment.segmentLabel) ?? segment.segmentNumber;
}

function forEachSet(frame: Uint8Array, grid: SegGrid, k: number, visit: (n: number) => void): void {
  const { columns, rows } = grid;
  const sliceBase = k * rows * columns;
  for (let j = 0; j < rows; j++) {
    const rowBase = dicomRowOf(grid, j) * columns;
    const voxelBase = sliceBase + j * columns;
    for (let i = 0; i < columns; i++) if (frame[rowBase + i]) visit(voxelBase + i);
  }
}

function instanceKey(uid: string, frameNumber: number | undefined): string {
  return frameNumber === undefined ? uid : `${uid}#${frameNumber}`;
}

function distance(a: readonly number[], b: readonly number[]): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

function sliceDistance(grid: SegGrid, a: number, b: number): number {
  const n = sliceNormal(grid.imageOrientationPatient);
  const p = grid.slices[a].imagePositionPatient;
  const q = grid.slices[b].imagePositionPatient;
  return Math.abs((q[0] - p[0]) * n[0] + (q[1] - p[1]) * n[1] + (q[2] - p[2]) * n[2]);
}

function geometry(why: string): VoxgateError {
  return new VoxgateError('VXG_ERR_SEG_GEOMETRY', `The SEG does not fit the grid: ${why}`);
}
