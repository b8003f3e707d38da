import type { IntentObject } from './hierarchy.js';
import { intToIp, parseCidr } from './ipv4.js';
import { clusterTags, lastSegment, type ClusterObjects, type Tag } from './naming.js';

/** What a cluster's topology is made from: the config, overridden by the cluster's network profile. */
export interface TopologyChoices {
  tier0Path: string;
  floatingPoolPath: string;
  ipBlockPath: string;
  edgeClusterPath?: string;
  transportZonePath?: string;
  singleTier: boolean;
  lbSize: 'SMALL' | 'MEDIUM' | 'LARGE';
  subnetPrefix: number;
  addressesPerCluster?: number;
  dns: string[];
  failoverMode: 'PREEMPTIVE' | 'NON_PREEMPTIVE';
  /** A profile's infrastructure_networks: management networks admitted to every node (TKGI's field). */
  infrastructureNetworks: string[];
}

/** The tag on a cluster's Tier-1 naming the floating pool its VIPs came from: they stay there for the cluster's life. */
export const FLOATING_POOL_SCOPE = 'slipway/floating-pool';

const DEFAULT_TCP_PROFILE = '/infra/lb-app-profiles/default-tcp-lb-app-profile';

/**
 * First hierarchical PATCH: the routers, the node subnet carved from the IP block (NSX picks the free /N, so
 * two clusters prepared at once never get the same one) and three floating addresses (SNAT, API VIP,
 * ingress VIP). Everything later depends on values NSX realizes here.
 */
export function routingIntent(o: ClusterObjects, c: TopologyChoices, clusterId: string, name: string): IntentObject[] {
  const tags = clusterTags(clusterId, name);
  const routerTags = [...tags, { scope: FLOATING_POOL_SCOPE, tag: c.floatingPoolPath }];
  const tier1 = (path: string, advertise: string[]): IntentObject[] => [
    {
      path,
      body: {
        display_name: lastSegment(path),
        tier0_path: c.tier0Path,
        route_advertisement_types: advertise,
        failover_mode: c.failoverMode,
        tags: routerTags,
      },
    },
    {
      path: `${path}/locale-services/default`,
      body: { ...(c.edgeClusterPath ? { edge_cluster_path: c.edgeClusterPath } : {}), tags },
    },
  ];
  const allocation = (id: string): IntentObject => ({
    path: `${c.floatingPoolPath}/ip-allocations/${id}`,
    body: { display_name: id, tags },
  });
  return [
    ...tier1(o.tier1, ['TIER1_CONNECTED', 'TIER1_NAT', 'TIER1_LB_VIP']),
    ...(c.singleTier ? [] : tier1(o.lbTier1, ['TIER1_LB_VIP'])),
    { path: o.carvePool, body: { display_name: `${o.prefix}-carve`, tags } },
    {
      path: o.carveSubnet,
      body: {
        resource_type: 'IpAddressPoolBlockSubnet',
        ip_block_path: c.ipBlockPath,
        size: 2 ** (32 - c.subnetPrefix),
        auto_assign_gateway: false,
        tags,
      },
    },
    allocation(o.snatAllocation),
    allocation(o.apiVipAllocation),
    allocation(o.ingressVipAllocation),
  ];
}

export interface Realized {
  cidr: string;
  gateway: string;
  snatIp: string;
  apiVip: string;
  ingressVip: string;
}

/** The gateway is the subnet's first host; node addresses follow it, as many as the config allows. */
export function nodeRange(
  cidr: string,
  addressesPerCluster: number | undefined,
): { gateway: string; start: string; end: string } {
  const { base, size } = parseCidr(cidr);
  const last = base + size - 2;
  const end = addressesPerCluster ? Math.min(last, base + 1 + addressesPerCluster) : last;
  return { gateway: intToIp(base + 1), start: intToIp(base + 2), end: intToIp(end) };
}

