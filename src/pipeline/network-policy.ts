/**
 * Which network addresses an image URL may reach. Voxgate fetches images for whoever sends a
 * request, so without this an API client could make the server read its own loopback services,
 * the cloud metadata endpoint (169.254.169.254) or the private network behind it (SSRF).
 *
 * Addresses are compared as 16 bytes, IPv4 as IPv4-mapped IPv6 (`::ffff:a.b.c.d`, RFC 4291
 * §2.5.5.2), so `::ffff:127.0.0.1` is caught by the same rule as `127.0.0.1`.
 * @module
 */
import { isIP } from 'node:net';
import { VoxgateError } from '../errors.js';

/** An address range: the first `prefix` bits of `bytes`. */
interface Cidr {
  bytes: Uint8Array;
  prefix: number;
}

/**
 * Ranges that are not the public internet (IANA special-purpose registries, RFC 6890), first match
 * wins. IPv4 ranges are written in IPv4 form and matched in mapped form.
 */
const NON_PUBLIC: readonly (readonly [range: string, kind: string])[] = [
  ['0.0.0.0/8', 'unspecified'], // "this network", RFC 1122 §3.2.1.3
  ['10.0.0.0/8', 'private'], // RFC 1918
  ['100.64.0.0/10', 'carrier-grade NAT'], // RFC 6598
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'], // RFC 3927; cloud metadata services live here
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'IETF protocol assignment'],
  ['192.0.2.0/24', 'documentation'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'], // includes the broadcast address 255.255.255.255
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['::/96', 'IPv4-compatible'], // deprecated by RFC 4291 §2.5.5.1
  ['::ffff:0:0:0/96', 'IPv4-translated'], // RFC 2765
  ['64:ff9b:1::/48', 'local NAT64'], // RFC 8215
  ['100::/64', 'discard-only'], // RFC 6666
  ['2001::/32', 'Teredo'], // RFC 4380: tunnels to an IPv4 host we could not vet
  ['2001:db8::/32', 'documentation'],
  ['fc00::/7', 'unique local'], // RFC 4193, the IPv6 private ranges
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'], // deprecated by RFC 3879, still routed locally
  ['ff00::/8', 'multicast'],
];

/** IPv6 ranges that embed an IPv4 address in bytes `at..at+3`: it is that address that is reached. */
const EMBEDDING: readonly (readonly [range: string, at: number])[] = [
  ['64:ff9b::/96', 12], // NAT64 well-known prefix, RFC 6052
  ['2002::/16', 2], // 6to4, RFC 3056
];

const nonPublic = NON_PUBLIC.map(([range, kind]) => [parseCidrOrThrow(range), kind] as const);
const embedding = EMBEDDING.map(([range, at]) => [parseCidrOrThrow(range), at] as const);

/**
 * The 16 bytes of an IP address (IPv4 as IPv4-mapped IPv6), or undefined when `text` is not one.
 * A zone index (`fe80::1%eth0`) is ignored.
 */
export function ipBytes(text: string): Uint8Array | undefined {
  const zone = text.indexOf('%');
  const address = zone >= 0 ? text.slice(0, zone) : text;
  switch (isIP(address)) {
    case 4:
      return mapped(address);
    case 6:
      return parseIPv6(address);
    default:
      return undefined;
  }
}

/**
 * Why `address` is not a public internet address (`'loopback'`, `'private'`, …), or undefined when
 * it is public. Throws on a string that is not an IP address.
 * @example
 * nonPublicKind('::ffff:127.0.0.1'); // 'loopback'
 * nonPublicKind('93.184.216.34');    // undefined
 */
export function nonPublicKind(address: string): string | undefined {
  const bytes = ipBytes(address);
  if (!bytes) throw new TypeError(`not an IP address: ${address}`);
  return kindOf(bytes);
}

function kindOf(bytes: Uint8Array): string | undefined {
  for (const [range, at] of embedding) {
    if (contains(range, bytes)) {
      const inner = kindOf(mapped(bytes.subarray(at, at + 4).join('.')));
      return inner === undefined ? undefined : `${inner}, embedded in ${range.prefix === 96 ? 'NAT64' : '6to4'}`;
    }
  }
  for (const [range, kind] of nonPublic) if (contains(range, bytes)) return kind;
  return undefined;
}

/** One `--allow-host` entry. */
type HostRule =
  | { kind: 'name'; name: string; subdomains: boolean; port?: number }
  | { kind: 'address'; range: Cidr; port?: number };

/**
 * The hosts an operator allows even though they are not public (`--allow-host`). Entries:
 * a host name (`pacs.local`, `*.hospital.org` for its subdomains), an IP address (`10.1.2.3`,
 * `::1`), either with a port (`pacs.local:8042`, `127.0.0.1:9000`, `[::1]:9000`), or a CIDR range
 * (`10.0.0.0/8`, `fd00::/8`).
 */
