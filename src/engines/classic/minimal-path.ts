/**
 * The cheapest 26-connected path through a grid from a source voxel to the first of several target
 * voxels (Dijkstra with a binary heap), where a step costs its length in mm times the cost of the
 * voxel it enters. With a cost that falls with the distance to a vessel's wall, the path is the
 * vessel's centreline: it keeps to the middle of the lumen and never cuts a bend through the wall.
 * @module
 */
import type { Dims } from '../../volume/volume.js';
import { MinHeap } from './min-heap.js';

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
