import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { runIaasConformance } from '@slipway/testkit';
import plugin from '../src/index.js';
import { FAKE_BASE_AMI_ID, FAKE_ROOT_SNAPSHOT_ID, startFake, type AwsFake } from '../fake/index.js';

const packageJson = createRequire(import.meta.url)('../package.json') as {
  name: string;
  slipway: { kind: string; contract: string };
};

/** Throttling (RequestLimitExceeded) and 5xx (InternalError) on 10% of EC2 requests each, and EC2's eventual consistency. */
const RATES = { throttle: 0.1, serverError: 0.1 };
const LAG = { ms: 300, missRate: 0.5 };

let fake: AwsFake | undefined;

// The whole suite again, on a flaky and eventually consistent cloud, with the engine's retries around the driver
// (the testkit's faults run): every fault must surface as a retryable error and every retry must be idempotent.
runIaasConformance({
  plugin,
  async startFake() {
    return (fake = await startFake({ consistencyLagMs: LAG.ms, consistencyMissRate: LAG.missRate }));
  },
  packageJson,
  cloudProperties: { stemcell: { ami_id: FAKE_BASE_AMI_ID } },
  faults: RATES,
});

describe('under random faults and eventual consistency', () => {
  afterAll(() => {
    // CreateSnapshot has no ClientToken: a lost answer met by a lagging tag index makes an extra snapshot (README).
    const extraSnapshots = [...fake!.state.snapshots.values()].filter(
      (s) => s.ownerId === fake!.state.accountId && s.id !== FAKE_ROOT_SNAPSHOT_ID,
    ).length;
    console.info(
      `conformance under ${RATES.throttle * 100}% throttling + ${RATES.serverError * 100}% 5xx: extra snapshots: ${extraSnapshots}`,
    );
  });

  // Half of the injected 5xx lose the answer of a request EC2 carried out: only ClientTokens keep retries from
  // launching a second instance or volume. The suite deleted all it created, so nothing may be left running.
  it('left no instance or volume behind, though answers were lost', () => {
    const state = fake!.state;
    const running = [...state.instances.values()].filter((i) => i.state === 'pending' || i.state === 'running');
    const volumes = [...state.volumes.values()].filter(
      (v) => !v.launchVolume && (v.state === 'creating' || v.state === 'available' || v.state === 'in-use'),
    );
    expect(
      running.map((i) => i.id),
      'leaked instances',
    ).toEqual([]);
    expect(
      volumes.map((v) => `${v.id} ${v.state} ${JSON.stringify(Object.fromEntries(v.tags))}`),
      'leaked volumes',
    ).toEqual([]);
  });
});
