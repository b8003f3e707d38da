import {
  SlipwayError,
  throwIfAborted,
  type AddressAllocation,
  type ApiEndpoint,
  type ApiEndpointInput,
  type CallOptions,
  type Logger,
  type ClusterNetwork,
  type NetworkCapability,
  type NetworkDriver,
  type NetworkObject,
  type PrepareClusterInput,
} from '@slipway/contracts';
import type { FlatConfig } from './config.js';
import { intToIp, parseRange, pickAddress, type Range } from './ipam.js';
import type { ApiLoadBalancer } from './load-balancer.js';
import { parseVipRange, pickVip } from './vip-pool.js';
import type { FlatState, FlatStateStore } from './store.js';

/**
 * A flat network: every cluster of an IaaS target shares that target's range. With `load_balancer` the API
 * endpoint is a VIP per cluster from `vip_range` (HAProxy managed here, or a config for an external LB);
 * without, the first master. Allocation is synchronous over in-memory state, saved before returning,
 * so two concurrent calls can never hand out one address.
 */
export class FlatNetworkDriver implements NetworkDriver {
  private readonly ranges = new Map<string, Range>();
  private state: FlatState;
  /** The state as last loaded or saved: what a save compares with to write only its own changes. */
  private saved: FlatState;
  /** State changes run one at a time in this process (read, change, write). */
  private changing: Promise<unknown> = Promise.resolve();
  private readonly byOwner = new Map<string, FlatState['allocations'][number]>();
  readonly capabilities: readonly NetworkCapability[];
  private readonly vipRange?: { first: number; last: number };
  /** One change at a time per cluster's balancer: a reload must not race a teardown. */
  private readonly lbQueue = new Map<string, Promise<unknown>>();

  constructor(
    private readonly config: FlatConfig,
    private readonly file: FlatStateStore,
    initial: FlatState,
    private readonly lb?: ApiLoadBalancer,
    private readonly logger?: Logger,
  ) {
    this.capabilities = lb ? ['lb', 'leftovers'] : ['leftovers'];
    if (lb) this.vipRange = parseVipRange(config.load_balancer!.vip_range!);
    for (const [target, spec] of Object.entries(config.ranges ?? {}))
      this.ranges.set(target, parseRange(spec, `network.config.ranges.${target}`));
    this.state = initial;
    this.saved = structuredClone(initial);
    this.index();
  }

  private index(): void {
    this.byOwner.clear();
    for (const a of this.state.allocations) this.byOwner.set(key(a.clusterId, a.owner), a);
  }

