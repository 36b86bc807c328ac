/**
 * A monotone bucket priority queue of voxel indices for region growing by flooding: integer
 * priorities in [0, buckets), FIFO inside a bucket (so equal priorities spread breadth-first,
 * i.e. by path length), never a push below the bucket being popped. O(1) push and pop.
 * @module
 */
export class BucketQueue {
  readonly #heads: Int32Array;
  readonly #tails: Int32Array;
  #next: Int32Array;
  #items: Int32Array;
  #tags: Uint8Array;
  #used = 0;
  #current = 0;
  #size = 0;

  constructor(buckets: number, capacity = 1 << 16) {
    this.#heads = new Int32Array(buckets).fill(-1);
    this.#tails = new Int32Array(buckets).fill(-1);
    this.#next = new Int32Array(capacity);
    this.#items = new Int32Array(capacity);
    this.#tags = new Uint8Array(capacity);
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
    if (this.#used === this.#items.length) this.#grow();
    const slot = this.#used++;
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
    this.#next = next;
    this.#items = items;
    this.#tags = tags;
  }
}
