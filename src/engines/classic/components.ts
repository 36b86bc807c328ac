/**
 * 3D connected components of a binary mask (6- or 26-connectivity) without a label image: a
 * breadth-first flood marks each component in a Uint8Array and appends its voxels to one list, so
 * each component is a contiguous run of that list. Memory is one byte per voxel plus four per
 * foreground voxel, instead of an Int32 label per voxel (314 MB on a 512×512×300 CT), and picking
 * components afterwards needs no second flood. Masks hold 0 and 1.
 * @module
 */
import type { Dims } from '../../volume/volume.js';
import { boundingBox, boxDims } from './grid.js';
import { boxRuns, rootOf } from './runs.js';

export type Connectivity = 6 | 26;

export interface ComponentInfo<T = undefined> {
  /** A voxel of the component (the first in flat-index order); floods from here reproduce it. */
  readonly seed: number;
  readonly size: number;
  /** Where the component's voxels start in `Components.voxels`. */
  readonly offset: number;
  readonly stats: T;
}

export interface Components<T = undefined> {
  /** Largest first (ties by position, so the order does not depend on luck). */
  readonly list: ComponentInfo<T>[];
  /** Every foreground voxel, component by component. */
  readonly voxels: Int32Array;
}

interface Neighbourhood {
  readonly offsets: Int32Array;
  readonly di: Int8Array;
  readonly dj: Int8Array;
  readonly dk: Int8Array;
}

function neighbourhood(dims: Dims, connectivity: Connectivity): Neighbourhood {
  const list: [number, number, number][] = [];
  for (let dk = -1; dk <= 1; dk++) {
    for (let dj = -1; dj <= 1; dj++) {
      for (let di = -1; di <= 1; di++) {
        const n = Math.abs(di) + Math.abs(dj) + Math.abs(dk);
        if (n === 0 || (connectivity === 6 && n > 1)) continue;
        list.push([di, dj, dk]);
      }
    }
  }
  return {
    offsets: Int32Array.from(list, ([di, dj, dk]) => di + dims[0] * (dj + dims[1] * dk)),
    di: Int8Array.from(list, (v) => v[0]),
    dj: Int8Array.from(list, (v) => v[1]),
    dk: Int8Array.from(list, (v) => v[2]),
  };
}

/**
 * Breadth-first flood through voxels where `mask` ≠ 0 and `visited` = 0. The caller has put
 * `seeded` seed voxels in `queue[0..seeded)` and marked them visited; reached voxels are marked and
 * appended. Returns the number of voxels in the queue at the end (the component's size).
 */
function flood(
  mask: Uint8Array,
  dims: Dims,
  nb: Neighbourhood,
  visited: Uint8Array,
  queue: Int32Array,
  seeded: number,
): number {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  const { offsets, di, dj, dk } = nb;
  const m = offsets.length;
  let head = 0;
  let tail = seeded;
  while (head < tail) {
    const p = queue[head++];
    const k = (p / nxy) | 0;
    const r = p - k * nxy;
    const j = (r / nx) | 0;
    const i = r - j * nx;
    const interior = i > 0 && i < nx - 1 && j > 0 && j < ny - 1 && k > 0 && k < nz - 1;
    for (let n = 0; n < m; n++) {
      if (!interior) {
        const ii = i + di[n], jj = j + dj[n], kk = k + dk[n];
        if (ii < 0 || ii >= nx || jj < 0 || jj >= ny || kk < 0 || kk >= nz) continue;
      }
      const q = p + offsets[n];
      if (mask[q] !== 0 && visited[q] === 0) {
        visited[q] = 1;
        queue[tail++] = q;
      }
    }
  }
  return tail;
}

/**
 * Labels the components of `mask`. `measure` sees each component's voxels (flat indices; a view
 * valid only during the call) and returns its stats.
 */
export function listComponents<T = undefined>(
  mask: Uint8Array,
  dims: Dims,
  connectivity: Connectivity = 6,
  measure?: (voxels: Int32Array) => T,
): Components<T> {
  if (connectivity === 6) return listByRuns(mask, dims, measure);
  let count = 0;
  for (let p = 0; p < mask.length; p++) count += mask[p];
  const list: ComponentInfo<T>[] = [];
  const voxels = new Int32Array(count);
  if (count === 0) return { list, voxels };
  const nb = neighbourhood(dims, connectivity);
  const visited = new Uint8Array(mask.length);
  let offset = 0;
  for (let p = mask.indexOf(1); p >= 0; p = mask.indexOf(1, p + 1)) {
    if (visited[p] !== 0) continue;
    visited[p] = 1;
    const queue = voxels.subarray(offset);
    queue[0] = p;
    const size = flood(mask, dims, nb, visited, queue, 1);
    list.push({ seed: p, size, offset, stats: measure ? measure(queue.subarray(0, size)) : (undefined as T) });
    offset += size;
  }
  list.sort((a, b) => b.size - a.size || a.seed - b.seed);
  return { list, voxels };
}

/**
 * listComponents for 6-connectivity, by runs (runs.ts) over the mask's bounds instead of a flood:
 * the same components, sizes, seeds and order, each component's voxels in raster order.
 */
