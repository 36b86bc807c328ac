/**
 * What a negative click takes from the object (point-prompt.ts): of what the clicks grown together
 * no longer give, the part nearer the negative click than any positive click, nearness being the
 * geodesic distance inside the object with each step weighted by the intensity change across it
 * (GeoS-style, Criminisi et al. 2008), and whole each piece of it that lies mostly nearer the
 * negative click. A corrective negative click then changes the object only around itself: the far
 * side of the object, nearer the positive clicks, stays as it was whatever its intensity; the cut
 * between the two follows the object's internal edges where there are any, and runs half-way
 * between the clicks where there are none. And what a later positive click may add after negative
 * clicks: not what lies nearer them (additionAfterNegatives).
 * @module
 */
import type { Dims } from '../../volume/volume.js';
import type { Box } from './grid.js';
import { listComponents } from './components.js';
import { boundingBox, boxDims, boxToGrid, cropArray, gridToBox, padBox, sixNeighbours } from './grid.js';
import { depthInside } from '../../volume/distance-transform.js';
import { BucketQueue } from './bucket-queue.js';
import { MinHeap } from './min-heap.js';

/**
 * What a negative click `negative` takes from `object` (the object of the clicks before it): the
 * voxels that the clicks grown together no longer give (not in `kept`) and that lie nearer to it
 * than to every positive click (geodesicSplit), and whole every 6-connected piece of those no
 * longer given that lies mostly nearer to it — a large leak with the click deep in it, whose part
 * next to the weak edge is nearer the positive click — and, of what is still given, its basin of
 * the object's depth (negativeBasins) where that is nearer to it too. A negative click outside the
 * object takes everything no longer given. Returns a new mask.
 * @example
 * const taken = negativeTakes(object, together, raw, wd, spacing, positives, neg, sigma, 6);
 */
export function negativeTakes(
  object: Uint8Array,
  kept: Uint8Array,
  values: ArrayLike<number>,
  dims: Dims,
  spacing: readonly [number, number, number],
  positives: readonly number[],
  negative: number,
  sigma: number,
  weight: number,
): Uint8Array {
  const lost = new Uint8Array(object.length);
  for (let p = 0; p < object.length; p++) lost[p] = object[p] & (kept[p] ^ 1);
  if (object[negative] === 0) return lost;
  const near = geodesicSplit(object, values, dims, spacing, positives, negative, sigma, weight);
  const pieces = listComponents(lost, dims, 6, (voxels) => {
    let nearer = 0;
    for (const p of voxels) nearer += near[p];
    return nearer;
  });
  const taken = new Uint8Array(object.length);
  for (const piece of pieces.list) {
    const whole = 2 * piece.stats > piece.size;
    for (const p of pieces.voxels.subarray(piece.offset, piece.offset + piece.size)) if (whole || near[p] !== 0) taken[p] = 1;
  }
  // The click's basin of the object's depth (negativeBasins), where it is also nearer: a negative
  // click on the object's own tissue, whose intensity the object's floods keep (ties go to the
  // object), takes the part it sits in, up to the neck that joins it to the rest where there is
  // one — the aorta that a click in B's left subclavian artery flooded (0.04 → 0.18 after three
  // clicks). The rule of negative clicks on a known tissue (point-prompt.ts), there applied alone.
  const basin = negativeBasins(object, dims, spacing, positives, [negative]);
  for (let p = 0; p < object.length; p++) if (basin[p] !== 0 && near[p] !== 0) taken[p] = 1;
  return taken;
}

/**
 * What a later positive click adds to `object` when negative clicks came before it: of what the
 * clicks grown together give (`together`), each positive click's flood (`floods`, by click) only
 * where it lies nearer that click than every negative click (geodesicSplit, walking inside what the
 * object holds, what is given and what the negative clicks took); what no flood holds (the rim,
 * filled holes) where it lies nearer some positive click. A negative click says "not this part":
 * a positive click elsewhere must not flood it back, and one beside it claims its own flood, not
 * the earlier clicks' floods that the negative click held back. `taken`: what the negative clicks
 * took so far; `sigma`, `weight`: the split's intensity weighting (geodesicSplit). Returns a new mask.
 * @example
 * const added = additionAfterNegatives(object, together, floods, taken, raw, wd, spacing, positives, negatives, sigma, 6);
 */
