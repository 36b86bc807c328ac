/**
 * Configuration that lives in the job store's database (AE titles, DICOM sources and destinations:
 * issue 7's API writes them), so that every server and worker on one database sees one
 * configuration and a change reaches all of them without a restart.
 *
 * Rows are `(kind, name) → JSON value`; what a kind's values look like belongs to its owner. Every
 * change bumps one counter, the configuration version, in the same transaction: a process compares
 * the version it loaded with the stored one (`watchConfig`, config-watcher.ts) and reloads when it
 * moved, and PostgreSQL also announces each new version (`watch('config')`) so that reload is
 * immediate rather than at the next poll.
 * @module
 */

export interface ConfigRow {
  /** What the row configures: `dicom-node`, `ae-title`, … (the owner's choice). */
  readonly kind: string;
  /** Unique within its kind. */
  readonly name: string;
  /** Any JSON value. */
  readonly value: unknown;
  /** The configuration version this row was last written at. */
  readonly version: number;
}

export interface ConfigRowStore {
  /** The rows of one kind (or all), by kind then name. */
  listConfig(kind?: string): Promise<ConfigRow[]>;
  /** Creates or replaces one row; resolves with the new configuration version. */
  putConfig(kind: string, name: string, value: unknown): Promise<number>;
  /** Removes one row; the new configuration version, or undefined when there was no such row (nothing changes). */
  deleteConfig(kind: string, name: string): Promise<number | undefined>;
  /** Grows by one with every change; 0 for a database that never had one. */
  configVersion(): Promise<number>;
}
