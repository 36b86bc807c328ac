/**
 * `voxgate serve`: the HTTP APIs with the configured engine.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { buildServer } from '../api/server.js';
import type { Config } from '../config.js';
import { createEngine } from '../engines/index.js';

export async function serveCommand(config: Config): Promise<void> {
  await mkdir(config.dataDir, { recursive: true });
  const engine = await createEngine(config.engine, { threads: config.engineThreads, model: config.model });
  const app = await buildServer({ config, engine });
  const shutdown = async (signal: string): Promise<void> => {
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await engine.close();
    process.exit(0);
  };
  process.once('SIGINT', (s) => void shutdown(s));
  process.once('SIGTERM', (s) => void shutdown(s));
  await app.listen({ port: config.port, host: config.host });
}
