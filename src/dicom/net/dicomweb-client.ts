/**
 * A DICOMweb client (PS3.18) for the ACR inference requests: QIDO-RS to find studies, series and
 * instances, WADO-RS to retrieve them straight to disk, STOW-RS to store results.
 *
 * Retrieval streams: the `multipart/related` answer is parsed as it arrives and each part is
 * written to `<destDir>/<SOPInstanceUID>.dcm` (via a `.partial` file) as its bytes come, named from
 * the part's own File Meta Information; no instance, let alone a study, is held in memory.
 * Instances are de-duplicated by SOP Instance UID, and those in `skip` (already retrieved by an
 * earlier try) are not downloaded again.
 *
 * Errors are {@link PeerError}s that name the server (host and port, never credentials) and say
 * whether a retry may help; messages never carry query values (patient IDs are patient data).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { PeerError } from './errors.js';
import type { Auth, ProtocolCodes, StreamedResponse } from './http.js';
import { HttpTransport, authorization } from './http.js';
import type { MultipartEvent } from './multipart.js';
import { MultipartError, MultipartReader, boundaryOf } from './multipart.js';
import type { WrittenPart } from './part-writer.js';
import { PART_BUFFER_BYTES, PartWriter } from './part-writer.js';
import { Part10Error, isUid } from './part10.js';
import { isExactValue } from './query-value.js';

export type { Auth, AuthType } from './http.js';

export interface DicomwebClientOptions {
  /** Service root, e.g. `http://pacs:8042/dicom-web`; a missing trailing `/` is added. */
  readonly uri: string;
  readonly auth?: Auth;
  /** Idle timeout: no byte for this long ends a request (default 60 s). */
  readonly timeoutMs?: number;
}

/** One QIDO-RS study search key (spec/acr-api.md: by patient, by accession number, by UID). */
export type StudyQuery = { readonly PatientID: string } | { readonly AccessionNumber: string } | { readonly StudyInstanceUID: string };

export interface StudyMatch {
  readonly studyInstanceUid: string;
  /** ModalitiesInStudy (0008,0061), when the server returns it. */
  readonly modalities: readonly string[];
}

export interface SeriesMatch {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly modality?: string;
  readonly numberOfInstances?: number;
}

export interface InstanceMatch {
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid?: string;
}

/** What to retrieve: a study, one of its series, or one instance. */
export interface RetrieveTarget {
  readonly study: string;
  readonly series?: string;
  readonly instance?: string;
}

/** One instance written by `retrieve`: its UIDs, `<destDir>/<sopInstanceUid>.dcm` and size. */
export type RetrievedInstance = WrittenPart;

export interface RetrieveOptions {
  /** Called once per instance written, before the next part is read (may be async). */
  readonly onInstance?: (instance: RetrievedInstance) => void | Promise<void>;
  /** SOP Instance UIDs already retrieved: not downloaded again. */
  readonly skip?: ReadonlySet<string>;
  readonly signal?: AbortSignal;
}

export interface RetrieveResult {
  readonly instances: RetrievedInstance[];
  /** Instances not downloaded because `skip` had them. */
  skipped: number;
  /** Parts dropped because an earlier part had the same SOP Instance UID (or `skip` had it). */
  duplicates: number;
  /** Bytes written to disk. */
  bytes: number;
}

/** A DICOM file to store: its path, or its bytes. */
export type StoreInput = string | Uint8Array;

export interface StoredInstanceRef {
  readonly sopClassUid?: string;
  readonly sopInstanceUid?: string;
  readonly retrieveUrl?: string;
  /** WarningReason (0008,1196) when the server stored it with a warning (e.g. coerced). */
  readonly warningReason?: number;
}

export interface FailedInstanceRef {
  readonly sopClassUid?: string;
  readonly sopInstanceUid?: string;
  /** FailureReason (0008,1197), e.g. 0xA700 out of resources, 0xC000 cannot understand. */
  readonly failureReason?: number;
}

export interface StoreResult {
  /** 200: all stored; 202: some stored, some failed or stored with warnings (PS3.18 §10.5.3). */
  readonly status: 200 | 202;
  readonly stored: readonly StoredInstanceRef[];
  readonly failed: readonly FailedInstanceRef[];
}

