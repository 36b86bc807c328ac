/**
 * Which failures are worth another try, and how long to wait before it. A PACS that is restarting,
 * a proxy answering 503 or a reset connection are transient; a 401, a study that does not exist or
 * a series that is not CT will fail the same way every time, so the job ends at once and says why.
 * @module
 */
import type { ErrorCode, VoxgateErrorOptions } from '../errors.js';
import { VoxgateError, isVoxgateError } from '../errors.js';

/** A step failure that says itself whether a retry can help. Retrievers and exporters throw these. */
export class StepError extends VoxgateError {
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: VoxgateErrorOptions & { retryable: boolean }) {
    super(code, message, options);
    this.name = 'StepError';
    this.retryable = options.retryable;
  }
}

/** Error codes of Node's sockets, DNS and undici that say "the network, not the request". */
const TRANSIENT_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/** Voxgate codes that describe a passing condition rather than the request. */
const TRANSIENT_VOXGATE_CODES = new Set<ErrorCode>(['VXG_ERR_ENGINE_NOT_READY', 'VXG_ERR_JOB_STORE']);

/**
 * True when another try may succeed. In order: an explicit `retryable` (or `transient`) property decides; Voxgate's
 * own errors are permanent unless they name a passing condition; an HTTP status ≥ 500, 408 or 429 is
 * transient and other 4xx permanent; socket, DNS-retry and timeout errors (also as a `cause`) are
 * transient; anything else (a bug, bad data) is permanent.
 * @example
 * isRetryable(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })); // true
 * isRetryable(new StepError('VXG_ERR_JOB_SOURCE', '401 from the PACS', { retryable: false })); // false
 */
export function isRetryable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const fields = e as Error & { retryable?: unknown; transient?: unknown; code?: unknown; status?: unknown; statusCode?: unknown };
    if (typeof fields.retryable === 'boolean') return fields.retryable;
    // The protocol clients' PeerError (src/dicom/net/errors.ts) says it the same way under another name.
    if (typeof fields.transient === 'boolean') return fields.transient;
    if (isVoxgateError(e)) return TRANSIENT_VOXGATE_CODES.has(e.code);
    const status = typeof fields.status === 'number' ? fields.status : typeof fields.statusCode === 'number' ? fields.statusCode : undefined;
    if (status !== undefined && status >= 400) return status >= 500 || status === 408 || status === 429;
    if (typeof fields.code === 'string' && TRANSIENT_SYSTEM_CODES.has(fields.code)) return true;
    if (e.name === 'TimeoutError') return true;
  }
  return false;
}

/** Exponential backoff: `base`, 2 × `base`, 4 × `base`… capped at `max`, with ±20 % jitter so workers do not retry in step. */
export function backoffDelay(attempt: number, base: number, max = 60_000): number {
  const delay = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(delay * (0.8 + Math.random() * 0.4));
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles like `work`, or rejects with the signal's reason as soon as it aborts: a shutdown does not
 * wait for a segmentation that cannot be interrupted. What `work` does afterwards is harmless: its
 * writes name a lease it no longer holds and are refused.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}
