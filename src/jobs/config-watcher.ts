/**
 * Keeps a process's configuration current with the DICOM node's entries in the database
 * (job-store.ts `listNodeEntries`, `configVersion`): calls `onChange` whenever the stored
 * configuration version moves, heard at once through `store.watch('config')` (PostgreSQL's NOTIFY
 * from the node_config trigger) and checked every `pollMs` besides, which is what reaches SQLite
 * processes sharing a file and covers a missed notice.
 * @module
 */
import type { JobStore } from './job-store.js';

export interface ConfigWatchOptions {
  /** How often the version is compared when no notice comes (default 5 s). */
  readonly pollMs?: number;
  /** The version the caller has loaded; by default the stored one at start (no call for it). */
  readonly loadedVersion?: number;
  /** A failed check or `onChange` (the next check tries again). */
  readonly onError?: (err: unknown) => void;
}

export interface ConfigWatch {
  /** Compares the versions now; resolves once any `onChange` it caused has finished. */
  check(): Promise<void>;
  stop(): void;
}

/**
 * @example
 * const watch = watchConfig(store, async () => node.reload(await store.listNodeEntries('ae-title')));
 * // … on shutdown
 * watch.stop();
 */
export function watchConfig(
  store: Pick<JobStore, 'configVersion' | 'watch'>,
  onChange: (version: number) => void | Promise<void>,
  options: ConfigWatchOptions = {},
): ConfigWatch {
  let loaded: number | undefined = options.loadedVersion;
  let stopped = false;
  // Checks run one after another, so onChange never runs twice at once or out of order.
  let chain: Promise<void> = Promise.resolve();
  const check = (): Promise<void> => {
    chain = chain.then(async () => {
      if (stopped) return;
      try {
        const version = await store.configVersion();
        if (loaded === undefined) loaded = version;
        else if (version !== loaded) {
          await onChange(version);
          loaded = version;
        }
      } catch (err) {
        options.onError?.(err);
      }
    });
    return chain;
  };
  const unwatch = store.watch('config', () => void check());
  const timer = setInterval(() => void check(), options.pollMs ?? 5000).unref();
  void check();
  return {
    check,
    stop() {
      stopped = true;
      clearInterval(timer);
      unwatch();
    },
  };
}
