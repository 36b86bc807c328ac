/**
 * Downloads an image over HTTP(S) without letting the URL reach what it must not (SSRF).
 *
 * Every hop (the URL and each redirect) is vetted the same way: scheme http/https, the host name
 * resolved once with dns.lookup, and every address it resolves to public or allowed by the
 * operator. The connection then goes to the very address that was vetted (a `lookup` that answers
 * only that address), so a DNS answer that changes between the check and the connect (DNS
 * rebinding) changes nothing; the Host header and TLS server name stay the URL's host, so virtual
 * hosts and certificates work as usual. Redirects are followed by hand for the same reason.
 *
 * One deadline covers everything: lookups, connects, headers of every hop and the whole body.
 * @module
 */
import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import type { IncomingMessage, RequestOptions } from 'node:http';
import { STATUS_CODES, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { VoxgateError, isVoxgateError } from '../errors.js';
import { cappedBody } from './capped-body.js';
import { formatBytes, formatSeconds, networkErrorMessage, safeUrl } from './fetch-messages.js';
import { DEFAULT_IMAGE_NAME, nameFromUrl } from './image-name.js';
import type { FetchedImage } from './image-source.js';
import type { HostAllowList } from './network-policy.js';
import { canonicalHost, hostAllowList, nonPublicKind } from './network-policy.js';

export interface HttpSourceOptions {
  allowHosts: readonly string[];
  maxImageBytes: number;
  timeoutMs: number;
  maxRedirects: number;
  signal?: AbortSignal;
}

/** Where one hop connects: the URL's host (no brackets) and port, and the vetted addresses. */
interface Target {
  host: string;
  port: number;
  addresses: LookupAddress[];
}

/** RFC 9110 §15.4: the redirects that carry a Location to follow. */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Opens the body of `url` (http: or https:). Errors are VoxgateErrors with IMAGE_* codes. */
export async function openHttpImage(url: URL, options: HttpSourceOptions): Promise<FetchedImage> {
  const allow = hostAllowList(options.allowHosts);
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    const seconds = formatSeconds(options.timeoutMs);
    deadline.abort(new VoxgateError('VXG_ERR_IMAGE_FETCH', `fetching the image from ${safeUrl(url)} timed out after ${seconds} s`));
  }, options.timeoutMs);
  const outer = options.signal;
  const onOuterAbort = (): void => deadline.abort(outer?.reason);
  if (outer?.aborted) onOuterAbort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  const finish = (): void => {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
  };
  const signal = deadline.signal;
  const translate = (err: unknown, at: URL): unknown =>
    signal.aborted
      ? signal.reason
      : isVoxgateError(err)
        ? err
        : new VoxgateError('VXG_ERR_IMAGE_FETCH', networkErrorMessage(err, at.host), { cause: err });

  let current = url;
  let auth = credentialsOf(url);
  try {
    for (let hop = 0; ; hop++) {
      const target = await whileNotAborted(vet(current, allow, hop), signal);
      const res = await get(current, target, auth, signal);
      const status = res.statusCode ?? 0;
      if (REDIRECTS.has(status)) {
        res.destroy();
        const next = redirectTarget(current, res);
        if (hop >= options.maxRedirects) {
          throw new VoxgateError('VXG_ERR_IMAGE_FETCH', `the image URL ${safeUrl(url)} redirected more than ${options.maxRedirects} times`);
        }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') {
          throw new VoxgateError('VXG_ERR_IMAGE_URL', `the image URL ${safeUrl(current)} redirected to a ${next.protocol} URL; only redirects to http and https are followed`);
        }
        // Credentials go only where the client sent them: the URL's own origin (as fetch does).
        auth = next.username || next.password ? credentialsOf(next) : next.origin === current.origin ? auth : undefined;
        current = next;
        continue;
      }
      if (status < 200 || status > 299) {
        res.destroy();
        throw new VoxgateError('VXG_ERR_IMAGE_FETCH', `the image URL ${safeUrl(current)} answered ${statusLine(res)}`);
      }
      const size = contentLength(res);
      if (size !== undefined && size > options.maxImageBytes) {
        res.destroy();
        throw new VoxgateError('VXG_ERR_IMAGE_TOO_LARGE', `the image at ${safeUrl(current)} is ${formatBytes(size)}, over the ${formatBytes(options.maxImageBytes)} download limit (--max-image-bytes)`);
      }
      const final = current;
      const { body, close } = cappedBody(res, {
        maxBytes: options.maxImageBytes,
        tooLarge: () =>
          new VoxgateError('VXG_ERR_IMAGE_TOO_LARGE', `the image at ${safeUrl(final)} is larger than the ${formatBytes(options.maxImageBytes)} download limit (--max-image-bytes)`),
        translate: (err) => translate(err, final),
        finish,
      });
      const name = nameFromUrl(url) ?? nameFromUrl(final) ?? DEFAULT_IMAGE_NAME;
      return { name, source: safeUrl(final), size, body, close };
    }
  } catch (err) {
    finish();
    throw translate(err, current);
  }
}

