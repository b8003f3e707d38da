import { SlipwayError, type Clock } from '@slipway/contracts';
import { PLUGIN } from './errors.js';

export interface PollOptions {
  clock: Clock;
  intervalMs: number;
  /** Upper bound of the whole wait; past it the verb fails with a retryable Timeout. */
  timeoutMs: number;
  /** What is waited for, for the Timeout message (`instance i-0abc to be running`). */
  what: string;
  signal?: AbortSignal;
}

/**
 * Waits for an asynchronous EC2 state (pending -> running, creating -> available): `check` returns the result
 * when done, `undefined` to look again, or throws when the resource failed. Following an async operation is not
 * a retry: a failed Describe call ends the wait with its error, and the engine decides.
 */
export async function pollUntil<T>(check: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const deadline = options.clock.now() + options.timeoutMs;
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
    if (options.clock.now() >= deadline) {
      throw new SlipwayError('Timeout', `waited ${Math.round(options.timeoutMs / 1000)} s for ${options.what}`, {
        plugin: PLUGIN,
      });
    }
    await sleep(options.clock, options.intervalMs, options.signal);
  }
}

async function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  cancelledIf(signal);
  try {
    await clock.sleep(ms, signal);
  } catch (error) {
    cancelledIf(signal);
    throw SlipwayError.from(error, 'Internal', PLUGIN);
  }
  cancelledIf(signal);
}

function cancelledIf(signal?: AbortSignal): void {
  if (signal?.aborted)
    throw new SlipwayError('Cancelled', 'the operation was aborted', { plugin: PLUGIN, cause: signal.reason });
}
