import { expect } from 'vitest';
import { SlipwayError } from '@slipway/contracts';
import { CONFORMANCE_CAPACITY, CONFORMANCE_IAAS } from './context.js';
import type { NetworkConformanceTest } from './test.js';

export const addressTests: NetworkConformanceTest[] = [
  {
    group: 'addresses',
    name: 'an owner gets the same address when asked again, and no address goes to two owners',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { id } = await ctx.preparedCluster();
      const a = await driver.allocateAddress({ clusterId: id, owner: 'a', iaas: CONFORMANCE_IAAS });
      const b = await driver.allocateAddress({ clusterId: id, owner: 'b', iaas: CONFORMANCE_IAAS });
      expect(await driver.allocateAddress({ clusterId: id, owner: 'a', iaas: CONFORMANCE_IAAS })).toEqual(a);
      expect(a.ip).not.toBe(b.ip);
      expect(a.netmask, 'an allocation carries its netmask').toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect((await driver.listAllocations({ clusterId: id })).map((x) => x.owner).sort()).toEqual(['a', 'b']);
    },
  },
  {
    group: 'addresses',
    name: '50 concurrent allocations give distinct addresses, and an empty pool is CapacityExhausted',
    timeoutMs: 60_000,
    async run(ctx) {
      const { driver } = ctx.ready();
      const { id } = await ctx.preparedCluster();
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          driver.allocateAddress({ clusterId: id, owner: `o${i}`, iaas: CONFORMANCE_IAAS }),
        ),
      );
      const ips = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.ip] : []));
      expect(ips, `a pool of ${CONFORMANCE_CAPACITY} gives exactly ${CONFORMANCE_CAPACITY} addresses`).toHaveLength(
        CONFORMANCE_CAPACITY,
      );
      expect(new Set(ips).size).toBe(CONFORMANCE_CAPACITY);
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      for (const error of refused) {
        expect(
          SlipwayError.is(error, 'CapacityExhausted'),
          `an empty pool is CapacityExhausted, got ${String(error)}`,
        ).toBe(true);
        expect((error as SlipwayError).retryable, 'an empty pool is not retried').toBe(false);
        expect((error as SlipwayError).hint.length, 'the error says what to do').toBeGreaterThan(0);
      }
      await driver.teardownCluster({ clusterId: id });
      expect(await driver.listAllocations({ clusterId: id })).toEqual([]);
    },
  },
  {
    group: 'addresses',
    name: 'releasing is idempotent and frees the address for another owner',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { id } = await ctx.preparedCluster();
      const held = await Promise.all(
        Array.from({ length: CONFORMANCE_CAPACITY }, (_, i) =>
          driver.allocateAddress({ clusterId: id, owner: `h${i}`, iaas: CONFORMANCE_IAAS }),
        ),
      );
      await driver.releaseAddress({ clusterId: id, owner: 'h0' });
      await driver.releaseAddress({ clusterId: id, owner: 'h0' });
      await driver.releaseAddress({ clusterId: id, owner: 'never-had-one' });
      const next = await driver.allocateAddress({ clusterId: id, owner: 'late', iaas: CONFORMANCE_IAAS });
      expect(next.ip, 'the only free address is the released one').toBe(held[0]!.ip);
    },
  },
];
