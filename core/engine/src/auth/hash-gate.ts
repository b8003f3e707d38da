import { SlipwayError } from '@slipway/contracts';

/**
 * Bounds how many password hashes run at once. Each scrypt at N=2^17 holds 128 MiB, so a flood of logins
 * (from many addresses, past the per-address limit) must queue instead of taking the server's memory; when
 * the queue is full, a login is refused as RateLimited (429) rather than waiting without bound.
 */
export class HashGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly concurrency = 2,
    private readonly maxWaiting = 64,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new SlipwayError('RateLimited', 'too many logins at once; retry in a moment', {
          retryAfterMs: 1000,
          hint: 'Retry in a second.',
        });
      }
      // The slot is handed over by the one that finishes, so `running` stays the number of hashes in flight.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
