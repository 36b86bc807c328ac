#!/usr/bin/env node
/**
 * The `voxgate` command line. Command and flag names are a contract with operators' scripts
 * (docs/design.md, "Command line"): keep them.
 * @module
 */
import { parseArgs } from 'node:util';
import type { Config } from './config.js';
import { loadConfig } from './config.js';
import { isVoxgateError } from './errors.js';
import { convertCommand } from './commands/convert.js';
import { infoCommand } from './commands/info.js';
import { segmentCommand } from './commands/segment.js';
import { serveCommand } from './commands/serve.js';
import { workerCommand } from './commands/worker.js';

const USAGE = `Usage:
  voxgate serve   [--port 8000] [--host 0.0.0.0] [--data-dir ./data] [--config voxgate.yaml]
                  [--allow-path DIR]... [--allow-host HOST]... [--engine classic|onnx|remote]
                  [--model DIR] [--remote-url URL] [--public-url URL] [--dicom-port 11112] [--ae-title VOXGATE]
                  [--database-url postgres://…] [--no-worker] [--token-file FILE]
  voxgate worker  [--database-url …] [--data-dir …] [--engine …]    (runs jobs only)
  voxgate segment IMAGE [--classes a,b] [--point label:i,j,k]... [--negative-point label:i,j,k]...
                  [-o OUT] [--dtype uint8|int16|float32]
  voxgate convert IN OUT.nii.gz|OUT.nii|OUT.nrrd     (IN: a NIfTI / NRRD file, or a folder of DICOM files)
                  [--series UID] [--resample-irregular]   (DICOM: which series; resample missing slices)
  voxgate info    IMAGE
Every flag also has an environment variable (VOXGATE_PORT, VOXGATE_ALLOW_PATH, …) and a key in the
config file; flags win over the environment, the environment over the file.`;

/** Flags shared by the commands that load the configuration. */
const CONFIG_FLAGS = {
  port: { type: 'string' },
  host: { type: 'string' },
  'data-dir': { type: 'string' },
  config: { type: 'string' },
  'allow-path': { type: 'string', multiple: true },
  'allow-host': { type: 'string', multiple: true },
  engine: { type: 'string' },
  model: { type: 'string' },
  'remote-url': { type: 'string' },
  'public-url': { type: 'string' },
  'dicom-port': { type: 'string' },
  'ae-title': { type: 'string' },
  'database-url': { type: 'string' },
  'no-worker': { type: 'boolean' },
  'token-file': { type: 'string' },
  'log-level': { type: 'string' },
} as const;

function configFrom(values: Record<string, unknown>): Config {
  const flags: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(values)) {
    if (!(name in CONFIG_FLAGS) || name === 'config' || value === undefined) continue;
    if (name === 'no-worker') flags.worker = value ? false : undefined;
    else flags[name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
  }
  return loadConfig({ flags, env: process.env, file: values.config as string | undefined });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { values } = parseArgs({ args: rest, options: CONFIG_FLAGS });
      await serveCommand(configFrom(values));
      return 0;
    }
    case 'worker': {
      const { values } = parseArgs({ args: rest, options: CONFIG_FLAGS });
      await workerCommand(configFrom(values));
      return 0;
    }
    case 'segment': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          ...CONFIG_FLAGS,
          classes: { type: 'string' },
          point: { type: 'string', multiple: true },
          'negative-point': { type: 'string', multiple: true },
          output: { type: 'string', short: 'o' },
          dtype: { type: 'string' },
        },
      });
      if (positionals.length !== 1) return usage('segment takes one IMAGE');
      const dtype = values.dtype;
      if (dtype !== undefined && dtype !== 'uint8' && dtype !== 'int16' && dtype !== 'float32') return usage('--dtype must be uint8, int16 or float32');
      console.log(
        await segmentCommand(
          { image: positionals[0], classes: values.classes, points: values.point ?? [], negativePoints: values['negative-point'] ?? [], output: values.output, dtype },
          configFrom(values),
        ),
      );
      return 0;
    }
    case 'convert': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { series: { type: 'string' }, 'resample-irregular': { type: 'boolean' } },
      });
      if (positionals.length !== 2) return usage('convert takes IN and OUT');
      console.log(await convertCommand(positionals[0], positionals[1], { series: values.series, resampleIrregular: values['resample-irregular'] }));
      return 0;
    }
    case 'info': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
      if (positionals.length !== 1) return usage('info takes one IMAGE');
      console.log(await infoCommand(positionals[0]));
      return 0;
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return 0;
    default:
      return usage(`unknown command "${command}"`);
  }
}

function usage(problem: string): number {
  console.error(`voxgate: ${problem}\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err: unknown) => {
    // Users get the message and the code, never a stack (unless VOXGATE_DEBUG is set).
    if (isVoxgateError(err)) console.error(`voxgate: ${err.message} (${err.code})`);
    else if (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) console.error(`voxgate: ${err.message}\n${USAGE}`);
    else console.error(`voxgate: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.VOXGATE_DEBUG) console.error(err);
    process.exitCode = 1;
  },
);
