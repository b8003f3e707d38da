import { SlipwayError } from './errors.js';
import type { Clock } from './plugin.js';

/**
 * The engine's retry policy, kept in the contracts so a driver's conformance run (`@slipway/testkit`'s faults
 * run) retries exactly as the engine will, with the same code, and a vendor can read what its errors lead to.
 */
export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 200, maxMs: 10_000 };

/**
 * The one place cloud calls are retried: drivers never retry on their own. Retries only errors marked
 * retryable, with exponential backoff and full jitter, honouring the cloud's Retry-After.
 */
export async function withRetry<T>(
  what: string,
  call: () => Promise<T>,
  options: {
    clock: Clock;
    policy?: RetryPolicy;
    signal?: AbortSignal;
    onRetry?: (error: SlipwayError, attempt: number, waitMs: number) => void;
  },
): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const error = SlipwayError.from(e);
      if (!error.retryable || attempt >= policy.attempts || options.signal?.aborted) {
        if (error.retryable && attempt >= policy.attempts) {
          throw new SlipwayError(error.code, `${what} still failing after ${attempt} attempts: ${error.message}`, {
            cause: error,
            retryable: false,
            plugin: error.plugin,
            hint: error.hint,
          });
        }
        throw error;
      }
      const backoff = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
      const waitMs = Math.max(error.retryAfterMs ?? 0, Math.round(Math.random() * backoff));
      options.onRetry?.(error, attempt, waitMs);
      await options.clock.sleep(waitMs, options.signal);
    }
  }
}