export function additionAfterNegatives(
  object: Uint8Array,
  together: Uint8Array,
  floods: readonly Uint8Array[],
  taken: Uint8Array | undefined,
  values: ArrayLike<number>,
  wd: Dims,
  spacing: readonly [number, number, number],
  positives: readonly number[],
  negatives: readonly number[],
  sigma: number,
  weight: number,
): Uint8Array {
  const added = new Uint8Array(object.length);
  const domain = new Uint8Array(object.length);
  for (let p = 0; p < object.length; p++) {
    added[p] = together[p] & (object[p] ^ 1);
    domain[p] = object[p] | together[p] | (taken?.[p] ?? 0);
  }
  for (const at of negatives) domain[at] = 1;
  const nearerNegative = (seeds: readonly number[]): Uint8Array => {
    const near = new Uint8Array(object.length);
    for (const at of negatives) {
      const split = geodesicSplit(domain, values, wd, spacing, seeds, at, sigma, weight);
      for (let p = 0; p < near.length; p++) near[p] |= split[p];
    }
    return near;
  };
  const kept = new Uint8Array(object.length);
  const anyFlood = new Uint8Array(object.length);
  for (const [n, flood] of floods.entries()) {
    let adds = false;
    for (let p = 0; p < kept.length; p++) {
      anyFlood[p] |= flood[p];
      adds ||= (flood[p] & added[p]) !== 0;
    }
    // (A flood that adds nothing needs no walk: a large organ's split is ~0.1 s.)
    if (!adds) continue;
    const near = nearerNegative([positives[n]]);
    for (let p = 0; p < kept.length; p++) if (flood[p] !== 0 && added[p] !== 0 && near[p] === 0) kept[p] = 1;
  }
  // What no flood holds (the rim, filled holes): walked for only when there is any.
  let unflooded = false;
  for (let p = 0; p < kept.length && !unflooded; p++) unflooded = added[p] !== 0 && anyFlood[p] === 0;
  if (!unflooded) return kept;
  const near = nearerNegative(positives);
  for (let p = 0; p < kept.length; p++) if (added[p] !== 0 && anyFlood[p] === 0 && near[p] === 0) kept[p] = 1;
  return kept;
}

/**
 * Voxels of `object` (a box-shaped window, i fastest) that the multi-source geodesic flood from
 * `negative` reaches before the one from `positives`. A step of h mm between neighbours p and q costs
 * h · (1 + weight · |v(q) − v(p)| / sigma). Only voxels of `object` are walked; a positive click
 * outside it does not start a front. Ties go to the positive clicks. Returns a new mask (all 0 when
 * the negative click is not in the object).
 * @example
 * const cut = geodesicSplit(object, smoothed, wd, spacing, [seed], neg, 20, 2);
 */
