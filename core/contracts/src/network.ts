import type { CallOptions } from './call.js';

/**
 * A network driver gives each cluster its addresses and, where the network has one, a load balancer for
 * the Kubernetes API. Every verb is idempotent by its natural key (cluster id, owner), so a task that is
 * resumed after a crash asks again and gets the same answer.
 */
export interface NetworkDriver {
  /** Creates what the cluster needs before VMs (segments, routers); idempotent per clusterId. */
  prepareCluster(input: { clusterId: string; clusterName: string; iaas: string }, options?: CallOptions): Promise<ClusterNetwork>;
  /**
   * Allocates one address for `owner` (an instance id) in the cluster's network. Asking again for the same
   * owner returns the same address; no address is ever handed to two owners. An exhausted pool is
   * `CapacityExhausted`.
   */
  allocateAddress(input: { clusterId: string; owner: string; iaas: string }, options?: CallOptions): Promise<AddressAllocation>;
  /** Releases one owner's address; succeeds when it holds none. */
  releaseAddress(input: { clusterId: string; owner: string }, options?: CallOptions): Promise<void>;
  /**
   * Points the cluster's API endpoint at the given master addresses; returns the address clients use.
   * A flat network without a load balancer returns the first master's address.
   */
  ensureApiEndpoint(input: { clusterId: string; port: number; masters: string[] }, options?: CallOptions): Promise<{ address: string }>;
  /** Releases everything of the cluster: addresses, balancers, segments. Succeeds when nothing is left. */
  releaseCluster(input: { clusterId: string }, options?: CallOptions): Promise<void>;
  /** Lists the current allocations of a cluster (for cloud checks). */
  listAllocations(input: { clusterId: string }, options?: CallOptions): Promise<AddressAllocation[]>;
  destroy(): Promise<void>;
}

export interface ClusterNetwork {
  clusterId: string;
  /** CIDR the cluster's nodes live in. */
  cidr: string;
  gateway?: string;
  dns?: string[];
}

export interface AddressAllocation {
  owner: string;
  ip: string;
  netmask: string;
  gateway?: string;
  dns?: string[];
}
