/**
 * Error bodies of the NIM routes, exactly as spec/nim-api.md fixes them, with our `code` beside.
 * @module
 */
import type { ZodError } from 'zod';
import type { VoxgateError } from '../../errors.js';

export interface NimProblem {
  statusCode: number;
  body: Record<string, unknown>;
}

/** 422 `{"detail":[{"loc","msg","type"}]}` as FastAPI/pydantic answer a body that fails the schema. */
export function schemaProblem(error: ZodError): NimProblem {
  return {
    statusCode: 422,
    body: {
      detail: error.issues.map((issue) => ({
        loc: ['body', ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
        msg: issue.code === 'invalid_type' && issue.message.includes('undefined') ? 'Field required' : issue.message,
        type: issueType(issue),
      })),
      code: 'VXG_ERR_REQUEST_INVALID',
    },
  };
}

function issueType(issue: ZodError['issues'][number]): string {
  if (issue.code === 'invalid_type') {
    if (issue.message.includes('received undefined')) return 'missing';
    return `${issue.expected}_type`;
  }
  if (issue.code === 'unrecognized_keys') return 'extra_forbidden';
  if (issue.code === 'invalid_value') return 'enum';
  return issue.code;
}

/** 422 for a body that is not JSON at all. */
export function jsonProblem(message: string): NimProblem {
  return {
    statusCode: 422,
    body: { detail: [{ loc: ['body'], msg: `JSON decode error: ${message}`, type: 'json_invalid' }], code: 'VXG_ERR_REQUEST_INVALID' },
  };
}

/** The spec's body for a VoxgateError raised while serving an inference. */
export function errorProblem(err: VoxgateError): NimProblem {
  const status = err.statusCode;
  if (status === 422) return { statusCode: 422, body: { detail: err.message, code: err.code } };
  if (status === 400 || status === 503) return { statusCode: status, body: { error_msg: [{ msg: err.message }], code: err.code } };
  if (status === 401) return { statusCode: 401, body: { statusCode: 401, code: err.code, error: 'Unauthorized', message: err.message } };
  return internalProblem(err.message, err.code);
}

/** 500: the message only, never a stack. */
export function internalProblem(message: string, code = 'VXG_ERR_ENGINE_FAILED'): NimProblem {
  return { statusCode: 500, body: { detail: `Failed to Run Inference. Error: ${message}`, code } };
}