const DICOMWEB_CODES: ProtocolCodes = {
  label: 'DICOMweb server',
  unreachable: 'VXG_ERR_DICOMWEB_UNREACHABLE',
  timeout: 'VXG_ERR_DICOMWEB_TIMEOUT',
  auth: 'VXG_ERR_DICOMWEB_AUTH',
  notFound: 'VXG_ERR_DICOMWEB_NOT_FOUND',
  status: 'VXG_ERR_DICOMWEB_STATUS',
};

/**
 * PS3.18 §8.7.3.5: Part 10 instances in a multipart body. `transfer-syntax=*` asks for the syntax
 * the server holds them in: without it the default is Explicit VR Little Endian, so a server must
 * decompress (Orthanc answers 500 for JPEG 2000 it cannot decode) and we would move more bytes.
 * Servers that refuse the parameter (406, 400) are asked again without it.
 */
export const ACCEPT_MULTIPART_DICOM_AS_STORED = 'multipart/related; type="application/dicom"; transfer-syntax=*';
export const ACCEPT_MULTIPART_DICOM = 'multipart/related; type="application/dicom"';
const ACCEPT_JSON = 'application/dicom+json';
/** A QIDO-RS or STOW-RS JSON answer larger than this is not a search result. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;
/** Instance-level WADO-RS requests in flight when only some instances are missing. */
const INSTANCE_CONCURRENCY = 4;

const Tags = {
  ModalitiesInStudy: '00080061',
  Modality: '00080060',
  SOPClassUID: '00080016',
  SOPInstanceUID: '00080018',
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  NumberOfSeriesRelatedInstances: '00201209',
  ReferencedSOPSequence: '00081199',
  FailedSOPSequence: '00081198',
  ReferencedSOPClassUID: '00081150',
  ReferencedSOPInstanceUID: '00081155',
  RetrieveURL: '00081190',
  WarningReason: '00081196',
  FailureReason: '00081197',
} as const;

type DicomJson = Record<string, { vr?: string; Value?: unknown[] } | undefined>;

/**
 * @example
 * const pacs = new DicomwebClient({ uri: 'http://127.0.0.1:8042/dicom-web', auth: { type: 'Basic', id: btoa('u:p') } });
 * const [study] = await pacs.searchStudies({ AccessionNumber: acc });
 * const { instances } = await pacs.retrieve({ study: study.studyInstanceUid }, '/data/job-1/dicom');
 * await pacs.store(['/data/job-1/results/seg.dcm']);
 * pacs.close();
 */
export class DicomwebClient {
  /** `host:port` of the service, as messages name it. */
  readonly server: string;
  readonly #base: URL;
  readonly #authorization: string | undefined;
  readonly #http: HttpTransport;
  /** Part buffers of finished downloads, for the next (one per download in flight). */
  readonly #partBuffers: Buffer[] = [];

  constructor(options: DicomwebClientOptions) {
    const base = parseServiceRoot(options.uri);
    this.#base = base;
    const auth = options.auth ?? { type: 'None' };
    checkAuth(auth, base);
    this.#authorization = authorization(auth);
    const timeoutMs = options.timeoutMs ?? 60_000;
    if (!(timeoutMs > 0)) throw requestError(base, 'timeoutMs must be a positive number of milliseconds.');
    this.#http = new HttpTransport(base, timeoutMs, DICOMWEB_CODES);
    this.server = this.#http.server;
  }

