import { setTimeout as delay } from 'node:timers/promises';
import { SlipwayError, type Clock } from '@slipway/contracts';

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    try {
      await delay(ms, undefined, { signal });
    } catch (e) {
      throw new SlipwayError('Cancelled', 'the wait was aborted', { cause: e });
    }
  }
}

export function isoNow(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