export function geodesicSplit(
  object: Uint8Array,
  values: ArrayLike<number>,
  dims: readonly [number, number, number],
  spacing: readonly number[],
  positives: readonly number[],
  negative: number,
  sigma: number,
  weight: number,
): Uint8Array {
  const n = object.length;
  const out = new Uint8Array(n);
  if (object[negative] === 0) return out;
  const [nx, ny] = dims;
  const nxy = nx * ny;
  // The walk stays in the object's bounding box: its arrays are the box's, not the window's (a
  // window is mostly outside the object, and fresh memory costs page faults).
  const bounds = boundingBox(object, dims) as Box;
  const { min: lo } = bounds;
  const [bx, by, bz] = boxDims(bounds);
  const bxy = bx * by;
  const toBox = gridToBox(bounds, dims);
  const dist = new Float32Array(bxy * bz).fill(Infinity);
  // 1: positive, 2: negative; settled voxels are marked by bit 4.
  const label = new Uint8Array(bxy * bz);
  const boxOffsets = [-1, 1, -bx, bx, -bxy, bxy];
  const offsets = [-1, 1, -nx, nx, -nxy, nxy];
  const steps = [spacing[0], spacing[0], spacing[1], spacing[1], spacing[2], spacing[2]];
  const scale = weight / Math.max(sigma, 1e-9);
  const origin = lo[0] + nx * (lo[1] + ny * lo[2]);
  // Dijkstra with buckets of the finest step (Dial): every step costs at least that, so a bucket's
  // voxels are final when it is reached, in any order (a binary heap spent ~1 s ordering a lung's
  // million voxels). A step across a strong edge may cost far more than the ring spans (on a
  // noise-free window σ is 0): such keys wait in a heap until the ring reaches them.
  const quantum = Math.min(...spacing);
  const queue = new RingBuckets(RING_BUCKETS);
  const bucketOf = (d: number): number => Math.floor(d / quantum);
  const start = 1e-6;
  for (const p of positives) {
    if (object[p] === 0 || p === negative) continue;
    const b = toBox(p);
    dist[b] = 0;
    label[b] = 1;
    queue.push(b, 0);
  }
  // Ties go to the positive clicks: the negative front starts a hair later.
  const bn = toBox(negative);
  dist[bn] = start;
  label[bn] = 2;
  queue.push(bn, bucketOf(start));
  while (queue.size > 0) {
    const b = queue.pop();
    const d = dist[b];
    if ((label[b] & 4) !== 0) continue;
    label[b] |= 4;
    const own = label[b] & 3;
    const k = (b / bxy) | 0;
    const r = b - k * bxy;
    const j = (r / bx) | 0;
    const i = r - j * bx;
    const p = origin + i + nx * (j + ny * k);
    if (own === 2) out[p] = 1;
    const inside = (i !== 0 ? 1 : 0) | (i !== bx - 1 ? 2 : 0) | (j !== 0 ? 4 : 0) | (j !== by - 1 ? 8 : 0) | (k !== 0 ? 16 : 0) | (k !== bz - 1 ? 32 : 0);
    const vp = values[p];
    for (let t = 0; t < 6; t++) {
      if ((inside & (1 << t)) === 0) continue;
      const q = p + offsets[t];
      const bq = b + boxOffsets[t];
      if (object[q] === 0 || (label[bq] & 4) !== 0) continue;
      const nd = d + steps[t] * (1 + scale * Math.abs(values[q] - vp));
      if (nd < dist[bq]) {
        dist[bq] = nd;
        label[bq] = own;
        queue.push(bq, bucketOf(nd));
      }
    }
  }
  return out;
}

/**
 * The voxels of `object` that the negative clicks' basins hold: a watershed of the object's depth
 * (distance to its outside) flooded from the deepest voxels down, each click's front taking the
 * voxels it reaches first; a voxel joins the front of the neighbour that reached it. The fronts meet
 * where the object is thinnest between the clicks: a negative click deep in a part joined by a neck
 * (a rib's cartilage, the next vertebra) takes that part up to the neck, and one in a thin layer at
 * the object's surface takes only that layer near it, where a cut half-way between the clicks took
 * half of a rib. Negative clicks outside the object take nothing. Returns a new mask.
 * @example
 * const taken = negativeBasins(object, wd, spacing, positives, negatives);
 */
