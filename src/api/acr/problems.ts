/**
 * RFC 7807 problem bodies of the ACR routes, as ASP.NET Core's `Problem()` writes them in the
 * reference products (`type` is the RFC section of the status), with Voxgate's `code` beside.
 * @module
 */
import type { ErrorCode } from '../../errors.js';

/** The `type` ASP.NET Core gives each status (RFC 7231 sections; 422 is WebDAV's, RFC 4918). */
const PROBLEM_TYPES: Readonly<Record<number, string>> = {
  400: 'https://tools.ietf.org/html/rfc7231#section-6.5.1',
  401: 'https://tools.ietf.org/html/rfc7235#section-3.1',
  404: 'https://tools.ietf.org/html/rfc7231#section-6.5.4',
  409: 'https://tools.ietf.org/html/rfc7231#section-6.5.8',
  413: 'https://tools.ietf.org/html/rfc7231#section-6.5.11',
  415: 'https://tools.ietf.org/html/rfc7231#section-6.5.13',
  422: 'https://tools.ietf.org/html/rfc4918#section-11.2',
  500: 'https://tools.ietf.org/html/rfc7231#section-6.6.1',
  503: 'https://tools.ietf.org/html/rfc7231#section-6.6.4',
};

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode | 'VXG_ERR_INTERNAL';
}

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

export function problem(status: number, title: string, detail: string, code: Problem['code']): Problem {
  return { type: PROBLEM_TYPES[status] ?? 'about:blank', title, status, detail, code };
}

/** Titles the reference products use, so clients that show them read the same words. */
export const ProblemTitles = {
  invalid: 'Invalid request',
  badRequest: 'Bad Request',
  conflict: 'Conflict',
  notFound: 'Inference request not found.',
  resultNotFound: 'Result not found.',
  saveFailed: 'Failed to save request',
  statusFailed: 'Failed to retrieve inference request status.',
} as const;
