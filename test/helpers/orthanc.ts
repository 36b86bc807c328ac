/**
 * A real Orthanc (Debian's `orthanc` + `orthanc-dicomweb`) for integration tests, on loopback.
 *
 * Each {@link startOrthanc} runs its own Orthanc as a child process with a generated configuration
 * in a temporary folder: free HTTP and DICOM ports, `RemoteAccessAllowed: false`, the DICOMweb
 * plugin, storage in the temporary folder, TCP_NODELAY=1 in its environment (docs/design.md:
 * DCMTK leaves Nagle on otherwise), optional HTTP Basic users, and the loopback modalities a test
 * names (for C-MOVE to Voxgate's store SCP). `stop()` kills it and removes the folder.
 *
 * @example
 * const orthanc = await ensureOrthanc();
 * test('…', { skip: orthanc.ok ? false : orthanc.reason }, async () => {
 *   const pacs = await startOrthanc({ users: { alice: 'secret' } });
 *   await pacs.upload('ct/01.dcm');
 *   // pacs.dicomWebRoot, pacs.dicomPort, pacs.aeTitle …
 *   await pacs.stop();
 * });
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { SystemPackagesResult } from './system-packages.js';
import { ensureSystemPackages } from './system-packages.js';

export const ORTHANC_BINARY = '/usr/sbin/Orthanc';
const ORTHANC_PACKAGES = ['orthanc', 'orthanc-dicomweb'] as const;
const START_TIMEOUT_MS = 30_000;

/** A DICOM node Orthanc may send to (C-MOVE destination, C-ECHO/C-STORE peer). */
export interface OrthancModality {
  aeTitle: string;
  /** Only loopback: tests never point Orthanc elsewhere. */
  host: '127.0.0.1';
  port: number;
}

export interface OrthancOptions {
  /** Orthanc's own AE title (default `ORTHANC`). */
  aeTitle?: string;
  /** HTTP Basic users; when given, AuthenticationEnabled is true. */
  users?: Record<string, string>;
  /** Known modalities, by symbolic name. More can be added later with `addModality`. */
  modalities?: Record<string, OrthancModality>;
  /** Extra configuration keys (override the generated ones). */
  config?: Record<string, unknown>;
}

export interface OrthancInstanceRef {
  /** Orthanc's own id of the instance (a hash), for `/instances/{id}/…`. */
  ID: string;
  ParentStudy: string;
  ParentSeries: string;
  Status: string;
}

export interface OrthancServer {
  readonly aeTitle: string;
  readonly httpPort: number;
  readonly dicomPort: number;
  /** `http://127.0.0.1:<port>/` */
  readonly httpUrl: string;
  /** `http://127.0.0.1:<port>/dicom-web/` */
  readonly dicomWebRoot: string;
  /** The Authorization header for the first user, if any. */
  readonly authorization: string | undefined;
  /** Uploads a Part 10 file (path or bytes) through REST `POST /instances`. */
  upload(file: string | Uint8Array): Promise<OrthancInstanceRef>;
  /** GET (JSON) on the REST API, with the first user's credentials. */
  rest<T = unknown>(pathname: string): Promise<T>;
  /** GET raw bytes on the REST API (e.g. `/instances/{id}/file`). */
  restBytes(pathname: string): Promise<Buffer>;
  /** POST on the REST API: a string is sent as is (e.g. `/tools/lookup`), anything else as JSON. */
  restPost<T = unknown>(pathname: string, body: unknown): Promise<T>;
  /** Registers (or replaces) a modality at run time (`PUT /modalities/{name}`). */
  addModality(name: string, modality: OrthancModality): Promise<void>;
  /** Orthanc's log so far (for failure messages). */
  log(): string;
  /** Stops Orthanc and removes its folder. */
  stop(): Promise<void>;
}

/** The DICOMweb plugin's shared object, from the package's file list. */
export function dicomWebPluginPath(): string | undefined {
  try {
    const files = execFileSync('dpkg', ['-L', 'orthanc-dicomweb'], { encoding: 'utf8' }).split('\n');
    return files.find((f) => /\/libOrthancDicomWeb\.so$/.test(f)) ?? files.find((f) => /libOrthancDicomWeb\.so/.test(f) && existsSync(f));
  } catch {
    return undefined;
  }
}

