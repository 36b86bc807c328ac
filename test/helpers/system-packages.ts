/**
 * System programs for test suites (Orthanc, DCMTK, PostgreSQL, chromium, python3-nibabel …), from
 * Debian's packages through scripts/test-env.sh. CI runs on a fresh machine as root and installs
 * what is missing; elsewhere a suite whose programs are absent is skipped, loudly, with the reason.
 * @module
 */
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type SystemPackagesResult = { ok: true } | { ok: false; reason: string };

export interface EnsureOptions {
  /** Named in the skip message; defaults to the test file being run. */
  suite?: string;
  /** How long apt-get may take. */
  timeoutMs?: number;
}

const TEST_ENV_SCRIPT = fileURLToPath(new URL('../../scripts/test-env.sh', import.meta.url));
const INSTALL_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Debian's python3-* packages install for this interpreter, not for a `python3` that another
 * installation (pyenv, conda) puts first on PATH.
 */
export const SYSTEM_PYTHON = '/usr/bin/python3';

const memo = new Map<string, Promise<SystemPackagesResult>>();

/**
 * Makes `packages` available: passes when `probe` does; otherwise, as root, installs them with
 * scripts/test-env.sh and probes again. Memoised per process. When they stay unavailable it prints a
 * loud line to stderr and returns the reason, for `test(name, { skip: reason }, …)`.
 * @example
 * const nibabel = await ensureSystemPackages(['python3-nibabel'], () => pythonImports('nibabel'));
 * test('reads what nibabel writes', { skip: nibabel.ok ? false : nibabel.reason }, async () => { … });
 */
export function ensureSystemPackages(
  packages: readonly string[],
  probe: () => boolean | Promise<boolean>,
  options: EnsureOptions = {},
): Promise<SystemPackagesResult> {
  const key = [...packages].sort().join(' ');
  let result = memo.get(key);
  if (!result) {
    result = ensure(packages, probe, options);
    memo.set(key, result);
  }
  return result;
}

async function ensure(
  packages: readonly string[],
  probe: () => boolean | Promise<boolean>,
  options: EnsureOptions,
): Promise<SystemPackagesResult> {
  if (await probeSafely(probe)) return { ok: true };
  let reason: string;
  if (process.getuid?.() !== 0) {
    reason = `not installed, and not root so cannot install (run: sudo ${TEST_ENV_SCRIPT} install ${packages.join(' ')})`;
  } else {
    const install = await run('bash', [TEST_ENV_SCRIPT, 'install', ...packages], options.timeoutMs ?? INSTALL_TIMEOUT_MS);
    if (!install.ok) {
      reason = `scripts/test-env.sh install failed: ${install.reason}`;
    } else if (await probeSafely(probe)) {
      return { ok: true };
    } else {
      reason = 'installed, but the probe still fails';
    }
  }
  const suite = options.suite ?? (process.argv[1] ? path.relative(process.cwd(), process.argv[1]) : 'suite');
  process.stderr.write(`\n*** SKIPPING ${suite}: ${packages.join(', ')} unavailable: ${reason} ***\n\n`);
  return { ok: false, reason: `${packages.join(', ')} unavailable: ${reason}` };
}

async function probeSafely(probe: () => boolean | Promise<boolean>): Promise<boolean> {
  try {
    return await probe();
  } catch {
    return false;
  }
}

function run(command: string, args: readonly string[], timeoutMs: number): Promise<SystemPackagesResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (!err) return resolve({ ok: true });
      // apt-get's own errors ("E: Unable to locate package …") say most; else the last lines.
      const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('***'));
      const errors = lines.filter((l) => l.startsWith('E:'));
      const tail = (errors.length > 0 ? errors : lines.slice(-3)).join(' | ');
      const why = err.killed ? `timed out after ${timeoutMs / 1000} s` : `exit ${String(err.code)}`;
      resolve({ ok: false, reason: `${why}${tail ? `: ${tail}` : ''}` });
    });
  });
}

/** True when the system python imports `module` (e.g. `nibabel`). */
export async function pythonImports(module: string): Promise<boolean> {
  try {
    await runPython(`import ${module}`, []);
    return true;
  } catch {
    return false;
  }
}

/** python3-nibabel (with numpy) for the system python; see {@link ensureSystemPackages}. */
export function ensureNibabel(options: EnsureOptions = {}): Promise<SystemPackagesResult> {
  return ensureSystemPackages(['python3-nibabel'], () => pythonImports('nibabel'), options);
}

export interface RunPythonOptions {
  /** Written to the script's stdin. */
  input?: string | Uint8Array;
  timeoutMs?: number;
}

/**
 * Runs `/usr/bin/python3 -c script args…` and resolves with its stdout; rejects with its stderr
 * when it exits non-zero.
 * @example
 * const version = await runPython('import nibabel, sys; print(nibabel.__version__)', []);
 */
export function runPython(script: string, args: readonly string[], options: RunPythonOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(SYSTEM_PYTHON, ['-c', script, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 120_000,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(stdout).toString('utf8'));
      const err = Buffer.concat(stderr).toString('utf8').trim();
      reject(new Error(`${SYSTEM_PYTHON} exited with ${code ?? signal}: ${err}`));
    });
    // A script that does not read stdin may exit before we finish writing: not an error.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}
