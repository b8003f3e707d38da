import {
  SlipwayError,
  type AddressAllocation,
  type ApiEndpoint,
  type ApiEndpointInput,
  type CallOptions,
  type ClusterNetwork,
  type NetworkDriver,
  type NetworkObject,
  type PrepareClusterInput,
} from '@slipway/contracts';
import type { PolicyClient } from './client.js';
import type { NsxtConfig } from './config.js';
import { PLUGIN } from './errors.js';
import { buildInfraPatch } from './hierarchy.js';
import { netmaskOf, parseCidr } from './ipv4.js';
import {
  CLUSTER_SCOPE,
  OWNER_SCOPE,
  allocationId,
  clusterObjects,
  clusterTags,
  type ClusterObjects,
  type Tag,
} from './naming.js';
import { Progress } from './progress.js';
import type { Realization } from './realization.js';
import { FLOATING_POOL_SCOPE, clusterIntent, routingIntent, type Realized, type TopologyChoices } from './topology.js';

interface PolicyObject {
  id?: string;
  path?: string;
  resource_type?: string;
  tags?: Tag[];
  _revision?: number;
}
interface Allocation extends PolicyObject {
  allocation_ip?: string;
}
interface StaticSubnet extends PolicyObject {
  cidr?: string;
  gateway_ip?: string;
  dns_nameservers?: string[];
}
interface LbPool extends PolicyObject {
  members?: Array<{ ip_address: string; port?: string; display_name?: string }>;
  active_monitor_paths?: string[];
}
interface VirtualServer extends PolicyObject {
  ip_address?: string;
  ports?: string[];
}
interface LbServiceStatus {
  pools?: Array<{ pool_path?: string; members?: Array<{ ip_address?: string; port?: string; status?: string }> }>;
}
interface ListResult<T> {
  results?: T[];
  cursor?: string;
}

/**
 * The NSX-T Policy driver. It holds no state of its own: every object has an id derived from the cluster's
 * uuid, node addresses are NSX ip-allocations in the cluster's pool with the owner in the id and a tag, and
 * the VIPs are read back from the virtual servers, so a control plane restarted elsewhere sees the same state.
 */
export class NsxtNetworkDriver implements NetworkDriver {
  constructor(
    private readonly client: PolicyClient,
    private readonly realization: Realization,
    private readonly config: NsxtConfig,
    private readonly progress = new Progress(),
  ) {}

  async prepareCluster(input: PrepareClusterInput, options: CallOptions = {}): Promise<ClusterNetwork> {
    if (options.signal?.aborted)
      throw new SlipwayError('Cancelled', 'prepareCluster was aborted', {
        plugin: PLUGIN,
        cause: options.signal.reason,
      });
    const choices = this.choices(input);
    const verb = `prepare:${input.clusterId}:${JSON.stringify([input.clusterName, choices])}`;
    return this.resumable(verb, () => this.prepare(input, choices, verb, options.signal));
  }

