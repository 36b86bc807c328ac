/**
 * A streaming reader of `multipart/related` bodies (RFC 2046 §5.1.1, RFC 2387) for WADO-RS
 * responses: chunks go in as they arrive from the socket, events come out, and no part is ever held
 * whole in memory. Only the unconsumed tail of a chunk (shorter than the delimiter) is carried over,
 * as a copy: `data` events view the chunks pushed, so a caller may push views of a reused buffer.
 * @module
 */

/** What the reader found in one chunk, in order. `data` views the chunk: consume it before the next push. */
export type MultipartEvent =
  | { readonly type: 'begin'; readonly headers: ReadonlyMap<string, string> }
  | { readonly type: 'data'; readonly data: Buffer }
  | { readonly type: 'end' };

/** Thrown on a body that is not the multipart message its Content-Type announced. */
export class MultipartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultipartError';
  }
}

/** Longest header block of one part we accept; WADO-RS parts carry two or three short headers. */
const MAX_HEADER_BYTES = 16 * 1024;
/** Transport padding allowed after a delimiter (RFC 2046: linear white space) before its CRLF. */
const MAX_PADDING_BYTES = 1024;
const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');

type State = 'preamble' | 'delimiter' | 'headers' | 'body' | 'sized' | 'done';

/**
 * The `boundary` parameter of a multipart Content-Type, unquoted, or undefined when there is none.
 * @example
 * boundaryOf('multipart/related; type="application/dicom"; boundary="abc"'); // 'abc'
 */
export function boundaryOf(contentType: string): string | undefined {
  const params = parseParameters(contentType);
  const boundary = params.get('boundary');
  // RFC 2046 §5.1.1: 1 to 70 characters.
  return boundary && boundary.length <= 70 ? boundary : undefined;
}

/** `type; a=1; b="x;y"` → Map { a → 1, b → x;y } (names lower-cased; RFC 9110 §5.6.6). */
export function parseParameters(headerValue: string): Map<string, string> {
  const params = new Map<string, string>();
  const re = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  for (const m of headerValue.matchAll(re)) {
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '').trim();
    params.set(m[1].toLowerCase(), value);
  }
  return params;
}

/**
 * Push-based multipart reader.
 * @example
 * const reader = new MultipartReader(boundaryOf(res.headers['content-type'])!);
 * for await (const chunk of res) for (const ev of reader.push(chunk)) handle(ev);
 * reader.finish(); // throws when the closing delimiter never came
 */
export class MultipartReader {
  readonly #delimiter: Buffer;
  #state: State = 'preamble';
  // A virtual CRLF, so that a body that starts with the delimiter (no preamble) is found by the
  // same search as every later delimiter, which RFC 2046 defines as CRLF "--" boundary.
  #pending: Buffer = Buffer.from(CRLF);
  #parts = 0;
  /** Bytes of the current part still to come, when its headers gave a Content-Length. */
  #remaining = 0;