  /** QIDO-RS `studies?…`: the studies matching one key (exact match: wildcards are refused). */
  async searchStudies(query: StudyQuery, signal?: AbortSignal): Promise<StudyMatch[]> {
    const params = new URLSearchParams();
    if ('StudyInstanceUID' in query) params.set('StudyInstanceUID', this.#uid(query.StudyInstanceUID, 'StudyInstanceUID'));
    else if ('PatientID' in query) params.set('PatientID', this.#exactValue(query.PatientID, 'PatientID'));
    else params.set('AccessionNumber', this.#exactValue(query.AccessionNumber, 'AccessionNumber'));
    params.append('includefield', Tags.ModalitiesInStudy);
    const rows = await this.#qido('studies', params, 'QIDO-RS search for studies', signal);
    return rows.map((row) => ({
      studyInstanceUid: this.#uidIn(row, Tags.StudyInstanceUID),
      modalities: strings(row, Tags.ModalitiesInStudy),
    }));
  }

  /** QIDO-RS `studies/{study}/series`. */
  async searchSeries(study: string, signal?: AbortSignal): Promise<SeriesMatch[]> {
    const path = `studies/${this.#uid(study, 'StudyInstanceUID')}/series`;
    const params = new URLSearchParams();
    params.append('includefield', Tags.Modality);
    params.append('includefield', Tags.NumberOfSeriesRelatedInstances);
    const rows = await this.#qido(path, params, 'QIDO-RS search for the series of a study', signal);
    return rows.map((row) => {
      const modality = strings(row, Tags.Modality)[0];
      const count = Number(row[Tags.NumberOfSeriesRelatedInstances]?.Value?.[0]);
      return {
        studyInstanceUid: study,
        seriesInstanceUid: this.#uidIn(row, Tags.SeriesInstanceUID),
        ...(modality ? { modality } : {}),
        ...(Number.isInteger(count) ? { numberOfInstances: count } : {}),
      };
    });
  }

  /** QIDO-RS `studies/{study}/instances` or `studies/{study}/series/{series}/instances`. */
  async searchInstances(study: string, series?: string, signal?: AbortSignal): Promise<InstanceMatch[]> {
    let path = `studies/${this.#uid(study, 'StudyInstanceUID')}`;
    if (series !== undefined) path += `/series/${this.#uid(series, 'SeriesInstanceUID')}`;
    const params = new URLSearchParams();
    params.append('includefield', Tags.SeriesInstanceUID);
    params.append('includefield', Tags.SOPClassUID);
    const rows = await this.#qido(`${path}/instances`, params, 'QIDO-RS search for instances', signal);
    return rows.map((row) => {
      const sopClassUid = strings(row, Tags.SOPClassUID)[0];
      return {
        studyInstanceUid: study,
        seriesInstanceUid: series ?? this.#uidIn(row, Tags.SeriesInstanceUID),
        sopInstanceUid: this.#uidIn(row, Tags.SOPInstanceUID),
        ...(sopClassUid ? { sopClassUid } : {}),
      };
    });
  }

  /**
   * WADO-RS retrieve of a study, series or instance into `destDir` (created if missing). With a
   * non-empty `skip`, the instances are listed first (QIDO-RS) and only the missing ones fetched,
   * one by one; otherwise one multipart request brings them all.
   */
  async retrieve(target: RetrieveTarget, destDir: string, options: RetrieveOptions = {}): Promise<RetrieveResult> {
    const study = this.#uid(target.study, 'StudyInstanceUID');
    const series = target.series === undefined ? undefined : this.#uid(target.series, 'SeriesInstanceUID');
    const instance = target.instance === undefined ? undefined : this.#uid(target.instance, 'SOPInstanceUID');
    if (instance !== undefined && series === undefined) throw requestError(this.#base, 'an instance is retrieved within its series: give series too.');
    await mkdir(destDir, { recursive: true });
    const skip = options.skip ?? new Set<string>();
    const result: RetrieveResult = { instances: [], skipped: 0, duplicates: 0, bytes: 0 };
    const seen = new Set<string>();

    if (instance !== undefined && skip.has(instance)) {
      result.skipped = 1;
      return result;
    }
    if (skip.size > 0 && instance === undefined) {
      const listed = await this.searchInstances(study, series, options.signal);
      if (listed.length > 0) {
        const missing = listed.filter((i) => !skip.has(i.sopInstanceUid));
        result.skipped = listed.length - missing.length;
        await runPool(missing, INSTANCE_CONCURRENCY, (i) =>
          this.#retrieveMultipart(`studies/${study}/series/${i.seriesInstanceUid}/instances/${i.sopInstanceUid}`, 'WADO-RS retrieve of an instance', destDir, options, skip, seen, result),
        );
        return result;
      }
      // The server listed nothing (QIDO-RS may be restricted): fall back to one request, de-duplicating.
    }
    let path = `studies/${study}`;
    let what = 'WADO-RS retrieve of a study';
    if (series !== undefined) {
      path += `/series/${series}`;
      what = 'WADO-RS retrieve of a series';
    }
    if (instance !== undefined) {
      path += `/instances/${instance}`;
      what = 'WADO-RS retrieve of an instance';
    }
    await this.#retrieveMultipart(path, what, destDir, options, skip, seen, result);
    return result;
  }

  /**
   * STOW-RS: `POST {uri}studies` (or `studies/{study}`) of Part 10 files or bytes in one
   * multipart request. Resolves on 200 and 202 (partial: see `failed`); a 409 (none stored) or any
   * other status rejects.
   */
  async store(instances: readonly StoreInput[], options: { study?: string; signal?: AbortSignal } = {}): Promise<StoreResult> {
    if (instances.length === 0) return { status: 200, stored: [], failed: [] };
    let path = 'studies';
    if (options.study !== undefined) path += `/${this.#uid(options.study, 'StudyInstanceUID')}`;
    const boundary = `voxgate-${randomBytes(16).toString('hex')}`;
    const partHead = Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1');
    const crlf = Buffer.from('\r\n');
    const close = Buffer.from(`--${boundary}--\r\n`, 'latin1');
    const sizes = await Promise.all(instances.map(async (item) => (typeof item === 'string' ? (await stat(item)).size : item.byteLength)));
    const length = sizes.reduce((sum, size) => sum + partHead.length + size + crlf.length, close.length);
    const what = `STOW-RS store of ${instances.length} instance${instances.length === 1 ? '' : 's'}`;
    const res = await this.#http.send({
      method: 'POST',
      url: new URL(path, this.#base),
      headers: {
        accept: ACCEPT_JSON,
        'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
        ...this.#authHeader(),
      },
      what,
      signal: options.signal,
      body: {
        length,
        write: async (sink) => {
          for (const item of instances) {
            await writeTo(sink, partHead);
            if (typeof item === 'string') await pipeline(createReadStream(item), sink, { end: false });
            else await writeTo(sink, item);
            await writeTo(sink, crlf);
          }
          await writeTo(sink, close);
        },
      },
    });
    const status = res.statusCode ?? 0;
    if (status !== 200 && status !== 202 && status !== 409) throw this.#http.statusError(res, what);
    const body = await this.#http.readBody(res, what, MAX_JSON_BYTES, () => this.#responseError(`the answer to ${what} is larger than ${MAX_JSON_BYTES} bytes`));
    const json = body.length === 0 ? {} : this.#parseJson(body, what);
    const row: DicomJson = Array.isArray(json) ? ((json[0] as DicomJson | undefined) ?? {}) : (json as DicomJson);
    const stored = items(row, Tags.ReferencedSOPSequence).map((item): StoredInstanceRef => {
      const warning = Number(item[Tags.WarningReason]?.Value?.[0]);
      return {
        ...optionalString('sopClassUid', strings(item, Tags.ReferencedSOPClassUID)[0]),
        ...optionalString('sopInstanceUid', strings(item, Tags.ReferencedSOPInstanceUID)[0]),
        ...optionalString('retrieveUrl', strings(item, Tags.RetrieveURL)[0]),
        ...(Number.isInteger(warning) ? { warningReason: warning } : {}),
      };
    });
    const failed = items(row, Tags.FailedSOPSequence).map((item): FailedInstanceRef => {
      const reason = Number(item[Tags.FailureReason]?.Value?.[0]);
      return {
        ...optionalString('sopClassUid', strings(item, Tags.ReferencedSOPClassUID)[0]),
        ...optionalString('sopInstanceUid', strings(item, Tags.ReferencedSOPInstanceUID)[0]),
        ...(Number.isInteger(reason) ? { failureReason: reason } : {}),
      };
    });
    if (status === 409 || (stored.length === 0 && failed.length > 0)) {
      const reasons = [...new Set(failed.map((f) => (f.failureReason === undefined ? 'no reason given' : `FailureReason 0x${f.failureReason.toString(16).toUpperCase()}`)))];
      throw new PeerError('VXG_ERR_DICOMWEB_STORE_FAILED', `The DICOMweb server ${this.server} stored none of the instances of ${what}${reasons.length ? ` (${reasons.join(', ')})` : ''}.`, {
        transient: failed.some((f) => f.failureReason !== undefined && f.failureReason >= 0xa700 && f.failureReason <= 0xa7ff),
        server: this.server,
        status,
      });
    }
    const partial = status === 202 || failed.length > 0 || stored.some((s) => s.warningReason !== undefined);
    return { status: partial ? 202 : 200, stored, failed };
  }

  /** Closes idle connections. */
  close(): void {
    this.#http.close();
  }

  async #retrieveMultipart(
    path: string,
    what: string,
    destDir: string,
    options: RetrieveOptions,
    skip: ReadonlySet<string>,
    seen: Set<string>,
    result: RetrieveResult,
  ): Promise<void> {
    const get = (accept: string): Promise<StreamedResponse> =>
      this.#http.stream({ url: new URL(path, this.#base), headers: { accept, ...this.#authHeader() }, what, signal: options.signal });
    let res = await get(ACCEPT_MULTIPART_DICOM_AS_STORED);
    if (res.statusCode === 406 || res.statusCode === 400) {
      res.resume();
      res = await get(ACCEPT_MULTIPART_DICOM);
    }
    if (res.statusCode === 204) {
      res.resume();
      return;
    }
    if (res.statusCode !== 200 && res.statusCode !== 206) throw this.#http.statusError(res, what);
    const contentType = res.headers['content-type'] ?? '';
    const boundary = /^multipart\/related\b/i.test(contentType) ? boundaryOf(contentType) : undefined;
    if (!boundary) {
      res.resume();
      throw this.#responseError(`the answer to ${what} is not multipart/related with a boundary (Content-Type ${JSON.stringify(contentType.slice(0, 100))})`);
    }
    const buffer = this.#partBuffers.pop() ?? Buffer.allocUnsafeSlow(PART_BUFFER_BYTES);
    try {
      await this.#readParts(res, boundary, what, destDir, options, skip, seen, result, buffer);
    } finally {
      this.#partBuffers.push(buffer);
    }
  }

  /**
   * Parses the body as it is read and writes each part, synchronously: the only awaits are the
   * reads themselves and `onInstance` when it returns a promise (reading waits for it, so the next
   * part is not read before it settles).
   */
  async #readParts(
    res: StreamedResponse,
    boundary: string,
    what: string,
    destDir: string,
    options: RetrieveOptions,
    skip: ReadonlySet<string>,
    seen: Set<string>,
    result: RetrieveResult,
    buffer: Buffer,
  ): Promise<void> {
    const reader = new MultipartReader(boundary);
    const part = new PartWriter(
      destDir,
      (uid) => {
        if (skip.has(uid) || seen.has(uid)) return false;
        seen.add(uid);
        return true;
      },
      buffer,
    );
    let inPart = false;
    const handle = (events: readonly MultipartEvent[], from: number): void | Promise<void> => {
      // Cancelled while onInstance ran (the one failure that can come then: the socket is not read
      // meanwhile): what that read held is no longer ours to write; read() rejects next.
      if (options.signal?.aborted) return;
      for (let i = from; i < events.length; i++) {
        const event = events[i];
        if (event.type === 'data') {
          part.write(event.data);
        } else if (event.type === 'begin') {
          const type = event.headers.get('content-type');
          if (type !== undefined && !/^application\/dicom\s*(;|$)/i.test(type)) {
            throw new MultipartError(`part ${reader.parts} is ${JSON.stringify(type.slice(0, 100))}, not application/dicom`);
          }
          part.begin();
          inPart = true;
        } else if (inPart) {
          inPart = false;
          const written = part.end();
          if (!written) {
            result.duplicates++;
            continue;
          }
          result.instances.push(written);
          result.bytes += written.bytes;
          const pending = options.onInstance?.(written);
          if (pending) return pending.then(() => handle(events, i + 1));
        }
      }
    };
    try {
      await res.read((chunk) => handle(reader.push(chunk), 0));
      reader.finish();
    } catch (err) {
      part.discard();
      res.resume();
      if (err instanceof PeerError) throw err;
      if (err instanceof MultipartError || err instanceof Part10Error) throw this.#responseError(`the answer to ${what} is not valid (${err.message})`, err);
      throw err; // the local file system, or onInstance's own failure
    }
  }

  async #qido(path: string, params: URLSearchParams, what: string, signal: AbortSignal | undefined): Promise<DicomJson[]> {
    const url = new URL(path, this.#base);
    url.search = params.toString();
    const res = await this.#http.send({ method: 'GET', url, headers: { accept: ACCEPT_JSON, ...this.#authHeader() }, what, signal });
    if (res.statusCode === 204) {
      res.resume();
      return [];
    }
    if (res.statusCode !== 200) throw this.#http.statusError(res, what);
    const body = await this.#http.readBody(res, what, MAX_JSON_BYTES, () => this.#responseError(`the answer to ${what} is larger than ${MAX_JSON_BYTES} bytes`));
    if (body.length === 0) return [];
    const json = this.#parseJson(body, what);
    if (!Array.isArray(json) || json.some((row) => typeof row !== 'object' || row === null)) {
      throw this.#responseError(`the answer to ${what} is not a JSON array of datasets`);
    }
    return json as DicomJson[];
  }

  #parseJson(body: Buffer, what: string): unknown {
    try {
      return JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw this.#responseError(`the answer to ${what} is not JSON`, err);
    }
  }

