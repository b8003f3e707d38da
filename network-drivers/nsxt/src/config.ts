import type { JsonSchema } from '@slipway/contracts';

/** How the driver proves who it is to NSX Manager. */
export type NsxtAuthMode = 'basic' | 'session' | 'certificate';

/**
 * The driver's config. `credentials_ref` names a `user` credential (basic and session auth) or a `certificate`
 * credential (a principal identity's certificate and key, what TKGI uses) in the credential store.
 */
export interface NsxtConfig {
  /** NSX Manager (or the cluster VIP), e.g. https://nsx.example.com; the Policy API lives under /policy/api/v1. */
  manager_url: string;
  auth?: NsxtAuthMode;
  credentials_ref: string;
  /** PEM of the CA that signed NSX Manager's certificate, when it is not publicly trusted. */
  ca_certificate?: string;
  /** The Tier-0 every cluster's Tier-1 attaches to, e.g. /infra/tier-0s/t0 (a profile's t0_router_id overrides it). */
  tier0_path: string;
  /** Edge cluster for the Tier-1's services (NAT, LB), e.g. /infra/sites/default/enforcement-points/default/edge-clusters/ec. */
  edge_cluster_path?: string;
  /** Overlay transport zone of the node segments. */
  transport_zone_path?: string;
  /** The Nodes IP Block each cluster's node subnet is carved from, e.g. /infra/ip-blocks/nodes. */
  nodes_ip_block_path: string;
  /** The Floating IP Pool SNAT addresses and VIPs come from (a profile's fip_pool_ids[0] overrides it). */
  floating_ip_pool_path: string;
  /** Prefix length of each cluster's node subnet. Default 24, as TKGI carves. */
  node_subnet_prefix?: number;
  /** How many node addresses a cluster may hold. Default: every host address of the subnet but the gateway. */
  node_addresses_per_cluster?: number;
  /** Default for clusters without a profile: one Tier-1 per cluster carrying nodes, NAT and LB (true), or a separate LB Tier-1 (false). */
  single_tier_topology?: boolean;
  lb_size?: 'SMALL' | 'MEDIUM' | 'LARGE';
  nodes_dns?: string[];
  /** How often realization is polled. Default 1000 ms. */
  poll_interval_ms?: number;
  /** How long the driver waits for NSX to realize what it asked for. Default 120000 ms. */
  realization_timeout_ms?: number;
  /** Per-request timeout. Default 30000 ms. */
  request_timeout_ms?: number;
}

const policyPath = (prefix: string, example: string): JsonSchema => ({
  type: 'string',
  pattern: `^${prefix}[A-Za-z0-9_.-]+$`,
  description: `Policy path, e.g. ${example}`,
});

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['manager_url', 'credentials_ref', 'tier0_path', 'nodes_ip_block_path', 'floating_ip_pool_path'],
  properties: {
    manager_url: { type: 'string', pattern: '^https://[^/]+/?$', description: 'https://HOST[:PORT] of NSX Manager' },
    auth: { type: 'string', enum: ['basic', 'session', 'certificate'], description: 'default basic' },
    credentials_ref: {
      type: 'string',
      minLength: 1,
      description: 'Credential name: a user credential (basic, session) or a certificate credential (certificate)',
    },
    ca_certificate: {
      type: 'string',
      pattern: 'BEGIN CERTIFICATE',
      description: "PEM of the CA that signed NSX Manager's certificate",
    },
    tier0_path: policyPath('/infra/tier-0s/', '/infra/tier-0s/t0'),
    edge_cluster_path: {
      type: 'string',
      pattern: '^/infra/sites/',
      description: 'Policy path of the edge cluster for Tier-1 services',
    },
    transport_zone_path: {
      type: 'string',
      pattern: '^/infra/sites/',
      description: 'Policy path of the overlay transport zone',
    },
    nodes_ip_block_path: policyPath('/infra/ip-blocks/', '/infra/ip-blocks/nodes'),
    floating_ip_pool_path: policyPath('/infra/ip-pools/', '/infra/ip-pools/floating'),
    node_subnet_prefix: { type: 'integer', minimum: 16, maximum: 29, description: 'default 24' },
    node_addresses_per_cluster: {
      type: 'integer',
      minimum: 1,
      description: 'default: the whole subnet less the gateway',
    },
    single_tier_topology: { type: 'boolean', description: 'default true' },
    lb_size: { type: 'string', enum: ['SMALL', 'MEDIUM', 'LARGE'], description: 'default SMALL' },
    nodes_dns: { type: 'array', items: { type: 'string' }, maxItems: 3 },
    poll_interval_ms: { type: 'integer', minimum: 1, description: 'default 1000' },
    realization_timeout_ms: { type: 'integer', minimum: 1, description: 'default 120000' },
    request_timeout_ms: { type: 'integer', minimum: 1, description: 'default 30000' },
  },
};
