/**
 * A binary min-heap of voxels (integer items) by key, for Dijkstra-style walks: lazy deletion (an
 * item pushed again with a smaller key leaves its old entry behind, which the caller skips when it
 * pops it) and typed arrays that double when full.
 * @module
 */

/**
 * Keys are kept in the caller's precision: Float32Array when its distances are float32, so that a
 * popped key equals the distance it stored (a float64 key would be off by the rounding and read as
 * stale); Float64Array (the default) otherwise.
 * @example
 * const heap = new MinHeap(Float32Array);
 * heap.push(voxel, distance);
 * while (heap.size > 0) { const d = heap.topKey(); const v = heap.pop(); … }
 */
export class MinHeap {
  #keys: Float32Array | Float64Array;
  #items = new Int32Array(1024);
  size = 0;

  constructor(keyType: Float32ArrayConstructor | Float64ArrayConstructor = Float64Array) {
    this.#keys = new keyType(1024);
  }

  push(item: number, key: number): void {
    if (this.size === this.#keys.length) {
      const keys = this.#keys instanceof Float32Array ? new Float32Array(2 * this.size) : new Float64Array(2 * this.size);
      keys.set(this.#keys);
      this.#keys = keys;
      const items = new Int32Array(2 * this.size);
      items.set(this.#items);
      this.#items = items;
    }
    const keys = this.#keys;
    const items = this.#items;
    let at = this.size++;
    while (at > 0) {
      const up = (at - 1) >> 1;
      if (keys[up] <= key) break;
      keys[at] = keys[up];
      items[at] = items[up];
      at = up;
    }
    keys[at] = key;
    items[at] = item;
  }

  /** The smallest key (the heap must not be empty). */
  topKey(): number {
    return this.#keys[0];
  }

  /** Removes and returns the item with the smallest key (the heap must not be empty). */
  pop(): number {
    const keys = this.#keys;
    const items = this.#items;
    const top = items[0];
    const last = --this.size;
    const key = keys[last];
    const item = items[last];
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= last) break;
      if (child + 1 < last && keys[child + 1] < keys[child]) child++;
      if (keys[child] >= key) break;
      keys[at] = keys[child];
      items[at] = items[child];
      at = child;
    }
    keys[at] = key;
    items[at] = item;
    return top;
  }
}
