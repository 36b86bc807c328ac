/**
 * Runs every benchmark module in bench/ (each `*.ts` but this runner), one after another, each in a
 * child process of its own so that peak memory is that benchmark's alone.
 *
 * Benchmarks print their figures and do not fail on a missed target; this runner exits non-zero
 * only when a benchmark errors.
 * @example
 * npm run bench           # all of them
 * npm run bench -- io     # those whose name contains "io"
 * @module
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const RUNNER = path.basename(fileURLToPath(import.meta.url));

function runChild(file: string): Promise<number> {
  return new Promise((resolve) => {
    // process.execArgv carries `--import tsx`, so the child loads TypeScript the same way.
    const child = spawn(process.execPath, [...process.execArgv, file], { stdio: 'inherit' });
    child.on('error', (err) => {
      console.error(`bench: could not start ${file}: ${err.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(signal ? 1 : (code ?? 1)));
  });
}

async function main(): Promise<number> {
  const filter = process.argv[2];
  const modules = readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith('.ts') && f !== RUNNER && !f.endsWith('.d.ts'))
    .sort()
    .filter((f) => !filter || path.basename(f, '.ts').includes(filter));
  if (modules.length === 0) {
    console.error(`bench: no benchmark in bench/ matches ${JSON.stringify(filter)}`);
    return 1;
  }
  const failed: string[] = [];
  for (const module of modules) {
    console.log(`\n=== bench/${module} ===`);
    const code = await runChild(path.join(BENCH_DIR, module));
    if (code !== 0) failed.push(`${module} (exit ${code})`);
  }
  if (failed.length > 0) console.error(`\nbench: failed: ${failed.join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main();