  private async prepare(
    input: PrepareClusterInput,
    asked: TopologyChoices,
    verb: string,
    signal?: AbortSignal,
  ): Promise<ClusterNetwork> {
    const o = clusterObjects(input.clusterId);
    const step = <T>(name: string, run: () => Promise<T>) => this.progress.step(verb, name, run);
    // A cluster that exists keeps its Tier-0 and the floating pool of its VIPs, whatever its profile says now:
    // kubeconfigs and certificates carry the API VIP, and TKGI does not move a cluster to another Tier-0 either.
    const existing = await step('existing', () =>
      this.client.request<PolicyObject & { tier0_path?: string }>({
        operation: 'getTier1',
        path: o.tier1,
        signal,
        notFoundOk: true,
      }),
    );
    const choices: TopologyChoices = {
      ...asked,
      ...(existing?.tier0_path ? { tier0Path: existing.tier0_path } : {}),
      ...pinnedPool(existing),
    };
    const wait = (path: string) => step(`realized ${path}`, () => this.realization.wait(path, signal));
    // 1: routers, the carved node subnet and the floating addresses, in one atomic hierarchical PATCH.
    await step('patch routing', () =>
      this.patchInfra(routingIntent(o, choices, input.clusterId, input.clusterName), signal),
    );
    const floating = (id: string) => `${choices.floatingPoolPath}/ip-allocations/${id}`;
    const [carved, snat, api, ingress] = await Promise.all([
      wait(o.carveSubnet),
      wait(floating(o.snatAllocation)),
      wait(floating(o.apiVipAllocation)),
      wait(floating(o.ingressVipAllocation)),
    ]);
    const realized: Realized = {
      cidr: attribute(carved, 'cidr', o.carveSubnet),
      gateway: '',
      snatIp: attribute(snat, 'allocation_ip', o.snatAllocation),
      apiVip: attribute(api, 'allocation_ip', o.apiVipAllocation),
      ingressVip: attribute(ingress, 'allocation_ip', o.ingressVipAllocation),
    };
    // 2: everything attached to them, in a second atomic PATCH; then wait until the routers and the data path exist.
    const intent = clusterIntent(o, choices, realized, input.clusterId, input.clusterName);
    await step('patch cluster', () => this.patchInfra(intent, signal));
    await Promise.all(
      [o.tier1, ...(choices.singleTier ? [] : [o.lbTier1]), o.segment, o.natRule, o.lbService, o.policy].map(wait),
    );
    this.progress.forget(verb);
    const gateway = (intent.find((i) => i.path === o.nodeSubnet)!.body as { gateway_ip: string }).gateway_ip;
    return {
      clusterId: input.clusterId,
      cidr: realized.cidr,
      gateway,
      ...(choices.dns.length ? { dns: choices.dns } : {}),
      ingressAddress: realized.ingressVip,
      egressAddresses: [realized.snatIp],
      isolated: true,
    };
  }

  async allocateAddress(
    input: { clusterId: string; owner: string; iaas: string },
    options: CallOptions = {},
  ): Promise<AddressAllocation> {
    const signal = options.signal;
    if (signal?.aborted)
      throw new SlipwayError('Cancelled', 'allocateAddress was aborted', { plugin: PLUGIN, cause: signal.reason });
    const o = clusterObjects(input.clusterId);
    const path = `${o.nodePool}/ip-allocations/${allocationId(input.owner)}`;
    const subnet = await this.nodeSubnet(o, signal);
    // PATCH of an existing allocation keeps its address: asking again for the same owner answers the same IP.
    await this.client.request({
      operation: 'patchIpAllocation',
      method: 'PATCH',
      path,
      signal,
      json: {
        display_name: input.owner.slice(0, 255),
        tags: [...clusterTags(input.clusterId), { scope: OWNER_SCOPE, tag: input.owner.slice(0, 256) }],
      },
    });
    const realized = await this.realization.wait(path, signal);
    return this.allocation(input.owner, attribute(realized, 'allocation_ip', path), subnet);
  }

  async releaseAddress(input: { clusterId: string; owner: string }, options: CallOptions = {}): Promise<void> {
    const o = clusterObjects(input.clusterId);
    await this.delete(
      `${o.nodePool}/ip-allocations/${allocationId(input.owner)}`,
      'deleteIpAllocation',
      options.signal,
    );
  }

  async listAllocations(input: { clusterId: string }, options: CallOptions = {}): Promise<AddressAllocation[]> {
    const o = clusterObjects(input.clusterId);
    const subnet = await this.client.request<StaticSubnet>({
      operation: 'getIpSubnet',
      path: o.nodeSubnet,
      signal: options.signal,
      notFoundOk: true,
    });
    if (!subnet) return [];
    const allocations = await this.list<Allocation>(
      `${o.nodePool}/ip-allocations`,
      'listIpAllocations',
      options.signal,
    );
    // NSX may show an automatic allocation's address only in its realized state: read it there when the intent lacks it.
    const ips = await Promise.all(
      allocations.map(
        async (a) =>
          a.allocation_ip ??
          (await this.realization.read(`${o.nodePool}/ip-allocations/${a.id}`, options.signal))?.allocation_ip?.[0],
      ),
    );
    return allocations.flatMap((a, i) =>
      ips[i] ? [this.allocation(a.tags?.find((t) => t.scope === OWNER_SCOPE)?.tag ?? a.id ?? '', ips[i]!, subnet)] : [],
    );
  }

