import { expect } from 'vitest';
import type { ApiEndpoint } from '@slipway/contracts';
import { CONFORMANCE_IAAS } from './context.js';
import type { NetworkConformanceTest } from './test.js';
import { allocate } from './topology-tests.js';

const API_PORT = 8443;
const memberSet = (endpoint: ApiEndpoint) => (endpoint.members ?? []).map((m) => m.address).sort();

export const endpointTests: NetworkConformanceTest[] = [
  {
    group: 'endpoint',
    name: "without lb, the endpoint is one master's address, not load-balanced",
    withoutCapability: 'lb',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { id } = await ctx.preparedCluster();
      const masters = await allocate(ctx, id, 'master', 2);
      const endpoint = await driver.ensureApiEndpoint({ clusterId: id, port: API_PORT, masters });
      expect(masters, 'the endpoint is a master').toContain(endpoint.address);
      expect(endpoint.loadBalanced).toBe(false);
    },
  },
  {
    group: 'endpoint',
    name: 'with lb, the endpoint is a VIP in front of exactly the masters',
    capability: 'lb',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { id } = await ctx.preparedCluster();
      const masters = await allocate(ctx, id, 'master', 3);
      const endpoint = await driver.ensureApiEndpoint({ clusterId: id, port: API_PORT, masters });
      expect(endpoint.loadBalanced, 'lb: the endpoint is load-balanced').toBe(true);
      expect(masters, 'the VIP is not one of the masters').not.toContain(endpoint.address);
      expect(endpoint.address).toMatch(/^\d{1,3}(\.\d{1,3}){3}$/);
      expect(memberSet(endpoint), "the pool's members are the masters").toEqual([...masters].sort());
    },
  },
  {
    group: 'endpoint',
    name: 'with lb, the VIP stays the same while the members follow recreated masters',
    capability: 'lb',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { id } = await ctx.preparedCluster();
      const [m0, m1, m2] = await allocate(ctx, id, 'master', 3);
      const first = await driver.ensureApiEndpoint({ clusterId: id, port: API_PORT, masters: [m0!, m1!, m2!] });
      // master-0 is recreated on another address (its old one released), as a resurrection with a new VM does.
      await driver.releaseAddress({ clusterId: id, owner: 'master-0' });
      const replacement = (
        await driver.allocateAddress({ clusterId: id, owner: 'master-0-new', iaas: CONFORMANCE_IAAS })
      ).ip;
      const moved = await driver.ensureApiEndpoint({ clusterId: id, port: API_PORT, masters: [replacement, m1!, m2!] });
      expect(moved.address, 'kubelets and kubeconfigs keep working: the VIP does not move').toBe(first.address);
      expect(memberSet(moved), 'the old master left the pool, the new one joined').toEqual(
        [replacement, m1!, m2!].sort(),
      );
      const shrunk = await driver.ensureApiEndpoint({ clusterId: id, port: API_PORT, masters: [m1!] });
      expect(shrunk.address).toBe(first.address);
      expect(memberSet(shrunk), 'members not listed are removed').toEqual([m1!]);
      const again = await driver.ensureApiEndpoint({ clusterId: id, port: API_PORT, masters: [m1!] });
      expect({ address: again.address, members: memberSet(again) }, 'asked again, the same endpoint').toEqual({
        address: shrunk.address,
        members: [m1!],
      });
    },
  },
  {
    group: 'endpoint',
    name: 'with lb, each cluster gets its own VIP',
    capability: 'lb',
    async run(ctx) {
      const { driver } = ctx.ready();
      const a = await ctx.preparedCluster('a');
      const b = await ctx.preparedCluster('b');
      const [ma] = await allocate(ctx, a.id, 'master', 1);
      const [mb] = await allocate(ctx, b.id, 'master', 1);
      const va = await driver.ensureApiEndpoint({ clusterId: a.id, port: API_PORT, masters: [ma!] });
      const vb = await driver.ensureApiEndpoint({ clusterId: b.id, port: API_PORT, masters: [mb!] });
      expect(va.address).not.toBe(vb.address);
    },
  },
];
