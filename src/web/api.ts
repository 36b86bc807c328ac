/**
 * The page's client of Voxgate's public HTTP API, and nothing else: `/v1/vista3d/info`,
 * `POST /v1/vista3d/inference`, `/api/samples`, and the jobs API when the server has one. Any other
 * NIM client could make the same calls.
 *
 * The API token (when the server wants one) is kept in sessionStorage only, so it is forgotten
 * when the tab closes, and is sent as `Authorization: Bearer …` on API calls.
 * @module
 */
import { ApiError, describeApiError } from './api-errors.js';

export { ApiError };

export interface NimInfo {
  name: string;
  description: string;
  version: string;
  /** "0".."132" → name. */
  labels: Record<string, string>;
  engine?: { name: string; version: string; supported_classes: number[]; point_prompts: boolean };
}

export interface Sample {
  name: string;
  /** Absolute path on the server: what the page sends as `image`. */
  path: string;
  bytes: number;
}

/** The NIM `prompts` object (with Voxgate's `point_labels` extension for negative clicks). */
export interface NimPrompts {
  classes?: (string | number)[];
  points?: Record<string, [number, number, number][]>;
  point_labels?: Record<string, number[]>;
}

/** What to segment: bytes the page uploads, or a reference (URL or server path) the server reads. */
export type ImageSource = { kind: 'upload'; file: Blob; name: string } | { kind: 'reference'; image: string };

export interface SegmentResult {
  /** The label map file (`<stem>_seg.nii.gz`). */
  bytes: ArrayBuffer;
  fileName: string;
  engine: string | null;
  /** `X-Voxgate-Timing`: ms per stage. */
  timing: string | null;
  /** Zero-shot names the server gave new indices (`X-Voxgate-Zero-Shot-Labels`). */
  zeroShot: Record<string, number>;
  /** Wall time of the request, ms. */
  elapsedMs: number;
}

/**
 * A job of the jobs API, as far as the page shows it. The listing is not fixed yet: the fields of
 * the ACR status answer (`platform.state`, `platform.progress`, `dicom.state`, `message`) and flat
 * ones (`state`, `progress`) are both understood.
 */
export interface JobSummary {
  id?: string;
  jobId?: string;
  transactionId?: string;
  state?: string;
  status?: string;
  /** 0–100 (or 0–1). */
  progress?: number;
  message?: string;
  platform?: { state?: string; status?: string; progress?: number; created?: string };
  dicom?: { state?: string; status?: string };
}

/** One result file of a job (`GET /api/inference/{jobId}/results`). */
export interface JobResult {
  name: string;
  type?: string;
  size?: number;
  /** Download path on this server. */
  url: string;
}

const TOKEN_KEY = 'voxgate.token';

export function getToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

/** Keeps the token for this browser tab only; an empty string forgets it. */
export function setToken(token: string): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: the token then lives only as long as the page.
  }
}

function fileNameFrom(disposition: string | null, fallback: string): string {
  const match = /filename="?([^";]+)"?/i.exec(disposition ?? '');
  return match ? match[1] : fallback;
}

function parseZeroShot(header: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of (header ?? '').split(',')) {
    const [name, index] = pair.split('=');
    if (name && index && Number.isInteger(Number(index))) out[decodeURIComponent(name)] = Number(index);
  }
  return out;
}

export class VoxgateApi {
  readonly base: string;
  /** Token used when none is stored (tests, embedding); the stored one wins. */
  #fallbackToken = '';

  constructor(base = '') {
    this.base = base.replace(/\/$/, '');
  }

  set token(token: string) {
    this.#fallbackToken = token;
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    const token = getToken() || this.#fallbackToken;
    return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
  }

  /** fetch that throws an ApiError with the server's message for anything but 2xx. */
  async #fetch(path: string, init: RequestInit = {}): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, { ...init, headers: this.#headers((init.headers as Record<string, string> | undefined) ?? {}) });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiError(0, `The server cannot be reached (${(err as Error).message}).`);
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: keep the text (a proxy's error page, say).
      body = text.length < 300 ? text : '';
    }
    const { message, code } = describeApiError(res.status, body, res.statusText);
    throw new ApiError(res.status, message, code);
  }

  async info(): Promise<NimInfo> {
    return (await this.#fetch('/v1/vista3d/info')).json() as Promise<NimInfo>;
  }

  async samples(): Promise<Sample[]> {
    const { samples } = (await (await this.#fetch('/api/samples')).json()) as { samples: Sample[] };
    return samples;
  }

  /** The bytes of a listed sample, for display. */
  async sampleBytes(path: string, signal?: AbortSignal): Promise<ArrayBuffer> {
    return (await this.#fetch(`/api/samples/file?path=${encodeURIComponent(path)}`, { signal })).arrayBuffer();
  }

  /**
   * One inference: uploads the file (multipart: part `image` and a JSON part `request`) or names
   * the image, and asks for the label file itself (`Accept: application/gzip`).
   */
  async segment(source: ImageSource, prompts: NimPrompts, signal?: AbortSignal): Promise<SegmentResult> {
    const started = performance.now();
    const output = { extension: '.nii.gz', dtype: 'uint8' };
    let init: RequestInit;
    if (source.kind === 'upload') {
      const form = new FormData();
      form.append('image', source.file, source.name);
      form.append('request', JSON.stringify({ prompts, output }));
      init = { method: 'POST', body: form, headers: { Accept: 'application/gzip' }, signal };
    } else {
      init = {
        method: 'POST',
        body: JSON.stringify({ image: source.image, prompts, output }),
        headers: { 'Content-Type': 'application/json', Accept: 'application/gzip' },
        signal,
      };
    }
    const res = await this.#fetch('/v1/vista3d/inference', init);
    const bytes = await res.arrayBuffer();
    return {
      bytes,
      fileName: fileNameFrom(res.headers.get('content-disposition'), 'labels_seg.nii.gz'),
      engine: res.headers.get('x-voxgate-engine'),
      timing: res.headers.get('x-voxgate-timing'),
      zeroShot: parseZeroShot(res.headers.get('x-voxgate-zero-shot-labels')),
      elapsedMs: performance.now() - started,
    };
  }

  /** A job's result files. */
  async jobResults(jobId: string): Promise<JobResult[]> {
    const { results } = (await (await this.#fetch(`/api/inference/${encodeURIComponent(jobId)}/results`)).json()) as { results?: JobResult[] };
    return results ?? [];
  }

  /** A file from this server, with the token (a plain link could not send it). */
  async download(path: string): Promise<Blob> {
    return (await this.#fetch(path)).blob();
  }

  /** The jobs list, or null when this server has no jobs API (404/405). */
  async jobs(signal?: AbortSignal): Promise<JobSummary[] | null> {
    try {
      const body = (await (await this.#fetch('/api/jobs', { signal })).json()) as unknown;
      if (Array.isArray(body)) return body as JobSummary[];
      const jobs = (body as { jobs?: unknown }).jobs;
      return Array.isArray(jobs) ? (jobs as JobSummary[]) : [];
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null;
      throw err;
    }
  }
}
