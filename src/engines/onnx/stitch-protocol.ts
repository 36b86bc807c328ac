/**
 * Messages between the onnx engine and its stitching thread (stitch-thread.ts ↔ stitch-worker.ts).
 * @module
 */
import type { Dims } from '../../volume/volume.js';
import type { LabelSinkOptions } from './activation.js';
import type { Triple } from './windows.js';

/** One segmentation's stitching: the window channels arrive in this order, already picked. */
export interface StitchStart {
  readonly kind: 'start';
  readonly region: Dims;
  readonly roi: Dims;
  readonly channels: number;
  readonly weights?: Float32Array;
  readonly weightSum: boolean;
  /** Its `labels` is a view of a SharedArrayBuffer: the thread writes the engine's label map. */
  readonly sink: LabelSinkOptions;
}

/** One window's accumulated channels (channels × roi voxels), transferred; it comes back as `free`. */
export interface StitchWindow {
  readonly kind: 'window';
  readonly data: Float32Array;
  readonly origin: Triple;
}

export interface StitchFinish {
  readonly kind: 'finish';
}

export type StitchRequest = StitchStart | StitchWindow | StitchFinish;

export type StitchReply =
  | { readonly kind: 'free'; readonly data: Float32Array }
  | { readonly kind: 'finished' }
  | { readonly kind: 'failed'; readonly message: string };
