import { createRequire } from 'node:module';
import { afterAll, expect } from 'vitest';
import { runIaasConformance } from '@slipway/testkit';
import plugin from '../src/index.js';
import { startFake, type GcpFake } from '../fake/index.js';

const packageJson = createRequire(import.meta.url)('../package.json') as {
  name: string;
  slipway: { kind: string; contract: string };
};

/**
 * The conformance suite again, with 10% of Compute calls throttled (429 rateLimitExceeded) and 10% failing
 * with 503 backendError, operation waits included, and the engine's retries around the driver (the testkit's
 * faults run). Every test passing means every verb is safe to repeat after any failed request of it.
 */
let started: GcpFake | undefined;

runIaasConformance({
  plugin,
  packageJson,
  async startFake() {
    return (started = await startFake());
  },
  faults: { throttle: 0.1, serverError: 0.1 },
});

afterAll(() => {
  // The run above met the chaos it was meant to: hundreds of requests, about a fifth of them failed.
  expect(started?.injectedFaults() ?? 0).toBeGreaterThan(50);
});
