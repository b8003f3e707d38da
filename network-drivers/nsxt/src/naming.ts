import { createHash } from 'node:crypto';

/** The tag scope every object carries, with the cluster's uuid as its value (leftover checks search on it). */
export const CLUSTER_SCOPE = 'slipway/cluster';
export const OWNER_SCOPE = 'slipway/owner';

export interface Tag {
  scope: string;
  tag: string;
}

/** NSX ids allow letters, digits, `_`, `.` and `-`; anything else is replaced and a short hash keeps ids distinct. */
export function safeId(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9_.-]/g, '_');
  if (cleaned === value && value.length <= 80) return value;
  return `${cleaned.slice(0, 60)}-${createHash('sha256').update(value).digest('hex').slice(0, 10)}`;
}

/**
 * Every object of a cluster, by a caller-chosen id derived from its uuid: a PATCH of the same id is an upsert,
 * so a prepare resumed after a crash converges instead of duplicating.
 */
export function clusterObjects(clusterId: string) {
  const c = `slipway-${safeId(clusterId)}`;
  const tier1 = `/infra/tier-1s/${c}`;
  return {
    prefix: c,
    tier1,
    tier1Locale: `${tier1}/locale-services/default`,
    lbTier1: `/infra/tier-1s/${c}-lb`,
    lbTier1Locale: `/infra/tier-1s/${c}-lb/locale-services/default`,
    carvePool: `/infra/ip-pools/${c}-carve`,
    carveSubnet: `/infra/ip-pools/${c}-carve/ip-subnets/nodes`,
    nodePool: `/infra/ip-pools/${c}-nodes`,
    nodeSubnet: `/infra/ip-pools/${c}-nodes/ip-subnets/nodes`,
    segment: `/infra/segments/${c}-nodes`,
    natRule: `${tier1}/nat/USER/nat-rules/${c}-snat`,
    lbService: `/infra/lb-services/${c}`,
    monitor: `/infra/lb-monitor-profiles/${c}-api-tcp`,
    apiPool: `/infra/lb-pools/${c}-api`,
    apiVs: `/infra/lb-virtual-servers/${c}-api`,
    ingressVs: `/infra/lb-virtual-servers/${c}-ingress`,
    nodesGroup: `/infra/domains/default/groups/${c}-nodes`,
    mastersGroup: `/infra/domains/default/groups/${c}-masters`,
    infrastructureGroup: `/infra/domains/default/groups/${c}-infrastructure`,
    policy: `/infra/domains/default/security-policies/${c}`,
    /** Allocation ids in the floating IP pool. */
    snatAllocation: `${c}-snat`,
    apiVipAllocation: `${c}-api-vip`,
    ingressVipAllocation: `${c}-ingress-vip`,
  };
}

export type ClusterObjects = ReturnType<typeof clusterObjects>;

export function allocationId(owner: string): string {
  return `node-${safeId(owner)}`;
}

export function clusterTags(clusterId: string, clusterName?: string): Tag[] {
  return [
    { scope: CLUSTER_SCOPE, tag: clusterId },
    ...(clusterName ? [{ scope: 'slipway/cluster-name', tag: clusterName.slice(0, 256) }] : []),
  ];
}

export function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
