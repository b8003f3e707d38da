import type { Clock } from '@slipway/contracts';

export interface LoginLimits {
  /** Failed logins of one user name within the window before further attempts are refused. */
  per_user: number;
  /** Failed logins from one source address within the window. */
  per_address: number;
  window_seconds: number;
}

/**
 * Counts failed logins per user name and per source address in a sliding window. Kept in memory: a
 * restart forgives, which an attacker cannot trigger, and every failure also lands in the events table.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limits: LoginLimits,
    private readonly clock: Clock,
  ) {}

  /** Milliseconds until `user` from `address` may try again; 0 when it may now. */
  retryAfterMs(user: string, address: string | undefined): number {
    return Math.max(
      this.wait(`user:${user}`, this.limits.per_user),
      address ? this.wait(`addr:${address}`, this.limits.per_address) : 0,
    );
  }

  recordFailure(user: string, address: string | undefined): void {
    this.push(`user:${user}`);
    if (address) this.push(`addr:${address}`);
  }

  /** A correct password clears its user's count (not its address's: one good account must not unlock guessing at others). */
  recordSuccess(user: string): void {
    this.failures.delete(`user:${user}`);
  }

  private recent(key: string): number[] {
    const since = this.clock.now() - this.limits.window_seconds * 1000;
    const kept = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (kept.length) this.failures.set(key, kept);
    else this.failures.delete(key);
    return kept;
  }

  private wait(key: string, max: number): number {
    const recent = this.recent(key);
    if (recent.length < max) return 0;
    return Math.max(1, recent[recent.length - max] + this.limits.window_seconds * 1000 - this.clock.now());
  }

  private push(key: string): void {
    const recent = this.recent(key);
    recent.push(this.clock.now());
    // Bounded memory under a flood of distinct names: the oldest keys go first.
    if (this.failures.size > 50_000) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(key, recent.slice(-1000));
  }
}
