/**
 * A counting semaphore with a FIFO queue: at most `size` inferences run at once, the rest wait.
 * @module
 */
export class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  readonly #onChange: (waiting: number, running: number) => void;
  readonly size: number;

  constructor(size: number, onChange: (waiting: number, running: number) => void = () => {}) {
    this.size = size;
    this.#free = size;
    this.#onChange = onChange;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `task` when a slot is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else {
      await new Promise<void>((resolve) => {
        this.#waiting.push(resolve);
        this.#changed();
      });
    }
    this.#changed();
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
      this.#changed();
    }
  }

  #changed(): void {
    this.#onChange(this.#waiting.length, this.size - this.#free);
  }
}
