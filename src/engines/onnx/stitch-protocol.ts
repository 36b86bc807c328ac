/**
 * Messages between the onnx engine and its stitching thread (stitch-thread.ts ↔ stitch-worker.ts).
 * @module
 */
import type { Dims } from '../../volume/volume.js';
import type { LabelSinkOptions } from './activation.js';
import type { Triple } from './windows.js';

/** One segmentation's stitching (the WindowStitcher's options, less what stays in the thread). */
export interface StitchStart {
  readonly kind: 'start';
  readonly region: Dims;
  readonly roi: Dims;
  readonly channels: readonly number[];
  readonly totalChannels: number;
  readonly weights?: Float32Array;
  readonly weightSum: boolean;
  /** Its `labels` is a view of a SharedArrayBuffer: the thread writes the engine's label map. */
  readonly sink: LabelSinkOptions;
}

/** One batch's network output [batch, totalChannels, roi k, roi j, roi i], transferred, and its windows' origins. */
export interface StitchBatch {
  readonly kind: 'batch';
  readonly output: Float32Array;
  readonly origins: readonly Triple[];
}

export interface StitchFinish {
  readonly kind: 'finish';
}

export type StitchRequest = StitchStart | StitchBatch | StitchFinish;

export type StitchReply =
  | { readonly kind: 'blended' }
  | { readonly kind: 'finished' }
  | { readonly kind: 'failed'; readonly message: string };
