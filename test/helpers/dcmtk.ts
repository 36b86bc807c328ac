/**
 * DCMTK's command-line tools (Debian's `dcmtk`) as peers of Voxgate's DICOM node in tests and
 * benchmarks: `echoscu`, `storescu`, `storescp`, always with TCP_NODELAY=1 (docs/design.md: DCMTK
 * leaves Nagle on otherwise, 45 ms per C-STORE).
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { SystemPackagesResult } from './system-packages.js';
import { ensureSystemPackages } from './system-packages.js';

const TOOLS = ['/usr/bin/echoscu', '/usr/bin/storescu', '/usr/bin/storescp'] as const;

/** Installs DCMTK when missing (as root), or returns why not after a loud SKIPPING line. */
export function ensureDcmtk(): Promise<SystemPackagesResult> {
  return ensureSystemPackages(['dcmtk'], () => TOOLS.every((t) => existsSync(t)));
}

export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one DCMTK tool to its end (never rejects on a non-zero exit: the test reads `code`). */
export function runDcmtk(tool: 'echoscu' | 'storescu', args: readonly string[], timeoutMs = 60_000): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(`/usr/bin/${tool}`, args, { timeout: timeoutMs, env: { ...process.env, TCP_NODELAY: '1' }, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * `storescu` arguments: calling and called AE title, loopback and port, then the files. `options`
 * go first, e.g. `['--propose-j2k-lossless']` for JPEG 2000 files (storescu proposes uncompressed
 * syntaxes only by default, and fails on a compressed file it cannot convert).
 */
export function storescuArgs(callingAeTitle: string, calledAeTitle: string, port: number, files: readonly string[], options: readonly string[] = []): string[] {
  return [...options, '-aet', callingAeTitle, '-aec', calledAeTitle, '127.0.0.1', String(port), ...files];
}

/** A DCMTK `storescp` writing into `dir` (the benchmark's reference); stop with `kill`. */
export function startStorescp(port: number, dir: string, aeTitle = 'STORESCP'): ChildProcess {
  return spawn('/usr/bin/storescp', ['-aet', aeTitle, '-od', dir, String(port)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
}
