/**
 * The `remote` engine: segmentation by another NIM-compatible server — NVIDIA's VISTA3D NIM on a
 * GPU box, or another Voxgate. The volume goes out as a .nii.gz (uploaded as multipart to a Voxgate,
 * or lent under a capability URL that a NIM fetches), the answer (a zip with the label file, or the
 * file itself) is checked against the input's shape and geometry before it is trusted.
 *
 * Faults are kept away from the caller's time: every attempt has a timeout, transient failures
 * (unreachable, 5xx, 408, 429, timeouts) are retried with exponential backoff, and a circuit breaker
 * refuses requests at once while the remote keeps failing. Readiness follows the remote's own
 * `/v1/health/ready`, polled in the background.
 * @module
 */
import { VoxgateError } from '../../errors.js';
import type { ErrorCode } from '../../errors.js';
import { MAX_LABEL_INDEX, VISTA3D_EVERYTHING, labelName } from '../../pipeline/labels.js';
import { safeUrl } from '../../pipeline/fetch-messages.js';
import { readZip } from '../../pipeline/zip.js';
import { readVolume, volumeExtensionOf } from '../../volume/volume-file.js';
import type { LabelVolume, Volume } from '../../volume/volume.js';
import { createLabelVolume } from '../../volume/volume.js';
import { encodeNifti } from '../../volume/nifti.js';
import type { Engine, EngineInfo, ProgressCallback, SegmentationPrompts } from '../engine.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { LentInput, RemoteInputs } from './remote-inputs.js';

export type RemoteUpload = 'auto' | 'multipart' | 'url';

export interface RemoteEngineOptions {
  /** The remote's base URL, e.g. `http://gpu-box:8000` (a trailing `/v1` is accepted). */
  readonly url: string;
  /** Sent as `Authorization: Bearer …` (a Voxgate with API tokens, a NIM behind a gateway). */
  readonly token?: string;
  /** One attempt's limit, upload to last byte of the answer (default 10 min). */
  readonly timeoutMs?: number;
  /** Tries of one request on transient failures, the first included (default 3). */
  readonly attempts?: number;
  /** First backoff delay; doubles per retry (default 1 s). */
  readonly retryBaseMs?: number;
  /**
   * How the image reaches the remote: `multipart` (a Voxgate), `url` (lent by this server under
   * `publicUrl`; what a NIM needs), `auto` (multipart when the remote says it is a Voxgate).
   */
  readonly upload?: RemoteUpload;
  /** This server's address as the remote can reach it, for `url` uploads. */
  readonly publicUrl?: string;
  /** Where `url` uploads are lent from (the server serves them). */
  readonly inputs?: RemoteInputs;
  /** How often the remote's readiness is polled (default 5 s). */
  readonly pollMs?: number;
  /** Failures in a row that open the circuit (default 5), and how long it stays open (default 30 s). */
  readonly breaker?: { readonly threshold: number; readonly cooldownMs: number };
  /** Cap on the decoded answer (default: the input's voxel count in 32-bit values, plus headers). */
  readonly maxDecodedBytes?: number;
}

/** What the remote says of itself in `/v1/vista3d/info` (a Voxgate adds `engine`). */
interface RemoteInfo {
  readonly name?: string;
  readonly version?: string;
  readonly labels?: Record<string, string>;
  readonly engine?: { name?: string; version?: string; supported_classes?: number[]; point_prompts?: boolean };
}

/** Largest difference, in mm, between the answer's affine and the input's that is still the same grid (float32 sform). */
const AFFINE_TOLERANCE_MM = 1e-3;
const PROBE_TIMEOUT_MS = 5000;
/** A remote's error text is quoted up to this many characters. */
const MAX_QUOTED = 300;

/** A failure of one attempt, and whether another attempt may help. */
class RemoteFailure extends VoxgateError {
  readonly retryable: boolean;
  /** False when the remote answered sensibly (it refused the prompts): the circuit stays closed. */
  readonly remoteFault: boolean;

