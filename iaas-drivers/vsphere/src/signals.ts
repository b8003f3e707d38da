import { SlipwayError, type Clock } from '@slipway/contracts';
import { PLUGIN } from './errors.js';

export function cancelled(what: string, signal?: AbortSignal): SlipwayError {
  return new SlipwayError('Cancelled', `vSphere ${what}: the operation was aborted`, {
    plugin: PLUGIN,
    cause: signal?.reason,
  });
}

export function throwIfCancelled(what: string, signal?: AbortSignal): void {
  if (signal?.aborted) throw cancelled(what, signal);
}

/**
 * Waits for a promise shared by several callers (a login, the inventory lookup), giving up with Cancelled when
 * this caller's signal fires; the shared work goes on for the others.
 */
export function withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(cancelled(what, signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelled(what, signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Sleeps on the host's clock; an abort ends the sleep at once with Cancelled. */
export async function sleep(clock: Clock, ms: number, what: string, signal?: AbortSignal): Promise<void> {
  throwIfCancelled(what, signal);
  try {
    await clock.sleep(ms, signal);
  } catch (error) {
    throwIfCancelled(what, signal);
    throw SlipwayError.from(error, 'Internal', PLUGIN);
  }
  throwIfCancelled(what, signal);
}

/** A promise cached until it fails, so a failed lookup is tried again by the next caller. */
export class Memo<T> {
  private pending?: Promise<T>;

  constructor(private readonly make: () => Promise<T>) {}

  get(): Promise<T> {
    if (!this.pending) {
      const pending = this.make();
      this.pending = pending;
      pending.catch(() => {
        if (this.pending === pending) this.pending = undefined;
      });
    }
    return this.pending;
  }

  clear(): void {
    this.pending = undefined;
  }
}
