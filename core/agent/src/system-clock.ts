import type { Clock } from '@slipway/contracts';

/**
 * Wall-clock time. `sleep` resolves early (never rejects) when its signal fires, so callers check
 * `signal.aborted` afterwards rather than catching.
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    });
  },
});

/** Sleeps on any Clock, treating a rejection on abort like an early wake-up. */
export async function sleepQuietly(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  try {
    await clock.sleep(ms, signal);
  } catch {
    // A clock may reject when the signal fires; the caller looks at the signal itself.
  }
}
