#!/usr/bin/env node
/**
 * The `voxgate` command line. Command and flag names are a contract with operators' scripts
 * (docs/design.md, "Command line"): keep them.
 * @module
 */
import { parseArgs } from 'node:util';
import { isVoxgateError } from './errors.js';
import { convertCommand } from './commands/convert.js';
import { infoCommand } from './commands/info.js';

const USAGE = `Usage:
  voxgate info IMAGE                     shape, type, spacing, orientation and affine of a volume
  voxgate convert IN OUT.nii.gz|OUT.nrrd  re-encode a NIfTI/NRRD volume, geometry kept
  voxgate --help`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
  switch (command) {
    case 'info':
      if (positionals.length !== 1) return usage('info takes one IMAGE');
      console.log(await infoCommand(positionals[0]));
      return 0;
    case 'convert':
      if (positionals.length !== 2) return usage('convert takes IN and OUT');
      console.log(await convertCommand(positionals[0], positionals[1]));
      return 0;
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
    process.exitCode = code;
  },
  (err: unknown) => {
    // Users get the message and the code, never a stack (unless VOXGATE_DEBUG is set).
    if (isVoxgateError(err)) console.error(`voxgate: ${err.message} (${err.code})`);
    else if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('E')) console.error(`voxgate: ${err.message}`);
    else console.error(`voxgate: unexpected error: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.VOXGATE_DEBUG) console.error(err);
    process.exitCode = 1;
  },
);
