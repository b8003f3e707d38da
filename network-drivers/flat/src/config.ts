import type { JsonSchema } from '@slipway/contracts';

export interface RangeConfig {
  cidr: string;
  gateway?: string;
  reserved?: string[];
  dns?: string[];
}
export type LoadBalancerMode = 'haproxy' | 'external' | 'none';

export interface LoadBalancerConfig {
  /** `haproxy`: the driver runs one HAProxy per cluster; `external`: it writes the config for the operator's LB. */
  mode: LoadBalancerMode;
  /** Addresses the cluster API VIPs are taken from: a CIDR or `a-b`. */
  vip_range?: string;
  haproxy_binary?: string;
  health_check_interval_ms?: number;
  /** The VIP's port (the Kubernetes API's, 8443). */
  port?: number;
  /** `external`: where the per-cluster configs are written (default: the plugin's data directory, `lb/`). */
  config_dir?: string;
  /** `haproxy`: leave the balancers running when Slipway stops (default true: kubelets need the VIP). */
  keep_running?: boolean;
}

export interface FlatConfig {
  /** The API load balancer of every cluster; default `none` (the endpoint is the first master). */
  load_balancer?: LoadBalancerConfig;
  /** One range per IaaS target name. */
  ranges?: Record<string, RangeConfig>;
  /** For targets without their own range. */
  default_range?: RangeConfig;
}

const range: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cidr'],
  properties: {
    cidr: {
      type: 'string',
      pattern: '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$',
      description: 'IPv4 CIDR of the nodes, e.g. 10.20.0.0/16',
    },
    gateway: { type: 'string', description: 'default: the first host address (reserved)' },
    reserved: { type: 'array', items: { type: 'string' }, description: 'addresses or a-b ranges never handed out' },
    dns: { type: 'array', items: { type: 'string' }, maxItems: 3 },
  },
};

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ranges: { type: 'object', additionalProperties: range },
    default_range: range,
    load_balancer: {
      type: 'object',
      additionalProperties: false,
      required: ['mode'],
      properties: {
        mode: {
          enum: ['haproxy', 'external', 'none'],
          description:
            'haproxy: a managed HAProxy per cluster; external: write the config for your own LB; none: the first master',
        },
        vip_range: {
          type: 'string',
          pattern: '^\\d{1,3}(\\.\\d{1,3}){3}(/\\d{1,2}|-\\d{1,3}(\\.\\d{1,3}){3})$',
          description: 'VIP addresses, a CIDR or a-b (127.x works without root: it routes to lo)',
        },
        haproxy_binary: {
          type: 'string',
          minLength: 1,
          default: '/usr/sbin/haproxy',
          description: 'the HAProxy executable (Debian: /usr/sbin/haproxy)',
        },
        health_check_interval_ms: {
          type: 'integer',
          minimum: 100,
          maximum: 60000,
          default: 2000,
          description: 'TCP health check of each master (HAProxy check inter)',
        },
        port: { type: 'integer', minimum: 1, maximum: 65535, default: 8443, description: "the VIP's TCP port" },
        config_dir: {
          type: 'string',
          minLength: 1,
          description: "external: where each cluster's HAProxy config is written",
        },
        keep_running: {
          type: 'boolean',
          default: true,
          description:
            'haproxy: leave the balancers running when Slipway stops (kubelets keep their API); false stops them',
        },
      },
      if: { properties: { mode: { enum: ['haproxy', 'external'] } } },
      then: { required: ['mode', 'vip_range'] },
    },
  },
};
