/**
 * Messages between the onnx engine and its stitching thread (stitch-thread.ts ↔ stitch-worker.ts).
 * @module
 */
import type { LabelSinkOptions } from './activation.js';
import type { StitcherOptions } from './stitcher.js';
import type { Triple } from './windows.js';

/** One segmentation's stitching: the WindowStitcher's options, less what stays in the thread. */
export interface StitchRun extends Omit<StitcherOptions, 'simd' | 'scratch'> {
  /** Its `labels` is a view of a SharedArrayBuffer: the thread writes the engine's label map. */
  readonly sink: LabelSinkOptions;
}

export interface StitchStart extends StitchRun {
  readonly kind: 'start';
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

/** Memory the engine will write soon (its result, a view of a SharedArrayBuffer): fault its pages in now. */
export interface StitchPrepare {
  readonly kind: 'prepare';
  readonly memory: Uint8Array;
}

export type StitchRequest = StitchStart | StitchBatch | StitchFinish | StitchPrepare;

export type StitchReply =
  | { readonly kind: 'prepared' }
  | { readonly kind: 'blended' }
  | { readonly kind: 'finished' }
  | { readonly kind: 'failed'; readonly message: string };