  async ensureApiEndpoint(input: ApiEndpointInput, options: CallOptions = {}): Promise<ApiEndpoint> {
    const signal = options.signal;
    const o = clusterObjects(input.clusterId);
    const vs = await this.client.request<VirtualServer>({
      operation: 'getLbVirtualServer',
      path: o.apiVs,
      signal,
      notFoundOk: true,
    });
    if (!vs?.ip_address) {
      throw new SlipwayError(
        'NotFound',
        `cluster ${input.clusterId} has no API virtual server (${o.apiVs}); prepare its network first`,
        { plugin: PLUGIN },
      );
    }
    const port = String(input.port);
    if (!vs.ports?.includes(port)) {
      await this.client.request({
        operation: 'patchLbVirtualServer',
        method: 'PATCH',
        path: o.apiVs,
        json: { ports: [port] },
        signal,
      });
    }
    const pool = await this.client.request<LbPool>({ operation: 'getLbPool', path: o.apiPool, signal });
    const wanted = [...new Set(input.masters)].sort();
    const current = (pool?.members ?? []).map((m) => `${m.ip_address}:${m.port ?? ''}`).sort();
    if (current.join(',') !== wanted.map((ip) => `${ip}:${port}`).join(',')) {
      // The firewall admits 8443 to the masters only: their group follows the pool, and is written first so a
      // retry after a failed pool write finds the pool still different and writes both again.
      await this.client.request({
        operation: 'patchGroup',
        method: 'PATCH',
        path: o.mastersGroup,
        signal,
        json: {
          expression: wanted.length
            ? [{ resource_type: 'IPAddressExpression', id: 'masters', ip_addresses: wanted }]
            : [],
        },
      });
      // PUT with the _revision just read: a concurrent writer makes NSX answer 412 (Conflict, retryable) rather
      // than one member list silently replacing another.
      await this.client.request({
        operation: 'putLbPool',
        method: 'PUT',
        path: o.apiPool,
        signal,
        json: { ...pool, members: wanted.map((ip, i) => ({ ip_address: ip, port, display_name: `master-${i}` })) },
      });
    }
    return { address: vs.ip_address, loadBalanced: true, members: await this.memberHealth(o, wanted, signal) };
  }

  async teardownCluster(input: { clusterId: string }, options: CallOptions = {}): Promise<void> {
    if (options.signal?.aborted)
      throw new SlipwayError('Cancelled', 'teardownCluster was aborted', {
        plugin: PLUGIN,
        cause: options.signal.reason,
      });
    const verb = `teardown:${input.clusterId}`;
    await this.resumable(verb, () => this.teardown(input.clusterId, verb, options.signal));
  }

