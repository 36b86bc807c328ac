/**
 * The VISTA3D label dictionary (assets/vista3d-labels.json, copied from the project's spec) and
 * the semantics the NIM API gives it: groups, the "everything" set, names matched case-insensitively.
 * @module
 */
import { readFileSync } from 'node:fs';

/** assets/ sits two folders above this module both in src/pipeline and in dist/pipeline. */
const ASSETS = new URL('../../assets/', import.meta.url);

const byName: Record<string, number> = JSON.parse(readFileSync(new URL('vista3d-labels.json', ASSETS), 'utf8'));

/** Index → name for all 133 labels, 0 = background. */
export const LABEL_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'background'],
  ...Object.entries(byName).map(([name, index]) => [index, name] as [number, string]).sort((a, b) => a[0] - b[0]),
]);

const indexByLowerName = new Map([...LABEL_NAMES].map(([index, name]) => [name.toLowerCase(), index]));

/** Highest VISTA3D index; 133–254 are free for zero-shot labels, 255 means "not computed". */
export const MAX_LABEL_INDEX = 132;
export const NOT_COMPUTED = 255;

/** Groups a class prompt may name; their members are what a model that separates them answers. */
export const LABEL_GROUPS: ReadonlyMap<number, readonly number[]> = new Map([
  [2, [14, 5]],
  [20, [28, 29, 30, 31, 32]],
  [21, [...range(33, 56), ...range(63, 97), 114, 120, 122]],
]);

/** The 117 classes VISTA3D segments in "everything" mode: 1, 3–15, 17, 19, 22, 28–127. */
export const VISTA3D_EVERYTHING: readonly number[] = [1, ...range(3, 15), 17, 19, 22, ...range(28, 127)];

/** Labels the VISTA3D model defines but does not segment without points. */
export const POINT_ONLY_LABELS: readonly number[] = [16, 18, 129, 130, 131];

/** The index of a label name (case-insensitive), or undefined. */
export function labelIndexOf(name: string): number | undefined {
  return indexByLowerName.get(name.trim().toLowerCase());
}

export function labelName(index: number): string | undefined {
  return LABEL_NAMES.get(index);
}

/** The labels object of `/v1/vista3d/info`: string keys "0".."132". */
export function labelsObject(): Record<string, string> {
  return Object.fromEntries([...LABEL_NAMES].map(([index, name]) => [String(index), name]));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, n) => from + n);
}