  constructor(code: ErrorCode, message: string, options: { retryable: boolean; remoteFault?: boolean; statusCode?: number; cause?: unknown }) {
    super(code, message, options);
    this.retryable = options.retryable;
    this.remoteFault = options.remoteFault ?? true;
  }
}

/** Base URL without credentials, trailing slashes or `/v1`, for requests and messages. */
function baseUrl(url: string): URL {
  const parsed = new URL(url);
  parsed.pathname = parsed.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return parsed;
}


/** The message of a NIM or Voxgate error body (`error_msg[0].msg`, `detail`, `message`), else the text. */
function remoteMessage(text: string): string {
  let message = text;
  try {
    const body = JSON.parse(text) as { error_msg?: { msg?: string }[]; detail?: unknown; message?: string };
    if (Array.isArray(body.error_msg) && body.error_msg[0]?.msg) message = body.error_msg[0].msg;
    else if (typeof body.detail === 'string') message = body.detail;
    else if (Array.isArray(body.detail)) message = body.detail.map((d: { msg?: string }) => d.msg ?? JSON.stringify(d)).join('; ');
    else if (typeof body.message === 'string') message = body.message;
  } catch {
    // Not JSON: quote the text itself.
  }
  message = message.trim().replace(/\s+/g, ' ');
  return message.length > MAX_QUOTED ? `${message.slice(0, MAX_QUOTED)}…` : message || '(empty body)';
}

/** The NIM's prompts for engine prompts: VISTA3D names where there is one (what a NIM knows), else indices. */
export function nimPrompts(prompts: SegmentationPrompts): Record<string, unknown> {
  const key = (index: number): string => (index <= MAX_LABEL_INDEX ? (labelName(index) ?? String(index)) : String(index));
  const out: Record<string, unknown> = {};
  if (prompts.classes.length > 0) out.classes = prompts.classes.map((c) => (c <= MAX_LABEL_INDEX ? (labelName(c) ?? c) : c));
  if (prompts.points) {
    const name = key(prompts.points.label);
    out.points = { [name]: prompts.points.points.map((p) => [...p]) };
    // point_labels is Voxgate's extension: sent only when a click is negative, so a NIM sees its own schema otherwise.
    if (prompts.points.pointLabels.some((l) => l === 0)) out.point_labels = { [name]: [...prompts.points.pointLabels] };
  }
  return out;
}

/** The label map in an answer: a zip holding one label file (the NIM's answer), or the file itself. */
async function decodeAnswer(bytes: Uint8Array, maxDecodedBytes: number, remote: string): Promise<Volume> {
  let file = bytes;
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    let entries;
    try {
      entries = readZip(bytes);
    } catch (err) {
      throw new RemoteFailure('VXG_ERR_REMOTE_RESPONSE', `The remote engine at ${remote} answered a broken zip: ${(err as Error).message}`, { retryable: false, cause: err });
    }
    const labels = entries.filter((e) => volumeExtensionOf(e.name) !== undefined);
    if (labels.length !== 1) {
      const names = entries.map((e) => e.name).join(', ') || 'nothing';
      throw new RemoteFailure('VXG_ERR_REMOTE_RESPONSE', `The remote engine at ${remote} answered a zip with ${labels.length} label files (it holds ${names}); expected one .nii.gz, .nii or .nrrd.`, { retryable: false });
    }
    file = labels[0]!.data;
  }
  try {
    return await readVolume(file, { maxDecodedBytes });
  } catch (err) {
    throw new RemoteFailure('VXG_ERR_REMOTE_RESPONSE', `The remote engine at ${remote} answered something that is not a readable label map: ${(err as Error).message}`, { retryable: false, cause: err });
  }
}

