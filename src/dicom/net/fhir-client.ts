/**
 * A FHIR read client for the ACR requests' `FHIR_RESOURCE` inputs (spec/acr-api.md): `GET
 * {uri}{type}/{id}` with the media type and FHIR version the request names, the answer returned
 * whole to be stored with the job.
 *
 * `fhirVersion` travels as the `fhirVersion` parameter of the media type (FHIR R4 §3.1.0.1.8 "FHIR
 * version parameter"), with the values the reference products send: R1 → 0.0, R2 → 1.0,
 * R3 → 3.0, R4 → 4.0.
 * @module
 */
import { PeerError } from './errors.js';
import type { Auth, ProtocolCodes } from './http.js';
import { HttpTransport, authorization } from './http.js';

export type FhirVersion = 'R1' | 'R2' | 'R3' | 'R4';
export type FhirFormat = 'Json' | 'Xml';

/** `fhirVersion` → the media type parameter value (spec/acr-api.md). */
export const FHIR_VERSION_PARAMETER = { R1: '0.0', R2: '1.0', R3: '3.0', R4: '4.0' } as const satisfies Record<FhirVersion, string>;

export interface FhirClientOptions {
  /** Base URL; a missing trailing `/` is added. */
  readonly uri: string;
  readonly auth?: Auth;
  /** Idle timeout (default 30 s). */
  readonly timeoutMs?: number;
  /** Largest answer accepted (default 16 MiB). */
  readonly maxBytes?: number;
}

export interface FhirReadOptions {
  /** Default R3 (spec/acr-api.md). */
  readonly fhirVersion?: FhirVersion;
  /** Default Json. */
  readonly fhirFormat?: FhirFormat;
  readonly signal?: AbortSignal;
}

export interface FhirResource {
  readonly resourceType: string;
  readonly id: string;
  /** The Content-Type the server answered with. */
  readonly contentType: string;
  /** The answer as received (store it as is). */
  readonly body: Buffer;
}

const FHIR_CODES: ProtocolCodes = {
  label: 'FHIR server',
  unreachable: 'VXG_ERR_FHIR_UNREACHABLE',
  timeout: 'VXG_ERR_FHIR_TIMEOUT',
  auth: 'VXG_ERR_FHIR_AUTH',
  notFound: 'VXG_ERR_FHIR_NOT_FOUND',
  status: 'VXG_ERR_FHIR_STATUS',
};

/** FHIR resource type names are capitalised words (R4 §2.1.0.2); ids are `[A-Za-z0-9\-\.]{1,64}` (R4 §2.24.0.1). */
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;
const RESOURCE_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** The Accept header for a format and version, e.g. `application/fhir+json; fhirVersion=3.0`. */
export function fhirAccept(format: FhirFormat = 'Json', version: FhirVersion = 'R3'): string {
  return `application/fhir+${format === 'Xml' ? 'xml' : 'json'}; fhirVersion=${FHIR_VERSION_PARAMETER[version]}`;
}

/**
 * @example
 * const fhir = new FhirClient({ uri: 'https://ehr.example/fhir', auth: { type: 'Bearer', id: token } });
 * const { body } = await fhir.read('Patient', 'example', { fhirVersion: 'R4' });
 */
export class FhirClient {
  readonly server: string;
  readonly #base: URL;
  readonly #authorization: string | undefined;
  readonly #http: HttpTransport;
  readonly #maxBytes: number;

  constructor(options: FhirClientOptions) {
    let base: URL;
    try {
      base = new URL(options.uri);
    } catch {
      throw new PeerError('VXG_ERR_FHIR_REQUEST', 'The FHIR URI is not a valid URL.', { transient: false, server: '' });
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw this.#request(base, `the scheme ${base.protocol} is not http: or https:.`);
    base.search = '';
    base.hash = '';
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    const auth = options.auth ?? { type: 'None' };
    if (auth.type !== 'None' && (auth.type !== 'Basic' && auth.type !== 'Bearer')) throw this.#request(base, `authType ${JSON.stringify(auth.type)} is not None, Basic or Bearer.`);
    if (auth.type !== 'None' && (!auth.id || /[\r\n]/.test(auth.id))) throw this.#request(base, `authType ${auth.type} needs an authID.`);
    this.#base = base;
    this.#authorization = authorization(auth);
    this.#http = new HttpTransport(base, options.timeoutMs ?? 30_000, FHIR_CODES);
    this.#maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    this.server = this.#http.server;
  }

  /** `GET {uri}{type}/{id}`; resolves with the body on 200. */
  async read(resourceType: string, id: string, options: FhirReadOptions = {}): Promise<FhirResource> {
    if (!RESOURCE_TYPE.test(resourceType)) throw this.#request(this.#base, 'a resource type must be a FHIR type name (e.g. Patient, ImagingStudy).');
    if (!RESOURCE_ID.test(id)) throw this.#request(this.#base, 'a resource id must be 1–64 letters, digits, "-" or ".".');
    const version = options.fhirVersion ?? 'R3';
    const format = options.fhirFormat ?? 'Json';
    if (!(version in FHIR_VERSION_PARAMETER)) throw this.#request(this.#base, `fhirVersion ${JSON.stringify(version)} is not R1, R2, R3 or R4.`);
    if (format !== 'Json' && format !== 'Xml') throw this.#request(this.#base, `fhirFormat ${JSON.stringify(format)} is not Json or Xml.`);
    const what = `the read of a ${resourceType} resource`;
    const res = await this.#http.send({
      method: 'GET',
      url: new URL(`${resourceType}/${encodeURIComponent(id)}`, this.#base),
      headers: { accept: fhirAccept(format, version), ...(this.#authorization ? { authorization: this.#authorization } : {}) },
      what,
      signal: options.signal,
    });
    if (res.statusCode === 410) {
      res.resume();
      throw new PeerError('VXG_ERR_FHIR_NOT_FOUND', `The FHIR server ${this.server} answered 410 Gone to ${what}: it was deleted.`, { transient: false, server: this.server, status: 410 });
    }
    if (res.statusCode !== 200) throw this.#http.statusError(res, what);
    const contentType = String(res.headers['content-type'] ?? '');
    const expected = format === 'Xml' ? /xml/i : /json/i;
    if (!expected.test(contentType)) {
      res.resume();
      throw new PeerError('VXG_ERR_FHIR_RESPONSE', `The FHIR server ${this.server} answered ${what} with ${JSON.stringify(contentType.slice(0, 100))}, not ${format === 'Xml' ? 'XML' : 'JSON'}.`, {
        transient: false,
        server: this.server,
      });
    }
    const body = await this.#http.readBody(res, what, this.#maxBytes, () =>
      new PeerError('VXG_ERR_FHIR_RESPONSE', `The FHIR server ${this.server} answered ${what} with more than ${this.#maxBytes} bytes.`, { transient: false, server: this.server }),
    );
    if (format === 'Json') {
      try {
        JSON.parse(body.toString('utf8'));
      } catch (err) {
        throw new PeerError('VXG_ERR_FHIR_RESPONSE', `The FHIR server ${this.server} answered ${what} with a body that is not JSON.`, { transient: false, server: this.server, cause: err });
      }
    }
    return { resourceType, id, contentType, body };
  }

  close(): void {
    this.#http.close();
  }

  #request(base: URL, message: string): PeerError {
    const server = `${base.hostname}:${base.port || (base.protocol === 'https:' ? '443' : '80')}`;
    return new PeerError('VXG_ERR_FHIR_REQUEST', `Cannot use the FHIR server ${server}: ${message}`, { transient: false, server });
  }
}
