/**
 * HTTP for the DICOMweb and FHIR clients, on node:http / node:https: one keep-alive agent per
 * client, TCP_NODELAY on every socket, an idle timeout (no byte for `timeoutMs`, at any point of the
 * exchange, ends it), no redirects followed, and every failure turned into a {@link PeerError}.
 *
 * Not fetch: WADO-RS moves hundreds of megabytes, and a Node stream of Buffers with socket
 * back-pressure is both faster and simpler to bound than a web ReadableStream. Those downloads go
 * further: {@link HttpTransport.stream} reads them on connections of its own (http-stream.ts), the
 * body handed over as views of one read buffer per connection.
 * @module
 */
import type { Agent as HttpAgent, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Agent, STATUS_CODES, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import type { ErrorCode } from '../../errors.js';
import { PeerError, networkFailure, serverName } from './errors.js';
import type { StreamedResponse } from './http-stream.js';
import { ConsumerFailure, Http1Connection } from './http-stream.js';

export type { BodyConsumer, StreamedResponse } from './http-stream.js';

/** `authType` of the ACR request (spec/acr-api.md): `authID` is the credential. */
export type AuthType = 'None' | 'Basic' | 'Bearer';

export interface Auth {
  readonly type: AuthType;
  /** Basic: base64 of `user:password`; Bearer: the token. */
  readonly id?: string;
}

/** Error codes of one protocol, so that DICOMweb and FHIR share the mapping. */
export interface ProtocolCodes {
  /** "DICOMweb server", "FHIR server": the words before the host in messages. */
  readonly label: string;
  readonly unreachable: ErrorCode;
  readonly timeout: ErrorCode;
  readonly auth: ErrorCode;
  readonly notFound: ErrorCode;
  readonly status: ErrorCode;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers: OutgoingHttpHeaders;
  /** What is being done, for messages: "QIDO-RS search for studies". Never patient data. */
  readonly what: string;
  /** A body and its exact length (Content-Length is always sent: some servers refuse chunked uploads). */
  readonly body?: { readonly length: number; readonly write: (sink: NodeJS.WritableStream) => Promise<void> };
  readonly signal?: AbortSignal;
}

/** What {@link HttpTransport.statusError} reads of an answer: an IncomingMessage or a StreamedResponse. */
export interface ResponseHead {
  readonly statusCode?: number;
  readonly statusMessage?: string;
  resume(): unknown;
}

/** Kept connections of {@link HttpTransport.stream}, as many as the agent's sockets. */
const MAX_IDLE_STREAM_CONNECTIONS = 8;
/** A kept connection unused for this long is closed (servers close theirs after 5–15 s). */
const IDLE_STREAM_CONNECTION_MS = 4000;

/** The `Authorization` header value for `auth`, or undefined for None. */
export function authorization(auth: Auth | undefined): string | undefined {
  if (!auth || auth.type === 'None') return undefined;
  return `${auth.type} ${auth.id ?? ''}`;
}

/** A keep-alive HTTP(S) connection pool with an idle timeout and Nagle off. */
export class HttpTransport {
  readonly server: string;
  readonly #agent: HttpAgent;
  readonly #idle: Http1Connection[] = [];
  readonly #https: boolean;
  readonly #timeoutMs: number;
  readonly #codes: ProtocolCodes;

  constructor(base: URL, timeoutMs: number, codes: ProtocolCodes) {
    this.server = serverName(base);
    this.#https = base.protocol === 'https:';
    this.#timeoutMs = timeoutMs;
    this.#codes = codes;
    const options = { keepAlive: true, maxSockets: 8, noDelay: true };
    this.#agent = this.#https ? new HttpsAgent(options) : new Agent(options);
  }

  /**
   * Sends the request and resolves with the response once its headers are in; the body is the
   * caller's to read (the idle timeout keeps watching it). Network failures and timeouts reject
   * with a transient PeerError; the status is not judged here (see {@link statusError}).
   */
  send(req: HttpRequest): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const send = this.#https ? httpsRequest : httpRequest;
      const headers: OutgoingHttpHeaders = { ...req.headers };
      if (req.body) headers['content-length'] = String(req.body.length);
      const outgoing = send(req.url, { method: req.method, headers, agent: this.#agent, signal: req.signal });
      let settled = false;
      let response: IncomingMessage | undefined;
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        reject(this.#networkError(err, req.what));
      };
      // The socket's idle timeout covers the whole exchange: a stalled body download ends with the
      // timeout error thrown from the body stream itself.
      outgoing.setTimeout(this.#timeoutMs, () => {
        const err = this.timeoutError(req.what);
        if (response) response.destroy(err);
        outgoing.destroy(err);
      });
      outgoing.on('socket', (socket) => socket.setNoDelay(true));
      outgoing.on('error', fail);
      outgoing.on('response', (res) => {
        settled = true;
        response = res;
        resolve(res);
      });
      if (req.body) {
        req.body.write(outgoing).then(
          () => outgoing.end(),
          (err: unknown) => outgoing.destroy(err instanceof Error ? err : new Error(String(err))),
        );
      } else {
        outgoing.end();
      }
    });
  }

  /**
   * A GET whose body the caller reads with `read(consume)`, as views of the connection's read
   * buffer (see http-stream.ts): for WADO-RS, where node:http's per-read Buffers and copies cost
   * more CPU than the socket. Same timeout, cancellation and errors as {@link send}; what `consume`
   * throws comes out of `read` unchanged. A kept connection that the server closed meanwhile is
   * replaced once, transparently (a GET may be sent again).
   */
  async stream(req: Omit<HttpRequest, 'method' | 'body'>): Promise<StreamedResponse> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = String(value);
    const options = { timeoutMs: this.#timeoutMs, onTimeout: () => this.timeoutError(req.what), signal: req.signal };
    for (;;) {
      const kept = this.#idle.pop();
      const connection = kept ?? new Http1Connection(req.url, (c) => this.#forget(c));
      let res: StreamedResponse;
      try {
        res = await connection.get(req.url, headers, options, (reusable) => this.#keep(connection, reusable));
      } catch (err) {
        if (kept && !req.signal?.aborted && !(err instanceof PeerError)) continue;
        throw this.#networkError(err, req.what);
      }
      return {
        statusCode: res.statusCode,
        statusMessage: res.statusMessage,
        headers: res.headers,
        resume: () => res.resume(),
        read: (consume) =>
          res.read(consume).catch((err: unknown) => {
            throw err instanceof ConsumerFailure ? err.failure : this.#networkError(err, req.what);
          }),
      };
    }
  }

  #keep(connection: Http1Connection, reusable: boolean): void {
    if (!reusable || this.#idle.length >= MAX_IDLE_STREAM_CONNECTIONS || connection.socket.destroyed) {
      connection.socket.destroy();
      return;
    }
    connection.idle(IDLE_STREAM_CONNECTION_MS);
    this.#idle.push(connection);
  }

  #forget(connection: Http1Connection): void {
    const at = this.#idle.indexOf(connection);
    if (at >= 0) this.#idle.splice(at, 1);
  }

  /** The error for "no byte for timeoutMs". */
  timeoutError(what: string): PeerError {
    return new PeerError(this.#codes.timeout, `The ${this.#codes.label} ${this.server} did not answer ${what} within ${this.#timeoutMs / 1000} s.`, {
      transient: true,
      server: this.server,
    });
  }

  #networkError(err: unknown, what: string): PeerError {
    if (err instanceof PeerError) return err;
    if ((err as Error | undefined)?.name === 'AbortError') {
      return new PeerError(this.#codes.unreachable, `${what} on the ${this.#codes.label} ${this.server} was cancelled.`, {
        transient: false,
        server: this.server,
        cause: err,
      });
    }
    const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
    const certificate = /CERT|TLS|SSL|UNABLE_TO_/.test(code);
    return new PeerError(this.#codes.unreachable, `The ${this.#codes.label} ${this.server} ${networkFailure(err)} during ${what}.`, {
      transient: !certificate,
      server: this.server,
      cause: err,
    });
  }

  /** Turns an error thrown while reading a response body into a PeerError (timeouts, resets). */
  bodyError(err: unknown, what: string): PeerError {
    return this.#networkError(err, what);
  }

  /**
   * The PeerError for an unexpected status: 401/403 auth (permanent), 404 not found (permanent),
   * 408/429/5xx transient, anything else permanent. Drains the body so the socket is reused.
   */
  statusError(res: ResponseHead, what: string): PeerError {
    res.resume();
    const status = res.statusCode ?? 0;
    const words = `${status} ${res.statusMessage || STATUS_CODES[status] || ''}`.trim();
    const server = this.server;
    const label = this.#codes.label;
    if (status === 401 || status === 403) {
      return new PeerError(this.#codes.auth, `The ${label} ${server} refused ${what}: ${words} (check authType and authID).`, { transient: false, server, status });
    }
    if (status === 404) {
      return new PeerError(this.#codes.notFound, `The ${label} ${server} answered ${words} to ${what}: it does not have it.`, { transient: false, server, status });
    }
    const transient = status >= 500 || status === 408 || status === 429;
    return new PeerError(this.#codes.status, `The ${label} ${server} answered ${words} to ${what}.`, { transient, server, status });
  }

  /** Reads a whole (small) body, at most `maxBytes`. */
  async readBody(res: Readable, what: string, maxBytes: number, tooLarge: () => PeerError): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let length = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        length += chunk.length;
        if (length > maxBytes) {
          res.destroy();
          throw tooLarge();
        }
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof PeerError) throw err;
      throw this.bodyError(err, what);
    }
    return Buffer.concat(chunks, length);
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.#agent.destroy();
    for (const connection of this.#idle.splice(0)) connection.socket.destroy();
  }
}