/**
 * Installs Orthanc and its DICOMweb plugin when missing (as root), or returns why not, after
 * printing a loud SKIPPING line. Pass the result to `test(…, { skip })`.
 */
export function ensureOrthanc(): Promise<SystemPackagesResult> {
  return ensureSystemPackages(ORTHANC_PACKAGES, () => existsSync(ORTHANC_BINARY) && dicomWebPluginPath() !== undefined);
}

/**
 * A TCP port free on 127.0.0.1 right now (Orthanc cannot listen on port 0), below the kernel's
 * ephemeral range: outgoing connections take their source ports from that range, so a port from it
 * can be taken between a server's kill and its restart on the same port (acr-crash: "listen
 * EADDRINUSE 127.0.0.1:34967" once in a CI run, with other suites connecting beside it).
 */
export async function freePort(): Promise<number> {
  // Below IANA's dynamic range too, where another system keeps its ephemeral ports (macOS: 49152 up).
  const low = Math.min(ephemeralLow(), 49152);
  for (let attempt = 0; attempt < 64; attempt++) {
    const port = PRIVATE_PORTS_LOW + Math.floor(Math.random() * (low - PRIVATE_PORTS_LOW));
    if (await listensOn(port)) return port;
  }
  return listensOn(0);
}

/** freePort draws from this port up to the ephemeral range (lower ones are more often services'). */
const PRIVATE_PORTS_LOW = 20000;

/** The first port of the kernel's ephemeral range (Linux's ip_local_port_range; 32768 elsewhere). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > PRIVATE_PORTS_LOW + 1000 ? low : 32768;
  } catch {
    return 32768;
  }
}

/** Listens on `port` of 127.0.0.1 and closes again: the port listened on, or 0 when it was taken. */
function listensOn(port: number): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(0));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(bound));
    });
  });
}

/** Starts a fresh Orthanc; retries with other ports if one was taken meanwhile. */
export async function startOrthanc(options: OrthancOptions = {}): Promise<OrthancServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      lastError = err;
      if (!String((err as Error).message).includes('port')) break;
    }
  }
  throw lastError;
}

