/**
 * The cheapest 26-connected path through a grid from a source voxel to the first of several target
 * voxels (Dijkstra with a binary heap), where a step costs its length in mm times the cost of the
 * voxel it enters. With a cost that falls with the distance to a vessel's wall, the path is the
 * vessel's centreline: it keeps to the middle of the lumen and never cuts a bend through the wall.
 * @module
 */
import type { Dims } from '../../volume/volume.js';

/**
 * Voxels of the path from `source` to the first target reached (source first), or undefined when
 * no target can be reached through voxels of finite cost.
 */
export function minimalPath(cost: Float32Array, dims: Dims, spacing: readonly [number, number, number], source: number, targets: ReadonlySet<number>): number[] | undefined {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  const dist = new Float64Array(cost.length).fill(Infinity);
  const from = new Int32Array(cost.length).fill(-1);
  const done = new Uint8Array(cost.length);
  const steps: { offset: number; di: number; dj: number; dk: number; mm: number }[] = [];
  for (let dk = -1; dk <= 1; dk++) {
    for (let dj = -1; dj <= 1; dj++) {
      for (let di = -1; di <= 1; di++) {
        if (di === 0 && dj === 0 && dk === 0) continue;
        steps.push({ offset: di + dj * nx + dk * nxy, di, dj, dk, mm: Math.hypot(di * spacing[0], dj * spacing[1], dk * spacing[2]) });
      }
    }
  }
  const heap = new MinHeap();
  dist[source] = 0;
  heap.push(source, 0);
  while (heap.size > 0) {
    const p = heap.pop();
    if (done[p] !== 0) continue;
    done[p] = 1;
    if (targets.has(p)) {
      const path: number[] = [];
      for (let q = p; q >= 0; q = from[q]) path.push(q);
      return path.reverse();
    }
    const k = (p / nxy) | 0;
    const j = ((p - k * nxy) / nx) | 0;
    const i = p - k * nxy - j * nx;
    for (const s of steps) {
      const ii = i + s.di, jj = j + s.dj, kk = k + s.dk;
      if (ii < 0 || ii >= nx || jj < 0 || jj >= ny || kk < 0 || kk >= nz) continue;
      const q = p + s.offset;
      const c = cost[q];
      if (done[q] !== 0 || !Number.isFinite(c)) continue;
      const d = dist[p] + s.mm * c;
      if (d < dist[q]) {
        dist[q] = d;
        from[q] = p;
        heap.push(q, d);
      }
    }
  }
  return undefined;
}

/** Binary min-heap of (item, key) with lazy deletion (stale entries are skipped by the caller). */
class MinHeap {
  #items: number[] = [];
  #keys: number[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(item: number, key: number): void {
    const items = this.#items;
    const keys = this.#keys;
    let n = items.length;
    items.push(item);
    keys.push(key);
    while (n > 0) {
      const parent = (n - 1) >> 1;
      if (keys[parent] <= key) break;
      items[n] = items[parent];
      keys[n] = keys[parent];
      n = parent;
    }
    items[n] = item;
    keys[n] = key;
  }

  pop(): number {
    const items = this.#items;
    const keys = this.#keys;
    const top = items[0];
    const lastItem = items.pop() as number;
    const lastKey = keys.pop() as number;
    const size = items.length;
    if (size > 0) {
      let n = 0;
      for (;;) {
        const l = 2 * n + 1;
        if (l >= size) break;
        const r = l + 1;
        const c = r < size && keys[r] < keys[l] ? r : l;
        if (keys[c] >= lastKey) break;
        items[n] = items[c];
        keys[n] = keys[c];
        n = c;
      }
      items[n] = lastItem;
      keys[n] = lastKey;
    }
    return top;
  }
}
