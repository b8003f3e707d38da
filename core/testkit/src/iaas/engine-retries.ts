import {
  definePlugin,
  withRetry,
  type CallOptions,
  type PluginKind,
  type PluginModule,
  type RetryPolicy,
} from '@slipway/contracts';

export interface RetryStats {
  /** Verb calls that failed retryably and were sent again. */
  retries: number;
  /** Retries by error code. */
  byCode: Record<string, number>;
}

export type { RetryPolicy };

/**
 * The policy a faults run retries with: the engine's `withRetry` with more attempts than the engine's default
 * (`DEFAULT_RETRY`, 6; operators set it as `tasks.retry_attempts`) and shorter waits. Measured: at 10%
 * throttling plus 10% 5xx, a verb that makes three requests (OpenStack's createDisk: create, then poll) still
 * fails all 6 attempts now and then, so a cloud that faulty needs `tasks.retry_attempts` raised; the suite
 * proves each verb converges and is safe to repeat, with 20.
 */
export const TEST_RETRY_POLICY: RetryPolicy = Object.freeze({ attempts: 20, baseMs: 10, maxMs: 200 });

/**
 * What the engine does around every driver verb, for a suite run on a faulty cloud: the engine's own
 * `withRetry` (the same code; the attempts of `policy`) sends a retryable SlipwayError again with the same options,
 * the same requestId the caller gave and none when it gave none, as the engine does; anything else is final.
 * Drivers never retry themselves, so this is what makes a 10% fault rate survivable, and what proves each
 * verb safe to repeat.
 */
export function withEngineRetries<K extends PluginKind>(
  plugin: PluginModule<K, any>,
  stats: RetryStats,
  policy: RetryPolicy = TEST_RETRY_POLICY,
): PluginModule<K, any> {
  return definePlugin({
    ...plugin,
    async create(config, host) {
      const driver = await plugin.create(config, host);
      return new Proxy(driver, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver) as unknown;
          if (typeof value !== 'function' || property === 'destroy') return value;
          return (input: unknown, options: CallOptions = {}) =>
            withRetry(
              String(property),
              () => (value as (i: unknown, o: CallOptions) => Promise<unknown>).call(target, input, options),
              {
                clock: host.clock,
                policy,
                signal: options.signal,
                onRetry(error) {
                  stats.retries += 1;
                  stats.byCode[error.code] = (stats.byCode[error.code] ?? 0) + 1;
                },
              },
            );
        },
      });
    },
  });
}