async function startOnce(options: OrthancOptions): Promise<OrthancServer> {
  const plugin = dicomWebPluginPath();
  if (!plugin) throw new Error('orthanc-dicomweb is not installed (call ensureOrthanc() first)');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'voxgate-orthanc-'));
  const httpPort = await freePort();
  let dicomPort = await freePort();
  while (dicomPort === httpPort) dicomPort = await freePort();
  const aeTitle = options.aeTitle ?? 'ORTHANC';
  const users = options.users ?? {};
  const firstUser = Object.entries(users)[0];
  const authorization = firstUser ? `Basic ${Buffer.from(`${firstUser[0]}:${firstUser[1]}`).toString('base64')}` : undefined;
  const modalities = Object.fromEntries(Object.entries(options.modalities ?? {}).map(([name, m]) => [name, [m.aeTitle, m.host, m.port]]));
  const config = {
    Name: 'voxgate-test',
    StorageDirectory: path.join(dir, 'db'),
    IndexDirectory: path.join(dir, 'db'),
    StorageCompression: false,
    Plugins: [plugin],
    HttpServerEnabled: true,
    HttpPort: httpPort,
    HttpDescribeErrors: true,
    HttpCompressionEnabled: false,
    OrthancExplorerEnabled: false,
    WebDavEnabled: false,
    // docs/design.md: Orthanc binds every interface; only loopback clients may use its REST API.
    RemoteAccessAllowed: false,
    AuthenticationEnabled: firstUser !== undefined,
    RegisteredUsers: users,
    DicomServerEnabled: true,
    DicomAet: aeTitle,
    DicomPort: dicomPort,
    DicomCheckCalledAet: true,
    DicomModalities: modalities,
    DicomModalitiesInDatabase: false,
    DicomAlwaysAllowEcho: true,
    DicomAlwaysAllowStore: true,
    DicomAlwaysAllowFind: true,
    DicomAlwaysAllowGet: true,
    DicomAlwaysAllowMove: true,
    DicomCheckModalityHost: true,
    DicomScuTimeout: 10,
    DicomScpTimeout: 30,
    // Close the association to a C-MOVE destination right after the move, not 5 s later.
    DicomAssociationCloseDelay: 0,
    SynchronousCMove: true,
    UnknownSopClassAccepted: true,
    TcpNoDelay: true,
    KeepAlive: true,
    HttpThreadsCount: 20,
    ConcurrentJobs: 2,
    SaveJobs: false,
    StableAge: 1,
    LimitFindResults: 0,
    LimitFindInstances: 0,
    OverwriteInstances: false,
    DeidentifyLogs: true,
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false, Ssl: false, StudiesMetadata: 'MainDicomTags', SeriesMetadata: 'MainDicomTags' },
    ...options.config,
  };
  const configPath = path.join(dir, 'orthanc.json');
  await writeFile(configPath, JSON.stringify(config, null, 2));

  const child = spawn(ORTHANC_BINARY, [configPath], {
    cwd: dir,
    env: { ...process.env, TCP_NODELAY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer): void => {
    log += chunk.toString('utf8');
    if (log.length > 200_000) log = log.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const httpUrl = `http://127.0.0.1:${httpPort}/`;
  const headers = (): Record<string, string> => (authorization ? { authorization } : {});
  const server: OrthancServer = {
    aeTitle,
    httpPort,
    dicomPort,
    httpUrl,
    dicomWebRoot: `${httpUrl}dicom-web/`,
    authorization,
    async upload(file) {
      const body = typeof file === 'string' ? await readFile(file) : file;
      const res = await fetch(new URL('instances', httpUrl), { method: 'POST', body, headers: { ...headers(), 'content-type': 'application/dicom' } });
      const text = await res.text();
      if (!res.ok) throw new Error(`Orthanc refused an upload: ${res.status} ${text.slice(0, 500)}`);
      return JSON.parse(text) as OrthancInstanceRef;
    },
    async rest<T>(pathname: string) {
      const res = await fetch(new URL(pathname.replace(/^\//, ''), httpUrl), { headers: headers() });
      if (!res.ok) throw new Error(`Orthanc GET ${pathname}: ${res.status} ${(await res.text()).slice(0, 500)}`);
      return (await res.json()) as T;
    },
    async restBytes(pathname) {
      const res = await fetch(new URL(pathname.replace(/^\//, ''), httpUrl), { headers: headers() });
      if (!res.ok) throw new Error(`Orthanc GET ${pathname}: ${res.status}`);
      return Buffer.from(await res.arrayBuffer());
    },
    async restPost<T>(pathname: string, body: unknown) {
      const res = await fetch(new URL(pathname.replace(/^\//, ''), httpUrl), {
        method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body),
        headers: { ...headers(), 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' },
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`Orthanc POST ${pathname}: ${res.status} ${text.slice(0, 500)}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async addModality(name, modality) {
      const res = await fetch(new URL(`modalities/${encodeURIComponent(name)}`, httpUrl), {
        method: 'PUT',
        body: JSON.stringify({ AET: modality.aeTitle, Host: modality.host, Port: modality.port }),
        headers: { ...headers(), 'content-type': 'application/json' },
      });
      if (!res.ok) throw new Error(`Orthanc PUT /modalities/${name}: ${res.status} ${(await res.text()).slice(0, 500)}`);
      await res.arrayBuffer();
    },
    log: () => log,
    async stop() {
      await stopChild(child, exited);
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    await waitUntilUp(server, exited, headers());
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

async function waitUntilUp(server: OrthancServer, exited: Promise<number | null>, headers: Record<string, string>): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let gone: number | null | undefined;
  void exited.then((code) => {
    gone = code;
  });
  while (Date.now() < deadline) {
    if (gone !== undefined) {
      const portTaken = /address already in use|bind|port/i.test(server.log());
      throw new Error(`Orthanc exited with ${gone} while starting${portTaken ? ' (port taken)' : ''}:\n${server.log().slice(-3000)}`);
    }
    try {
      const res = await fetch(new URL('system', server.httpUrl), { headers, signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Orthanc did not answer /system within ${START_TIMEOUT_MS / 1000} s:\n${server.log().slice(-3000)}`);
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
