import type { JsonSchema } from '@slipway/contracts';

/** A plugin reference in slipway.yaml: which package, which versions, and its own config. */
export interface PluginRef {
  plugin: string;
  version?: string;
  config?: Record<string, unknown>;
}

export interface IaasTarget extends PluginRef {
  name: string;
  /** What this cloud needs to register the stemcell (a light stemcell's image id, a source image). */
  stemcell_cloud_properties?: Record<string, unknown>;
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
  /** How clusters of this plan roll (upgrade-cluster, update-cluster, certificate rotation). */
  update?: UpdateStrategyConfig;
  /** The clusters' project in the image registry (when a registry plugin is configured). */
  registry?: PlanRegistryConfig;
  /** What a create or update of this plan's clusters must prove of Kubernetes before it succeeds. */
  kubernetes?: PlanKubernetesConfig;
}

/** `plans[].kubernetes`: whether a cluster counts as created only once its API answers. */
export interface PlanKubernetesConfig {
  /**
   * true (default): a create or update fails when a Kubernetes job cannot run (its binary is missing) and
   * succeeds only once /readyz answered. false: etcd-only rehearsals (the sandbox, the local driver without
   * kube-* binaries): the task records what it could not check and succeeds.
   */
  require_api: boolean;
}

/** PKS's Harbor integration per plan: a project per cluster or per owner, its policy, and its robots. */
export interface PlanRegistryConfig {
  /** `per-cluster` (default): `slipway-NAME-UUID8`; `per-owner`: one `slipway-team-OWNER` for every cluster of an owner. */
  project?: 'per-cluster' | 'per-owner';
  /** A push+pull robot for CI besides the nodes' pull robot; its secret is readable by the cluster's owner. */
  push_robot?: boolean;
  /** Keep the project on delete-cluster even when it is empty (robots are always deleted). */
  keep_project?: boolean;
  storage_limit_gb?: number;
  prevent_vulnerable?: boolean;
  severity?: 'none' | 'low' | 'medium' | 'high' | 'critical';
  auto_scan?: boolean;
  cosign?: boolean;
}

/** A count or a percentage of an instance group (`2`, `"25%"`), as BOSH's update block takes them. */
export type CountOrPercent = number | string;

/** BOSH's update block, per plan, plus the drain and volume-detach bounds of PKS's plans. */
export interface UpdateStrategyConfig {
  canaries: CountOrPercent;
  max_in_flight: CountOrPercent;
  /** Milliseconds, or `low-high`: wait low, then poll until healthy or high. */
  canary_watch_time: number | string;
  update_watch_time: number | string;
  serial: boolean;
  drain_timeout_seconds: number;
  volume_detach_timeout_seconds: number;
  force: boolean;
}

/** What the health monitor, the resurrector and the cloud check do, and how fast. */
export interface HealthConfig {
  agent_timeout_seconds: number;
  analyze_interval_seconds: number;
  cloud_check_interval_seconds: number;
  event_retention_days: number;
  resurrector: { enabled: boolean; minimum_down: number; percent_threshold: number; time_window_seconds: number };
  alerts: PluginRef[];
}

export interface SlipwayConfig {
  api: {
    bind: string;
    port: number;
    advertise_url?: string;
    hostnames: string[];
    token_ttl_seconds: number;
    login_limits: { per_user: number; per_address: number; window_seconds: number };
    headers_timeout_seconds: number;
    request_timeout_seconds: number;
  };
  credentials: PluginRef;
  iaas: IaasTarget[];
  network: PluginRef;
  registry?: PluginRef;
  plugin_dirs: string[];
  kubernetes: {
    default_version: string;
    stemcell: { name: string; version: string };
    /** Versions clusters may run and upgrade to; default_version and plans' versions are always included. */
    versions?: string[];
    /** Stemcells published for upgrades; `stemcell` is always included. */
    stemcells?: Array<{ name: string; version: string }>;
    /** Lifetime, in whole days, of the client certificates kubeconfigs carry (get-credentials). */
    user_certificate_days?: number;
    /** How long a create or update waits for the cluster's API to answer /readyz. */
    api_ready_timeout_seconds?: number;
  };
  agents: {
    heartbeat_interval_seconds: number;
    boot_timeout_seconds: number;
    bootstrap_token_ttl_seconds: number;
    certificate_days: number;
  };
  tasks: { max_concurrent_vm_calls: number; retry_attempts: number };
  plans: PlanConfig[];
  health?: HealthConfig;
  certificates?: CertificatesConfig;
  replicas?: ReplicasConfig;
  /** Where the control plane's state lives (default: `sqlite:slipway.db` in the home). */
  store?: StoreConfig;
  events?: EventsConfig;
  audit?: AuditConfig;
  metrics?: MetricsConfig;
  log?: { level: 'debug' | 'info' | 'warn' | 'error'; format: 'auto' | 'json' | 'text' };
}

