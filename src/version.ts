/**
 * Voxgate's version, from package.json (read once at start).
 * @module
 */
import { readFileSync } from 'node:fs';

/** package.json is one folder above this module, in src/ and in dist/ alike. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export const PROJECT_LICENSE = new URL('../LICENSE', import.meta.url);
