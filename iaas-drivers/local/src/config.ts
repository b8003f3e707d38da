import type { JsonSchema } from '@slipway/contracts';

export interface LocalConfig {
  /** Where the driver keeps its inventory, VM directories and disk directories; default its plugin data directory. */
  root?: string;
  /**
   * Loopback range for VMs whose requested address is not a loopback one (Linux routes all of 127.0.0.0/8 to
   * `lo`, so every address in it can be bound without setup). Default 127.0.64.0/18.
   */
  address_pool?: string;
  /** Directories with job binaries (kube-apiserver...), searched by each VM's agent before its PATH. */
  bin_dirs?: string[];
  /** The node binary that runs each VM's agent; default the control plane's own. */
  node_path?: string;
  /** The agent's compiled entry point; default @slipway/agent's dist/main.js. */
  agent_main?: string;
  /** Leave VMs running when Slipway stops (as a cloud would). Default false: stopping Slipway stops its local VMs, and they boot again on the next start. */
  keep_vms_running?: boolean;
  quotas?: { vms?: number; disks?: number };
  /** The agent's log level. */
  agent_log_level?: 'debug' | 'info';
  /**
   * VMs in network namespaces of their own (veth pairs on a bridge, addresses from `network_subnet`), so they
   * route to each other for real. `auto` (default): where this machine allows it (root, `ip netns`), for VMs
   * whose address is in `network_subnet`; VMs given loopback addresses stay on the host's stack. `on`: required
   * (refused where it cannot be done). `off`: never.
   */
  network_namespaces?: NetworkNamespaces;
  /** The VMs' subnet in namespace mode; its first address is the host's end of the bridge. Default 10.253.0.0/24. */
  network_subnet?: string;
}

export type NetworkNamespaces = 'auto' | 'on' | 'off';
export const DEFAULT_NETWORK_SUBNET = '10.253.0.0/24';

export const DEFAULT_ADDRESS_POOL = '127.0.64.0/18';

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    root: { type: 'string', minLength: 1, description: 'directory of the inventory, VM and disk directories' },
    address_pool: {
      type: 'string',
      pattern: '^127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}/\\d{1,2}$',
      default: DEFAULT_ADDRESS_POOL,
      description: 'loopback CIDR for VMs without a loopback address',
    },
    bin_dirs: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      default: [],
      description: 'where kube-* and other job binaries are',
    },
    node_path: { type: 'string', minLength: 1 },
    agent_main: { type: 'string', minLength: 1 },
    keep_vms_running: { type: 'boolean', default: false },
    quotas: {
      type: 'object',
      additionalProperties: false,
      properties: { vms: { type: 'integer', minimum: 0 }, disks: { type: 'integer', minimum: 0 } },
    },
    agent_log_level: { enum: ['debug', 'info'], default: 'info' },
    network_namespaces: {
      enum: ['auto', 'on', 'off'],
      default: 'auto',
      description:
        'VMs in network namespaces of their own: auto (where root and ip netns allow it), on (required), off',
    },
    network_subnet: {
      type: 'string',
      pattern: '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$',
      default: DEFAULT_NETWORK_SUBNET,
      description: "the VMs' subnet in network namespaces; give the network driver the same range for this target",
    },
  },
};
