/**
 * Every error Voxgate raises on purpose. Codes are `VXG_ERR_<AREA>_<WHAT>`, never reused, and each
 * one is documented in docs/errors.md (a test keeps the two in sync).
 *
 * This module imports nothing of the project, so every layer (volume/ included) may use it.
 * @module
 */

/** The error table: code → HTTP status that an API maps it to, and the area it belongs to. */
export const ErrorCodes = {
  /** Input bytes are not a format we read (wrong magic). */
  VXG_ERR_VOLUME_FORMAT: { statusCode: 400 },
  /** A header is internally inconsistent or names something we cannot represent. */
  VXG_ERR_VOLUME_HEADER: { statusCode: 400 },
  /** The data ended before the header said it would (file or gzip stream). */
  VXG_ERR_VOLUME_TRUNCATED: { statusCode: 400 },
  /** The data is longer or the compressed stream broken in a way that is not a truncation. */
  VXG_ERR_VOLUME_CORRUPT: { statusCode: 400 },
  /** Decoded size over the configured limit (also what stops a gzip bomb). */
  VXG_ERR_VOLUME_TOO_LARGE: { statusCode: 400 },
  /** Spacing zero, negative where it must not be, or not finite. */
  VXG_ERR_VOLUME_SPACING: { statusCode: 400 },
  /** The voxel-to-world matrix is singular or not finite. */
  VXG_ERR_VOLUME_AFFINE: { statusCode: 400 },
  /** More than three non-trivial dimensions (a time series, vectors). */
  VXG_ERR_VOLUME_NOT_3D: { statusCode: 400 },
  /** A data type the codec cannot read or write. */
  VXG_ERR_VOLUME_DATATYPE: { statusCode: 400 },
  /** Two volumes that must share a grid do not. */
  VXG_ERR_VOLUME_GRID_MISMATCH: { statusCode: 500 },
} as const satisfies Record<string, { statusCode: number }>;

export type ErrorCode = keyof typeof ErrorCodes;

export interface VoxgateErrorOptions {
  cause?: unknown;
  /** Overrides the table's HTTP status when one call site knows better. */
  statusCode?: number;
}

/** The base of every deliberate error: a stable code, the HTTP status it maps to, and a message a user can act on. */
export class VoxgateError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;

  constructor(code: ErrorCode, message: string, options: VoxgateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VoxgateError';
    this.code = code;
    this.statusCode = options.statusCode ?? ErrorCodes[code].statusCode;
  }
}

/** True when `err` is a VoxgateError with the given code (or any code when none is given). */
export function isVoxgateError(err: unknown, code?: ErrorCode): err is VoxgateError {
  return err instanceof VoxgateError && (code === undefined || err.code === code);
}
