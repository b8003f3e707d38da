import type { CallOptions } from './call.js';

/**
 * Optional parts of the network contract (2.x). The engine checks `hasCapability` before it relies on one:
 * - `lb`: `ensureApiEndpoint` returns a VIP in front of every master, health-checked, whose members follow
 *   the masters; without it, the endpoint is one master's address;
 * - `ingress`: `prepareCluster` reserves an ingress VIP (`ClusterNetwork.ingressAddress`);
 * - `snat`: the cluster's egress leaves through SNAT addresses (`ClusterNetwork.egressAddresses`);
 * - `isolation`: traffic between clusters is refused except to each cluster's API VIP;
 * - `pod-routing`: the network routes pod CIDRs between nodes itself (NSX-T); without it the nodes' agents
 *   program host routes to each other's pod CIDRs (flannel's host-gw);
 * - `leftovers`: `listClusterObjects` reports what the driver made, by cluster uuid (`slipway doctor`).
 */
export const NETWORK_CAPABILITIES = ['lb', 'ingress', 'snat', 'isolation', 'pod-routing', 'leftovers'] as const;
export type NetworkCapability = (typeof NETWORK_CAPABILITIES)[number];

/**
 * A network driver gives each cluster its topology (router, segment, NAT, isolation), its nodes' addresses
 * and the load balancer of its Kubernetes API. Every verb is idempotent by a caller-chosen key (the cluster's
 * uuid, an instance id), so a task resumed after a crash asks again and gets the same answer; every verb
 * honours `options.signal`; failures are `SlipwayError`s (`Retryable`, `CapacityExhausted`, `InvalidConfig`,
 * `Conflict`...) and the engine, not the driver, retries.
 *
 * Contract 2.0 (network kind): `releaseCluster` became `teardownCluster`; `prepareCluster` takes the
 * cluster's network profile and returns the topology it made. 2.1 (additive): `capabilities` on the instance.
 */
export interface NetworkDriver {
  /**
   * Creates what the cluster needs before its VMs: with NSX-T a Tier-1 (or a place on a shared one), a node
   * segment, SNAT rules, groups and a security policy, an ingress VIP; on a flat network the address range.
   * Idempotent per `clusterId`; a second call with the same input returns the same topology.
   */
  prepareCluster(input: PrepareClusterInput, options?: CallOptions): Promise<ClusterNetwork>;
  /**
   * Allocates one address for `owner` (an instance id) in the cluster's network. Asking again for the same
   * owner returns the same address; no address is ever handed to two owners. An exhausted pool is
   * `CapacityExhausted`.
   */
  allocateAddress(
    input: { clusterId: string; owner: string; iaas: string },
    options?: CallOptions,
  ): Promise<AddressAllocation>;
  /** Releases one owner's address; succeeds when it holds none. */
  releaseAddress(input: { clusterId: string; owner: string }, options?: CallOptions): Promise<void>;
  /** Lists the current allocations of a cluster (for cloud checks). */
  listAllocations(input: { clusterId: string }, options?: CallOptions): Promise<AddressAllocation[]>;
  /**
   * Makes the cluster's API answer at one address on `port` in front of `masters` (the whole list each time:
   * members not listed are removed). With the `lb` capability this is a VIP with a TCP health check on each
   * member, stable for the cluster's life; without it, the first master's address.
   */
  ensureApiEndpoint(input: ApiEndpointInput, options?: CallOptions): Promise<ApiEndpoint>;
  /**
   * Removes everything the driver made for the cluster: load balancers, NAT rules, groups and policies,
   * segments, routers, addresses. Succeeds when nothing is left (a second call is a no-op).
   */
  teardownCluster(input: { clusterId: string }, options?: CallOptions): Promise<void>;
  /** `leftovers`: every object this driver made, by the cluster uuid it is tagged with. */
  listClusterObjects?(options?: CallOptions): Promise<NetworkObject[]>;
  /**
   * Contract 2.1: what this instance offers with the config it was given, a subset of the module's declared
   * `capabilities` (which list what the driver can do at most). Why: some capabilities depend on the
   * operator's config, not the code (the flat driver has `lb` only when a load balancer mode is configured),
   * and a module-level list cannot say so. Absent: the module's list. Read it through `networkCapabilities`.
   */
  readonly capabilities?: readonly NetworkCapability[];
  destroy(): Promise<void>;
}

