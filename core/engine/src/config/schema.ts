import type { JsonSchema } from '@slipway/contracts';

/** A plugin reference in slipway.yaml: which package, which versions, and its own config. */
export interface PluginRef {
  plugin: string;
  version?: string;
  config?: Record<string, unknown>;
}

export interface IaasTarget extends PluginRef {
  name: string;
}

export interface VmType {
  cpu: number;
  memory_mb: number;
  ephemeral_disk_mb: number;
  persistent_disk_mb?: number;
  instance_type?: string;
  cloud_properties?: Record<string, unknown>;
}

export interface PlanConfig {
  name: string;
  description?: string;
  iaas: string;
  master_instances: 1 | 3 | 5;
  worker_instances: number;
  max_worker_instances: number;
  master_vm: VmType;
  worker_vm: VmType;
  kubernetes_version?: string;
}

export interface SlipwayConfig {
  api: { bind: string; port: number; advertise_url?: string; hostnames: string[]; token_ttl_seconds: number };
  credentials: PluginRef;
  iaas: IaasTarget[];
  network: PluginRef;
  registry?: PluginRef;
  plugin_dirs: string[];
  kubernetes: { default_version: string; stemcell: { name: string; version: string } };
  agents: { heartbeat_interval_seconds: number; boot_timeout_seconds: number };
  tasks: { max_concurrent_vm_calls: number; retry_attempts: number };
  plans: PlanConfig[];
}

const pluginRef = (defaults?: Partial<PluginRef>): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  required: ['plugin'],
  properties: {
    plugin: { type: 'string', minLength: 1, description: 'npm package name of the plugin, e.g. @slipway/iaas-aws' },
    version: { type: 'string', minLength: 1, description: 'semver range the installed package must satisfy', default: defaults?.version ?? '*' },
    config: { type: 'object', description: "the plugin's own config, validated against its configSchema", default: {} },
  },
});

const vmType: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cpu', 'memory_mb', 'ephemeral_disk_mb'],
  properties: {
    cpu: { type: 'integer', minimum: 1, description: 'virtual CPUs' },
    memory_mb: { type: 'integer', minimum: 256, description: 'memory in MiB' },
    ephemeral_disk_mb: { type: 'integer', minimum: 1024, description: 'root/ephemeral disk in MiB (lost when the VM is recreated)' },
    persistent_disk_mb: { type: 'integer', minimum: 1024, description: 'omit for no persistent disk' },
    instance_type: { type: 'string', description: "the cloud's instance type, when it has them" },
    cloud_properties: { type: 'object', description: 'passed to the IaaS driver as is' },
  },
};

/** The schema of slipway.yaml. docs/configuration.md is generated from its descriptions. */
export const configSchema: JsonSchema = {
  $id: 'https://slipway.dev/schemas/slipway.yaml.json',
  type: 'object',
  additionalProperties: false,
  required: ['iaas', 'plans'],
  properties: {
    api: {
      type: 'object', additionalProperties: false, default: {},
      description: 'The REST API and agent channel (HTTPS).',
      properties: {
        bind: { type: 'string', default: '127.0.0.1', description: 'address to listen on' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 9021, description: 'port (PKS uses 9021)' },
        advertise_url: { type: 'string', pattern: '^https://', description: 'URL agents on VMs use to reach the control plane; default https://BIND:PORT' },
        hostnames: { type: 'array', items: { type: 'string' }, default: [], description: 'extra names/IPs for the serving certificate' },
        token_ttl_seconds: { type: 'integer', minimum: 60, default: 43200, description: 'lifetime of access tokens' },
      },
    },
    credentials: { ...pluginRef(), default: { plugin: '@slipway/credentials-credhub', version: '^1' }, description: 'the credential provider plugin' },
    iaas: {
      type: 'array', minItems: 1, description: 'IaaS targets; plans name one by `name`',
      items: {
        ...pluginRef(),
        required: ['name', 'plugin'],
        properties: { ...(pluginRef().properties as object), name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', description: 'name plans use to place clusters on this target' } },
      },
    },
    network: { ...pluginRef(), default: { plugin: '@slipway/network-flat', version: '^1' }, description: 'the network driver plugin' },
    registry: { ...pluginRef(), description: 'optional image registry plugin' },
    plugin_dirs: { type: 'array', items: { type: 'string' }, default: [], description: 'extra directories (with node_modules) to resolve plugins from' },
    kubernetes: {
      type: 'object', additionalProperties: false, default: {}, description: 'Kubernetes versions and the VM image',
      properties: {
        default_version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+$', default: '1.31.4', description: 'Kubernetes version of new clusters whose plan names none' },
        stemcell: {
          type: 'object', additionalProperties: false, required: ['name', 'version'],
          default: { name: 'ubuntu-jammy', version: '1.600' }, description: 'the VM image (BOSH stemcell) every VM boots from',
          properties: { name: { type: 'string', description: 'stemcell name' }, version: { type: 'string', description: 'stemcell version' } },
        },
      },
    },
    agents: {
      type: 'object', additionalProperties: false, default: {}, description: 'the node agents on every VM',
      properties: {
        heartbeat_interval_seconds: { type: 'number', exclusiveMinimum: 0, default: 30, description: 'how often each agent reports (BOSH: 30 s)' },
        boot_timeout_seconds: { type: 'number', exclusiveMinimum: 0, default: 600, description: 'how long a create waits for a new VM\'s agent' },
      },
    },
    tasks: {
      type: 'object', additionalProperties: false, default: {}, description: 'how lifecycle tasks call the clouds',
      properties: {
        max_concurrent_vm_calls: { type: 'integer', minimum: 1, default: 32, description: 'IaaS calls in flight per task' },
        retry_attempts: { type: 'integer', minimum: 1, default: 6, description: 'attempts of a retryable cloud call' },
      },
    },
    plans: {
      type: 'array', minItems: 1, description: 'what users may create: `slipway plans` lists them',
      items: {
        type: 'object', additionalProperties: false,
        required: ['name', 'iaas', 'master_instances', 'worker_instances', 'master_vm', 'worker_vm'],
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', description: 'what `create-cluster --plan` names' },
          description: { type: 'string', default: '', description: 'shown by `slipway plans`' },
          iaas: { type: 'string', description: 'name of an iaas target' },
          master_instances: { enum: [1, 3, 5], description: 'masters (etcd members); fixed once clusters use the plan' },
          worker_instances: { type: 'integer', minimum: 0, description: 'default workers' },
          max_worker_instances: { type: 'integer', minimum: 0, default: 50, description: 'the most workers a resize may ask for' },
          master_vm: { ...vmType, description: 'VM of each master (etcd and the control plane)' },
          worker_vm: { ...vmType, description: 'VM of each worker (kubelet)' },
          kubernetes_version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+$', description: 'overrides kubernetes.default_version' },
        },
      },
    },
  },
};
