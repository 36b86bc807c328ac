/**
 * Entry point of a fleet worker process (queue-fleet.ts): `voxgate worker` configured from the
 * environment, with the light queue steps instead of the built-in ones.
 */
import { workerCommand } from '../../src/commands/worker.js';
import { loadConfig } from '../../src/config.js';
import { queueSteps } from './queue-fleet.js';

await workerCommand(loadConfig({ env: process.env }), { steps: queueSteps(Number(process.env.FLEET_INFER_MS ?? 300)) });
