/**
 * End-to-end NIM request on a 512×512×300 CT `.nii.gz` served from loopback, as a client sees it:
 * total time, its parts as the server reports them (fetch, decode, engine, encode), and the server's
 * own overhead = total − parts (target ≤ 10 % of the total). While the request runs,
 * `/v1/health/live` is polled every 5 ms: its p50 / p99 / max latency show whether the event loop
 * stays free (target p99 < 50 ms).
 * @module
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildServer } from '../src/api/server.js';
import { loadConfig } from '../src/config.js';
import { createEngine } from '../src/engines/index.js';
import { CACHE, DIMS, ensureBenchCt } from './fixtures/synthetic-ct.js';

const RUNS = 3;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const ctFile = await ensureBenchCt();
  const files = createServer((req, res) => {
    res.writeHead(200, { 'Content-Length': statSync(ctFile).size });
    createReadStream(ctFile).pipe(res);
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  const filePort = (files.address() as AddressInfo).port;

  const engine = await createEngine('classic', { threads: 1 });
  const config = loadConfig({ env: {}, flags: { host: '127.0.0.1', port: 0, dataDir: path.join(CACHE, 'nim-data'), allowHost: [`127.0.0.1:${filePort}`] } });
  const app = await buildServer({ config, engine, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  const results: { total: number; parts: Record<string, number> }[] = [];
  const liveLatencies: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      let running = true;
      const poller = (async () => {
        while (running) {
          const started = performance.now();
          await fetch(`${base}/v1/health/live`).then((r) => r.arrayBuffer());
          liveLatencies.push(performance.now() - started);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      const started = performance.now();
      const res = await fetch(`${base}/v1/vista3d/inference`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ image: `http://127.0.0.1:${filePort}/ct.nii.gz` }),
      });
      await res.arrayBuffer();
      const total = performance.now() - started;
      running = false;
      await poller;
      if (res.status !== 200) throw new Error(`inference answered ${res.status}`);
      const parts = Object.fromEntries(
        (res.headers.get('x-voxgate-timing') ?? '').split(';').map((kv) => {
          const [k, v] = kv.split('=');
          return [k, Number(v)];
        }),
      );
      results.push({ total, parts });
    }
  } finally {
    await app.close();
    await engine.close();
    await new Promise<void>((resolve) => files.close(() => resolve()));
  }

  const best = results.reduce((a, b) => (b.total < a.total ? b : a));
  const partsSum = Object.values(best.parts).reduce((a, b) => a + b, 0);
  const overhead = best.total - partsSum;
  const sorted = [...liveLatencies].sort((a, b) => a - b);
  console.log(`CT ${DIMS.join('×')} int16 .nii.gz (${(statSync(ctFile).size / 2 ** 20).toFixed(1)} MiB), everything-mode, classic engine; best of ${RUNS}, node ${process.version}, ${os.cpus().length} CPUs`);
  console.log(`total ${best.total.toFixed(0)} ms = ${Object.entries(best.parts).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(' + ')} + server overhead ${overhead.toFixed(0)} ms`);
  const ratio = overhead / best.total;
  console.log(`server overhead ${(ratio * 100).toFixed(1)} % of total (target ≤ 10 %): ${ratio <= 0.1 ? 'PASS' : 'MISS'}`);
  const p99 = percentile(sorted, 99);
  console.log(
    `/v1/health/live during inference: ${sorted.length} requests, p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms (target p99 < 50 ms): ${p99 < 50 ? 'PASS' : 'MISS'}`,
  );
}

await main();