/**
 * Resolves the hop's host and checks every address it has; the request may go to any of them.
 * A host that resolves to both a public and a private address is refused: which one a later
 * lookup would pick is not ours to know.
 */
async function vet(url: URL, allow: HostAllowList, hop: number): Promise<Target> {
  const host = canonicalHost(url.hostname);
  const where = hop === 0 ? '' : `the image URL redirected to ${safeUrl(url)}, but `;
  if (host === '') throw new VoxgateError('VXG_ERR_IMAGE_URL', `${where}the image URL has no host`);
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const literal = isIP(host);
  let addresses: LookupAddress[];
  if (literal !== 0) {
    addresses = [{ address: host, family: literal }];
  } else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch (err) {
      throw new VoxgateError('VXG_ERR_IMAGE_FETCH', `${where}${networkErrorMessage(err, host)}`, { cause: err });
    }
    if (addresses.length === 0) throw new VoxgateError('VXG_ERR_IMAGE_FETCH', `${where}${networkErrorMessage({ code: 'ENOTFOUND' }, host)}`);
  }
  for (const { address } of addresses) {
    const kind = nonPublicKind(address);
    if (kind === undefined || allow.allows(host, port, address)) continue;
    const what = literal !== 0 ? `the image host ${host} is` : `the image host ${host} resolves to ${address},`;
    throw new VoxgateError(
      'VXG_ERR_IMAGE_URL',
      `${where}${what} a non-public address (${kind}); images are fetched only from public hosts unless the operator allows the host (--allow-host)`,
    );
  }
  return { host, port, addresses };
}

/** Sends the GET for one hop to the pinned address and waits for the response head. */
function get(url: URL, target: Target, auth: string | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  // net.connect asks this instead of DNS, so it connects only to addresses vet() checked. With
  // all: true (autoSelectFamily, "happy eyeballs") it may try each of them in turn.
  const pinned: LookupFunction = (_hostname, options, callback) => {
    const [first] = target.addresses;
    if (options.all) callback(null, target.addresses);
    else callback(null, first.address, first.family);
  };
  const secure = url.protocol === 'https:';
  const options: RequestOptions & { servername?: string } = {
    host: target.host,
    port: target.port,
    path: `${url.pathname}${url.search}`,
    method: 'GET',
    headers: { host: url.host, 'user-agent': 'voxgate', accept: '*/*', 'accept-encoding': 'identity' },
    // A fresh connection per hop: a pooled socket would skip the vetting of this hop's address.
    agent: false,
    lookup: pinned,
    signal,
    auth,
  };
  // SNI and the certificate check use the host name; an IP literal is checked against the certificate's IP SANs.
  if (secure && isIP(target.host) === 0) options.servername = target.host;
  return new Promise((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(options, resolve);
    req.on('error', reject);
    req.end();
  });
}

function redirectTarget(from: URL, res: IncomingMessage): URL {
  const location = res.headers.location;
  if (!location) {
    throw new VoxgateError('VXG_ERR_IMAGE_FETCH', `the image URL ${safeUrl(from)} answered ${statusLine(res)} without a Location to follow`);
  }
  try {
    return new URL(location, from);
  } catch {
    throw new VoxgateError('VXG_ERR_IMAGE_FETCH', `the image URL ${safeUrl(from)} answered ${statusLine(res)} with a Location that is not a URL`);
  }
}

function statusLine(res: IncomingMessage): string {
  const status = res.statusCode ?? 0;
  return `${status} ${STATUS_CODES[status] ?? ''}`.trim();
}

function contentLength(res: IncomingMessage): number | undefined {
  const header = res.headers['content-length'];
  return header !== undefined && /^\d+$/.test(header) ? Number(header) : undefined;
}

/** `user:password` for Basic authentication, from the URL's percent-encoded userinfo. */
function credentialsOf(url: URL): string | undefined {
  if (!url.username && !url.password) return undefined;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  return `${decode(url.username)}:${decode(url.password)}`;
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts (dns.lookup cannot be cancelled). */
function whileNotAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
