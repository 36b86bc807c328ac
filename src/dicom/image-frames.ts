/**
 * The 2D image frames of a file with the geometry and rescale of each: one frame for a classic
 * image (CT, MR, PET Image Storage: Image Plane module, PS3.3 C.7.6.2), one per frame for an
 * enhanced multi-frame image, whose Per-frame Functional Groups give each frame's Plane Position,
 * Plane Orientation, Pixel Measures and Pixel Value Transformation, the Shared Functional Groups
 * what all frames share (PS3.3 C.7.6.16). Attributes missing from both come from the top level.
 * @module
 */
import type { Vec3 } from '../volume/affine.js';
import type { DicomDataset } from './dataset.js';
import type { PixelFormat } from './pixel-data.js';
import type { Part10File } from './read-part10.js';
import { Tag } from './tags.js';

export interface ImageFrame {
  readonly file: Part10File;
  /** 0-based frame index within the file. */
  readonly frameIndex: number;
  readonly format: PixelFormat;
  /** ImagePositionPatient: centre of the first transmitted pixel, LPS mm. */
  readonly position: Vec3 | undefined;
  /** ImageOrientationPatient: row direction (towards increasing column), then column direction. */
  readonly orientation: readonly number[] | undefined;
  /** PixelSpacing: [between rows, between columns] in mm. */
  readonly pixelSpacing: readonly [number, number] | undefined;
  readonly sliceThickness: number | undefined;
  readonly spacingBetweenSlices: number | undefined;
  readonly rescaleSlope: number;
  readonly rescaleIntercept: number;
}

/** Every frame of `file` (whose pixel format has been checked). */
export function imageFramesOf(file: Part10File, format: PixelFormat): ImageFrame[] {
  const top = file.dataset;
  const perFrame = top.items(Tag.PerFrameFunctionalGroupsSequence);
  const shared = top.item(Tag.SharedFunctionalGroupsSequence);
  const enhanced = perFrame.length > 0 || shared !== undefined;
  const frames: ImageFrame[] = [];
  for (let f = 0; f < format.numberOfFrames; f++) {
    // Per-frame group first, then shared, then the top level (classic images have only that).
    const group = (sequence: number): DicomDataset | undefined => perFrame[f]?.item(sequence) ?? shared?.item(sequence);
    const plane = group(Tag.PlanePositionSequence);
    const orient = group(Tag.PlaneOrientationSequence);
    const measures = group(Tag.PixelMeasuresSequence);
    const transform = group(Tag.PixelValueTransformationSequence);
    const pick = (item: DicomDataset | undefined, tag: number): number[] | undefined => (enhanced ? item?.numbers(tag) : undefined) ?? top.numbers(tag);
    const position = pick(plane, Tag.ImagePositionPatient);
    const orientation = pick(orient, Tag.ImageOrientationPatient);
    const spacing = pick(measures, Tag.PixelSpacing);
    frames.push({
      file,
      frameIndex: f,
      format,
      position: position?.length === 3 && position.every(Number.isFinite) ? [position[0], position[1], position[2]] : undefined,
      orientation: orientation?.length === 6 && orientation.every(Number.isFinite) ? orientation : undefined,
      pixelSpacing: spacing?.length === 2 && spacing.every((s) => Number.isFinite(s) && s > 0) ? [spacing[0], spacing[1]] : undefined,
      sliceThickness: pick(measures, Tag.SliceThickness)?.[0],
      spacingBetweenSlices: pick(measures, Tag.SpacingBetweenSlices)?.[0],
      // A zero slope (seen in broken exports) would flatten the image; read it as 1 as dcm2niix does.
      rescaleSlope: finiteOr(pick(transform, Tag.RescaleSlope)?.[0], 1) || 1,
      rescaleIntercept: finiteOr(pick(transform, Tag.RescaleIntercept)?.[0], 0),
    });
  }
  return frames;
}

/** True when the file is a multi-frame image without functional groups: its frames have no positions of their own. */
export function isClassicMultiFrame(file: Part10File, format: PixelFormat): boolean {
  return format.numberOfFrames > 1 && file.dataset.items(Tag.PerFrameFunctionalGroupsSequence).length === 0;
}

function finiteOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) ? value : fallback;
}
