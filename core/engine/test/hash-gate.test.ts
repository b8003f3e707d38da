import { describe, expect, it } from 'vitest';
import { SlipwayError } from '@slipway/contracts';
import { HashGate } from '../src/auth/hash-gate.js';

describe('password hashing under a login flood', () => {
  it('runs at most two hashes at once, queues the rest, and refuses past the queue with RateLimited', async () => {
    const gate = new HashGate(2, 5);
    let inFlight = 0;
    let most = 0;
    const work = () =>
      gate.run(async () => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        return 'ok';
      });
    const results = await Promise.allSettled(Array.from({ length: 10 }, work));
    expect(most).toBe(2);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(7);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
    expect(refused).toHaveLength(3);
    for (const e of refused) expect(SlipwayError.is(e, 'RateLimited')).toBe(true);
    // Once drained, it serves again.
    expect(await work()).toBe('ok');
  });
});
