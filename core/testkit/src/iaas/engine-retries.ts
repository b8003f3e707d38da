import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SlipwayError, definePlugin, type CallOptions, type PluginKind, type PluginModule } from '@slipway/contracts';

export interface RetryStats {
  /** Verb calls that failed retryably and were sent again. */
  retries: number;
  /** Retries by error code. */
  byCode: Record<string, number>;
}

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  maxMs: number;
}

/** Enough attempts that a verb meeting 20% faults fails by chance less than once in 10^13 calls. */
export const TEST_RETRY_POLICY: RetryPolicy = Object.freeze({ attempts: 20, baseMs: 10, maxMs: 200 });

/**
 * What the engine does around every driver verb, for a suite run on a faulty cloud: a retryable SlipwayError
 * is sent again after a jittered backoff (at least its `retryAfterMs`, capped at `maxMs`) with the same requestId (one is made up
 * when the caller gave none, as each engine step has its own), anything else is final. Drivers never retry
 * themselves, so this is what makes a 10% fault rate survivable, and what proves each verb safe to repeat.
 */
export function withEngineRetries<K extends PluginKind>(plugin: PluginModule<K, any>, stats: RetryStats, policy: RetryPolicy = TEST_RETRY_POLICY): PluginModule<K, any> {
  return definePlugin({
    ...plugin,
    async create(config, host) {
      const driver = await plugin.create(config, host);
      return new Proxy(driver, {
        get(target, property, receiver) {
          const value = Reflect.get(target, property, receiver) as unknown;
          if (typeof value !== 'function' || property === 'destroy') return value;
          return async (input: unknown, options: CallOptions = {}) => {
            const call = { ...options, requestId: options.requestId ?? randomUUID() };
            for (let attempt = 1; ; attempt++) {
              try {
                return await (value as (i: unknown, o: CallOptions) => Promise<unknown>).call(target, input, call);
              } catch (error) {
                if (!SlipwayError.is(error) || !error.retryable || attempt >= policy.attempts || call.signal?.aborted) throw error;
                stats.retries += 1;
                stats.byCode[error.code] = (stats.byCode[error.code] ?? 0) + 1;
                const backoff = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
                try {
                  // The engine waits out a cloud's Retry-After; the fakes do not hold a client to it, so a test need not.
                  await sleep(Math.max(Math.min(error.retryAfterMs ?? 0, policy.maxMs), Math.round(Math.random() * backoff)), undefined, { signal: call.signal });
                } catch {
                  throw new SlipwayError('Cancelled', 'the operation was aborted while waiting to retry', { cause: call.signal?.reason });
                }
              }
            }
          };
        },
      });
    },
  });
}
