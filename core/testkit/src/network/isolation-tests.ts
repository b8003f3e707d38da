import { expect } from 'vitest';
import { SlipwayError } from '@slipway/contracts';
import type { NetworkConformanceContext } from './context.js';
import type { NetworkConformanceTest } from './test.js';
import { allocate } from './topology-tests.js';

function probe(ctx: NetworkConformanceContext): (from: string, to: string, port: number) => Promise<boolean> {
  const fake = ctx.ready().fake;
  if (!fake?.canReach) {
    throw new SlipwayError(
      'InvalidInput',
      'the driver declares isolation, but its fake gives the suite no canReach(from, to, port): ' +
        'a driver that promises isolation must let the suite observe it (the fake evaluates its own firewall rules)',
    );
  }
  return fake.canReach.bind(fake);
}

export const isolationTests: NetworkConformanceTest[] = [
  {
    group: 'isolation',
    name: "a node of one cluster cannot reach another cluster's nodes, and reaches its own",
    capability: 'isolation',
    async run(ctx) {
      const canReach = probe(ctx);
      const a = await ctx.preparedCluster('a');
      const b = await ctx.preparedCluster('b');
      const [a0, a1] = await allocate(ctx, a.id, 'node', 2);
      const [b0] = await allocate(ctx, b.id, 'node', 1);
      expect(await canReach(a0!, a1!, 10250), 'nodes of one cluster reach each other (kubelet)').toBe(true);
      expect(await canReach(a0!, b0!, 10250), 'a node of cluster a must not reach a node of cluster b').toBe(false);
      expect(await canReach(b0!, a0!, 22), 'nor the other way, on any port').toBe(false);
    },
  },
  {
    group: 'isolation',
    name: "another cluster still reaches this cluster's API VIP on 8443",
    capability: ['isolation', 'lb'],
    async run(ctx) {
      const canReach = probe(ctx);
      const { driver } = ctx.ready();
      const a = await ctx.preparedCluster('a');
      const b = await ctx.preparedCluster('b');
      const [am] = await allocate(ctx, a.id, 'master', 1);
      const [bn] = await allocate(ctx, b.id, 'node', 1);
      const vip = await driver.ensureApiEndpoint({ clusterId: a.id, port: 8443, masters: [am!] });
      expect(await canReach(bn!, vip.address, 8443), 'the API VIP is admitted from anywhere').toBe(true);
    },
  },
];

export const leftoverTests: NetworkConformanceTest[] = [
  {
    group: 'leftovers',
    name: 'listClusterObjects reports what the driver made for a cluster, tagged with its uuid',
    capability: 'leftovers',
    async run(ctx) {
      const { driver } = ctx.ready();
      const { id } = await ctx.preparedCluster();
      const masters = await allocate(ctx, id, 'master', 1);
      await driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters });
      const objects = (await driver.listClusterObjects!()).filter((o) => o.clusterId === id);
      expect(objects.length, 'a prepared cluster has objects to find').toBeGreaterThan(0);
      for (const object of objects) {
        expect(object.kind, 'every object says what it is').toMatch(/\S/);
        expect(object.id, 'every object has the id doctor would delete').toMatch(/\S/);
      }
    },
  },
  {
    group: 'leftovers',
    name: "none of a cluster's objects are left after teardown, and other clusters keep theirs",
    capability: 'leftovers',
    async run(ctx) {
      const { driver } = ctx.ready();
      const gone = await ctx.preparedCluster('gone');
      const kept = await ctx.preparedCluster('kept');
      for (const id of [gone.id, kept.id]) {
        const masters = await allocate(ctx, id, 'master', 1);
        await driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters });
      }
      const keptBefore = (await driver.listClusterObjects!()).filter((o) => o.clusterId === kept.id);
      await driver.teardownCluster({ clusterId: gone.id });
      const after = await driver.listClusterObjects!();
      expect(
        after.filter((o) => o.clusterId === gone.id),
        'leftovers of a torn-down cluster',
      ).toEqual([]);
      expect(after.filter((o) => o.clusterId === kept.id).length, 'another cluster keeps its objects').toBe(
        keptBefore.length,
      );
    },
  },
];
