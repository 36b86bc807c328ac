/**
 * The words of image-fetch errors. They go back to the API client, so they name what the client
 * can act on and leak nothing else: URLs lose their credentials, query and fragment (a presigned
 * URL's signature is a credential too).
 * @module
 */

/** `https://host:port/path` of `url`, without user:password, query or fragment; long paths shortened. */
export function safeUrl(url: URL): string {
  const path = url.pathname.length > 200 ? `${url.pathname.slice(0, 200)}…` : url.pathname;
  return `${url.protocol}//${url.host}${path}`;
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** 300 → "0.3", 120000 → "120". */
export function formatSeconds(ms: number): string {
  return String(Number((ms / 1000).toFixed(3)));
}

/**
 * A sentence for a failed connection or transfer to `host` (`name:port`), from a Node error's code.
 * @example
 * networkErrorMessage(Object.assign(new Error(), { code: 'ECONNREFUSED' }), 'pacs:8042');
 * // 'the image host pacs:8042 refused the connection'
 */
export function networkErrorMessage(err: unknown, host: string): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return `the image host ${host} refused the connection`;
    case 'ENOTFOUND':
      return `the image host ${host} was not found (no such name in DNS)`;
    case 'EAI_AGAIN':
      return `the image host name ${host} could not be resolved (temporary DNS failure)`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `the image host ${host} closed the connection`;
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return `the image host ${host} closed the connection before the whole image arrived`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return `the image host ${host} could not be reached (${code})`;
  }
  if (code.startsWith('HPE_')) return `the image host ${host} sent an invalid HTTP answer (${code})`;
  if (/CERT|TLS|SSL|UNABLE_TO_/.test(code)) return `the TLS certificate of the image host ${host} was not accepted (${code})`;
  return `the image could not be fetched from ${host} (${code || 'network error'})`;
}
