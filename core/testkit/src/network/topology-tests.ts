import { expect } from 'vitest';
import { CONFORMANCE_IAAS, type NetworkConformanceContext } from './context.js';
import type { NetworkConformanceTest } from './test.js';

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export const topologyTests: NetworkConformanceTest[] = [
  {
    group: 'topology',
    name: 'prepareCluster is idempotent: asked again, it returns the same topology',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { id, network } = await ctx.preparedCluster();
      expect(network.clusterId, 'the topology names its cluster').toBe(id);
      expect(network.cidr, 'the cluster network is an IPv4 CIDR').toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
      const again = await driver.prepareCluster({
        clusterId: id,
        clusterName: `conformance-${id.slice(0, 8)}`,
        iaas: CONFORMANCE_IAAS,
      });
      expect(again, 'a resumed create-cluster task asks again and must get the same network').toEqual(network);
    },
  },
  {
    group: 'topology',
    name: 'the topology has what the declared capabilities promise',
    async run(ctx) {
      const { network } = await ctx.preparedCluster();
      if (ctx.has('ingress'))
        expect(network.ingressAddress, 'ingress: prepareCluster reserves an ingress VIP').toMatch(IPV4);
      if (ctx.has('snat')) {
        expect(network.egressAddresses?.length, 'snat: the egress (SNAT) addresses are reported').toBeGreaterThan(0);
        for (const address of network.egressAddresses ?? []) expect(address).toMatch(IPV4);
      }
      if (ctx.has('isolation'))
        expect(network.isolated, 'isolation: the topology says the cluster is isolated').toBe(true);
      if (!ctx.has('isolation'))
        expect(network.isolated ?? false, 'without isolation a topology must not claim it').toBe(false);
    },
  },
  {
    group: 'topology',
    name: 'lifecycle: prepare, allocate, endpoint and teardown, each repeated, leave nothing behind',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { id } = await ctx.preparedCluster();
      const owners = ['master-0', 'master-1', 'worker-0'];
      const first = await Promise.all(
        owners.map((owner) => driver.allocateAddress({ clusterId: id, owner, iaas: CONFORMANCE_IAAS })),
      );
      const second = await Promise.all(
        owners.map((owner) => driver.allocateAddress({ clusterId: id, owner, iaas: CONFORMANCE_IAAS })),
      );
      expect(second, 'allocateAddress asked again gives each owner what it got').toEqual(first);
      const masters = first.slice(0, 2).map((a) => a.ip);
      const endpoint = await driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters });
      const again = await driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters });
      expect(again, 'ensureApiEndpoint asked again').toMatchObject({
        address: endpoint.address,
        loadBalanced: endpoint.loadBalanced,
      });
      await driver.teardownCluster({ clusterId: id });
      await driver.teardownCluster({ clusterId: id });
      expect(await driver.listAllocations({ clusterId: id }), 'a torn-down cluster holds no address').toEqual([]);
      if (driver.listClusterObjects) {
        expect(
          (await driver.listClusterObjects()).filter((o) => o.clusterId === id),
          'nothing tagged with the cluster is left',
        ).toEqual([]);
      }
      // The same id prepared again starts from nothing (a create retried after a delete).
      await driver.prepareCluster({ clusterId: id, clusterName: `again-${id.slice(0, 8)}`, iaas: CONFORMANCE_IAAS });
      const fresh = await driver.allocateAddress({ clusterId: id, owner: 'master-0', iaas: CONFORMANCE_IAAS });
      expect(fresh.ip).toMatch(IPV4);
    },
  },
  {
    group: 'topology',
    name: 'tearing down a cluster that was never prepared succeeds',
    async run(ctx) {
      const { driver } = ctx.ready();
      await driver.teardownCluster({ clusterId: ctx.newCluster() });
    },
  },
  {
    group: 'topology',
    name: "a network profile's nodes_dns reaches the topology and every node address",
    async run(ctx) {
      const { driver } = ctx.ready();
      const id = ctx.newCluster();
      const profile = { name: 'conformance-dns', parameters: { nodes_dns: ['10.53.0.10', '10.53.0.11'] } };
      const input = { clusterId: id, clusterName: `dns-${id.slice(0, 8)}`, iaas: CONFORMANCE_IAAS, profile };
      const network = await driver.prepareCluster(input);
      expect(network.dns, "the cluster's name servers are the profile's nodes_dns").toEqual(
        profile.parameters.nodes_dns,
      );
      expect(await driver.prepareCluster(input), 'prepare with a profile is idempotent too').toEqual(network);
      const node = await driver.allocateAddress({ clusterId: id, owner: 'worker-0', iaas: CONFORMANCE_IAAS });
      expect(node.dns, "a node gets the profile's name servers").toEqual(profile.parameters.nodes_dns);
    },
  },
];

/** Allocates `count` addresses named `${prefix}-i` in a cluster. */
export async function allocate(
  ctx: NetworkConformanceContext,
  clusterId: string,
  prefix: string,
  count: number,
): Promise<string[]> {
  const { driver } = ctx.ready();
  const all = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      driver.allocateAddress({ clusterId, owner: `${prefix}-${i}`, iaas: CONFORMANCE_IAAS }),
    ),
  );
  return all.map((a) => a.ip);
}