  private async teardown(clusterId: string, verb: string, signal?: AbortSignal): Promise<void> {
    const input = { clusterId };
    const o = clusterObjects(clusterId);
    const remove = (operation: string, ...paths: string[]) =>
      paths.map((path) => this.progress.step(verb, `delete ${path}`, () => this.delete(path, operation, signal)));
    // Dependency order, in waves: NSX refuses to delete what another object still references or what still has
    // children, and objects of one wave do not depend on each other, so each wave goes out at once.
    const nodeAllocations = async () => {
      const allocations = await this.list<Allocation>(`${o.nodePool}/ip-allocations`, 'listIpAllocations', signal);
      await Promise.all(
        allocations.flatMap((a) => remove('deleteIpAllocation', `${o.nodePool}/ip-allocations/${a.id}`)),
      );
    };
    await Promise.all([
      ...remove('deleteLbVirtualServer', o.apiVs, o.ingressVs),
      ...remove('deleteSecurityPolicy', o.policy),
      ...remove('deleteNatRule', o.natRule),
      this.progress.step(verb, 'node allocations', nodeAllocations),
    ]);
    await Promise.all([
      ...remove('deleteLbPool', o.apiPool),
      ...remove('deleteLbService', o.lbService),
      ...remove('deleteGroup', o.nodesGroup, o.mastersGroup, o.infrastructureGroup),
      ...remove('deleteIpSubnet', o.nodeSubnet),
    ]);
    // The floating addresses may come from a profile's pool: found by tag rather than by the config's pool.
    const [, , , , floating] = await Promise.all([
      ...remove('deleteLbMonitorProfile', o.monitor),
      ...remove('deleteIpPool', o.nodePool),
      ...remove('deleteSegment', o.segment),
      ...remove('deleteIpSubnet', o.carveSubnet),
      this.progress.step(verb, 'floating', () =>
        this.search(
          `resource_type:IpAddressAllocation AND tags.scope:${escape(CLUSTER_SCOPE)} AND tags.tag:${escape(input.clusterId)}`,
          signal,
        ),
      ),
    ]);
    await Promise.all([
      ...remove('deleteIpPool', o.carvePool),
      ...remove('deleteLocaleServices', o.tier1Locale, o.lbTier1Locale),
      ...(floating as PolicyObject[]).flatMap((a) =>
        a.path && !a.path.startsWith(o.nodePool) ? remove('deleteIpAllocation', a.path) : [],
      ),
    ]);
    await Promise.all(remove('deleteTier1', o.lbTier1, o.tier1));
    this.progress.forget(`prepare:${input.clusterId}:`);
    this.progress.forget(verb);
  }

