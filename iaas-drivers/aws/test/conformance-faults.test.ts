import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { runIaasConformance } from '@slipway/testkit';
import plugin from '../src/index.js';
import { FAKE_BASE_AMI_ID, FAKE_ROOT_SNAPSHOT_ID, startFake, type AwsFake } from '../fake/index.js';
import { withEngineRetries, type RetryStats } from './engine-retries.js';

const packageJson = createRequire(import.meta.url)('../package.json') as { name: string; slipway: { kind: string; contract: string } };

/** Throttling (RequestLimitExceeded) and 5xx (InternalError) on 10% of EC2 requests each, and EC2's eventual consistency. */
const RATES = { throttle: 0.1, serverError: 0.1 };
const LAG = { ms: 300, missRate: 0.5 };

const stats: RetryStats = { retries: 0, byCode: {} };
let fake: AwsFake | undefined;

// The whole suite again, on a flaky and eventually consistent cloud, with the engine's retries around the driver:
// every fault must surface as a retryable error and every retry must be idempotent (same VM, same disk).
runIaasConformance({
  plugin: withEngineRetries(plugin, stats),
  async startFake() {
    const started = fake = await startFake({ consistencyLagMs: LAG.ms, consistencyMissRate: LAG.missRate });
    started.faults.setFaultRates(RATES);
    // The suite resets faults after each test (so its cleanup runs clean); here the cloud stays flaky throughout.
    const reset = started.faults.reset;
    started.faults.reset = () => {
      reset();
      started.faults.setFaultRates(RATES);
    };
    return started;
  },
  packageJson,
  cloudProperties: { stemcell: { ami_id: FAKE_BASE_AMI_ID } },
  skip: [
    {
      tests: ['errors > throttling is a retryable SlipwayError', 'errors > a cloud 5xx is a retryable SlipwayError'],
      reason: 'in this run an engine-style retry wraps every verb, so the one injected fault is retried away by design; conformance.test.ts checks these without retries',
    },
  ],
});

describe('under random faults', () => {
  afterAll(() => {
    // CreateSnapshot has no ClientToken: a lost answer met by a lagging tag index makes an extra snapshot (README).
    const extraSnapshots = [...fake!.state.snapshots.values()].filter((s) => s.ownerId === fake!.state.accountId && s.id !== FAKE_ROOT_SNAPSHOT_ID).length;
    console.info(`conformance under ${RATES.throttle * 100}% throttling + ${RATES.serverError * 100}% 5xx: ${stats.retries} engine retries`, stats.byCode, `extra snapshots: ${extraSnapshots}`);
  });

  it('met faults and retried them', () => {
    expect(stats.retries, 'the fault rates must have hit the suite').toBeGreaterThan(10);
    expect(Object.keys(stats.byCode).sort()).toEqual(expect.arrayContaining(['RateLimited', 'Retryable']));
  });

  // Half of the injected 5xx lose the answer of a request EC2 carried out: only ClientTokens keep retries from
  // launching a second instance or volume. The suite deleted all it created, so nothing may be left running.
  it('left no instance or volume behind, though answers were lost', () => {
    const state = fake!.state;
    const running = [...state.instances.values()].filter((i) => i.state === 'pending' || i.state === 'running');
    const volumes = [...state.volumes.values()].filter((v) => !v.launchVolume && (v.state === 'creating' || v.state === 'available' || v.state === 'in-use'));
    expect(running.map((i) => i.id), 'leaked instances').toEqual([]);
    expect(volumes.map((v) => `${v.id} ${v.state} ${JSON.stringify(Object.fromEntries(v.tags))}`), 'leaked volumes').toEqual([]);
  });
});