  constructor(boundary: string) {
    if (!boundary) throw new MultipartError('no boundary');
    this.#delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  }

  /** Parts begun so far. */
  get parts(): number {
    return this.#parts;
  }

  /** Feeds one chunk; returns what it completed. */
  push(chunk: Buffer): MultipartEvent[] {
    const events: MultipartEvent[] = [];
    let data = chunk;
    if (this.#pending.length > 0) {
      data = this.#state === 'body' && chunk.length >= this.#delimiter.length ? this.#seam(chunk, events) : Buffer.concat([this.#pending, chunk]);
      this.#pending = EMPTY;
    }
    for (;;) {
      switch (this.#state) {
        case 'preamble': {
          const at = data.indexOf(this.#delimiter);
          if (at < 0) {
            this.#keepTail(data);
            return events;
          }
          data = data.subarray(at + this.#delimiter.length);
          this.#state = 'delimiter';
          break;
        }
        case 'delimiter': {
          if (data.length < 2) return this.#wait(data, events);
          if (data[0] === 0x2d && data[1] === 0x2d) {
            // "--": the close delimiter; whatever follows is epilogue.
            this.#state = 'done';
            return events;
          }
          const eol = data.indexOf(CRLF);
          if (eol < 0) {
            if (data.length > MAX_PADDING_BYTES) throw new MultipartError('a boundary line is not followed by CRLF');
            return this.#wait(data, events);
          }
          if (!/^[ \t]*$/.test(data.subarray(0, eol).toString('latin1'))) {
            throw new MultipartError('a boundary line is followed by something other than CRLF');
          }
          data = data.subarray(eol + 2);
          this.#state = 'headers';
          break;
        }
        case 'headers': {
          let headerEnd: number;
          let bodyStart: number;
          if (data.length >= 2 && data[0] === 0x0d && data[1] === 0x0a) {
            headerEnd = 0; // a part without headers (RFC 2046 allows it)
            bodyStart = 2;
          } else {
            const at = data.indexOf(CRLFCRLF);
            if (at < 0) {
              if (data.length > MAX_HEADER_BYTES) throw new MultipartError(`the headers of part ${this.#parts + 1} exceed ${MAX_HEADER_BYTES} bytes`);
              return this.#wait(data, events);
            }
            headerEnd = at;
            bodyStart = at + 4;
          }
          const headers = parseHeaderBlock(data.subarray(0, headerEnd));
          events.push({ type: 'begin', headers });
          this.#parts++;
          data = data.subarray(bodyStart);
          // A part Content-Length (Orthanc, dcm4chee send one) lets the body pass without searching
          // it for the delimiter; the delimiter is still checked where the length says it is.
          const length = headers.get('content-length');
          if (length !== undefined && /^[0-9]{1,15}$/.test(length)) {
            this.#remaining = Number(length);
            this.#state = 'sized';
          } else {
            this.#state = 'body';
          }
          break;
        }
        case 'sized': {
          if (this.#remaining > 0) {
            const take = Math.min(this.#remaining, data.length);
            if (take > 0) events.push({ type: 'data', data: data.subarray(0, take) });
            this.#remaining -= take;
            data = data.subarray(take);
            if (this.#remaining > 0) return events;
          }
          if (data.length < this.#delimiter.length) return this.#wait(data, events);
          if (!data.subarray(0, this.#delimiter.length).equals(this.#delimiter)) {
            throw new MultipartError(`part ${this.#parts} is not followed by a boundary where its Content-Length ends`);
          }
          events.push({ type: 'end' });
          data = data.subarray(this.#delimiter.length);
          this.#state = 'delimiter';
          break;
        }
        case 'body': {
          const at = data.indexOf(this.#delimiter);
          if (at < 0) {
            // Everything but a tail that could be the start of a delimiter is part data.
            const safe = data.length - (this.#delimiter.length - 1);
            if (safe > 0) events.push({ type: 'data', data: data.subarray(0, safe) });
            this.#keepTail(safe > 0 ? data.subarray(safe) : data);
            return events;
          }
          if (at > 0) events.push({ type: 'data', data: data.subarray(0, at) });
          events.push({ type: 'end' });
          data = data.subarray(at + this.#delimiter.length);
          this.#state = 'delimiter';
          break;
        }
        case 'done':
          return events;
      }
    }
  }

  /** Call at the end of the body: throws when it ended inside a part or before any delimiter. */
  finish(): void {
    if (this.#state === 'done') return;
    if (this.#state === 'preamble') throw new MultipartError('the body has no multipart boundary');
    throw new MultipartError(`the body ended inside part ${this.#parts || 1} (no closing boundary)`);
  }

  /**
   * In a part's body, the tail kept from the last chunk (shorter than the delimiter) may start a
   * delimiter that ends in `chunk`: only that seam is searched, rather than copying the whole chunk
   * behind the tail. Returns what is left of `chunk` to parse.
   */
  #seam(chunk: Buffer, events: MultipartEvent[]): Buffer {
    const tail = this.#pending;
    const at = Buffer.concat([tail, chunk.subarray(0, this.#delimiter.length - 1)]).indexOf(this.#delimiter);
    if (at < 0 || at >= tail.length) {
      events.push({ type: 'data', data: tail }); // a copy (keepTail): safe to hand over
      return chunk;
    }
    if (at > 0) events.push({ type: 'data', data: tail.subarray(0, at) });
    events.push({ type: 'end' });
    this.#state = 'delimiter';
    return chunk.subarray(at + this.#delimiter.length - tail.length);
  }

  #keepTail(data: Buffer): void {
    const keep = Math.min(data.length, this.#delimiter.length - 1);
    this.#pending = Buffer.from(data.subarray(data.length - keep));
  }

  #wait(data: Buffer, events: MultipartEvent[]): MultipartEvent[] {
    this.#pending = Buffer.from(data);
    return events;
  }
}

const EMPTY = Buffer.alloc(0);

function parseHeaderBlock(block: Buffer): Map<string, string> {
  const headers = new Map<string, string>();
  if (block.length === 0) return headers;
  let name = '';
  for (const line of block.toString('latin1').split('\r\n')) {
    if (/^[ \t]/.test(line) && name) {
      headers.set(name, `${headers.get(name) ?? ''} ${line.trim()}`); // obsolete line folding
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}
