/**
 * A click's flood (point-prompt.ts has the whole algorithm): a minimax priority flood from one
 * positive click against the negative clicks, over cost levels up to the click's tolerance, cut
 * where the leak limits (flood-limits.ts) and the strongest edges (contrast-cut.ts) say, its rim
 * given back after a limit's cut; on a smoothed window, run twice, in two orders (leastFlood).
 * @module
 */
import type { Box } from './grid.js';
import { forEachBoxRow } from './grid.js';
import type { RobustStats } from './intensity.js';
import { clickScratch } from './click-window.js';
import { contrastCut } from './contrast-cut.js';
import { clickDepths, compactnessCut, leakCut, sizeCut, solidRadius } from './flood-limits.js';

/** A click whose median is below this is in air (lung, bowel gas): it floods once (leastFlood), and its region is not tested for an enclosing cortex (point-prompt.ts). */
export const AIR_HU = -500;
/** How much nearer (in units of the click's σ) a negative click's intensity must be to take a voxel from the object. */
const NEGATIVE_MARGIN_SIGMA = 0.25;
const LEVELS = 256;
/**
 * Weight (mm) of the smoothed window's gradient magnitude (HU/mm) in the edge-aware flood's order
 * (leastFlood): a voxel on a weak edge of 40 HU/mm is reached as if 20 HU further from the click's
 * median. 0.3 and 0.8 mm did worse for the edge-ordered flood alone (docs/classic-engine.md, stop 25).
 */
const EDGE_DELAY_MM = 0.5;

/**
 * For `npm run eval -- --oracle` only: when `level` is set, every flood of a lone positive click
 * (no negative click) is cut at that cost level (0 to LEVELS − 1) instead of where the leak limits
 * put it, and its rim is given back as after a limit's cut. The eval cuts the first click at every
 * level in turn to find the best cut the reference allows: how far the limits are from the best any
 * stopping rule could do with this flood. Never set by the engine or the server.
 */
export const floodCutForEval: { level?: number; readonly levels: number } = { levels: LEVELS };

/** What a flood reads of its click window (point-prompt.ts ClickWindow). */
export interface FloodWindow {
  readonly smooth: Float32Array;
  readonly wd: readonly [number, number, number];
  readonly spacing: readonly [number, number, number];
  /**
   * Whether any axis was smoothed (click-window.ts smoothBinomial): then a click floods a second
   * time, in the edge-delayed order (leastFlood), and its object gets the rim back (click-rim.ts).
   */
  readonly smoothed: boolean;
}

/**
 * The flood's priority queue: a monotone bucket queue, FIFO within a bucket, a push below the
 * bucket being popped going to that bucket (the order of BucketQueue, whose results it keeps). Each
 * bucket is a growing array of `voxel · 4 + tag`, read in order and dropped once drained: the hot
 * loop pushes and pops in sequence through memory instead of following linked slots, a tenth of a
 * large click's time.
 */
class FloodQueue {
  readonly #buckets: Int32Array[];
  readonly #heads: Int32Array;
  readonly #tails: Int32Array;
  #current = 0;
  size = 0;
  /** Bucket and tag of the last pop. */
  level = 0;
  tag = 0;

  constructor(buckets: number) {
    this.#buckets = Array.from({ length: buckets }, () => new Int32Array(0));
    this.#heads = new Int32Array(buckets);
    this.#tails = new Int32Array(buckets);
  }

  push(voxel: number, bucket: number, tag: number): void {
    const b = bucket < this.#current ? this.#current : bucket;
    let items = this.#buckets[b];
    const tail = this.#tails[b];
    if (tail === items.length) {
      const grown = new Int32Array(Math.max(64, 2 * items.length));
      grown.set(items);
      this.#buckets[b] = items = grown;
    }
    items[tail] = voxel * 4 + tag;
    this.#tails[b] = tail + 1;
    this.size++;
  }

  /** The next voxel in priority order (the queue must not be empty); sets `level` and `tag`. */
  pop(): number {
    let b = this.#current;
    while (this.#heads[b] === this.#tails[b]) {
      // Drained, and never pushed to again (pushes go to the current bucket or above).
      this.#buckets[b] = new Int32Array(0);
      this.#heads[b] = this.#tails[b] = 0;
      b++;
    }
    this.#current = b;
    const item = this.#buckets[b][this.#heads[b]++];
    this.size--;
    this.level = b;
    this.tag = item & 3;
    return item >> 2;
  }
}

