import { expect } from 'vitest';
import type { CallOptions, NetworkDriver } from '@slipway/contracts';
import { expectSlipwayError } from '../iaas/conformance-test.js';
import { CONFORMANCE_IAAS, type NetworkConformanceContext } from './context.js';
import type { NetworkConformanceTest } from './test.js';
import { allocate } from './topology-tests.js';

export const errorTests: NetworkConformanceTest[] = [
  {
    group: 'errors',
    name: 'throttling is a retryable SlipwayError, and the repeat succeeds',
    needsFake: true,
    singleFault: true,
    async run(ctx) {
      const { driver } = ctx.ready();
      const id = ctx.newCluster();
      const input = { clusterId: id, clusterName: `throttled-${id.slice(0, 8)}`, iaas: CONFORMANCE_IAAS };
      ctx.fake().faults.throttleNext('prepareCluster');
      const error = await expectSlipwayError(
        driver.prepareCluster(input),
        'prepareCluster while the product throttles',
      );
      expect(error.retryable, `a throttled call must be retryable (got ${error.code})`).toBe(true);
      const network = await driver.prepareCluster(input);
      expect(await driver.prepareCluster(input), 'the repeat after a failure is the same topology').toEqual(network);
    },
  },
  {
    group: 'errors',
    name: 'a 5xx is a retryable SlipwayError, and the repeat succeeds',
    needsFake: true,
    singleFault: true,
    async run(ctx) {
      const { driver } = ctx.ready();
      const { id } = await ctx.preparedCluster();
      const masters = await allocate(ctx, id, 'master', 1);
      ctx.fake().faults.serverErrorNext('ensureApiEndpoint');
      const error = await expectSlipwayError(
        driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters }),
        'ensureApiEndpoint while the product fails with 5xx',
      );
      expect(error.retryable, `a 5xx must be retryable (got ${error.code})`).toBe(true);
      const endpoint = await driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters });
      expect(endpoint.address).toMatch(/\S/);
    },
  },
  {
    group: 'errors',
    name: "a permanent error is not retryable, has a specific code and keeps the product's message",
    needsFake: true,
    singleFault: true,
    async run(ctx) {
      const { driver } = ctx.ready();
      const id = ctx.newCluster();
      const text = ctx.fake().faults.permanentErrorNext('prepareCluster');
      const call = driver.prepareCluster({
        clusterId: id,
        clusterName: `refused-${id.slice(0, 8)}`,
        iaas: CONFORMANCE_IAAS,
      });
      const error = await expectSlipwayError(call, 'prepareCluster with a permanent error');
      expect(error.retryable).toBe(false);
      expect(error.code, 'a product error maps to a specific code, not Internal').not.toBe('Internal');
      if (typeof text === 'string') expect(error.message, "the error keeps the product's own message").toContain(text);
    },
  },
];

/** Every verb, called on an already-aborted signal. */
function everyVerb(driver: NetworkDriver, id: string, options: CallOptions): Array<[string, () => Promise<unknown>]> {
  const verbs: Array<[string, () => Promise<unknown>]> = [
    [
      'prepareCluster',
      () => driver.prepareCluster({ clusterId: id, clusterName: 'aborted', iaas: CONFORMANCE_IAAS }, options),
    ],
    ['allocateAddress', () => driver.allocateAddress({ clusterId: id, owner: 'x', iaas: CONFORMANCE_IAAS }, options)],
    ['releaseAddress', () => driver.releaseAddress({ clusterId: id, owner: 'x' }, options)],
    ['listAllocations', () => driver.listAllocations({ clusterId: id }, options)],
    [
      'ensureApiEndpoint',
      () => driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters: ['10.255.0.1'] }, options),
    ],
    ['teardownCluster', () => driver.teardownCluster({ clusterId: id }, options)],
  ];
  if (driver.listClusterObjects) verbs.push(['listClusterObjects', () => driver.listClusterObjects!(options)]);
  return verbs;
}

export const signalTests: NetworkConformanceTest[] = [
  {
    group: 'signal',
    name: 'every verb refuses an already-aborted signal with Cancelled, at once',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { id } = await ctx.preparedCluster();
      for (const [verb, call] of everyVerb(driver, id, { signal: AbortSignal.abort() })) {
        const started = Date.now();
        const error = await expectSlipwayError(call(), `${verb} with an aborted signal`);
        expect(error.code, `${verb} with an aborted signal`).toBe('Cancelled');
        expect(Date.now() - started, `${verb} returns at once`).toBeLessThan(1_000);
      }
      expect(await driver.listAllocations({ clusterId: id }), 'an aborted allocateAddress allocated nothing').toEqual(
        [],
      );
    },
  },
  {
    group: 'signal',
    name: 'aborting mid-call rejects with Cancelled quickly, and the repeat is safe',
    needsFake: true,
    async run(ctx) {
      const { driver } = ctx.ready();
      const id = ctx.newCluster();
      const input = { clusterId: id, clusterName: `slow-${id.slice(0, 8)}`, iaas: CONFORMANCE_IAAS };
      // The product answers 1.4 s after the abort: a bound of 800 ms tells the two apart on a loaded machine.
      ctx.fake().faults.setLatency(1_500);
      const controller = new AbortController();
      const call = driver.prepareCluster(input, { signal: controller.signal });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const abortedAt = Date.now();
      controller.abort();
      const error = await expectSlipwayError(call, 'prepareCluster aborted while the product is slow');
      expect(error.code).toBe('Cancelled');
      expect(Date.now() - abortedAt, 'the call stops waiting as soon as it is aborted').toBeLessThan(800);
      ctx.fake().faults.reset();
      await new Promise((resolve) => setTimeout(resolve, 1_700));
      const network = await driver.prepareCluster(input);
      expect(await driver.prepareCluster(input)).toEqual(network);
    },
  },
];

/** The faults run's own test: whole cluster lifecycles, concurrently, on a wire that throttles and fails. */
export const convergenceTests: NetworkConformanceTest[] = [
  {
    group: 'faults',
    name: "three clusters' whole lifecycles converge through the engine's retries and leave nothing",
    timeoutMs: 120_000,
    async run(ctx) {
      const { driver } = ctx.ready();
      const ids = [ctx.newCluster(), ctx.newCluster(), ctx.newCluster()];
      await Promise.all(
        ids.map(async (id, n) => {
          await driver.prepareCluster({ clusterId: id, clusterName: `faulty-${n}`, iaas: CONFORMANCE_IAAS });
          const masters = await allocate(ctx, id, 'master', 2);
          const endpoint = await driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters });
          expect(endpoint.address).toMatch(/\S/);
          await driver.releaseAddress({ clusterId: id, owner: 'master-1' });
          await driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters: masters.slice(0, 1) });
          await driver.teardownCluster({ clusterId: id });
        }),
      );
      for (const id of ids) expect(await driver.listAllocations({ clusterId: id })).toEqual([]);
      if (driver.listClusterObjects) {
        const left = (await driver.listClusterObjects()).filter((o) => ids.includes(o.clusterId));
        expect(left, 'every retried teardown removed everything').toEqual([]);
      }
    },
  },
];

export function describeStats(ctx: NetworkConformanceContext): string {
  return `${ctx.stats.retries} retries (${Object.entries(ctx.stats.byCode)
    .map(([c, n]) => `${c} ${n}`)
    .join(', ')})`;
}
