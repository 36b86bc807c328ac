/**
 * Error answers of the Voxgate API as one readable sentence for the page. The NIM routes answer the
 * NIM's shapes (spec/nim-api.md): 422 `{"detail": "…"}` or `{"detail": [{"loc", "msg", "type"}]}`,
 * 400/503 `{"error_msg": [{"msg"}]}`, 500 `{"detail": "Failed to Run Inference. Error: …"}`; other
 * routes answer `{statusCode, code, error, message}`. Each may carry a `code`. Pure, tested in Node.
 * @module
 */

/** An API call that did not succeed: the HTTP status, Voxgate's error code when given, and a readable message. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;

  constructor(status: number, message: string, code?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `["body", "prompts", "points", "x", 0]` → `prompts.points.x[0]` (the body prefix says nothing to a user). */
function location(loc: unknown): string {
  if (!Array.isArray(loc)) return '';
  const parts = loc[0] === 'body' ? loc.slice(1) : loc;
  return parts.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
}

/** The messages an error body carries, in the order given. */
function messagesOf(body: unknown): string[] {
  if (typeof body === 'string') return body.trim() ? [body.trim()] : [];
  if (!isRecord(body)) return [];
  const out: string[] = [];
  const { detail, error_msg: errorMsg, message } = body;
  if (typeof detail === 'string') out.push(detail);
  if (Array.isArray(detail)) {
    for (const item of detail) {
      if (!isRecord(item)) continue;
      const where = location(item.loc);
      const msg = typeof item.msg === 'string' ? item.msg : JSON.stringify(item);
      out.push(where ? `${where}: ${msg}` : msg);
    }
  }
  if (Array.isArray(errorMsg)) {
    for (const item of errorMsg) if (isRecord(item) && typeof item.msg === 'string') out.push(item.msg);
  }
  if (out.length === 0 && typeof message === 'string') out.push(message);
  return out;
}

const STATUS_HINTS: Readonly<Record<number, string>> = {
  401: 'This server needs an API token: enter it in the token field.',
  403: 'The server refused the request.',
  404: 'The server does not have this endpoint or resource.',
  413: 'The upload is larger than the server accepts.',
  503: 'The server is not ready yet; try again shortly.',
};

/**
 * One readable message for an error answer: its own messages when it has any (joined with "; "),
 * otherwise a hint for the status. A token problem always says what to do.
 * @example
 * describeApiError(400, { error_msg: [{ msg: 'Point [999, 0, 0] is outside the image' }], code: 'VXG_ERR_PROMPT_POINT_OUTSIDE' });
 * // → { message: 'Point [999, 0, 0] is outside the image', code: 'VXG_ERR_PROMPT_POINT_OUTSIDE' }
 */
export function describeApiError(status: number, body: unknown, statusText = ''): { message: string; code?: string } {
  const code = isRecord(body) && typeof body.code === 'string' ? body.code : undefined;
  const messages = messagesOf(body);
  let message = messages.join('; ');
  if (status === 401) message = `${STATUS_HINTS[401]}${message ? ` (${message})` : ''}`;
  if (!message) message = STATUS_HINTS[status] ?? `The server answered ${status}${statusText ? ` ${statusText}` : ''}.`;
  return code ? { message, code } : { message };
}