export class HostAllowList {
  readonly #rules: readonly HostRule[];

  private constructor(rules: HostRule[]) {
    this.#rules = rules;
  }

  /**
   * Parses the entries; throws VXG_ERR_CONFIG_INVALID naming a malformed one.
   * @example
   * const allow = HostAllowList.parse(['10.0.0.0/8', 'pacs.local:8042']);
   * allow.allows('pacs.local', 8042, '192.168.1.5'); // true
   */
  static parse(entries: readonly string[]): HostAllowList {
    return new HostAllowList(entries.map(parseRule));
  }

  /** True when a connection to `address` for the URL host `host` (no brackets) and `port` is allowed. */
  allows(host: string, port: number, address: string): boolean {
    const name = canonicalHost(host);
    const bytes = ipBytes(address);
    return this.#rules.some((rule) => {
      if (rule.port !== undefined && rule.port !== port) return false;
      if (rule.kind === 'address') return bytes !== undefined && contains(rule.range, bytes);
      return rule.subdomains ? name.endsWith(`.${rule.name}`) : name === rule.name;
    });
  }
}

const allowListCache = new WeakMap<readonly string[], HostAllowList>();

/** HostAllowList.parse, remembered per array so that a policy is parsed once, not per request. */
export function hostAllowList(entries: readonly string[]): HostAllowList {
  let list = allowListCache.get(entries);
  if (!list) {
    list = HostAllowList.parse(entries);
    allowListCache.set(entries, list);
  }
  return list;
}

/** Lower case, without brackets or a trailing dot: how host names are compared. */
export function canonicalHost(host: string): string {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return bare.toLowerCase().replace(/\.$/, '');
}

function parseRule(entry: string): HostRule {
  const text = entry.trim();
  const invalid = (why: string) =>
    new VoxgateError('VXG_ERR_CONFIG_INVALID', `Invalid --allow-host entry "${entry}": ${why}.`);
  if (text === '') throw invalid('it is empty');
  if (text.includes('/')) {
    const range = parseCidr(text);
    if (!range) throw invalid('expected an address range like 10.0.0.0/8 or fd00::/8');
    return { kind: 'address', range };
  }
  let host = text;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1];
    if (isIP(host) !== 6) throw invalid('only an IPv6 address goes in brackets');
    port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
  } else if (text.split(':').length === 2) {
    // One colon: host:port. More than one is a bare IPv6 address, which cannot carry a port.
    const [h, p] = text.split(':');
    if (!/^\d+$/.test(p)) throw invalid('the port must be a number');
    host = h;
    port = Number(p);
  }
  if (port !== undefined && (port < 1 || port > 65535)) throw invalid('the port must be 1-65535');
  const bytes = ipBytes(host);
  if (bytes) return { kind: 'address', range: { bytes, prefix: 128 }, port };
  const wildcard = host.startsWith('*.');
  const name = canonicalHost(wildcard ? host.slice(2) : host);
  if (!/^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(name)) {
    throw invalid('expected a host name, an IP address, host:port or a CIDR range');
  }
  return { kind: 'name', name, subdomains: wildcard, port };
}

function parseCidr(text: string): Cidr | undefined {
  const [address, bits, extra] = text.split('/');
  if (extra !== undefined || !/^\d{1,3}$/.test(bits ?? '')) return undefined;
  const bytes = ipBytes(address);
  if (!bytes || address.includes('%')) return undefined;
  const v4 = isIP(address) === 4;
  const prefix = Number(bits) + (v4 ? 96 : 0);
  if (prefix > 128 || (v4 && Number(bits) > 32)) return undefined;
  return { bytes, prefix };
}

function parseCidrOrThrow(text: string): Cidr {
  const range = parseCidr(text);
  if (!range) throw new TypeError(`bad built-in range ${text}`);
  return range;
}

function contains(range: Cidr, bytes: Uint8Array): boolean {
  let bits = range.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((range.bytes[i] & mask) !== (bytes[i] & mask)) return false;
  }
  return true;
}

function mapped(dotted: string): Uint8Array {
  const bytes = new Uint8Array(16);
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  dotted.split('.').forEach((part, i) => (bytes[12 + i] = Number(part)));
  return bytes;
}

/** Parses an address net.isIP has already accepted as IPv6 (RFC 4291 §2.2 text forms). */
function parseIPv6(text: string): Uint8Array {
  let hex = text;
  const lastColon = hex.lastIndexOf(':');
  const tail = hex.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number);
    hex = `${hex.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left, right] = hex.split('::');
  const head = left ? left.split(':') : [];
  const rest = right === undefined ? [] : right ? right.split(':') : [];
  const groups = right === undefined ? head : [...head, ...Array<string>(8 - head.length - rest.length).fill('0'), ...rest];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return bytes;
}