export interface Grown {
  readonly positive: Uint8Array;
  readonly negative: Uint8Array;
  /** Whether the flood at its cut is solid two voxels of the coarsest axis around its click (flood-limits.ts solidRadius): an object, not a speck still filling in. */
  readonly solid: boolean;
  /** How many voxels `positive` holds (counted as it is built: the two orders are compared by it). */
  readonly size: number;
}

/**
 * A click's flood, grown twice on a smoothed window: in the order of |I − μ| alone, and with each
 * voxel delayed by the edges it lies on (edgeDelayAt); the smaller object is kept, unless it is a
 * speck (not solid two voxels around its click, flood-limits.ts solidRadius) and the other is not.
 * Each order's leak limits miss leaks the other's catch, and a leak only ever makes a region
 * larger. In a textured tissue the gradient is everywhere: the benchmark's cancellous vertebral
 * body (±130 HU from voxel to voxel) gave a delayed flood of 63 voxels, cut while still sparse,
 * against 119 996 (kept as the smaller, the click answered 151 voxels instead of 266 131).
 * The delay orders voxels, it excludes none (a voxel within the tolerance is reached, at the
 * tolerance's level at the latest): through a weak edge between tissues of one intensity, the flood
 * passes late, and the limits judge the object before it (patient B's left common carotid, one
 * click 0.349 → 0.747; the phantom rib's marrow click 4 593 → 4 096 voxels for a 3 920-voxel
 * bone). Not on an unsmoothed
 * window (3 mm MR): there an object's own boundary layer, a third of a small object, lies on its
 * edge and would be delayed past the jump test's 1.5σ (the 8-voxel cube of a plate test lost its
 * outer layer, 425 → 387 of 512 voxels). Not in air (a lung, bowel gas), whose edges are strong
 * and whose windows are the largest: one flood.
 */
export function leastFlood(w: FloodWindow, seed: number, negatives: readonly number[], model: RobustStats, negMedians: readonly number[], tolerance: number, recovery: number, cap: number): Grown {
  const plain = competitiveGrow(w.smooth, w.wd, w.spacing, [seed], negatives, model, negMedians, tolerance, recovery, cap);
  if (!w.smoothed || model.median < AIR_HU) return plain;
  const delayed = competitiveGrow(w.smooth, w.wd, w.spacing, [seed], negatives, model, negMedians, tolerance, recovery, cap, true);
  // A speck is not an object: in a textured tissue (cancellous bone, ±130 HU from voxel to voxel)
  // the gradient is everywhere, and the delayed flood, still sparse, is cut early.
  if (plain.solid && !delayed.solid) return plain;
  return delayed.size < plain.size ? delayed : plain;
}

/**
 * EDGE_DELAY_MM · the gradient magnitude of `smooth` at voxel p = (i, j, k) of a window of `dims`
 * (central differences in HU/mm; 0 along an axis at the window's side), rounded to float32 as when
 * it was a window-sized array. Taken for the voxels a flood reaches only: a large window's array
 * was 4 bytes a voxel and a pass over all of it (the benchmark's vertebral body: 55 ms of 480).
 */
function edgeDelayAt(smooth: ArrayLike<number>, p: number, i: number, j: number, k: number, dims: readonly [number, number, number], weights: readonly [number, number, number]): number {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  const gx = i > 0 && i < nx - 1 ? (smooth[p + 1] - smooth[p - 1]) * weights[0] : 0;
  const gy = j > 0 && j < ny - 1 ? (smooth[p + nx] - smooth[p - nx]) * weights[1] : 0;
  const gz = k > 0 && k < nz - 1 ? (smooth[p + nxy] - smooth[p - nxy]) * weights[2] : 0;
  return Math.fround(Math.sqrt(gx * gx + gy * gy + gz * gz));
}