  /**
   * Runs a verb whose steps are kept for the engine's retry. An error the engine does not retry (a realization
   * error, a refusal, a cancel) ends the sequence: its steps are forgotten, so the next task writes every intent
   * again, which is also what makes NSX realize a failed intent anew once its cause is fixed.
   */
  private async resumable<T>(verb: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (!SlipwayError.from(error).retryable) this.progress.forget(verb);
      throw error;
    }
  }

  async listClusterObjects(options: CallOptions = {}): Promise<NetworkObject[]> {
    const found = await this.search(`tags.scope:${escape(CLUSTER_SCOPE)}`, options.signal);
    return found.flatMap((object) => {
      const clusterId = object.tags?.find((t) => t.scope === CLUSTER_SCOPE)?.tag;
      return clusterId && object.path ? [{ clusterId, kind: object.resource_type ?? 'unknown', id: object.path }] : [];
    });
  }

  async destroy(): Promise<void> {
    await this.client.close();
  }

  /** The LB's view of each member, from the service's detailed status; unknown (no `healthy`) when NSX has none yet. */
  private async memberHealth(
    o: ClusterObjects,
    wanted: string[],
    signal?: AbortSignal,
  ): Promise<ApiEndpoint['members']> {
    const status = await this.client.request<LbServiceStatus>({
      operation: 'getLbServiceDetailedStatus',
      path: `${o.lbService}/detailed-status`,
      query: { source: 'realtime' },
      signal,
      notFoundOk: true,
    });
    const seen = new Map<string, string>();
    for (const pool of status?.pools ?? []) {
      if (pool.pool_path !== o.apiPool) continue;
      for (const member of pool.members ?? [])
        if (member.ip_address && member.status) seen.set(member.ip_address, member.status);
    }
    return wanted.map((address) => {
      const state = seen.get(address);
      return state === 'UP' || state === 'DOWN' ? { address, healthy: state === 'UP' } : { address };
    });
  }

  private choices(input: PrepareClusterInput): TopologyChoices {
    const p = input.profile?.parameters ?? {};
    const tier0 = p.t0_router_id
      ? p.t0_router_id.startsWith('/')
        ? p.t0_router_id
        : `/infra/tier-0s/${p.t0_router_id}`
      : this.config.tier0_path;
    const fip = p.fip_pool_ids?.[0];
    return {
      tier0Path: tier0,
      floatingPoolPath: fip
        ? fip.startsWith('/')
          ? fip
          : `/infra/ip-pools/${fip}`
        : this.config.floating_ip_pool_path,
      ipBlockPath: this.config.nodes_ip_block_path,
      edgeClusterPath: this.config.edge_cluster_path,
      transportZonePath: this.config.transport_zone_path,
      singleTier: p.single_tier_topology ?? this.config.single_tier_topology ?? true,
      lbSize: p.lb_size ? (p.lb_size.toUpperCase() as TopologyChoices['lbSize']) : (this.config.lb_size ?? 'SMALL'),
      subnetPrefix: this.config.node_subnet_prefix ?? 24,
      addressesPerCluster: this.config.node_addresses_per_cluster,
      dns: p.nodes_dns ?? this.config.nodes_dns ?? [],
      failoverMode: p.failover_mode ?? 'NON_PREEMPTIVE',
      infrastructureNetworks: p.infrastructure_networks ?? [],
    };
  }

  private async patchInfra(objects: ReturnType<typeof routingIntent>, signal?: AbortSignal): Promise<void> {
    await this.client.request({
      operation: 'patchInfra',
      method: 'PATCH',
      path: '/infra',
      json: buildInfraPatch(objects),
      signal,
    });
  }

  private async nodeSubnet(o: ClusterObjects, signal?: AbortSignal): Promise<StaticSubnet> {
    const subnet = await this.client.request<StaticSubnet>({
      operation: 'getIpSubnet',
      path: o.nodeSubnet,
      signal,
      notFoundOk: true,
    });
    if (!subnet?.cidr)
      throw new SlipwayError(
        'NotFound',
        `the cluster's node pool ${o.nodePool} does not exist; prepare its network first`,
        { plugin: PLUGIN },
      );
    return subnet;
  }

  private allocation(owner: string, ip: string, subnet: StaticSubnet): AddressAllocation {
    return {
      owner,
      ip,
      netmask: netmaskOf(parseCidr(subnet.cidr!).prefix),
      ...(subnet.gateway_ip ? { gateway: subnet.gateway_ip } : {}),
      ...(subnet.dns_nameservers?.length ? { dns: subnet.dns_nameservers } : {}),
    };
  }

  private async delete(path: string, operation: string, signal?: AbortSignal): Promise<void> {
    await this.client.request({ operation, method: 'DELETE', path, signal, notFoundOk: true });
  }

  private async list<T>(path: string, operation: string, signal?: AbortSignal): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.client.request<ListResult<T>>({
        operation,
        path,
        query: { cursor },
        signal,
        notFoundOk: true,
      });
      if (!page) return out;
      out.push(...(page.results ?? []));
      cursor = page.cursor || undefined;
    } while (cursor);
    return out;
  }

  private search(query: string, signal?: AbortSignal): Promise<PolicyObject[]> {
    return this.list<PolicyObject>(`/search/query?query=${encodeURIComponent(query)}`, 'searchQuery', signal);
  }
}

function pinnedPool(tier1: PolicyObject | undefined): Partial<TopologyChoices> {
  const pool = tier1?.tags?.find((t) => t.scope === FLOATING_POOL_SCOPE)?.tag;
  return pool ? { floatingPoolPath: pool } : {};
}

function attribute(attributes: Record<string, string[]>, key: string, what: string): string {
  const value = attributes[key]?.[0];
  if (!value) throw new SlipwayError('CloudError', `nsx realized ${what} without its ${key}`, { plugin: PLUGIN });
  return value;
}

/** Lucene-escapes a value for `/search/query` (the scope's `/`, a uuid's `-`). */
function escape(value: string): string {
  return value.replace(/[+\-&|!(){}[\]^"~*?:\\/]/g, '\\$&');
}
