/**
 * Errors of the protocol clients (DICOMweb, DIMSE, FHIR): a {@link VoxgateError} that also says
 * which server failed and whether trying again later may help.
 *
 * Transient: the network (refused, reset, unreachable, timed out), an HTTP 5xx / 408 / 429, a DIMSE
 * association rejected as transient (PS3.8 §9.3.4) or aborted, a DIMSE "out of resources" status.
 * Permanent: everything the server said on purpose and will say again (401, 404, a rejected called
 * AE title, "move destination unknown"). Job retries look only at {@link isTransient}.
 * @module
 */
import type { ErrorCode } from '../../errors.js';
import { VoxgateError, isVoxgateError } from '../../errors.js';

export interface PeerErrorOptions {
  /** True when the same call may succeed later (see the module comment). */
  transient: boolean;
  /** `host:port` of the server, never with credentials. */
  server: string;
  /** The HTTP status or DIMSE status the server answered, when it answered one. */
  status?: number;
  cause?: unknown;
}

/**
 * A failure talking to a remote DICOMweb, DIMSE or FHIR server.
 * @example
 * try {
 *   await client.searchStudies({ PatientID: id });
 * } catch (err) {
 *   if (isTransient(err)) scheduleRetry(); else failJob(err);
 * }
 */
export class PeerError extends VoxgateError {
  readonly transient: boolean;
  readonly server: string;
  readonly status: number | undefined;

  constructor(code: ErrorCode, message: string, options: PeerErrorOptions) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'PeerError';
    this.transient = options.transient;
    this.server = options.server;
    this.status = options.status;
  }
}

/**
 * True when `err` may go away by trying again later: a {@link PeerError} marked transient. Any
 * other error (a bad argument, a full disk, a bug) is not retried.
 */
export function isTransient(err: unknown): boolean {
  return err instanceof PeerError && err.transient;
}

/** True when `err` is a PeerError (optionally with the given code). */
export function isPeerError(err: unknown, code?: ErrorCode): err is PeerError {
  return err instanceof PeerError && isVoxgateError(err, code);
}

/** `host:port` of a URL, without user:password (what error messages may name). */
export function serverName(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return `${url.hostname}:${port}`;
}

/** The words for a Node network error code, e.g. `ECONNREFUSED` → "refused the connection". */
export function networkFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused the connection';
    case 'ENOTFOUND':
      return 'was not found (no such name in DNS)';
    case 'EAI_AGAIN':
      return 'could not be resolved (temporary DNS failure)';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return 'closed the connection';
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return `could not be reached (${code})`;
  }
  if (code.startsWith('HPE_')) return `sent an invalid HTTP answer (${code})`;
  if (/CERT|TLS|SSL|UNABLE_TO_/.test(code)) return `presented a TLS certificate that was not accepted (${code})`;
  return `could not be reached (${code || (err instanceof Error ? err.message : 'network error')})`;
}
