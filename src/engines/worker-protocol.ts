/**
 * Messages between a WorkerEngine (main thread) and its worker threads (worker-entry). Voxel and
 * label buffers travel in the transfer list: moved, not copied.
 * @module
 */
import type { Affine } from '../volume/affine.js';
import type { DataType, VoxelArray } from '../volume/datatype.js';
import type { Dims } from '../volume/volume.js';
import type { SegmentationPrompts } from './engine.js';

/** `workerData`: which module's factory builds the inner engine. */
export interface WorkerInit {
  /** URL (href) of an ES module; under tsx a .ts file works too. */
  readonly module: string;
  /** Name of the exported factory: `(options) => Engine | Promise<Engine>`. */
  readonly factory: string;
  readonly options?: unknown;
}

export interface SegmentRequest {
  readonly type: 'segment';
  readonly id: number;
  readonly dims: Dims;
  readonly affine: Affine;
  readonly dataType: DataType;
  readonly data: VoxelArray;
  readonly prompts: SegmentationPrompts;
}

/** An error as it crosses the thread boundary (VoxgateError codes survive). */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly statusCode?: number;
}

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'init-error'; readonly error: SerializedError }
  | { readonly type: 'progress'; readonly id: number; readonly fraction: number; readonly stage: string }
  | { readonly type: 'result'; readonly id: number; readonly data: Uint8Array | Int16Array | Uint16Array }
  | { readonly type: 'error'; readonly id: number; readonly error: SerializedError };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const { code, statusCode } = err as Error & { code?: unknown; statusCode?: unknown };
    return {
      name: err.name,
      message: err.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof statusCode === 'number' ? { statusCode } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}
