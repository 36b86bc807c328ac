/**
 * A circuit breaker for a remote dependency: after `threshold` failures in a row it opens and
 * requests fail at once (no waiting on a server that is down) for `cooldownMs`; then one trial
 * request goes through (half-open): its success closes the circuit, its failure opens it again.
 * Pure: the clock is injected, so tests need no timers.
 * @module
 */

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Failures in a row that open the circuit. */
  readonly threshold: number;
  /** How long the circuit stays open before a trial request may pass. */
  readonly cooldownMs: number;
  /** Milliseconds now (default Date.now). */
  readonly now?: () => number;
}

export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  #failures = 0;
  #openedAt: number | undefined;
  #trialRunning = false;
  /** The failure that opened the circuit, for the message of requests refused meanwhile. */
  #lastError: string | undefined;

  constructor(options: CircuitBreakerOptions) {
    this.#threshold = options.threshold;
    this.#cooldownMs = options.cooldownMs;
    this.#now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    if (this.#openedAt === undefined) return 'closed';
    return this.#now() - this.#openedAt >= this.#cooldownMs ? 'half-open' : 'open';
  }

  get consecutiveFailures(): number {
    return this.#failures;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Milliseconds until a trial request may pass (0 unless open). */
  get retryInMs(): number {
    return this.state === 'open' ? this.#cooldownMs - (this.#now() - this.#openedAt!) : 0;
  }

  /**
   * Whether a request may go out now. In half-open state only one may: the trial; the others are
   * refused until it has ended.
   */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#trialRunning) return false;
    this.#trialRunning = true;
    return true;
  }

  succeeded(): void {
    this.#failures = 0;
    this.#openedAt = undefined;
    this.#trialRunning = false;
    this.#lastError = undefined;
  }

  failed(message: string): void {
    this.#failures++;
    this.#lastError = message;
    // A failed trial reopens at once; otherwise the threshold decides.
    if (this.#trialRunning || this.#failures >= this.#threshold) this.#openedAt = this.#now();
    this.#trialRunning = false;
  }
}