/** The answer as a label map on the input's grid, or why it is not one. */
export function checkAnswer(answer: Volume, input: Pick<Volume, 'dims' | 'affine' | 'source'>, remote: string): LabelVolume {
  if (answer.dims.some((d, axis) => d !== input.dims[axis])) {
    throw new RemoteFailure('VXG_ERR_REMOTE_RESPONSE', `The remote engine at ${remote} answered a label map of ${answer.dims.join('×')} voxels for an image of ${input.dims.join('×')}.`, { retryable: false });
  }
  let worst = 0;
  for (let n = 0; n < 12; n++) worst = Math.max(worst, Math.abs(answer.affine[n]! - input.affine[n]!));
  if (!(worst <= AFFINE_TOLERANCE_MM)) {
    throw new RemoteFailure('VXG_ERR_REMOTE_RESPONSE', `The remote engine at ${remote} answered a label map on another grid: its affine differs from the image's by up to ${worst.toPrecision(3)} mm.`, { retryable: false });
  }
  const labels = new Uint8Array(answer.data.length);
  const data = answer.data;
  for (let p = 0; p < data.length; p++) {
    const v = data[p]!;
    if (!(v >= 0 && v <= 255 && Number.isInteger(v))) {
      throw new RemoteFailure('VXG_ERR_REMOTE_RESPONSE', `The remote engine at ${remote} answered a label map with the value ${v}, which is not a label index (0–255).`, { retryable: false });
    }
    labels[p] = v;
  }
  // On the input's grid exactly (its source geometry too): the answer's float32 affine is not copied.
  return createLabelVolume(input, labels);
}