/** The capabilities a live network driver offers: its own list where it gives one, else its module's. */
export function networkCapabilities(
  module: { capabilities?: readonly string[] },
  driver: Pick<NetworkDriver, 'capabilities'>,
): NetworkCapability[] {
  const declared = (module.capabilities ?? []).filter((c): c is NetworkCapability =>
    (NETWORK_CAPABILITIES as readonly string[]).includes(c),
  );
  return driver.capabilities ? declared.filter((c) => driver.capabilities!.includes(c)) : declared;
}

export interface PrepareClusterInput {
  clusterId: string;
  clusterName: string;
  iaas: string;
  /** The cluster's network profile (operator-defined, TKGI's shape), when it has one. */
  profile?: NetworkProfile;
}

export interface ClusterNetwork {
  clusterId: string;
  /** CIDR the cluster's nodes live in. */
  cidr: string;
  gateway?: string;
  dns?: string[];
  /** `ingress`: the VIP for the cluster's HTTP(S) ingress. */
  ingressAddress?: string;
  /** `snat`: the addresses the cluster's egress is translated to. */
  egressAddresses?: string[];
  /** `isolation`: true when other clusters cannot reach this one's nodes. */
  isolated?: boolean;
}

export interface ApiEndpointInput {
  clusterId: string;
  port: number;
  /** Every master's address; the load balancer's pool becomes exactly this set. */
  masters: string[];
}

export interface ApiEndpoint {
  /** The address clients and kubelets use. */
  address: string;
  /** True when `address` is a load-balanced VIP rather than one master. */
  loadBalanced: boolean;
  /** Each member's health as the load balancer last saw it, where it knows. */
  members?: Array<{ address: string; healthy?: boolean }>;
}

export interface AddressAllocation {
  owner: string;
  ip: string;
  netmask: string;
  gateway?: string;
  dns?: string[];
}

/** One object a network driver made, for leftover checks after a cluster is gone. */
export interface NetworkObject {
  clusterId: string;
  kind: string;
  id: string;
}

/**
 * A network profile: TKGI's fields that apply to Slipway (../shared/reference §5.3). The driver reads what
 * it understands; `slipway create-network-profile` validates the document before any cluster uses it.
 */
export interface NetworkProfile {
  name: string;
  description?: string;
  parameters: NetworkProfileParameters;
}

export interface NetworkProfileParameters {
  t0_router_id?: string;
  /** Updatable. Floating IP pools for SNAT and VIPs. */
  fip_pool_ids?: string[];
  /** Updatable. IP blocks pod subnets are carved from. */
  pod_ip_block_ids?: string[];
  pod_subnet_prefix?: number;
  pod_routable?: boolean;
  /** true: the cluster gets one shared Tier-1 (TKGI's default); false: a dedicated Tier-1 topology. */
  single_tier_topology?: boolean;
  lb_size?: 'small' | 'medium' | 'large';
  /** Updatable. At most three. */
  nodes_dns?: string[];
  dns_lookup_mode?: 'API' | 'API_INGRESS';
  failover_mode?: 'PREEMPTIVE' | 'NON_PREEMPTIVE';
  ingress_prefix?: string;
  master_vms_nsgroup_id?: string;
  infrastructure_networks?: string[];
  /** Updatable. */
  cni_configurations?: { type: string; parameters?: Record<string, unknown> };
}

/** The profile fields `update-cluster --network-profile` may change on a running cluster. */
export const UPDATABLE_NETWORK_PROFILE_FIELDS = [
  'fip_pool_ids',
  'pod_ip_block_ids',
  'nodes_dns',
  'cni_configurations',
] as const;