function listByRuns<T>(mask: Uint8Array, dims: Dims, measure?: (voxels: Int32Array) => T): Components<T> {
  const list: ComponentInfo<T>[] = [];
  const box = boundingBox(mask, dims);
  if (!box) return { list, voxels: new Int32Array(0) };
  const [, by, bz] = boxDims(box);
  const [nx, ny] = dims;
  const { start, end, rowFirst, parent, count } = boxRuns(mask, dims, box, true);
  // Components numbered in raster order of their first run (whose first voxel is the seed).
  const id = new Int32Array(count).fill(-1);
  const runComponent = new Int32Array(count);
  const sizes: number[] = [];
  const seeds: number[] = [];
  for (let k = 0, r = 0; k < bz; k++) {
    for (let j = 0; j < by; j++, r++) {
      const base = box.min[0] + (box.min[1] + j) * nx + (box.min[2] + k) * nx * ny;
      for (let t = rowFirst[r]; t < rowFirst[r + 1]; t++) {
        const root = rootOf(parent, t);
        if (id[root] < 0) {
          id[root] = sizes.length;
          sizes.push(0);
          seeds.push(base + start[t]);
        }
        const c = id[root];
        runComponent[t] = c;
        sizes[c] += end[t] - start[t];
      }
    }
  }
  const offsets = new Int32Array(sizes.length);
  let total = 0;
  for (let c = 0; c < sizes.length; c++) {
    offsets[c] = total;
    total += sizes[c];
  }
  const voxels = new Int32Array(total);
  const cursor = offsets.slice();
  for (let k = 0, r = 0; k < bz; k++) {
    for (let j = 0; j < by; j++, r++) {
      const base = box.min[0] + (box.min[1] + j) * nx + (box.min[2] + k) * nx * ny;
      for (let t = rowFirst[r]; t < rowFirst[r + 1]; t++) {
        const c = runComponent[t];
        for (let i = start[t]; i < end[t]; i++) voxels[cursor[c]++] = base + i;
      }
    }
  }
  for (let c = 0; c < sizes.length; c++) {
    const own = voxels.subarray(offsets[c], offsets[c] + sizes[c]);
    list.push({ seed: seeds[c], size: sizes[c], offset: offsets[c], stats: measure ? measure(own) : (undefined as T) });
  }
  list.sort((a, b) => b.size - a.size || a.seed - b.seed);
  return { list, voxels };
}

/**
 * A mask of the chosen components; written over `into` (cleared first) when given: the mask the
 * components were listed from can take them, its pages already resident.
 */
export function componentMask<T>(components: Components<T>, chosen: readonly ComponentInfo<T>[], length: number, into?: Uint8Array): Uint8Array {
  if (into && into.length !== length) throw new RangeError(`componentMask: the mask to write into must hold ${length} voxels, not ${into.length}.`);
  const out = into ? into.fill(0) : new Uint8Array(length);
  const { voxels } = components;
  for (const c of chosen) for (let t = c.offset, end = c.offset + c.size; t < end; t++) out[voxels[t]] = 1;
  return out;
}

/** The components of `mask` that contain any of `seeds` (flat indices; seeds outside the mask are ignored). */
export function selectComponents(
  mask: Uint8Array,
  dims: Dims,
  seeds: Iterable<number>,
  connectivity: Connectivity = 6,
): Uint8Array {
  if (connectivity === 6) return selectByRuns(mask, dims, seeds);
  const nb = neighbourhood(dims, connectivity);
  const visited = new Uint8Array(mask.length);
  let count = 0;
  for (let p = 0; p < mask.length; p++) if (mask[p] !== 0) count++;
  const queue = new Int32Array(Math.max(1, count));
  for (const s of seeds) {
    if (mask[s] === 0 || visited[s] !== 0) continue;
    visited[s] = 1;
    queue[0] = s;
    flood(mask, dims, nb, visited, queue, 1);
  }
  return visited;
}

/** selectComponents for 6-connectivity, by runs (runs.ts) over the mask's bounds instead of a flood. */
function selectByRuns(mask: Uint8Array, dims: Dims, seeds: Iterable<number>): Uint8Array {
  const out = new Uint8Array(mask.length);
  const box = boundingBox(mask, dims);
  if (!box) return out;
  const [, by, bz] = boxDims(box);
  const [nx, ny] = dims;
  const { start, end, rowFirst, parent } = boxRuns(mask, dims, box, true);
  const chosen = new Uint8Array(parent.length);
  let any = false;
  for (const s of seeds) {
    if (mask[s] === 0) continue;
    const k = Math.floor(s / (nx * ny));
    const j = Math.floor((s - k * nx * ny) / nx);
    const i = s - k * nx * ny - j * nx - box.min[0];
    const r = j - box.min[1] + by * (k - box.min[2]);
    for (let t = rowFirst[r]; t < rowFirst[r + 1]; t++) {
      if (start[t] <= i && i < end[t]) {
        chosen[rootOf(parent, t)] = 1;
        any = true;
        break;
      }
    }
  }
  if (!any) return out;
  for (let k = 0, r = 0; k < bz; k++) {
    for (let j = 0; j < by; j++, r++) {
      const base = box.min[0] + (box.min[1] + j) * nx + (box.min[2] + k) * nx * ny;
      for (let t = rowFirst[r]; t < rowFirst[r + 1]; t++) if (chosen[rootOf(parent, t)] !== 0) out.fill(1, base + start[t], base + end[t]);
    }
  }
  return out;
}

/** The `count` largest components (ties broken by position). */
export function largestComponents(mask: Uint8Array, dims: Dims, count = 1, connectivity: Connectivity = 6): Uint8Array {
  const comps = listComponents(mask, dims, connectivity);
  return componentMask(comps, comps.list.slice(0, count), mask.length);
}
