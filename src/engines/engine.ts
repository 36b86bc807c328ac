/**
 * The one interface every segmentation engine implements (classic, onnx, remote).
 * @module
 */
import type { LabelVolume, Volume } from '../volume/volume.js';

/** What an engine can do; `/v1/vista3d/info` reports it under `engine`. */
export interface EngineInfo {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  /**
   * VISTA3D indices the engine segments from a class prompt alone. A group index (2, 20, 21) here
   * means the engine answers the group as one label instead of its members.
   */
  readonly supportedClasses: readonly number[];
  /** Whether point prompts (click-to-segment) work. */
  readonly pointPrompts: boolean;
  /** Licence text of the engine and its model(s), for `/v1/license`. */
  readonly license: string;
  /**
   * Names of labels the engine writes that VISTA3D's dictionary does not have (indices 133–254,
   * e.g. an ONNX model's "grey matter"): class prompts may name them, and info lists them.
   */
  readonly extraLabels?: Readonly<Record<number, string>>;
}

/** A voxel index (i, j, k) in file order. */
export type VoxelPoint = readonly [number, number, number];

/** One object to segment from clicks. */
export interface PointPrompt {
  /** Label index the object is written with (a VISTA3D index, or 133–254 for a zero-shot label). */
  readonly label: number;
  readonly points: readonly VoxelPoint[];
  /** Parallel to `points`: 1 = inside the object, 0 = outside. */
  readonly pointLabels: readonly (0 | 1)[];
}

/** Prompts after validation: indices only, groups resolved to what the engine answers. */
export interface SegmentationPrompts {
  /** Label indices to segment from class prompts (each one the engine supports). */
  readonly classes: readonly number[];
  readonly points?: PointPrompt;
}

/** Reports progress in [0, 1] with a short stage name. */
export type ProgressCallback = (fraction: number, stage: string) => void;

export interface Engine {
  readonly info: EngineInfo;
  /** True once the engine can take requests (`/v1/health/ready`). */
  isReady(): boolean;
  /**
   * Segments `volume`. The result is on the volume's grid (same dims and affine): voxel values are
   * label indices, 0 background, 255 where the engine did not look. The engine may take ownership
   * of `volume.data` (it is transferred to a worker thread).
   */
  segment(volume: Volume, prompts: SegmentationPrompts, progress?: ProgressCallback): Promise<LabelVolume>;
  close(): Promise<void>;
}