/** Second hierarchical PATCH: segment, node pool, SNAT, load balancer, groups and the isolating security policy. */
export function clusterIntent(
  o: ClusterObjects,
  c: TopologyChoices,
  r: Realized,
  clusterId: string,
  name: string,
): IntentObject[] {
  const tags: Tag[] = clusterTags(clusterId, name);
  const { prefix } = parseCidr(r.cidr);
  const range = nodeRange(r.cidr, c.addressesPerCluster);
  const tcp = (id: string, port: string) => ({
    resource_type: 'L4PortSetServiceEntry',
    id,
    l4_protocol: 'TCP',
    destination_ports: [port],
  });
  const rule = (id: string, sequence: number, fields: Record<string, unknown>): IntentObject => ({
    path: `${o.policy}/rules/${id}`,
    // Rules with service_entries name no `services`: NSX would add ANY to them and admit everything.
    body: {
      display_name: id,
      sequence_number: sequence,
      source_groups: ['ANY'],
      destination_groups: [o.nodesGroup],
      ...(fields.service_entries ? {} : { services: ['ANY'] }),
      scope: [o.nodesGroup],
      direction: 'IN_OUT',
      ip_protocol: 'IPV4',
      logged: false,
      tags,
      ...fields,
    },
  });
  return [
    { path: o.nodePool, body: { display_name: `${o.prefix}-nodes`, tags } },
    {
      path: o.nodeSubnet,
      body: {
        resource_type: 'IpAddressPoolStaticSubnet',
        cidr: r.cidr,
        gateway_ip: range.gateway,
        allocation_ranges: [{ start: range.start, end: range.end }],
        ...(c.dns.length ? { dns_nameservers: c.dns } : {}),
        tags,
      },
    },
    {
      path: o.segment,
      body: {
        display_name: `${o.prefix}-nodes`,
        connectivity_path: o.tier1,
        subnets: [{ gateway_address: `${range.gateway}/${prefix}` }],
        ...(c.transportZonePath ? { transport_zone_path: c.transportZonePath } : {}),
        tags,
      },
    },
    {
      path: o.natRule,
      body: {
        display_name: `${o.prefix}-snat`,
        action: 'SNAT',
        source_network: r.cidr,
        translated_network: r.snatIp,
        firewall_match: 'BYPASS',
        sequence_number: 100,
        enabled: true,
        tags,
      },
    },
    {
      path: o.lbService,
      body: {
        display_name: o.prefix,
        connectivity_path: c.singleTier ? o.tier1 : o.lbTier1,
        size: c.lbSize,
        enabled: true,
        tags,
      },
    },
    {
      path: o.monitor,
      body: {
        resource_type: 'LBTcpMonitorProfile',
        display_name: `${o.prefix}-api-tcp`,
        monitor_port: 8443,
        interval: 5,
        timeout: 5,
        fall_count: 3,
        rise_count: 3,
        tags,
      },
    },
    {
      path: o.apiPool,
      body: {
        display_name: `${o.prefix}-api`,
        members: [],
        active_monitor_paths: [o.monitor],
        algorithm: 'ROUND_ROBIN',
        snat_translation: { type: 'LBSnatAutoMap' },
        tags,
      },
    },
    {
      path: o.apiVs,
      body: {
        display_name: `${o.prefix}-api`,
        ip_address: r.apiVip,
        ports: ['8443'],
        pool_path: o.apiPool,
        lb_service_path: o.lbService,
        application_profile_path: DEFAULT_TCP_PROFILE,
        enabled: true,
        tags,
      },
    },
    {
      path: o.ingressVs,
      body: {
        display_name: `${o.prefix}-ingress`,
        ip_address: r.ingressVip,
        ports: ['80', '443'],
        lb_service_path: o.lbService,
        application_profile_path: DEFAULT_TCP_PROFILE,
        enabled: true,
        tags,
      },
    },
    {
      path: o.nodesGroup,
      body: {
        display_name: `${o.prefix}-nodes`,
        expression: [{ resource_type: 'PathExpression', paths: [o.segment] }],
        tags,
      },
    },
    {
      path: o.infrastructureGroup,
      body: {
        display_name: `${o.prefix}-infrastructure`,
        tags,
        expression: c.infrastructureNetworks.length
          ? [{ resource_type: 'IPAddressExpression', id: 'networks', ip_addresses: c.infrastructureNetworks }]
          : [],
      },
    },
    // The masters' addresses come with ensureApiEndpoint; no `expression` here, so a repeated prepare's PATCH keeps them.
    { path: o.mastersGroup, body: { display_name: `${o.prefix}-masters`, tags } },
    {
      path: o.policy,
      body: {
        display_name: o.prefix,
        category: 'Application',
        sequence_number: 10,
        stateful: true,
        scope: [o.nodesGroup],
        tags,
      },
    },
    rule('allow-infrastructure', 5, {
      action: 'ALLOW',
      source_groups: [o.infrastructureGroup],
      disabled: c.infrastructureNetworks.length === 0,
    }),
    rule('allow-api', 10, {
      action: 'ALLOW',
      destination_groups: [o.mastersGroup],
      service_entries: [tcp('tcp-8443', '8443')],
    }),
    rule('allow-kube-dns', 20, {
      action: 'ALLOW',
      source_groups: [o.nodesGroup],
      service_entries: [tcp('tcp-8080', '8080')],
    }),
    rule('allow-intra-cluster', 30, { action: 'ALLOW', source_groups: [o.nodesGroup] }),
    rule('isolate', 40, { action: 'DROP' }),
  ];
}
