/**
 * Messages between the onnx engine and its stitching thread (stitch-thread.ts ↔ stitch-worker.ts).
 * @module
 */
import type { LabelSinkOptions } from './activation.js';
import type { LabelGrid, WorkShare } from './model-grid.js';
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

/**
 * One share of mapping the finished label map back onto the input grid (model-grid.ts
 * labelsToInput), both arrays views of SharedArrayBuffers. The transform's fields arrive without
 * their class: the thread rebuilds it.
 */
export interface StitchMapBack {
  readonly kind: 'map-back';
  readonly labels: Uint8Array;
  readonly result: Uint8Array;
  readonly grid: LabelGrid;
  readonly share: WorkShare;
}

export type StitchRequest = StitchStart | StitchBatch | StitchFinish | StitchPrepare | StitchMapBack;

export type StitchReply =
  | { readonly kind: 'prepared' }
  | { readonly kind: 'mapped' }
  | { readonly kind: 'map-failed'; readonly message: string }
  | { readonly kind: 'blended' }
  | { readonly kind: 'finished' }
  | { readonly kind: 'failed'; readonly message: string };