  #authHeader(): Record<string, string> {
    return this.#authorization ? { authorization: this.#authorization } : {};
  }

  #uid(value: string, name: string): string {
    if (!isUid(value)) throw requestError(this.#base, `${name} is not a UID (digits and dots, at most 64 characters).`);
    return value;
  }

  #uidIn(row: DicomJson, tag: string): string {
    const value = strings(row, tag)[0];
    if (!isUid(value)) throw this.#responseError(`a search result has no valid ${Object.keys(Tags).find((k) => Tags[k as keyof typeof Tags] === tag) ?? tag}`);
    return value;
  }

  /**
   * QIDO-RS matching treats `*` and `?` as wildcards and `\` as a value separator (PS3.4 C.2.2.2):
   * a PatientID of `*` would retrieve every patient. No escape exists, so such values are refused.
   */
  #exactValue(value: string, name: string): string {
    if (!isExactValue(value)) {
      throw requestError(this.#base, `${name} must be a non-empty value of at most 64 characters without *, ?, \\ or control characters (they would match other patients).`);
    }
    return value;
  }

  #responseError(message: string, cause?: unknown): PeerError {
    return new PeerError('VXG_ERR_DICOMWEB_RESPONSE', `The DICOMweb server ${this.server} sent an unusable answer: ${message}.`, {
      transient: false,
      server: this.server,
      cause,
    });
  }
}