  /**
   * Runs a change of the state alone in this process, on the state as the store holds it now (another
   * control plane may have changed a shared store). A write that conflicts with another's (the same address
   * taken meanwhile) fails with Retryable; the engine's retry runs the change again on fresh state.
   */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.changing
      .catch(() => undefined)
      .then(async () => {
        if (this.file.shared) {
          this.state = await this.file.load();
          this.saved = structuredClone(this.state);
          this.index();
        }
        try {
          return await work();
        } catch (e) {
          if (this.file.shared) {
            // What was changed in memory was not written: forget it.
            this.state = structuredClone(this.saved);
            this.index();
          }
          throw e;
        }
      });
    this.changing = run;
    return run;
  }

  private async persist(): Promise<void> {
    await this.file.save(this.state, this.saved);
    this.saved = structuredClone(this.state);
  }

  async prepareCluster(input: PrepareClusterInput, options?: CallOptions): Promise<ClusterNetwork> {
    throwIfAborted(options?.signal);
    return this.exclusive(async () => {
      const range = this.rangeOf(input.iaas);
      const dns = input.profile?.parameters.nodes_dns;
      const known = this.state.clusters.includes(input.clusterId);
      const dnsChanged =
        dns !== undefined && JSON.stringify(this.state.clusterDns?.[input.clusterId]) !== JSON.stringify(dns);
      if (!known) this.state.clusters.push(input.clusterId);
      if (dnsChanged) (this.state.clusterDns ??= {})[input.clusterId] = [...dns];
      if (!known || dnsChanged) await this.persist();
      return {
        clusterId: input.clusterId,
        cidr: range.cidr,
        gateway: intToIp(range.gateway),
        dns: this.dnsOf(input.clusterId, range),
      };
    });
  }

  async allocateAddress(
    input: { clusterId: string; owner: string; iaas: string },
    options?: CallOptions,
  ): Promise<AddressAllocation> {
    throwIfAborted(options?.signal);
    return this.exclusive(async () => {
      const existing = this.byOwner.get(key(input.clusterId, input.owner));
      const range = this.rangeOf(existing?.target ?? input.iaas);
      if (existing) return this.view(existing, range);
      const inUse = new Set(this.state.allocations.filter((a) => a.target === input.iaas).map((a) => a.ip));
      const released = this.state.released[input.iaas] ?? [];
      const pick = pickAddress(range, inUse, released, this.state.cursors[input.iaas] ?? range.first);
      if (!pick) {
        const size = range.last - range.first + 1;
        throw new SlipwayError(
          'CapacityExhausted',
          `no free address in ${range.cidr} (IaaS target ${input.iaas}): all ${size - range.reserved.size} usable addresses are allocated`,
          {
            hint: `Widen network.config.ranges.${input.iaas}.cidr in slipway.yaml, or delete clusters you no longer need.`,
          },
        );
      }
      const allocation = { clusterId: input.clusterId, owner: input.owner, ip: pick.ip, target: input.iaas };
      this.state.allocations.push(allocation);
      this.state.cursors[input.iaas] = pick.cursor;
      if (pick.fromReleased) this.state.released[input.iaas] = released.filter((ip) => ip !== pick.ip);
      this.byOwner.set(key(input.clusterId, input.owner), allocation);
      await this.persist();
      return this.view(allocation, range);
    });
  }

  async releaseAddress(input: { clusterId: string; owner: string }, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    await this.exclusive(async () => {
      const existing = this.byOwner.get(key(input.clusterId, input.owner));
      if (!existing) return;
      this.drop([existing]);
      await this.persist();
    });
  }

  async ensureApiEndpoint(input: ApiEndpointInput, options?: CallOptions): Promise<ApiEndpoint> {
    throwIfAborted(options?.signal);
    if (!this.lb) {
      if (!input.masters.length)
        throw new SlipwayError('InvalidInput', `cluster ${input.clusterId} has no master address yet`);
      return { address: input.masters[0]!, loadBalanced: false };
    }
    const lb = this.lb;
    const record = await this.exclusive(async () => {
      const vips = (this.state.vips ??= {});
      let vip = vips[input.clusterId];
      if (!vip) {
        const address = pickVip(
          this.vipRange!,
          Object.values(vips).map((v) => v.address),
          this.config.load_balancer!.vip_range!,
        );
        vip = { address, port: this.config.load_balancer!.port ?? 8443, members: [], memberPort: input.port };
      }
      // Recorded before the balancer changes, so a crash in between is finished by the next call, never leaked.
      vips[input.clusterId] = vip = { ...vip, members: [...new Set(input.masters)], memberPort: input.port };
      await this.persist();
      return vip;
    });
    return this.serially(input.clusterId, () => lb.apply(input.clusterId, record));
  }

  async teardownCluster(input: { clusterId: string }, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal);
    const lb = this.lb;
    await this.exclusive(async () => {
      if (this.state.vips?.[input.clusterId]) {
        delete this.state.vips[input.clusterId];
        await this.persist();
      }
    });
    if (lb) await this.serially(input.clusterId, () => lb.remove(input.clusterId));
    await this.exclusive(async () => {
      this.drop(this.state.allocations.filter((a) => a.clusterId === input.clusterId));
      this.state.clusters = this.state.clusters.filter((c) => c !== input.clusterId);
      if (this.state.clusterDns) delete this.state.clusterDns[input.clusterId];
      await this.persist();
    });
  }

  async listClusterObjects(options?: CallOptions): Promise<NetworkObject[]> {
    throwIfAborted(options?.signal);
    await this.exclusive(async () => undefined);
    const lb = this.lb;
    const withBalancer = new Set([...this.state.clusters, ...Object.keys(this.state.vips ?? {})]);
    return [
      ...this.state.clusters.map((clusterId) => ({ clusterId, kind: 'cluster-network', id: clusterId })),
      ...this.state.allocations.map((a) => ({
        clusterId: a.clusterId,
        kind: 'address',
        id: `${a.target}/${intToIp(a.ip)}`,
      })),
      ...Object.entries(this.state.vips ?? {}).map(([clusterId, v]) => ({ clusterId, kind: 'vip', id: v.address })),
      ...(lb ? [...withBalancer].flatMap((clusterId) => lb.objects(clusterId).map((o) => ({ clusterId, ...o }))) : []),
    ];
  }

  /** Stops every managed balancer, keeping their VIPs and members: the next start brings them back. */
  async stopBalancers(): Promise<void> {
    const lb = this.lb;
    if (!lb) return;
    for (const clusterId of Object.keys(this.state.vips ?? {}))
      await this.serially(clusterId, () => lb.stop(clusterId));
  }

  /** Restarts managed balancers that died; the plugin runs it on a timer. */
  async supervise(): Promise<void> {
    const lb = this.lb;
    if (!lb) return;
    await this.exclusive(async () => undefined);
    for (const clusterId of Object.keys(this.state.vips ?? {})) {
      await this.serially(clusterId, async () => {
        // Read again inside the queue: a teardown that ran first removed the record, and nothing restarts.
        const vip = this.state.vips?.[clusterId];
        if (!vip || lb.running(clusterId)) return;
        this.logger?.warn(`API load balancer of cluster ${clusterId} is not running; starting it again`, {
          vip: vip.address,
        });
        await lb.apply(clusterId, vip);
      }).catch((e: unknown) =>
        this.logger?.error(`restarting the API load balancer of cluster ${clusterId} failed`, { error: String(e) }),
      );
    }
  }

  private serially<T>(clusterId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.lbQueue.get(clusterId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.lbQueue.set(clusterId, next);
    void next
      .finally(() => {
        if (this.lbQueue.get(clusterId) === next) this.lbQueue.delete(clusterId);
      })
      .catch(() => undefined);
    return next;
  }

  async listAllocations(input: { clusterId: string }, options?: CallOptions): Promise<AddressAllocation[]> {
    throwIfAborted(options?.signal);
    await this.exclusive(async () => undefined);
    return this.state.allocations
      .filter((a) => a.clusterId === input.clusterId)
      .map((a) => this.view(a, this.rangeOf(a.target)));
  }

  async destroy(): Promise<void> {}

  private drop(list: FlatState['allocations']): void {
    const gone = new Set(list);
    this.state.allocations = this.state.allocations.filter((a) => !gone.has(a));
    for (const a of list) {
      this.byOwner.delete(key(a.clusterId, a.owner));
      (this.state.released[a.target] ??= []).push(a.ip);
    }
  }

  private rangeOf(target: string): Range {
    let range = this.ranges.get(target);
    if (!range && this.config.default_range) {
      range = parseRange(this.config.default_range, 'network.config.default_range');
      this.ranges.set(target, range);
    }
    if (!range) {
      throw new SlipwayError('InvalidConfig', `the flat network has no range for IaaS target "${target}"`, {
        field: `network.config.ranges.${target}`,
        hint: `Add network.config.ranges.${target}.cidr (or default_range) to slipway.yaml.`,
      });
    }
    return range;
  }

  private view(a: FlatState['allocations'][number], range: Range): AddressAllocation {
    return {
      owner: a.owner,
      ip: intToIp(a.ip),
      netmask: range.netmask,
      gateway: intToIp(range.gateway),
      dns: this.dnsOf(a.clusterId, range),
    };
  }

  private dnsOf(clusterId: string, range: Range): string[] {
    return this.state.clusterDns?.[clusterId] ?? range.dns;
  }
}

function key(clusterId: string, owner: string): string {
  return `${clusterId}/${owner}`;
}
