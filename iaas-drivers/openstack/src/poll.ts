import { SlipwayError, type Clock } from '@slipway/contracts';
import { PLUGIN } from './errors.js';

/**
 * Waits for an asynchronous OpenStack state (BUILD -> ACTIVE, creating -> available): `check` returns the
 * result when done, `undefined` to look again, or throws when the resource failed. Following an async
 * operation is not a retry; there is no deadline here because the engine bounds every call with its signal.
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  options: { clock: Clock; intervalMs: number; signal?: AbortSignal },
): Promise<T> {
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
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
