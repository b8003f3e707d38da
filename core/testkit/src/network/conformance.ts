import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlipwayError, type NetworkDriver, type PluginModule } from '@slipway/contracts';
import { createTestHost, type TestHost } from '../test-host.js';

/** What a network driver's test gives the suite: where its cloud network is (a fake) and its config. */
export interface NetworkConformanceTarget<C = unknown> {
  /** Driver config for a network of exactly `capacity` usable addresses on IaaS target `iaas`. */
  config(options: { iaas: string; capacity: number }): C | Promise<C>;
  /** Stops a fake, if the driver talks to one. */
  stop?(): Promise<void>;
}

export interface NetworkConformanceOptions<C = unknown> {
  plugin: PluginModule<'network', C>;
  /** Starts what the driver talks to (a wire-level fake of NSX-T, say); a flat driver needs nothing. */
  start: () => Promise<NetworkConformanceTarget<C>>;
  packageJson?: { slipway?: { kind?: string; contract?: string } };
}

const IAAS = 'conformance';
const CAPACITY = 6;

/**
 * The network contract's rules, against any driver: one address per owner, the same one when asked again,
 * never one address for two owners (also under 50 concurrent calls), a clear `CapacityExhausted` when the
 * pool is empty, idempotent releases, everything of a cluster released at once, and aborted signals refused.
 */
export function runNetworkConformance<C>(options: NetworkConformanceOptions<C>): void {
  let target: NetworkConformanceTarget<C>;
  let host: TestHost;
  let driver: NetworkDriver;
  let clusterSeq = 0;
  const cluster = () => `conformance-${++clusterSeq}`;

  describe('network conformance', () => {
    beforeAll(async () => {
      target = await options.start();
      host = await createTestHost({ instanceName: 'conformance' });
      driver = await options.plugin.create(await target.config({ iaas: IAAS, capacity: CAPACITY }), host);
    });
    afterAll(async () => {
      await driver?.destroy();
      await target?.stop?.();
      await host?.cleanup();
    });

    it('package.json agrees with the module', () => {
      if (!options.packageJson) return;
      expect(options.packageJson.slipway).toEqual({ kind: 'network', contract: options.plugin.contract });
    });

    it('prepares a cluster network idempotently', async () => {
      const id = cluster();
      const first = await driver.prepareCluster({ clusterId: id, clusterName: id, iaas: IAAS });
      const again = await driver.prepareCluster({ clusterId: id, clusterName: id, iaas: IAAS });
      expect(again).toEqual(first);
      expect(first.cidr).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
      await driver.teardownCluster({ clusterId: id });
    });

    it('gives an owner the same address when asked again, and no address to two owners', async () => {
      const id = cluster();
      await driver.prepareCluster({ clusterId: id, clusterName: id, iaas: IAAS });
      const a = await driver.allocateAddress({ clusterId: id, owner: 'a', iaas: IAAS });
      const b = await driver.allocateAddress({ clusterId: id, owner: 'b', iaas: IAAS });
      expect(await driver.allocateAddress({ clusterId: id, owner: 'a', iaas: IAAS })).toEqual(a);
      expect(a.ip).not.toBe(b.ip);
      expect((await driver.listAllocations({ clusterId: id })).map((x) => x.owner).sort()).toEqual(['a', 'b']);
      await driver.teardownCluster({ clusterId: id });
    });

    it('hands out distinct addresses under concurrent calls and says clearly when the pool is empty', async () => {
      const id = cluster();
      await driver.prepareCluster({ clusterId: id, clusterName: id, iaas: IAAS });
      const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => driver.allocateAddress({ clusterId: id, owner: `o${i}`, iaas: IAAS })));
      const ips = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.ip] : []));
      expect(ips).toHaveLength(CAPACITY);
      expect(new Set(ips).size).toBe(CAPACITY);
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      expect(refused.every((e) => SlipwayError.is(e, 'CapacityExhausted') && !e.retryable && e.hint.length > 0)).toBe(true);
      await driver.teardownCluster({ clusterId: id });
      expect(await driver.listAllocations({ clusterId: id })).toEqual([]);
    });

    it('releases an address idempotently and frees it for another owner', async () => {
      const id = cluster();
      await driver.prepareCluster({ clusterId: id, clusterName: id, iaas: IAAS });
      const held = await Promise.all(Array.from({ length: CAPACITY }, (_, i) => driver.allocateAddress({ clusterId: id, owner: `h${i}`, iaas: IAAS })));
      await driver.releaseAddress({ clusterId: id, owner: 'h0' });
      await driver.releaseAddress({ clusterId: id, owner: 'h0' });
      await driver.releaseAddress({ clusterId: id, owner: 'never-had-one' });
      const next = await driver.allocateAddress({ clusterId: id, owner: 'late', iaas: IAAS });
      expect(next.ip).toBe(held[0]!.ip);
      await driver.teardownCluster({ clusterId: id });
      await driver.teardownCluster({ clusterId: id });
    });

    it('points the API endpoint at a master', async () => {
      const id = cluster();
      await driver.prepareCluster({ clusterId: id, clusterName: id, iaas: IAAS });
      const m = await driver.allocateAddress({ clusterId: id, owner: 'master-0', iaas: IAAS });
      const { address } = await driver.ensureApiEndpoint({ clusterId: id, port: 8443, masters: [m.ip] });
      expect(address).toMatch(/\S/);
      await driver.teardownCluster({ clusterId: id });
    });

    it('refuses an aborted signal with Cancelled', async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(driver.allocateAddress({ clusterId: cluster(), owner: 'x', iaas: IAAS }, { signal: controller.signal })).rejects.toMatchObject({ code: 'Cancelled' });
    });
  });
}