function parseServiceRoot(uri: string): URL {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new PeerError('VXG_ERR_DICOMWEB_REQUEST', 'The DICOMweb URI is not a valid URL.', { transient: false, server: '' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw requestError(url, `the scheme ${url.protocol} is not http: or https:.`);
  }
  url.search = '';
  url.hash = '';
  // spec/acr-api.md: a missing trailing '/' is added, so that relative paths resolve below the root.
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function checkAuth(auth: Auth, base: URL): void {
  if (auth.type === 'None') return;
  if (auth.type !== 'Basic' && auth.type !== 'Bearer') throw requestError(base, `authType ${JSON.stringify(auth.type)} is not None, Basic or Bearer.`);
  if (!auth.id || /[\r\n]/.test(auth.id)) throw requestError(base, `authType ${auth.type} needs an authID (a credential without line breaks).`);
}

function requestError(base: URL, message: string): PeerError {
  const server = base.host ? `${base.hostname}:${base.port || (base.protocol === 'https:' ? '443' : '80')}` : '';
  return new PeerError('VXG_ERR_DICOMWEB_REQUEST', `Cannot use the DICOMweb server ${server}: ${message}`, { transient: false, server });
}

function strings(row: DicomJson, tag: string): string[] {
  const values = row[tag]?.Value;
  return Array.isArray(values) ? values.filter((v): v is string => typeof v === 'string') : [];
}

function items(row: DicomJson, tag: string): DicomJson[] {
  const values = row[tag]?.Value;
  return Array.isArray(values) ? values.filter((v): v is DicomJson => typeof v === 'object' && v !== null) : [];
}

function optionalString<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value ? ({ [key]: value } as Record<K, string>) : {};
}

function writeTo(sink: NodeJS.WritableStream, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    sink.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

async function runPool<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined) {
      const item = items[next++];
      try {
        await work(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure !== undefined) throw failure;
}
