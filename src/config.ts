/**
 * One validated configuration, from a file (YAML or JSON), the environment (`VOXGATE_*`) and
 * command-line flags: flags win over the environment, the environment over the file.
 * @module
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { VoxgateError } from './errors.js';
import { PipelinesSchema } from './jobs/pipelines.js';
import { HostAllowList } from './pipeline/network-policy.js';
import { DEFAULT_MAX_DECODED_BYTES } from './volume/byte-reader.js';

const list = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(z.string().min(1)),
);
const bool = z.preprocess((v) => (v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : v), z.boolean());
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** Structured settings given as text (an environment variable) are JSON; unparsable text is left for the schema to refuse. */
const jsonText = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
};

export const ConfigSchema = z
  .object({
    port: int(0, 65535).default(8000),
    host: z.string().min(1).default('0.0.0.0'),
    dataDir: z.string().min(1).default('./data'),
    /** Folders the NIM API may read images from (file:, absolute paths) and write local_working_dir to. */
    allowPath: list.default([]),
    /** Hosts (name, IP, host:port or CIDR) image URLs may point to even when private or loopback. */
    allowHost: list.default([]),
    engine: z.enum(['classic', 'onnx', 'remote']).default('classic'),
    model: z.string().optional(),
    remoteUrl: z.string().url().optional(),
    /** Bearer token the remote engine sends to its server (never a flag: it would show in `ps`). */
    remoteToken: z.string().min(1).optional(),
    /** One remote inference attempt's limit. */
    remoteTimeoutMs: int(1000, 3_600_000).default(600_000),
    /** Tries of a remote inference on transient failures, the first included. */
    remoteAttempts: int(1, 10).default(3),
    /** How images reach the remote: multipart upload (a Voxgate), a URL this server lends (a NIM), or auto. */
    remoteUpload: z.enum(['auto', 'multipart', 'url']).default('auto'),
    /** This server's base URL as a remote engine's server can reach it (for remoteUpload url). */
    publicUrl: z.string().url().optional(),
    dicomPort: int(0, 65535).default(11112),
    aeTitle: z.string().min(1).max(16).default('VOXGATE'),
    /** Run the DICOM node (C-ECHO/C-STORE SCP on dicomPort) in `serve`. */
    dicomNode: bool.default(true),
    /** Refuse associations from calling AE titles (and hosts) that are not configured sources. */
    rejectUnknownSources: bool.default(true),
    /** Concurrent DICOM associations; one more is rejected as transient (PS3.8 local limit exceeded). */
    dicomMaxAssociations: int(1, 1000).default(25),
    databaseUrl: z.string().optional(),
    worker: bool.default(true),
    /** A file with one API token per line; when set, every route but health needs one. */
    tokenFile: z.string().optional(),
    /** Tokens given directly (config file or VOXGATE_TOKENS); merged with tokenFile's. */
    tokens: list.default([]),
    maxImageBytes: z.coerce.number().int().positive().default(2 * 1024 ** 3),
    maxDecodedBytes: z.coerce.number().int().positive().default(DEFAULT_MAX_DECODED_BYTES),
    /** Cap on request bodies (JSON and multipart uploads). */
    maxBodyBytes: z.coerce.number().int().positive().default(1024 ** 3),
    fetchTimeoutMs: z.coerce.number().int().positive().default(120_000),
    maxRedirects: int(0, 20).default(5),
    /**
     * Who runs NIM inference requests: `local` — the server that answers, with its own engine;
     * `workers` — any worker on the job store (voxgate worker, or a serve with its worker), while the
     * answering server waits (docs/scale-out.md).
     */
    nimInference: z.enum(['local', 'workers']).default('local'),
    /** How long a NIM request handed to the workers waits for one to finish it. */
    nimWorkerTimeoutMs: int(1000, 3_600_000).default(600_000),
    /** Concurrent inferences; more wait in a queue. */
    inferenceConcurrency: int(1, 64).default(1),
    engineThreads: int(1, 64).default(1),
    /** ACR jobs run at once by this process's worker. */
    jobConcurrency: int(1, 64).default(1),
    /** Tries of each job step (retrieve, infer, export) on transient failures, the first included. */
    jobAttempts: int(1, 20).default(3),
    /**
     * How long a worker's hold on a job lasts without a heartbeat (renewed every third of it): a
     * worker that dies loses its jobs to another after this long.
     */
    jobLeaseMs: int(1000, 3_600_000).default(30_000),
    /** ACR pipelines by Algorithm id; `vista3d` is always there (spec/acr-api.md). JSON in VOXGATE_PIPELINES. */
    pipelines: z.preprocess(jsonText, PipelinesSchema).default({}),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** Environment variable → config key. Every flag has one (`--allow-path` → `VOXGATE_ALLOW_PATH`). */
export const ENVIRONMENT_KEYS: Record<string, keyof Config> = Object.fromEntries(
  Object.keys(ConfigSchema.shape).map((key) => [`VOXGATE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`, key as keyof Config]),
);

export interface ConfigSources {
  /** Parsed flags, keys already in config form (`allowPath`, not `allow-path`). */
  flags?: Partial<Record<keyof Config, unknown>>;
  env?: NodeJS.ProcessEnv;
  /** Path of a YAML or JSON file; `--config` or `VOXGATE_CONFIG`. */
  file?: string;
}

/** Merges file < environment < flags and validates the result; throws VXG_ERR_CONFIG_INVALID. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? {};
  const filePath = sources.file ?? env.VOXGATE_CONFIG;
  const fromFile = filePath ? readConfigFile(filePath) : {};
  const fromEnv: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENVIRONMENT_KEYS)) {
    if (env[name] !== undefined && env[name] !== '') fromEnv[key] = env[name];
  }
  const fromFlags = Object.fromEntries(Object.entries(sources.flags ?? {}).filter(([, v]) => v !== undefined));
  const parsed = ConfigSchema.safeParse({ ...fromFile, ...fromEnv, ...fromFlags });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new VoxgateError('VXG_ERR_CONFIG_INVALID', `Invalid configuration: ${problems}.`);
  }
  const config = parsed.data;
  // Fail at start, not at the first request, on a malformed --allow-host entry.
  HostAllowList.parse(config.allowHost);
  return {
    ...config,
    dataDir: resolve(config.dataDir),
    allowPath: config.allowPath.map((p) => resolve(p)),
    tokens: [...config.tokens, ...(config.tokenFile ? readTokenFile(config.tokenFile) : [])],
  };
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new VoxgateError('VXG_ERR_CONFIG_INVALID', `Cannot read the configuration file ${path}: ${(err as Error).message}.`, { cause: err });
  }
  let value: unknown;
  try {
    value = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new VoxgateError('VXG_ERR_CONFIG_INVALID', `The configuration file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new VoxgateError('VXG_ERR_CONFIG_INVALID', `The configuration file ${path} must hold a mapping of settings.`);
  }
  // Files may use the flags' kebab-case names too (allow-path: [...]).
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()), v]));
}

function readTokenFile(path: string): string[] {
  try {
    return readFileSync(path, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  } catch (err) {
    throw new VoxgateError('VXG_ERR_CONFIG_INVALID', `Cannot read the token file ${path}: ${(err as Error).message}.`, { cause: err });
  }
}
