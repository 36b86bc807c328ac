/**
 * HTTP/1.1 GET whose response body is read from the socket into one buffer per connection
 * (`onread` of net/tls) and handed over as views of it: no Buffer allocated per read, no copy made
 * by an HTTP parser, no stream machinery between the socket and the caller.
 *
 * Why not node:http here: reading a 150 MB WADO-RS answer and dropping it costs ~160–280 ms of CPU
 * through node:http (a fresh 64 KiB Buffer per read, copied again by the parser for each body
 * piece, then a Readable) against ~40–80 ms straight from the socket (bench/wado.ts's series, 2-CPU
 * machine). The server shares those CPUs, so that time is the download's.
 *
 * Only what WADO-RS needs: GET, the status line and header fields (1xx answers skipped), bodies
 * framed by Content-Length, by the chunked transfer coding or by the connection's close (RFC 9112
 * §6.3). A connection whose body had a length and was read to its end is kept for the next request.
 * Errors are Node errors (`code` ECONNRESET, HPE_…) for the caller to translate.
 * @module
 */
import type { Socket } from 'node:net';
import { connect as netConnect, isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { connect as tlsConnect } from 'node:tls';

/** One read; a WADO-RS instance (~0.5 MiB for a CT slice) often arrives in one or two of them. */
const READ_BUFFER_BYTES = 1 << 20;
/** Status line and header fields of one answer. */
const MAX_HEAD_BYTES = 64 * 1024;
/** A chunk-size line or trailer field. */
const MAX_LINE_BYTES = 4096;

/** What the caller's piece handler may return: a promise holds reading until it settles. */
export type BodyConsumer = (chunk: Buffer) => void | Promise<void>;

export interface StreamedResponse {
  readonly statusCode: number;
  readonly statusMessage: string;
  /** Lower-case names; a repeated field's values joined with ", " (RFC 9110 §5.3). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /**
   * Reads the body to its end. Each piece is a view of the connection's read buffer, valid until
   * `consume` returns or the promise it returned settles: copy what must outlive that. Rejects
   * with the network error or with what `consume` threw.
   */
  read(consume: BodyConsumer): Promise<void>;
  /** Drops the body and the connection (what is left of a refused answer is not worth reading). */
  resume(): void;
}

/** An error the way Node's own HTTP client reports it, so that the same translation applies. */
function protocolError(message: string, code: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(message);
  err.code = code;
  return err;
}

type Framing = 'length' | 'chunked' | 'close' | 'none';
type BodyState = 'length' | 'close' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' | 'done';

export interface GetOptions {
  /** Idle timeout: no byte from the server for this long fails the exchange with `onTimeout()`. */
  readonly timeoutMs: number;
  readonly onTimeout: () => Error;
  readonly signal?: AbortSignal;
}

/** A consumer's own failure, kept apart from the network's so that the caller can tell them apart. */
export class ConsumerFailure extends Error {
  constructor(readonly failure: unknown) {
    super('the body consumer failed');
    this.name = 'ConsumerFailure';
  }
}

/** One keep-alive connection to the server; one request at a time. */
export class Http1Connection {
  readonly socket: Socket;
  /** Requests answered on it so far: a failure on a reused connection before any byte is retried. */
  requests = 0;
  #exchange: Exchange | undefined;
  #timeoutError: (() => Error) | undefined;

  constructor(url: URL, onIdleEnd: (connection: Http1Connection) => void) {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const buffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
    const onread = { buffer, callback: (n: number, buf: Uint8Array) => this.#onRead(n, buf as Buffer) };
    if (url.protocol === 'https:') {
      // tls.connect honours `onread` like net.connect (TLSSocket is a net.Socket); @types/node omits it.
      const options: ConnectionOptions = { host, port, servername: isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'] };
      this.socket = tlsConnect(Object.assign(options, { onread }));
    } else {
      this.socket = netConnect({ host, port, onread });
    }
    this.socket.setNoDelay(true);
    // One listener for both idle timeouts: a request's (the server is silent) and a kept connection's.
    this.socket.on('timeout', () => {
      if (this.#exchange) this.#exchange.fail(this.#timeoutError?.() ?? protocolError('timed out', 'ETIMEDOUT'));
      else this.socket.destroy();
    });
    this.socket.on('end', () => this.#exchange?.onEnd());
    this.socket.on('error', (err) => this.#exchange?.fail(err));
    this.socket.on('close', () => {
      if (this.#exchange) this.#exchange.fail(protocolError('the connection closed', 'ECONNRESET'));
      else onIdleEnd(this);
    });
  }

  /**
   * Sends `GET url` and resolves once the answer's head is in. `done(reusable)` is called once
   * the exchange is over: reusable when the body was read to its framed end and the server keeps
   * the connection open.
   */
  get(url: URL, headers: Readonly<Record<string, string>>, options: GetOptions, done: (reusable: boolean) => void): Promise<StreamedResponse> {
    if (this.#exchange) throw new Error('Http1Connection: one request at a time');
    this.requests++;
    let head = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\n`;
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
    const { signal } = options;
    this.#timeoutError = options.onTimeout;
    const onAbort = (): void => {
      const err = new Error('The operation was aborted');
      err.name = 'AbortError';
      this.#exchange?.fail(err);
    };
    return new Promise((resolve, reject) => {
      this.#exchange = new Exchange(this.socket, resolve, reject, (reusable) => {
        this.#exchange = undefined;
        this.socket.setTimeout(0);
        signal?.removeEventListener('abort', onAbort);
        done(reusable);
      });
      this.socket.ref();
      this.socket.setTimeout(options.timeoutMs);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.socket.write(`${head}\r\n`, 'latin1');
      this.socket.resume(); // paused since the last answer on a kept connection
    });
  }

  /**
   * Parks a kept connection: still reading, so that the server's close (or stray bytes) is noticed,
   * closed after `ms` unused, and not keeping the process alive.
   */
  idle(ms: number): void {
    this.socket.setTimeout(ms);
    this.socket.unref();
    this.socket.resume();
  }

  #onRead(n: number, buf: Buffer): boolean {
    if (!this.#exchange) {
      // Bytes on an idle connection: the server is not speaking HTTP/1.1 as we know it.
      this.socket.destroy();
      return false;
    }
    return this.#exchange.onBytes(buf.subarray(0, n));
  }
}

/** One request's answer: head parsing, then body framing; pieces of body go to the consumer. */
class Exchange {
  /** The start of a head that spans reads (a copy: the read buffer is reused). */
  #partialHead: Buffer | undefined;
  #response: StreamedResponse | undefined;
  #framing: Framing = 'none';
  #state: BodyState = 'done';
  #remaining = 0;
  #line = '';
  /** Body bytes read before `read()` was called, or while the consumer held reading. */
  #held: Buffer | undefined;
  #consume: BodyConsumer | undefined;
  #settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  /** The consumer's promise while it holds reading. */
  #holding: Promise<void> | undefined;
  /** True during the consumer's synchronous call; a failure meanwhile waits for what it returns. */
  #consuming = false;
  #failedWhileConsuming: { err: unknown } | undefined;
  /** A failure between the head and `read()`: read() rejects with it. */
  #pendingError: unknown;
  #keepAlive = true;
  #finished = false;

  constructor(
    private readonly socket: Socket,
    private readonly resolveHead: (res: StreamedResponse) => void,
    private readonly rejectHead: (err: unknown) => void,
    private readonly done: (reusable: boolean) => void,
  ) {}

  /** The read callback: false pauses the socket (the buffer's bytes are not all consumed yet). */
  onBytes(bytes: Buffer): boolean {
    if (this.#finished) {
      this.socket.destroy();
      return false;
    }
    let data = bytes;
    if (!this.#response) {
      const body = this.#parseHead(data);
      if (body === undefined) return !this.#finished;
      data = body;
      if (!this.#consume) {
        // The caller has the head but not yet asked for the body: keep the rest of this read.
        this.#held = data;
        return false;
      }
    }
    return this.#deliver(data);
  }

  onEnd(): void {
    if (this.#finished) return;
    if (this.#response && this.#state === 'close') {
      this.#state = 'done';
      this.#complete(false);
      return;
    }
    this.fail(protocolError(this.#response ? 'the connection closed before the end of the body' : 'the connection closed before an answer', 'ECONNRESET'));
  }

  fail(err: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.socket.destroy();
    if (!this.#response) this.rejectHead(err);
    else if (!this.#settle) this.#pendingError = err;
    else if (this.#consuming) this.#failedWhileConsuming = { err };
    else this.#rejectAfter(this.#holding, err);
    this.done(false);
  }

  /**
   * Rejects `read()` once the consumer's work in progress (a progress record, say) is over: the
   * caller never hears of a failure while its own callback still runs.
   */
  #rejectAfter(holding: Promise<void> | undefined, err: unknown): void {
    const reject = this.#settle?.reject;
    if (!reject) return;
    if (!holding) reject(err);
    else
      holding.then(
        () => reject(err),
        () => reject(err),
      );
  }

  /** Parses what it can of the head; returns the body bytes after it, or undefined for "more". */
  #parseHead(data: Buffer): Buffer | undefined {
    // The body bytes after a complete head stay a view: reading pauses until they are consumed.
    const all = this.#partialHead ? Buffer.concat([this.#partialHead, data]) : data;
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      if (all.length > MAX_HEAD_BYTES) {
        this.fail(protocolError(`the answer's header is larger than ${MAX_HEAD_BYTES} bytes`, 'HPE_HEADER_OVERFLOW'));
        return undefined;
      }
      this.#partialHead = Buffer.from(all);
      return undefined;
    }
    const lines = all.subarray(0, end).toString('latin1').split('\r\n');
    const status = /^HTTP\/1\.([01]) ([1-5][0-9]{2})(?: (.*))?$/.exec(lines[0]);
    if (!status) {
      this.fail(protocolError('the answer does not start with an HTTP/1.1 status line', 'HPE_INVALID_CONSTANT'));
      return undefined;
    }
    const statusCode = Number(status[2]);
    const rest = all.subarray(end + 4);
    this.#partialHead = undefined;
    if (statusCode < 200) return rest.length > 0 ? this.#parseHead(rest) : undefined; // 100, 103: the answer follows
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    // RFC 9112 §9.3: HTTP/1.1 keeps the connection unless told otherwise; we do not ask 1.0 for more.
    this.#keepAlive = status[1] === '1' && !/(?:^|,)\s*close\s*(?:,|$)/i.test(headers.connection ?? '');
    const framing = this.#framingOf(statusCode, headers);
    if (framing === undefined) return undefined;
    this.#framing = framing;
    this.#state = framing === 'length' ? 'length' : framing === 'chunked' ? 'chunk-size' : framing === 'close' ? 'close' : 'done';
    if (framing === 'length' && this.#remaining === 0) this.#state = 'done';
    this.#response = {
      statusCode,
      statusMessage: status[3] ?? '',
      headers,
      read: (consume) => this.#read(consume),
      resume: () => {
        if (this.#finished) return;
        this.#complete(this.#state === 'done' && !this.#held?.length && this.#framing !== 'close');
      },
    };
    this.resolveHead(this.#response);
    return rest;
  }

  /** RFC 9112 §6.3: how the body ends; undefined after failing on a length we cannot trust. */
  #framingOf(statusCode: number, headers: Record<string, string>): Framing | undefined {
    if (statusCode === 204 || statusCode === 304) return 'none';
    const coding = headers['transfer-encoding'];
    if (coding !== undefined) {
      if (/(?:^|,)\s*chunked\s*$/i.test(coding)) return 'chunked';
      return 'close';
    }
    const length = headers['content-length'];
    if (length !== undefined) {
      const values = new Set(length.split(',').map((v) => v.trim()));
      const [only] = values;
      if (values.size !== 1 || !/^[0-9]{1,15}$/.test(only)) {
        this.fail(protocolError('the answer has an invalid Content-Length', 'HPE_INVALID_CONTENT_LENGTH'));
        return undefined;
      }
      this.#remaining = Number(only);
      return 'length';
    }
    return 'close';
  }

  #read(consume: BodyConsumer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#pendingError !== undefined) {
        reject(this.#pendingError);
        return;
      }
      this.#settle = { resolve, reject };
      this.#consume = consume;
      if (this.#state === 'done') {
        this.#complete(this.#framing !== 'close' && (this.#held === undefined || this.#held.length === 0));
        return;
      }
      const held = this.#held ?? Buffer.alloc(0);
      this.#held = undefined;
      if (this.#deliver(held)) this.socket.resume();
    });
  }

  /** Feeds body bytes; false when the consumer holds reading (the socket resumes when it lets go). */
  #deliver(data: Buffer): boolean {
    let pending: void | Promise<void>;
    try {
      pending = this.#feed(data);
    } catch (err) {
      this.fail(err);
      return false;
    }
    if (pending === undefined) return !this.#finished;
    // Our own work (a file, a progress record) is no silence from the server: no timeout meanwhile.
    const timeout = this.socket.timeout ?? 0;
    this.socket.setTimeout(0);
    this.#holding = pending;
    pending.then(
      () => {
        this.#holding = undefined;
        if (this.#finished) return;
        this.socket.setTimeout(timeout);
        this.socket.resume();
      },
      (err: unknown) => {
        this.#holding = undefined;
        this.fail(err);
      },
    );
    return false;
  }

  /** Body framing; returns the consumer's promise (with the rest queued behind it) when it has one. */
  #feed(input: Buffer): void | Promise<void> {
    let data = input;
    while (!this.#finished) {
      if (this.#state === 'done') {
        // Anything after the framed end is not ours (we never pipeline): the connection is not reused.
        this.#complete(data.length === 0 && this.#framing !== 'close');
        return;
      }
      if (data.length === 0) return;
      switch (this.#state) {
        case 'length':
        case 'chunk-data': {
          const take = Math.min(this.#remaining, data.length);
          const piece = data.subarray(0, take);
          data = data.subarray(take);
          this.#remaining -= take;
          if (this.#remaining === 0) this.#state = this.#state === 'length' ? 'done' : 'chunk-crlf';
          const held = this.#handOver(piece);
          if (held) return held.then(() => this.#feed(data));
          break;
        }
        case 'close': {
          const held = this.#handOver(data);
          data = data.subarray(data.length);
          if (held) return held;
          break;
        }
        case 'chunk-size':
        case 'chunk-crlf':
        case 'trailers': {
          const lf = data.indexOf(0x0a);
          const piece = data.subarray(0, lf < 0 ? data.length : lf + 1).toString('latin1');
          data = data.subarray(piece.length);
          this.#line += piece;
          if (this.#line.length > MAX_LINE_BYTES) throw protocolError('a chunk-size line is too long', 'HPE_INVALID_CHUNK_SIZE');
          if (lf < 0) break;
          const line = this.#line.replace(/\r?\n$/, '');
          this.#line = '';
          this.#chunkLine(line);
          break;
        }
      }
    }
  }

  #handOver(piece: Buffer): void | Promise<void> {
    let held: void | Promise<void> = undefined;
    this.#consuming = true;
    try {
      held = this.#consume?.(piece);
    } catch (err) {
      throw new ConsumerFailure(err);
    } finally {
      this.#consuming = false;
      const failed = this.#failedWhileConsuming;
      this.#failedWhileConsuming = undefined;
      if (failed) this.#rejectAfter(held ?? undefined, failed.err);
    }
    return held?.catch((err: unknown) => {
      throw new ConsumerFailure(err);
    });
  }

  #chunkLine(line: string): void {
    if (this.#state === 'chunk-crlf') {
      if (line !== '') throw protocolError('a chunk is longer than its size', 'HPE_INVALID_CHUNK_SIZE');
      this.#state = 'chunk-size';
    } else if (this.#state === 'chunk-size') {
      const size = /^([0-9A-Fa-f]{1,12})[ \t]*(?:;.*)?$/.exec(line);
      if (!size) throw protocolError('an invalid chunk-size line', 'HPE_INVALID_CHUNK_SIZE');
      this.#remaining = parseInt(size[1], 16);
      this.#state = this.#remaining === 0 ? 'trailers' : 'chunk-data';
    } else if (line === '') {
      this.#state = 'done'; // the empty line after the trailer fields
    }
  }

  #complete(framedEnd: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    const reusable = framedEnd && this.#keepAlive;
    if (!reusable) this.socket.destroy();
    this.#settle?.resolve();
    this.done(reusable);
  }
}
