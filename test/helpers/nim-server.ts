/**
 * Test fixtures for the NIM API: a real Voxgate server and a plain HTTP file server, both on
 * loopback port 0, and a small asymmetric CT phantom with a known affine.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/api/server.js';
import type { ServerDependencies } from '../../src/api/server.js';
import type { Config, ConfigInput } from '../../src/config.js';
import { loadConfig } from '../../src/config.js';
import type { Engine } from '../../src/engines/engine.js';
import type { Affine } from '../../src/volume/affine.js';
import { createVolume } from '../../src/volume/volume.js';
import type { Volume } from '../../src/volume/volume.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  config: Config;
  close(): Promise<void>;
}

export async function startVoxgate(engine: Engine, settings: Partial<ConfigInput>, dependencies: Pick<ServerDependencies, 'remoteInputs'> = {}): Promise<RunningServer> {
  const config = loadConfig({ flags: { host: '127.0.0.1', port: 0, ...settings } as Record<string, unknown>, env: {} });
  const app = await buildServer({ config, engine, logger: false, ...dependencies });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, config, close: () => app.close() };
}

export interface FileServer {
  url: string;
  port: number;
  /** Paths requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Serves files from `root` over plain HTTP on 127.0.0.1 (what a PACS export or an S3 link would be). */
export async function startFileServer(root: string): Promise<FileServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    requests.push(path);
    const file = normalize(join(root, path));
    if (!file.startsWith(root)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (bytes) => res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': bytes.length }).end(bytes),
      () => res.writeHead(404).end('not found'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** The phantom's 100 HU sphere: radius 6.2 mm around voxel (10, 28, 8) on the default 1.5×1.5×2 mm grid. */
export function inSphere(i: number, j: number, k: number): boolean {
  return (1.5 * (i - 10)) ** 2 + (1.5 * (j - 28)) ** 2 + (2 * (k - 8)) ** 2 <= 6.2 ** 2;
}

/**
 * A chest-like CT phantom, deliberately asymmetric so that a flipped axis would be caught:
 * air (−1000) outside an elliptic body (40 HU); two lungs (−850) of different sizes; a bright
 * bone bar (700) posterior, off-centre; a 100 HU sphere near one corner for clicks.
 * Voxel (i, j, k) in file order; the affine is LPS-like (i → Left, j → Posterior) as most CT NIfTI.
 */
export function chestPhantom(dims: readonly [number, number, number] = [64, 56, 40], affine?: Affine): Volume<Int16Array> {
  const [nx, ny, nz] = dims;
  const a: Affine = affine ?? [-1.5, 0, 0, 50.25, 0, -1.5, 0, 40.5, 0, 0, 2, -100, 0, 0, 0, 1];
  const data = new Int16Array(nx * ny * nz);
  const cx = nx / 2;
  const cy = ny / 2;
  let n = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, n++) {
        const body = ((i - cx) / (nx * 0.45)) ** 2 + ((j - cy) / (ny * 0.42)) ** 2 <= 1;
        let v = body ? 40 : -1000;
        const inLungs = k > nz * 0.15 && k < nz * 0.9;
        const leftLung = ((i - nx * 0.3) / (nx * 0.14)) ** 2 + ((j - cy) / (ny * 0.25)) ** 2 <= 1;
        const rightLung = ((i - nx * 0.7) / (nx * 0.11)) ** 2 + ((j - cy) / (ny * 0.22)) ** 2 <= 1;
        if (body && inLungs && (leftLung || rightLung)) v = -850;
        if (body && Math.abs(i - nx * 0.55) <= 2 && Math.abs(j - ny * 0.78) <= 2) v = 700;
        if (inSphere(i, j, k)) v = 100;
        data[n] = v;
      }
    }
  }
  return createVolume(dims, data, a);
}
