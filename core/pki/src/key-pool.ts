import { generateKeyPair } from './keys.js';

type KeyPair = { privateKeyPem: string; publicKeyPem: string };

/**
 * RSA-2048 key pairs generated ahead of need, in memory only, so issuing an RSA certificate or key does not
 * wait ~100 ms of a core for keygen. Keys never touch disk or the store before they are issued (an unused
 * key is as secret as an issued one, and a pool on disk would be a pile of unencrypted private keys); each
 * is handed out once, and a take refills the pool in the background on libuv's thread pool.
 *
 * The owner creates one and calls `close()` when it stops: a module-level pool would start work on import.
 */
export class RsaKeyPool {
  private readonly ready: KeyPair[] = [];
  private readonly filling = new Set<Promise<void>>();
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  /**
   * `size` keys are kept ready; 0 makes every take generate on demand. A take refills after `refillDelayMs`,
   * so the keygen does not compete with the burst that took the key (a cluster's PKI is issued in one go).
   */
  constructor(
    private readonly size = 2,
    private readonly refillDelayMs = 250,
  ) {
    this.refill();
  }

  /**
   * A fresh RSA-2048 key pair: a pooled one when ready, else generated now. Only a pooled take refills, so
   * a burst that drains the pool costs its own keys plus at most `size`, not a refill per key.
   */
  async take(): Promise<KeyPair> {
    const pair = this.ready.shift();
    if (!pair) return generateKeyPair('rsa', 2048);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.refill();
    }, this.refillDelayMs);
    this.timer.unref?.();
    return pair;
  }

  /** Refills now and resolves when the pool holds `size` keys (benchmarks and tests that want a warm pool). */
  async warm(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.refill();
    while (this.filling.size) await Promise.all(this.filling);
  }

  /** How many keys are ready now. */
  get available(): number {
    return this.ready.length;
  }

  /** Stops refilling, waits for keygen in flight and drops every pooled key. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await Promise.allSettled(this.filling);
    this.ready.length = 0;
  }

  private refill(): void {
    while (!this.closed && this.ready.length + this.filling.size < this.size) {
      const job: Promise<void> = generateKeyPair('rsa', 2048)
        .then(
          (pair) => {
            if (!this.closed) this.ready.push(pair);
          },
          () => {},
        )
        .finally(() => this.filling.delete(job));
      this.filling.add(job);
    }
  }
}
