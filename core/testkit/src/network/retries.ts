import { systemClock } from '@slipway/agent';
import { withRetry, type NetworkDriver, type RetryPolicy } from '@slipway/contracts';
import type { RetryStats } from '../iaas/engine-retries.js';

/**
 * The engine's retry policy for a faults run: the engine's own attempts-and-backoff shape with more attempts
 * (an operator's `tasks.retry_attempts`) and shorter waits, so a verb that makes several requests at 20%
 * faults still converges and the suite runs in seconds. The code that retries is the engine's (`withRetry`).
 */
export const NETWORK_FAULTS_RETRY_POLICY: RetryPolicy = Object.freeze({ attempts: 20, baseMs: 10, maxMs: 200 });

/** Wraps every verb of a live driver in the engine's `withRetry`, counting the retries by code. */
export function withNetworkRetries(
  driver: NetworkDriver,
  stats: RetryStats,
  policy: RetryPolicy = NETWORK_FAULTS_RETRY_POLICY,
): NetworkDriver {
  return new Proxy(driver, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || property === 'destroy') return value;
      return (...args: unknown[]) => {
        const options = (property === 'listClusterObjects' ? args[0] : args[1]) as { signal?: AbortSignal } | undefined;
        return withRetry(
          `${String(property)}`,
          () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args),
          {
            clock: systemClock,
            policy,
            signal: options?.signal,
            onRetry(error) {
              stats.retries += 1;
              stats.byCode[error.code] = (stats.byCode[error.code] ?? 0) + 1;
            },
          },
        );
      };
    },
  });
}