export function negativeBasins(object: Uint8Array, dims: Dims, spacing: readonly [number, number, number], positives: readonly number[], negatives: readonly number[]): Uint8Array {
  const out = new Uint8Array(object.length);
  // The walk stays in the object's box (objectDepth's, one voxel wider).
  const measured = negatives.some((p) => object[p] !== 0) ? objectDepth(object, dims, spacing) : undefined;
  if (!measured) return out;
  const { box, part, depth } = measured;
  const bd = boxDims(box);
  const toBox = gridToBox(box, dims);
  // 1: positive, 2: negative; 4: settled.
  const label = new Uint8Array(part.length);
  // Deepest first, in buckets of a quarter of the finest voxel (a bucket queue: the object of a
  // lung's click holds millions of voxels, which a binary heap took ~0.75 s to order).
  let deepest = 0;
  for (let b = 0; b < part.length; b++) if (depth[b] > deepest) deepest = depth[b];
  const quantum = Math.min(...spacing) / 4;
  const bucketOf = (b: number): number => Math.round((deepest - depth[b]) / quantum);
  const queue = new BucketQueue(Math.round(deepest / quantum) + 1);
  const seed = (p: number, front: number): void => {
    const b = toBox(p);
    if (part[b] === 0 || label[b] !== 0) return;
    label[b] = front;
    queue.push(b, bucketOf(b));
  };
  // A click given both ways counts as positive.
  for (const p of positives) seed(p, 1);
  for (const p of negatives) seed(p, 2);
  const neighbours = sixNeighbours(bd);
  while (queue.size > 0) {
    const b = queue.pop();
    if ((label[b] & 4) !== 0) continue;
    label[b] |= 4;
    const front = label[b] & 3;
    neighbours(b, (q) => {
      if (part[q] === 0 || label[q] !== 0) return;
      label[q] = front;
      queue.push(q, bucketOf(q));
    });
  }
  const toGrid = boxToGrid(box, dims);
  for (let b = 0; b < part.length; b++) if ((label[b] & 3) === 2) out[toGrid(b)] = 1;
  return out;
}

/**
 * The depth (mm: distance to the outside) of `object` (window arrays) in its bounding box one voxel
 * wider, so that its outside is seen all round: the box, the object cropped to it and the depth
 * there. Undefined for an empty object.
 */
export function objectDepth(object: Uint8Array, dims: Dims, spacing: readonly [number, number, number]): { box: Box; part: Uint8Array; depth: Float32Array } | undefined {
  const bounds = boundingBox(object, dims);
  if (!bounds) return undefined;
  const box = padBox(bounds, [1, 1, 1], dims);
  const part = cropArray(object, dims, box);
  return { box, part, depth: depthInside(part, boxDims(box), spacing) };
}

/** Buckets in geodesicSplit's ring: keys further ahead wait in RingBuckets' heap. */
const RING_BUCKETS = 1024;

/**
 * Buckets of voxel indices for Dial's shortest paths, popped in key order: a ring of `size`
 * buckets for the keys within `size` of the key being popped (the bucket of key k being k mod
 * size), and a heap for keys further ahead, moved into the ring as it reaches them. Keys pushed
 * must never be below the key being popped.
 */
class RingBuckets {
  readonly #items: Int32Array[];
  readonly #counts: Int32Array;
  readonly #far = new MinHeap();
  #key = 0;
  #inRing = 0;
  size = 0;

  constructor(size: number) {
    this.#items = Array.from({ length: size }, () => new Int32Array(0));
    this.#counts = new Int32Array(size);
  }

  push(item: number, key: number): void {
    if (key - this.#key < this.#items.length) this.#toRing(item, key);
    else this.#far.push(item, key);
    this.size++;
  }

  /** An item of the lowest key (the queue must not be empty): within a key, the last pushed first. */
  pop(): number {
    if (this.#inRing === 0) this.#key = this.#far.topKey();
    for (;;) {
      while (this.#far.size > 0 && this.#far.topKey() < this.#key + this.#items.length) {
        const key = this.#far.topKey();
        this.#toRing(this.#far.pop(), key);
      }
      const b = this.#key % this.#items.length;
      if (this.#counts[b] > 0) {
        this.size--;
        this.#inRing--;
        return this.#items[b][--this.#counts[b]];
      }
      this.#key++;
    }
  }

  #toRing(item: number, key: number): void {
    const b = key % this.#items.length;
    let items = this.#items[b];
    const n = this.#counts[b];
    if (n === items.length) {
      const grown = new Int32Array(Math.max(16, 2 * n));
      grown.set(items);
      this.#items[b] = items = grown;
    }
    items[n] = item;
    this.#counts[b] = n + 1;
    this.#inRing++;
  }
}
