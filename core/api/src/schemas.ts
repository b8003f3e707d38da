import type { JsonSchema } from '@slipway/contracts';
import { NETWORK_PROFILE_SCHEMA } from '@slipway/engine';

/**
 * Request and response schemas: the one source for ajv validation of bodies and for GET /openapi.json.
 * Field names follow the PKS v1 API.
 */
export const schemas = {
  TokenRequest: {
    type: 'object',
    required: ['grant_type', 'username', 'password'],
    properties: {
      grant_type: { const: 'password', description: 'only the password grant is offered' },
      username: { type: 'string', minLength: 1, maxLength: 256 },
      password: { type: 'string', minLength: 1, maxLength: 1024 },
      client_id: { type: 'string' },
    },
  },
  RevokeRequest: {
    type: 'object',
    required: ['token'],
    properties: {
      token: { type: 'string', minLength: 1, maxLength: 512, description: 'the access token to revoke' },
      token_type_hint: { type: 'string' },
    },
  },
  ClusterRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'plan_name', 'parameters'],
    properties: {
      name: {
        type: 'string',
        pattern: '^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$',
        description: 'lowercase letters, digits and dashes; 1-40 characters',
      },
      plan_name: { type: 'string', minLength: 1 },
      network_profile_name: {
        type: 'string',
        minLength: 1,
        description: 'a network profile (GET /v1/network-profiles)',
      },
      parameters: {
        type: 'object',
        additionalProperties: false,
        required: ['kubernetes_master_host'],
        properties: {
          kubernetes_master_host: {
            type: 'string',
            minLength: 1,
            maxLength: 253,
            description: 'external host name of the Kubernetes API',
          },
          kubernetes_worker_instances: {
            type: 'integer',
            minimum: 1,
            description:
              "at least 1 (a cluster needs a worker to run its pods), at most the plan's max_worker_instances",
          },
        },
      },
    },
  },
  BindRequest: {
    type: 'object',
    additionalProperties: false,
    description: "optional; an empty body gets the caller's own kubeconfig",
    properties: {
      user: {
        type: 'string',
        minLength: 1,
        maxLength: 64,
        description: "another user's kubeconfig (clusters.admin only)",
      },
      bind: {
        type: 'string',
        minLength: 1,
        maxLength: 253,
        description:
          "a ClusterRole (cluster-admin, admin, edit, view) to bind to that user through the cluster's API (clusters.admin only); nothing is bound without it",
      },
    },
  },
  SmokeTestReport: {
    type: 'object',
    properties: {
      cluster: { type: 'string' },
      passed: { type: 'boolean', description: 'true only when every check passed' },
      checks: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { enum: ['api', 'nodes', 'dns', 'pods'] },
            state: { enum: ['passed', 'failed', 'not-checked'] },
            detail: { type: 'string' },
          },
        },
      },
    },
  },
  RotateCertificatesRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ca: {
        type: 'boolean',
        default: true,
        description: 'also rotate the CAs, in three phases (true), or only the leaf certificates (false)',
      },
      registry_only: {
        type: 'boolean',
        default: false,
        description: "rotate only the secrets of the cluster's registry robots (every rotation also rotates them)",
      },
    },
  },
  UpdateClusterParameters: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    properties: {
      kubernetes_worker_instances: {
        type: 'integer',
        minimum: 1,
        description: "at least 1 (a cluster needs a worker to run its pods), at most the plan's max_worker_instances",
      },
      network_profile_name: {
        type: 'string',
        minLength: 1,
        description: 'move to this network profile (only its updatable fields may differ)',
      },
    },
  },
  NetworkProfile: NETWORK_PROFILE_SCHEMA,
  UserRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'password', 'roles'],
    properties: {
      name: { type: 'string', minLength: 1 },
      password: { type: 'string', minLength: 8 },
      roles: {
        type: 'array',
        minItems: 1,
        items: { enum: ['clusters.admin', 'clusters.admin.read', 'clusters.manage'] },
      },
    },
  },
  UserRolesRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['roles'],
    properties: {
      roles: {
        type: 'array',
        minItems: 1,
        items: { enum: ['clusters.admin', 'clusters.admin.read', 'clusters.manage'] },
      },
    },
  },
  UserPasswordRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['password'],
    properties: {
      password: { type: 'string', minLength: 8 },
      old_password: {
        type: 'string',
        description: 'your current password; needed when you change your own without clusters.admin',
      },
    },
  },
  User: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      name: { type: 'string' },
      roles: { type: 'array', items: { type: 'string' } },
      actor: { type: 'string', description: "the user's actor in the credential API (permission entries)" },
      clusters: { type: 'array', items: { type: 'string' }, description: 'names of the live clusters it owns' },
      created_at: { type: 'string' },
    },
  },
  Problem: {
    type: 'object',
    required: ['type', 'title', 'status', 'detail', 'code'],
    properties: {
      type: { type: 'string' },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string' },
      field: { type: 'string' },
      hint: { type: 'string' },
      details: { type: 'object' },
    },
  },
  Plan: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      name: { type: 'string' },
      description: { type: 'string' },
      master_instances: { type: 'integer' },
      worker_instances: { type: 'integer' },
      max_worker_instances: { type: 'integer' },
      kubernetes_version: { type: 'string' },
      iaas: { type: 'string' },
      vm_type: { type: 'object' },
    },
  },
  Cluster: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      uuid: { type: 'string' },
      plan_name: { type: 'string' },
      iaas: { type: 'string' },
      owner: { type: 'string' },
      last_action: { enum: ['CREATE', 'UPDATE', 'UPGRADE', 'DELETE', 'RESURRECT', 'REPAIR', null] },
      last_action_state: { enum: ['in progress', 'succeeded', 'failed', null] },
      last_action_description: { type: ['string', 'null'] },
      task_id: { type: ['integer', 'null'] },
      kubernetes_master_ips: {
        type: 'array',
        items: { type: 'string' },
        description: 'the API VIP first (a load-balanced network), then every master',
      },
      kubernetes_api_vip: {
        type: ['string', 'null'],
        description: "the load-balanced API VIP; null when the endpoint is a master's own address",
      },
      network_profile_name: { type: ['string', 'null'] },
      k8s_version: { type: 'string' },
      slipway_version: { type: 'string' },
      parameters: {
        type: 'object',
        properties: {
          kubernetes_master_host: { type: 'string' },
          kubernetes_master_port: { type: 'integer' },
          kubernetes_worker_instances: { type: 'integer' },
          kubernetes_master_instances: { type: 'integer' },
        },
      },
      created_at: { type: 'string' },
      updated_at: { type: 'string' },
      registry: {
        type: 'object',
        description:
          "the cluster's project and robot accounts in the image registry (GET of one cluster, when a registry is configured)",
        properties: {
          project: { type: 'string' },
          endpoint: { type: 'string' },
          pull_robot: { type: ['string', 'null'] },
          push_robot: { type: ['string', 'null'] },
        },
      },
      kubernetes: {
        type: 'object',
        description:
          "from the cluster's plan: require_api false marks an etcd-only rehearsal, whose create and updates succeed without a Kubernetes API",
        properties: { require_api: { type: 'boolean' } },
      },
    },
  },
  Task: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      type: { type: 'string' },
      cluster_name: { type: ['string', 'null'] },
      user: { type: 'string' },
      state: { enum: ['queued', 'processing', 'cancelling', 'cancelled', 'done', 'error', 'timeout'] },
      description: { type: 'string' },
      progress: { type: 'object', properties: { done: { type: 'integer' }, total: { type: 'integer' } } },
      steps: {
        type: 'array',
        items: {
          type: 'object',
          properties: { name: { type: 'string' }, state: { type: 'string' }, detail: { type: ['string', 'null'] } },
        },
      },
      waiting_for: { type: ['string', 'null'] },
      error: { type: ['object', 'null'] },
      log: { type: 'array', items: { type: 'object' } },
    },
  },
  Kubeconfig: { type: 'object', required: ['apiVersion', 'kind', 'clusters', 'users', 'contexts', 'current-context'] },
  ClusterCertificates: {
    type: 'object',
    required: ['cluster', 'checked_at', 'certificates'],
    properties: {
      cluster: { type: 'string' },
      checked_at: {
        type: 'string',
        format: 'date-time',
        description: "the control plane's time days_left counts from",
      },
      certificates: {
        type: 'array',
        description: 'soonest expiry first; each version in use (a CA in rotation lists its transitional version too)',
        items: {
          type: 'object',
          required: [
            'name',
            'kind',
            'common_name',
            'alt_names',
            'signed_by',
            'serial',
            'not_before',
            'not_after',
            'days_left',
            'transitional',
          ],
          properties: {
            name: {
              type: 'string',
              description: "name under the cluster's credential path: kube-apiserver, nodes/worker-0/kubelet",
            },
            kind: {
              enum: ['ca', 'leaf', 'user', 'agent'],
              description: 'what renews it: a CA rotation, a leaf rotation (leaf and user), or the node agent',
            },
            common_name: { type: 'string' },
            alt_names: { type: 'array', items: { type: 'string' } },
            signed_by: { type: ['string', 'null'] },
            serial: { type: 'string' },
            not_before: { type: 'string', format: 'date-time' },
            not_after: { type: 'string', format: 'date-time' },
            days_left: { type: 'integer', description: 'whole days until not_after; negative once expired' },
            transitional: { type: 'boolean' },
          },
        },
      },
    },
  },
  ResurrectionRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['enabled'],
    properties: {
      enabled: {
        type: ['boolean', 'null'],
        description: 'true: on, false: off, null: follow health.resurrector.enabled',
      },
    },
  },
  RepairRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      auto: { type: 'boolean', description: "apply each problem's default_resolution (slipway doctor --yes)" },
      resolutions: {
        type: 'object',
        description: 'problem id (from GET /doctor) → resolution',
        additionalProperties: {
          enum: [
            'ignore',
            'recreate_vm',
            'reboot_vm',
            'delete_vm',
            'delete_disk',
            'reattach_disk',
            'delete_disk_reference',
          ],
        },
      },
    },
  },
  UpgradeClusterRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      kubernetes_version: {
        type: 'string',
        pattern: '^\\d+\\.\\d+\\.\\d+$',
        description: "default: toward the plan's version, one minor at a time",
      },
      stemcell: { type: 'string', pattern: '^.+/.+$', description: 'NAME/VERSION; default kubernetes.stemcell' },
      max_in_flight: {
        oneOf: [
          { type: 'integer', minimum: 1 },
          { type: 'string', pattern: '^\\d+(\\.\\d+)?%$' },
        ],
        description: "workers at once; overrides the plan's update.max_in_flight",
      },
      canaries: {
        oneOf: [
          { type: 'integer', minimum: 0 },
          { type: 'string', pattern: '^\\d+(\\.\\d+)?%$' },
        ],
      },
      force_drain: { type: 'boolean', description: 'on a drain or detach timeout, go on instead of stopping' },
    },
  },
  UpdateClusterRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      plan_name: { type: 'string', minLength: 1, description: 'the new plan (same IaaS and number of masters)' },
      recreate: { type: 'boolean', description: 'replace every VM even when its spec is unchanged' },
      max_in_flight: {
        oneOf: [
          { type: 'integer', minimum: 1 },
          { type: 'string', pattern: '^\\d+(\\.\\d+)?%$' },
        ],
      },
      canaries: {
        oneOf: [
          { type: 'integer', minimum: 0 },
          { type: 'string', pattern: '^\\d+(\\.\\d+)?%$' },
        ],
      },
      force_drain: { type: 'boolean' },
    },
  },
  FleetUpgradeRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      clusters: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        minItems: 1,
        description: 'cluster names; or all: true',
      },
      all: { type: 'boolean' },
      max_in_flight: {
        type: 'integer',
        minimum: 1,
        description: 'clusters upgraded at once after the canaries (default 1)',
      },
      canaries: {
        oneOf: [
          { type: 'integer', minimum: 0 },
          { type: 'array', items: { type: 'string' } },
        ],
        description: 'the first N clusters, or these names, go first one at a time; a failed canary stops the rest',
      },
      kubernetes_version: {
        type: 'string',
        pattern: '^\\d+\\.\\d+\\.\\d+$',
        description: "default: each cluster's plan version, one minor at a time",
      },
      stemcell: { type: 'string', pattern: '^.+/.+$' },
      force_drain: { type: 'boolean' },
    },
  },
  FleetUpgrade: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      type: { const: 'UPGRADE' },
      state: { enum: ['queued', 'in progress', 'done', 'failed', 'cancelled'] },
      user: { type: 'string' },
      params: { type: 'object' },
      clusters: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            cluster_name: { type: 'string' },
            is_canary: { type: 'boolean' },
            state: { enum: ['queued', 'in progress', 'succeeded', 'failed', 'skipped', 'cancelled'] },
            task_id: { type: ['integer', 'null'] },
            detail: { type: ['string', 'null'] },
          },
        },
      },
      summary: { type: 'object' },
      error: { type: ['string', 'null'] },
    },
  },
} as const satisfies Record<string, JsonSchema>;

export type SchemaName = keyof typeof schemas;