function competitiveGrow(
  data: ArrayLike<number>,
  dims: readonly [number, number, number],
  spacing: readonly number[],
  positives: readonly number[],
  negatives: readonly number[],
  model: RobustStats,
  negMedians: readonly number[],
  tolerance: number,
  recoveryLayers: number,
  maxVoxels: number,
  edgeOrdered = false,
): Grown {
  const [nx, ny, nz] = dims;
  const nxy = nx * ny;
  const n = data.length;
  // Bits 0–1: the owner (0 none, 1 positive, 2 negative); bits 2–3: pushed by the positive or the
  // negative front. One byte for both, so the flood reads one array per neighbour (a large window
  // does not fit the cache); the pushed bits are cleared once the flood is done.
  const owner = clickScratch.array<Uint8Array>('click-flood.owner', 'uint8', n).fill(0);
  const level = clickScratch.array<Uint8Array>('click-flood.level', 'uint8', n).fill(0);
  const histogram = new Float64Array(LEVELS);
  const queue = new FloodQueue(LEVELS);
  const scale = (LEVELS - 1) / tolerance;
  // Ties go to the object: a negative click takes only what is clearly nearer its own intensity
  // or what the object reaches only over a barrier, so a negative click that lands in the object's
  // own tissue (next to it, to trim a bulge) cannot carve its middle out.
  const negativeMargin = NEGATIVE_MARGIN_SIGMA * model.sigma;
  const median = model.median;
  const negValues = Float64Array.from(negMedians);
  const negCount = negValues.length;
  for (const p of negatives) {
    owner[p] |= 2 << 2;
    queue.push(p, 0, 2);
  }
  for (const p of positives) {
    owner[p] |= 1 << 2;
    queue.push(p, 0, 1);
  }
  // The hot loop (every voxel of the flood, six neighbours each): costs inline, no closure, and
  // the neighbours in the same order as ever (−x, +x, −y, +y, −z, +z), as the queue is FIFO within
  // a level and the order of pushes decides ties.
  const offsets = [-1, 1, -nx, nx, -nxy, nxy];
  // The edge delay's factors per axis (edgeDelayAt): EDGE_DELAY_MM over the central difference's span.
  const edgeWeights = spacing.map((s) => EDGE_DELAY_MM / (2 * s)) as [number, number, number];
  // The box of the voxels either front owns: every voxel pushed is popped, so it holds every voxel
  // this flood marked; the passes after the flood scan it, not the window (a vertebral body's
  // window is 8.6 M voxels, its floods 0.1–0.2 M).
  let i0 = nx, j0 = ny, k0 = nz, i1 = -1, j1 = -1, k1 = -1;
  while (queue.size > 0) {
    const p = queue.pop();
    if ((owner[p] & 3) !== 0) continue;
    const front = queue.tag;
    const b = queue.level;
    owner[p] |= front;
    level[p] = b;
    if (front === 1) histogram[b]++;
    const k = (p / nxy) | 0;
    const r = p - k * nxy;
    const j = (r / nx) | 0;
    const i = r - j * nx;
    if (i < i0) i0 = i;
    if (i > i1) i1 = i;
    if (j < j0) j0 = j;
    if (j > j1) j1 = j;
    if (k < k0) k0 = k;
    if (k > k1) k1 = k;
    const inside = (i !== 0 ? 1 : 0) | (i !== nx - 1 ? 2 : 0) | (j !== 0 ? 4 : 0) | (j !== ny - 1 ? 8 : 0) | (k !== 0 ? 16 : 0) | (k !== nz - 1 ? 32 : 0);
    for (let t = 0; t < 6; t++) {
      if ((inside & (1 << t)) === 0) continue;
      const q = p + offsets[t];
      const state = owner[q];
      if ((state & 3) !== 0 || (state & (front << 2)) !== 0) continue;
      const v = data[q];
      let c: number;
      if (front === 1) c = Math.abs(v - median);
      else {
        let best = Infinity;
        for (let m = 0; m < negCount; m++) best = Math.min(best, Math.abs(v - negValues[m]));
        c = best + negativeMargin;
      }
      if (c > tolerance) continue;
      // The edge delay orders the voxels within the tolerance; it never excludes one.
      if (edgeOrdered) {
        const qi = t === 0 ? i - 1 : t === 1 ? i + 1 : i;
        const qj = t === 2 ? j - 1 : t === 3 ? j + 1 : j;
        const qk = t === 4 ? k - 1 : t === 5 ? k + 1 : k;
        c = Math.min(tolerance, c + edgeDelayAt(data, q, qi, qj, qk, dims, edgeWeights));
      }
      owner[q] = state | (front << 2);
      queue.push(q, Math.floor(c * scale), front);
    }
  }
  const reached: Box = { min: [i0, j0, k0], max: [i1, j1, k1] };
  forEachBoxRow(reached, dims, (start, end) => {
    for (let p = start; p < end; p++) owner[p] &= 3;
  });
  let capCut = LEVELS - 1;
  for (let b = 0, volume = 0; b < LEVELS; b++) {
    volume += histogram[b];
    if (volume > maxVoxels) {
      capCut = Math.max(0, b - 1);
      break;
    }
  }
  const depths = clickDepths(level, owner, dims, spacing, positives, LEVELS);
  const sizeLimit = Math.min(leakCut(histogram, model.sigma * scale), sizeCut(histogram, depths, spacing));
  // Within what the leak, size and cap limits allow, the level whose boundary lies on the strongest
  // edges (contrast-cut.ts): a limit stops a flood that crossed a weak edge only once the leak is
  // large, a rib's marrow flood at 2–30 times the rib. Where the profile has no such edge, the
  // compactness jump (compactnessCut) marks the breakout. An edge found wins over the jump: a click in
  // a rib's marrow jumps in volume when its flood takes the cortex (the phantom rib: 4 593 voxels
  // at the bone's surface, 5 721 at the jump with its rim; patient C's right rib 11, zero-shot, 0.75
  // → 0.52).
  const upTo = Math.min(sizeLimit, capCut);
  const edge = contrastCut(data, dims, spacing, owner, level, histogram, upTo, LEVELS, reached);
  // (An edge at the limit itself is the profile still rising there: no edge.)
  const limitCut = edge < upTo ? sizeLimit : Math.min(sizeLimit, compactnessCut(histogram, depths, spacing, model.sigma * scale));
  const edgeCut = Math.min(limitCut, edge);
  const forced = positives.length === 1 && negatives.length === 0 ? floodCutForEval.level : undefined;
  const cut = forced ?? Math.min(edgeCut, capCut);
  const positive = new Uint8Array(n);
  const negative = new Uint8Array(n);
  // A cut by the cap stops the flood inside a tissue, not at the object's edge: no rim to give back
  // (given back, two layers around a noisy partial flood are most of the tissue around it).
  // A cut at the strongest edges is at the object's edge already: nothing to give back either.
  const recovering = cut < LEVELS - 1 && (cut === limitCut || forced !== undefined);
  // The positive-owned voxels above the cut, as many as the histogram counts there (a lung drops
  // most of a million: a typed list, not an array of numbers).
  let droppedCount = 0;
  if (recovering) for (let b = cut + 1; b < LEVELS; b++) droppedCount += histogram[b];
  const dropped = clickScratch.array<Int32Array>('click-flood.dropped', 'int32', droppedCount);
  let d = 0;
  let size = 0;
  forEachBoxRow(reached, dims, (start, end) => {
    for (let p = start; p < end; p++) {
      const o = owner[p];
      if (o === 1) {
        if (level[p] <= cut) {
          positive[p] = 1;
          size++;
        }
        else if (recovering && d < droppedCount) dropped[d++] = p;
      } else if (o === 2) negative[p] = 1;
    }
  });
  if (recovering) {
    // The cut also dropped the object's own rim (voxels whose noise put them above the cut level):
    // give back positive-owned voxels within a few layers of the cut region. Across the weak edge
    // this adds only those few layers over the contact, not the neighbour behind it. The first
    // layer is found from the dropped voxels (usually far fewer than the region's), each judged
    // against the region before any is given back.
    const offsets = [-1, 1, -nx, nx, -nxy, nxy];
    const insideOf = (p: number): number => {
      const k = (p / nxy) | 0;
      const r = p - k * nxy;
      const j = (r / nx) | 0;
      const i = r - j * nx;
      return (i !== 0 ? 1 : 0) | (i !== nx - 1 ? 2 : 0) | (j !== 0 ? 4 : 0) | (j !== ny - 1 ? 8 : 0) | (k !== 0 ? 16 : 0) | (k !== nz - 1 ? 32 : 0);
    };
    let layer: number[] = [];
    for (let e = 0; e < d; e++) {
      const p = dropped[e];
      const inside = insideOf(p);
      for (let t = 0; t < 6; t++) {
        if ((inside & (1 << t)) !== 0 && positive[p + offsets[t]] !== 0) {
          layer.push(p);
          break;
        }
      }
    }
    for (const p of layer) positive[p] = 1;
    size += layer.length;
    for (let step = 1; step < recoveryLayers; step++) {
      const next: number[] = [];
      for (const p of layer) {
        const inside = insideOf(p);
        for (let t = 0; t < 6; t++) {
          if ((inside & (1 << t)) === 0) continue;
          const q = p + offsets[t];
          if (owner[q] === 1 && positive[q] === 0) {
            positive[q] = 1;
            size++;
            next.push(q);
          }
        }
      }
      layer = next;
    }
  }
  return { positive, negative, solid: depths.solid[cut] >= solidRadius(spacing), size };
}