/** GET /metrics (metrics.* in slipway.yaml). */
export interface MetricsConfig {
  enabled: boolean;
  scrape_token_file?: string;
}

/** The live event stream (GET /v1/events, events.* in slipway.yaml). */
export interface EventsConfig {
  heartbeat_seconds: number;
  max_subscribers_per_user: number;
  max_queued: number;
}

/** The audit trail (audit.* in slipway.yaml). */
export interface AuditConfig {
  retention_days: number;
}

/** How replicas sharing one PostgreSQL store split the work (replicas.* in slipway.yaml). */
export interface ReplicasConfig {
  lease_seconds: number;
  renew_interval_seconds: number;
  claim_interval_seconds: number;
}

/** store.url: `sqlite:PATH` (relative to the home) or `postgres://USER:PASSWORD@HOST:PORT/DATABASE`. */
export interface StoreConfig {
  url: string;
}

/** When certificates are checked, alerted on and renewed (certificates.* in slipway.yaml). */
export interface CertificatesConfig {
  renew_before_days: number;
  ca_renew_before_days: number;
  check_interval_seconds: number;
  max_concurrent_renewals: number;
  alert_days: number[];
}

const pluginRef = (defaults?: Partial<PluginRef>): JsonSchema => ({
  type: 'object',
  additionalProperties: false,
  required: ['plugin'],
  properties: {
    plugin: { type: 'string', minLength: 1, description: 'npm package name of the plugin, e.g. @slipway/iaas-aws' },
    version: {
      type: 'string',
      minLength: 1,
      description: 'semver range the installed package must satisfy',
      default: defaults?.version ?? '*',
    },
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
    ephemeral_disk_mb: {
      type: 'integer',
      minimum: 1024,
      description: 'root/ephemeral disk in MiB (lost when the VM is recreated)',
    },
    persistent_disk_mb: { type: 'integer', minimum: 1024, description: 'omit for no persistent disk' },
    instance_type: { type: 'string', description: "the cloud's instance type, when it has them" },
    cloud_properties: { type: 'object', description: 'passed to the IaaS driver as is' },
  },
};

const countOrPercent = (what: string, minimum: number): JsonSchema => ({
  oneOf: [
    { type: 'integer', minimum },
    { type: 'string', pattern: '^\\d+(\\.\\d+)?%$' },
  ],
  description: `${what}: a count, or a percentage of the instance group ("25%")`,
});

const watchTime = (what: string): JsonSchema => ({
  oneOf: [
    { type: 'integer', minimum: 0 },
    { type: 'string', pattern: '^\\d+(-\\d+)?$' },
  ],
  default: '1000-30000',
  description: `${what}, in ms: N, or "LOW-HIGH" (wait LOW, then check until the instance is healthy or HIGH passes)`,
});

/** BOSH's update block, with PKS's drain bounds. */
const updateStrategy: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description:
    'how clusters of this plan roll through upgrade-cluster, update-cluster and certificate rotation: masters one at a time (etcd quorum), then workers, canaries first, each worker drained before its VM is replaced; persistent disks are detached and reattached',
  properties: {
    canaries: {
      ...countOrPercent('workers updated first, watched for canary_watch_time before the rest', 0),
      default: 1,
    },
    max_in_flight: {
      ...countOrPercent(
        "workers taken down at once (at least 1); the first master is the masters' canary and masters always go one at a time",
        1,
      ),
      default: 1,
    },
    canary_watch_time: watchTime('how long a canary must stay healthy'),
    update_watch_time: watchTime('how long each other instance must stay healthy'),
    serial: {
      type: 'boolean',
      default: true,
      description:
        'masters finish before workers start; false lets workers roll alongside masters when the Kubernetes version does not change (a stemcell or VM type change)',
    },
    drain_timeout_seconds: {
      type: 'number',
      minimum: 0,
      default: 600,
      description: 'how long a worker may take to drain before the task stops and names it (0: wait forever, as PKS)',
    },
    volume_detach_timeout_seconds: {
      type: 'number',
      exclusiveMinimum: 0,
      default: 300,
      description: 'how long a persistent disk may take to detach before the task stops and names it',
    },
    force: {
      type: 'boolean',
      default: false,
      description: "on a drain or detach timeout, go on instead of stopping (the request's force_drain overrides it)",
    },
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
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'The REST API and agent channel (HTTPS).',
      properties: {
        bind: { type: 'string', default: '127.0.0.1', description: 'address to listen on' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 9021, description: 'port (PKS uses 9021)' },
        advertise_url: {
          type: 'string',
          pattern: '^https://',
          description:
            "URL written into every VM's bootstrap settings, which its agent dials (a DNS name or load balancer in front of the control plane); kept in the store once used. Default: the URL of the first start, kept while VMs exist, so a restart on another port keeps advertising it and also serves it when it is on this machine (refusing to start if it cannot); with no VM left it follows the listener",
        },
        hostnames: {
          type: 'array',
          items: { type: 'string' },
          default: [],
          description: 'extra names/IPs for the serving certificate',
        },
        token_ttl_seconds: { type: 'integer', minimum: 60, default: 43200, description: 'lifetime of access tokens' },
        login_limits: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description:
            'failed logins allowed per user name and per source address within a window; then 429 with Retry-After',
          properties: {
            per_user: { type: 'integer', minimum: 1, default: 5 },
            per_address: { type: 'integer', minimum: 1, default: 20 },
            window_seconds: { type: 'integer', minimum: 1, default: 300 },
          },
        },
        headers_timeout_seconds: {
          type: 'integer',
          minimum: 1,
          default: 10,
          description: 'a client must send its request headers within this time',
        },
        request_timeout_seconds: {
          type: 'integer',
          minimum: 1,
          default: 60,
          description:
            'a client must send its whole request (headers and body) within this time; answers may take longer',
        },
      },
    },
    credentials: {
      ...pluginRef(),
      default: { plugin: '@slipway/credentials-credhub', version: '^1' },
      description: 'the credential provider plugin',
    },
    iaas: {
      type: 'array',
      minItems: 1,
      description: 'IaaS targets; plans name one by `name`',
      items: {
        ...pluginRef(),
        required: ['name', 'plugin'],
        properties: {
          ...(pluginRef().properties as object),
          name: {
            type: 'string',
            pattern: '^[a-z0-9][a-z0-9-]*$',
            description: 'name plans use to place clusters on this target',
          },
          stemcell_cloud_properties: {
            type: 'object',
            description: "passed to the driver's createStemcell: e.g. a light stemcell's image (`ami_id`, `image_id`)",
          },
        },
      },
    },
    network: {
      ...pluginRef(),
      default: { plugin: '@slipway/network-flat', version: '^2' },
      description: 'the network driver plugin',
    },
    registry: { ...pluginRef(), description: 'optional image registry plugin' },
    plugin_dirs: {
      type: 'array',
      items: { type: 'string' },
      default: [],
      description: 'extra directories (with node_modules) to resolve plugins from',
    },
    kubernetes: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Kubernetes versions and the VM image',
      properties: {
        default_version: {
          type: 'string',
          pattern: '^\\d+\\.\\d+\\.\\d+$',
          default: '1.31.4',
          description: 'Kubernetes version of new clusters whose plan names none',
        },
        stemcell: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'version'],
          default: { name: 'ubuntu-jammy', version: '1.600' },
          description: 'the VM image (BOSH stemcell) every VM boots from',
          properties: {
            name: { type: 'string', description: 'stemcell name' },
            version: { type: 'string', description: 'stemcell version' },
          },
        },
        versions: {
          type: 'array',
          items: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+$' },
          default: ['1.29.6', '1.30.8', '1.31.4'],
          description:
            "the version catalog: Kubernetes versions clusters may run and upgrade to (default_version and plans' versions are always in it); an upgrade never skips a minor version and never goes down",
        },
        stemcells: {
          type: 'array',
          default: [],
          description:
            'stemcells published for upgrades besides `stemcell` (the default of new clusters and of upgrades); to patch a CVE, publish the fixed stemcell here or as `stemcell`, then run `slipway upgrade-clusters --all`',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'version'],
            properties: {
              name: { type: 'string', description: 'stemcell name' },
              version: { type: 'string', description: 'stemcell version' },
            },
          },
        },
        user_certificate_days: {
          type: 'integer',
          minimum: 1,
          maximum: 365,
          default: 7,
          description:
            "lifetime in days of the client certificate in every kubeconfig `get-credentials` hands out (users' and admins'): each call issues a fresh one, so removing a user's access takes effect within this time without a CA rotation",
        },
        api_ready_timeout_seconds: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 300,
          description:
            "how long a create or update waits for the cluster's API to answer /readyz (with the cluster's admin client certificate, verified against the cluster CA) before it fails",
        },
      },
    },
    agents: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'the node agents on every VM',
      properties: {
        heartbeat_interval_seconds: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 30,
          description: 'how often each agent reports (BOSH: 30 s)',
        },
        boot_timeout_seconds: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 600,
          description: "how long a create waits for a new VM's agent",
        },
        bootstrap_token_ttl_seconds: {
          type: 'integer',
          minimum: 60,
          maximum: 86400,
          default: 3600,
          description:
            "how long a new VM's one-time bootstrap token stays valid (sized for slow clouds: image copy, boot, agent start)",
        },
        certificate_days: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 365,
          default: 7,
          description: "lifetime of agents' client certificates; each agent renews at two thirds of it",
        },
      },
    },
    tasks: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'how lifecycle tasks call the clouds',
      properties: {
        max_concurrent_vm_calls: {
          type: 'integer',
          minimum: 1,
          default: 32,
          description: 'IaaS calls in flight per task',
        },
        retry_attempts: { type: 'integer', minimum: 1, default: 6, description: 'attempts of a retryable cloud call' },
      },
    },
    plans: {
      type: 'array',
      minItems: 1,
      description: 'what users may create: `slipway plans` lists them',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'iaas', 'master_instances', 'worker_instances', 'master_vm', 'worker_vm'],
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', description: 'what `create-cluster --plan` names' },
          description: { type: 'string', default: '', description: 'shown by `slipway plans`' },
          iaas: { type: 'string', description: 'name of an iaas target' },
          master_instances: {
            enum: [1, 3, 5],
            description: 'masters (etcd members); fixed once clusters use the plan',
          },
          worker_instances: {
            type: 'integer',
            minimum: 1,
            description:
              'at least 1: the workers a cluster gets when create-cluster names no number (a cluster needs a worker to run its pods)',
          },
          max_worker_instances: {
            type: 'integer',
            minimum: 1,
            default: 50,
            description: 'at least 1: the most workers a resize may ask for',
          },
          master_vm: { ...vmType, description: 'VM of each master (etcd and the control plane)' },
          worker_vm: { ...vmType, description: 'VM of each worker (kubelet)' },
          kubernetes_version: {
            type: 'string',
            pattern: '^\\d+\\.\\d+\\.\\d+$',
            description:
              "overrides kubernetes.default_version; also what `slipway upgrade-cluster` upgrades this plan's clusters to by default",
          },
          update: updateStrategy,
          registry: {
            type: 'object',
            additionalProperties: false,
            description:
              'the project each cluster of this plan gets in the image registry (registry plugin): per cluster or shared per owner, its vulnerability policy, quota and robots',
            properties: {
              project: {
                enum: ['per-cluster', 'per-owner'],
                default: 'per-cluster',
                description:
                  "per-cluster: slipway-NAME-UUID8; per-owner: slipway-team-OWNER, shared by the owner's clusters",
              },
              push_robot: {
                type: 'boolean',
                default: false,
                description: 'also make a push+pull robot for CI; its secret is readable by the cluster owner',
              },
              keep_project: {
                type: 'boolean',
                default: false,
                description:
                  'keep the project on delete-cluster even when empty (robots are always deleted; a project holding images is always kept)',
              },
              storage_limit_gb: {
                type: 'number',
                exclusiveMinimum: 0,
                description: 'storage quota of the project (registry capability quota)',
              },
              prevent_vulnerable: {
                type: 'boolean',
                description:
                  'refuse pulls of images with vulnerabilities at or above severity (capability vulnerability)',
              },
              severity: {
                enum: ['none', 'low', 'medium', 'high', 'critical'],
                description: 'threshold of prevent_vulnerable',
              },
              auto_scan: { type: 'boolean', description: 'scan images on push' },
              cosign: { type: 'boolean', description: 'only cosign-signed images may be pulled (capability cosign)' },
            },
          },
          kubernetes: {
            type: 'object',
            additionalProperties: false,
            default: {},
            description: "what a create or update of this plan's clusters proves of Kubernetes before it succeeds",
            properties: {
              require_api: {
                type: 'boolean',
                default: true,
                description:
                  'true: a create or update fails when a Kubernetes job cannot run on a VM (its binary is missing; the reason names the binary and where the agent looked) and succeeds only once the API answered /readyz; false: for etcd-only rehearsals (the sandbox, the local driver without kube-* binaries), the task records what it could not check and succeeds. Shown by `slipway cluster`',
              },
            },
          },
        },
      },
    },
    health: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        "the health monitor, the resurrector and alerts. Detection bounds: a silent agent is `unresponsive` within agent_timeout_seconds + analyze_interval_seconds of its last heartbeat; a VM gone from the cloud is `missing` within cloud_check_interval_seconds + analyze_interval_seconds (clouds with the `inventory` capability) and otherwise within the unresponsive bound; a process the agent gives up on is `failing`, and a restart by the agent is recorded as an event, within analyze_interval_seconds of the heartbeat that reports it; `running`, `starting` and `stopped` are the agent's own report, recorded at the heartbeat that carries it (agents report at once when a process changes)",
      properties: {
        agent_timeout_seconds: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 60,
          description:
            'an agent silent this long is unresponsive (BOSH agent_timeout: 60 s); keep it at least twice agents.heartbeat_interval_seconds',
        },
        analyze_interval_seconds: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 10,
          description:
            'how often the monitor analyzes every instance (one indexed scan over all of them, not a timer per VM)',
        },
        cloud_check_interval_seconds: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 60,
          description:
            "how often the monitor lists each IaaS target's VMs to find missing ones (one list call per target, on drivers with `inventory`)",
        },
        event_retention_days: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 30,
          description:
            'cluster events (what `slipway cluster NAME --details` and /v1/clusters/{name}/events show) older than this are deleted, checked at start and then hourly',
        },
        resurrector: {
          type: 'object',
          additionalProperties: false,
          default: {},
          description:
            'recreates missing VMs and unresponsive ones, reattaching their persistent disks; `slipway resurrection NAME on|off` overrides `enabled` per cluster',
          properties: {
            enabled: {
              type: 'boolean',
              default: true,
              description: 'resurrect clusters whose own setting is not set (BOSH: hm.resurrector_enabled)',
            },
            minimum_down: {
              type: 'integer',
              minimum: 0,
              default: 5,
              description:
                'meltdown guard: up to this many instances of a cluster down within the window are always resurrected (BOSH minimum_down_jobs)',
            },
            percent_threshold: {
              type: 'number',
              minimum: 0,
              maximum: 1,
              default: 0.2,
              description:
                "meltdown guard: past minimum_down, when more than this share of a cluster's instances went down within the window, resurrection pauses and an alert says why (BOSH percent_threshold)",
            },
            time_window_seconds: {
              type: 'number',
              exclusiveMinimum: 0,
              default: 600,
              description: 'meltdown guard: how far back instances that went down are counted (BOSH time_threshold)',
            },
          },
        },
        alerts: {
          type: 'array',
          default: [],
          items: pluginRef(),
          description: "alert sink plugins (kind `alerts`) that receive every alert besides the control plane's log",
        },
      },
    },
    store: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      description:
        "where the control plane keeps its state, the credential store's and the network's included (one backup, one failover). SLIPWAY_STORE_URL overrides it. Without it: sqlite:slipway.db in the home",
      properties: {
        url: {
          type: 'string',
          pattern: '^(sqlite:.+|postgres(ql)?://.+)$',
          description:
            'sqlite:PATH (a file; relative paths are relative to the home) or postgres://USER:PASSWORD@HOST:PORT/DATABASE (several replicas may share it)',
        },
      },
    },
    certificates: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        "certificate expiry: alerts, and renewal without downtime. Each check lists every certificate of every cluster and the API's serving certificate; a cluster whose leaves expire within renew_before_days gets a leaf rotation (the task of `rotate-certificates --leaf-only`, started for the cluster's owner and marked automatic), one whose CAs expire within ca_renew_before_days a three-phase CA rotation, never while another task runs on it; the serving certificate is reissued and reloaded without a restart",
      properties: {
        renew_before_days: {
          type: 'integer',
          minimum: 1,
          maximum: 3649,
          default: 30,
          description:
            'renew leaf certificates (cluster leaves, the API serving certificate) this many days before they expire',
        },
        ca_renew_before_days: {
          type: 'integer',
          minimum: 1,
          maximum: 3649,
          default: 365,
          description: "rotate a cluster's CAs (three phases, a roll after each) this many days before one expires",
        },
        check_interval_seconds: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 3600,
          description: "how often certificates are checked (by the health monitor's loop)",
        },
        max_concurrent_renewals: {
          type: 'integer',
          minimum: 1,
          default: 1,
          description: 'automatic rotations running at once across all clusters; the others wait for a later check',
        },
        alert_days: {
          type: 'array',
          items: { type: 'integer', minimum: 1 },
          minItems: 1,
          default: [180, 30, 7],
          description:
            'alert when a certificate comes within each of these many days of expiry: once per threshold, until it is renewed',
        },
      },
    },
    events: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'the live event stream (GET /v1/events as Server-Sent Events, `slipway events --follow`, `--wait`)',
      properties: {
        heartbeat_seconds: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 300,
          default: 15,
          description:
            'a comment line is sent on an idle stream this often, so proxies and load balancers keep it open and a dead peer is noticed',
        },
        max_subscribers_per_user: {
          type: 'integer',
          minimum: 1,
          default: 16,
          description: 'open streams one user may hold at once; one more is refused with 429',
        },
        max_queued: {
          type: 'integer',
          minimum: 16,
          default: 1000,
          description:
            'events waiting for a slow subscriber before its stream is closed (it reconnects with Last-Event-ID and misses nothing)',
        },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: "the control plane's log on stderr",
      properties: {
        level: {
          enum: ['debug', 'info', 'warn', 'error'],
          default: 'info',
          description: 'the lowest level written (SLIPWAY_LOG_LEVEL overrides it)',
        },
        format: {
          enum: ['auto', 'json', 'text'],
          default: 'auto',
          description:
            '`json`: one JSON object a line (pino), with task, cluster, instance and request ids as fields and secrets redacted by path; `text`: short human lines; `auto`: JSON when `slipway up` writes to a stderr that is not a terminal (a service manager, a container), text on a terminal',
        },
      },
    },
    metrics: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        "Prometheus metrics at GET /metrics on the API's port, readable with an admin's (clusters.admin or clusters.admin.read) bearer token or the scrape token",
      properties: {
        enabled: {
          type: 'boolean',
          default: true,
          description:
            'collect metrics and serve GET /metrics; off: no metering at all (what bench/observability.mjs compares against)',
        },
        scrape_token_file: {
          type: 'string',
          minLength: 1,
          description:
            "a file holding a token (one line, at least 32 characters) that Prometheus sends as `Authorization: Bearer TOKEN` (its bearer_token_file); relative to slipway.yaml's directory. Read at start",
        },
      },
    },
    audit: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        "the audit trail (GET /v1/audit, `slipway audit`): every mutating API call, login, credential operation and the engine's own decisions",
      properties: {
        retention_days: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 365,
          description: 'audit entries older than this are deleted, checked at start and then hourly',
        },
      },
    },
    replicas: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description:
        "control plane replicas on one PostgreSQL store (docs/ha.md): a task is owned under a lease its replica renews while it runs, singletons (health monitor, event retention, fleet upgrades, certificate renewal) run on the holder of the leader lease. A dead replica's work is taken over within about lease_seconds + claim_interval_seconds. With SQLite the one process owns everything and these only pace the bookkeeping",
      properties: {
        lease_seconds: {
          type: 'number',
          minimum: 1,
          maximum: 600,
          default: 10,
          description:
            "how long a task's or the leader's lease lasts without renewal; also the most clock skew between replicas that is tolerated",
        },
        renew_interval_seconds: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 3,
          description:
            'how often a replica renews its leases; keep it at most a third of lease_seconds so one slow renewal does not lose them',
        },
        claim_interval_seconds: {
          type: 'number',
          exclusiveMinimum: 0,
          default: 2,
          description:
            'how often each replica looks for tasks whose lease lapsed (their owner died) and for a vacant leader lease',
        },
      },
    },
  },
};
