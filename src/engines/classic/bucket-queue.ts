/**
 * A monotone bucket priority queue of voxel indices for region growing by flooding: integer
 * priorities in [0, buckets), FIFO inside a bucket (so equal priorities spread breadth-first,
 * i.e. by path length), never a push below the bucket being popped. O(1) push and pop. Popped
 * slots are reused, so memory follows the largest queue length, not the number of pushes.
 * @module
 */
export class BucketQueue {
  readonly #heads: Int32Array;
  readonly #tails: Int32Array;
  #next: Int32Array;
  #items: Int32Array;
  #tags: Uint8Array;
  #free: Int32Array;
  #freeCount = 0;
  #used = 0;
  #current = 0;
  #size = 0;

  constructor(buckets: number, capacity = 1 << 16) {
    this.#heads = new Int32Array(buckets).fill(-1);
    this.#tails = new Int32Array(buckets).fill(-1);
    this.#next = new Int32Array(capacity);
    this.#items = new Int32Array(capacity);
    this.#tags = new Uint8Array(capacity);
    this.#free = new Int32Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** The bucket the last pop came from. */
  get level(): number {
    return this.#current;
  }

  /** Tag of the last popped item (e.g. which front pushed it). */
  tag = 0;

  push(item: number, bucket: number, tag = 0): void {
    const b = bucket < this.#current ? this.#current : bucket;
    let slot: number;
    if (this.#freeCount > 0) slot = this.#free[--this.#freeCount];
    else {
      if (this.#used === this.#items.length) this.#grow();
      slot = this.#used++;
    }
    this.#items[slot] = item;
    this.#tags[slot] = tag;
    this.#next[slot] = -1;
    if (this.#tails[b] < 0) this.#heads[b] = slot;
    else this.#next[this.#tails[b]] = slot;
    this.#tails[b] = slot;
    this.#size++;
  }

  /** The next item in priority order, or −1 when empty. Sets `level` and `tag`. */
  pop(): number {
    if (this.#size === 0) return -1;
    const heads = this.#heads;
    let b = this.#current;
    while (heads[b] < 0) b++;
    this.#current = b;
    const slot = heads[b];
    heads[b] = this.#next[slot];
    if (heads[b] < 0) this.#tails[b] = -1;
    this.#size--;
    this.#free[this.#freeCount++] = slot;
    this.tag = this.#tags[slot];
    return this.#items[slot];
  }

  #grow(): void {
    const n = this.#items.length * 2;
    const next = new Int32Array(n);
    next.set(this.#next);
    const items = new Int32Array(n);
    items.set(this.#items);
    const tags = new Uint8Array(n);
    tags.set(this.#tags);
    const free = new Int32Array(n);
    free.set(this.#free);
    this.#next = next;
    this.#items = items;
    this.#tags = tags;
    this.#free = free;
  }
}