export class RemoteEngine implements Engine {
  readonly #base: URL;
  readonly #shown: string;
  readonly #options: RemoteEngineOptions;
  readonly #breaker: CircuitBreaker;
  #remoteInfo: RemoteInfo | undefined;
  #remoteLicense: string | undefined;
  #remoteReady = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(options: RemoteEngineOptions) {
    this.#options = options;
    this.#base = baseUrl(options.url);
    // Messages and info name the remote without credentials or query (pipeline's safeUrl).
    this.#shown = safeUrl(this.#base).replace(/\/$/, '');
    this.#breaker = new CircuitBreaker(options.breaker ?? { threshold: 5, cooldownMs: 30_000 });
  }

  /**
   * An engine for the remote at `options.url`. It starts whether or not the remote answers (it is
   * then not ready until it does): a GPU box that reboots must not stop this server from starting.
   * @example
   * const engine = await RemoteEngine.start({ url: 'http://gpu-box:8000' });
   */
  static async start(options: RemoteEngineOptions): Promise<RemoteEngine> {
    if (options.upload === 'url' && !options.publicUrl) {
      throw new VoxgateError('VXG_ERR_CONFIG_INVALID', 'remoteUpload "url" needs publicUrl (VOXGATE_PUBLIC_URL): the address at which the remote server can fetch images from this one.');
    }
    const engine = new RemoteEngine(options);
    await engine.probe();
    const timer = setInterval(() => void engine.probe(), options.pollMs ?? 5000);
    timer.unref();
    engine.#timer = timer;
    return engine;
  }

  get info(): EngineInfo {
    const remote = this.#remoteInfo;
    const extraLabels = Object.fromEntries(
      Object.entries(remote?.labels ?? {}).filter(([index]) => Number(index) > MAX_LABEL_INDEX && Number(index) <= 254).map(([index, name]) => [Number(index), name]),
    );
    const who = remote?.engine?.name ? `${remote.name ?? 'a Voxgate'} with its ${remote.engine.name} engine` : (remote?.name ?? 'a NIM-compatible server');
    return {
      name: 'remote',
      version: remote?.engine?.version ?? remote?.version ?? 'unknown',
      description: `forwards each request to ${who} at ${this.#shown}${remote ? '' : ' (not reached yet)'}.`,
      // A Voxgate says what its engine segments; a NIM is VISTA3D, whose "everything" is these 117 classes.
      supportedClasses: remote?.engine?.supported_classes ?? VISTA3D_EVERYTHING,
      pointPrompts: remote?.engine?.point_prompts ?? true,
      license: this.#remoteLicense ?? `The licence of the model(s) served by ${this.#shown}: GET ${this.#shown}/v1/license.`,
      ...(Object.keys(extraLabels).length > 0 ? { extraLabels } : {}),
    };
  }

  isReady(): boolean {
    return this.#remoteReady && this.#breaker.state !== 'open';
  }

  /** Asks the remote whether it is ready, and what it is when that is not known yet. */
  async probe(): Promise<void> {
    try {
      const response = await this.#get('/v1/health/ready', PROBE_TIMEOUT_MS);
      await response.body?.cancel();
      this.#remoteReady = response.ok;
      if (response.ok && !this.#remoteInfo) {
        const info = await this.#get('/v1/vista3d/info', PROBE_TIMEOUT_MS);
        if (info.ok) this.#remoteInfo = (await info.json()) as RemoteInfo;
        const license = await this.#get('/v1/license', PROBE_TIMEOUT_MS);
        if (license.ok) this.#remoteLicense = ((await license.json()) as { license?: string }).license;
      }
    } catch {
      this.#remoteReady = false;
    }
  }

  async segment(volume: Volume, prompts: SegmentationPrompts, progress?: ProgressCallback): Promise<LabelVolume> {
    if (this.#closed) throw new VoxgateError('VXG_ERR_ENGINE_NOT_READY', 'The remote engine is closed.');
    if (!this.#breaker.tryAcquire()) {
      throw new VoxgateError(
        'VXG_ERR_REMOTE_UNAVAILABLE',
        `The remote engine at ${this.#shown} failed ${this.#breaker.consecutiveFailures} requests in a row (last: ${this.#breaker.lastError}); ` +
          `requests are refused for ${Math.ceil(this.#breaker.retryInMs / 1000)} s more before it is tried again.`,
      );
    }
    const grid = { dims: volume.dims, affine: volume.affine, source: volume.source };
    progress?.(0, 'encode');
    const image = await encodeNifti(volume);
    const attempts = this.#options.attempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        progress?.(0.1, 'remote');
        const answer = await this.#infer(image, prompts, volume.data.length);
        const labels = checkAnswer(answer, grid, this.#shown);
        this.#breaker.succeeded();
        progress?.(1, 'done');
        return labels;
      } catch (err) {
        const failure = err instanceof RemoteFailure ? err : undefined;
        if (failure && !failure.remoteFault) {
          this.#breaker.succeeded();
          throw err;
        }
        if (!failure?.retryable || attempt >= attempts || this.#closed) {
          this.#breaker.failed((err as Error).message);
          if (failure?.retryable && attempts > 1) {
            throw new VoxgateError('VXG_ERR_REMOTE_UNAVAILABLE', `${failure.message} (after ${attempts} tries)`, { cause: err });
          }
          throw err;
        }
        const base = this.#options.retryBaseMs ?? 1000;
        await new Promise((resolve) => setTimeout(resolve, Math.round(base * 2 ** (attempt - 1) * (0.8 + Math.random() * 0.4))));
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...extra, ...(this.#options.token ? { authorization: `Bearer ${this.#options.token}` } : {}) };
  }

  #get(path: string, timeoutMs: number): Promise<Response> {
    return fetch(new URL(path, this.#base), { headers: this.#headers(), signal: AbortSignal.timeout(timeoutMs) });
  }

  /** Whether this request uploads by multipart; `url` needs the lent-input store and a public URL. */
  #uploadsMultipart(): boolean {
    const upload = this.#options.upload ?? 'auto';
    if (upload !== 'auto') return upload === 'multipart';
    // Only a Voxgate (it adds `engine` to its info) takes uploads; unknown yet: try multipart unless a URL can be lent.
    if (this.#remoteInfo) return this.#remoteInfo.engine !== undefined || !this.#options.publicUrl;
    return !this.#options.publicUrl;
  }

  /** One attempt: send, receive, decode. */
  async #infer(image: Uint8Array, prompts: SegmentationPrompts, voxels: number): Promise<Volume> {
    const request = { prompts: nimPrompts(prompts) };
    const timeoutMs = this.#options.timeoutMs ?? 600_000;
    let lent: LentInput | undefined;
    let init: RequestInit;
    if (this.#uploadsMultipart()) {
      const form = new FormData();
      form.append('request', JSON.stringify(request));
      form.append('image', new Blob([image], { type: 'application/gzip' }), 'image.nii.gz');
      init = { method: 'POST', body: form };
    } else {
      if (!this.#options.publicUrl || !this.#options.inputs) {
        throw new RemoteFailure(
          'VXG_ERR_REMOTE_UNAVAILABLE',
          `The remote at ${this.#shown} is not a Voxgate and fetches images by URL, but this process serves none: run the remote engine in \`voxgate serve\` with publicUrl (VOXGATE_PUBLIC_URL) set.`,
          { retryable: false, remoteFault: false, statusCode: 500 },
        );
      }
      lent = this.#options.inputs.lend('image.nii.gz', image);
      const imageUrl = new URL(lent.path, this.#options.publicUrl).href;
      init = { method: 'POST', body: JSON.stringify({ image: imageUrl, ...request }), headers: { 'content-type': 'application/json' } };
    }
    try {
      let response: Response;
      let bytes: Uint8Array;
      try {
        response = await fetch(new URL('/v1/vista3d/inference', this.#base), {
          ...init,
          headers: this.#headers({ ...(init.headers as Record<string, string> | undefined), accept: 'application/zip' }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        bytes = new Uint8Array(await response.arrayBuffer());
      } catch (err) {
        throw this.#networkFailure(err, timeoutMs);
      }
      if (!response.ok) throw this.#statusFailure(response.status, Buffer.from(bytes).toString('utf8'));
      // An int16 or float32 answer is at most 4 bytes a voxel, plus a header.
      return await decodeAnswer(bytes, this.#options.maxDecodedBytes ?? voxels * 4 + 1024 * 1024, this.#shown);
    } finally {
      lent?.release();
    }
  }

  #networkFailure(err: unknown, timeoutMs: number): RemoteFailure {
    const e = err as Error & { cause?: Error & { code?: string } };
    if (e.name === 'TimeoutError') {
      return new RemoteFailure('VXG_ERR_REMOTE_UNAVAILABLE', `The remote engine at ${this.#shown} did not answer within ${timeoutMs < 10_000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}.`, { retryable: true, cause: err });
    }
    const why = e.cause?.code ?? e.cause?.message ?? e.message;
    return new RemoteFailure('VXG_ERR_REMOTE_UNAVAILABLE', `The remote engine at ${this.#shown} could not be reached (${why}).`, { retryable: true, cause: err });
  }

  #statusFailure(status: number, text: string): RemoteFailure {
    const said = remoteMessage(text);
    if (status >= 500 || status === 408 || status === 429) {
      return new RemoteFailure('VXG_ERR_REMOTE_UNAVAILABLE', `The remote engine at ${this.#shown} answered HTTP ${status}: ${said}`, { retryable: true });
    }
    if (status === 401 || status === 403) {
      return new RemoteFailure('VXG_ERR_REMOTE_REJECTED', `The remote engine at ${this.#shown} refused this server's credentials (HTTP ${status}): set remoteToken (VOXGATE_REMOTE_TOKEN). It said: ${said}`, {
        retryable: false,
        statusCode: 502,
      });
    }
    // 400: the prompts are wrong for the remote's model — the user's to fix, and the remote is healthy.
    return new RemoteFailure('VXG_ERR_REMOTE_REJECTED', `The remote engine at ${this.#shown} refused the request (HTTP ${status}): ${said}`, {
      retryable: false,
      remoteFault: false,
      statusCode: status === 400 ? 400 : 502,
    });
  }
}
