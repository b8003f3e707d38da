import type { JsonSchema } from '@slipway/contracts';

/**
 * Operator configuration of the OpenStack driver (`iaas[].config` in slipway.yaml). Secrets are never here:
 * `credentials_ref` names a `json` credential holding the Keystone password-auth fields.
 */
export interface OpenStackConfig {
  /** Keystone's base URL (`https://keystone.example.com:5000` or `.../v3`); the endpoint of every other service comes from its catalog. */
  auth_url: string;
  /** Name of a `json` credential: `{ username, password, user_domain_name, project_name, project_domain_name }`. */
  credentials_ref: string;
  /** Catalog region to use; the first endpoint of each service is taken when absent. */
  region?: string;
  /** Catalog interface to use. Default `public`. */
  interface?: 'public' | 'internal' | 'admin';
  /** Neutron network every VM gets a port on (the fixed IP the network driver allocated is requested on it). */
  network_id: string;
  /** Availability zone for VMs and volumes when neither the call nor the plan names one. */
  availability_zone?: string;
  /** Flavor used when neither the plan's `instance_type` nor the cloud properties name one and no flavor fits the resources. */
  default_flavor?: string;
  /** Security group names given to every VM. */
  security_groups?: string[];
  /** Nova keypair injected into every VM. */
  key_name?: string;
  /**
   * Create a VM's disk in the zone the cloud gives (`availability_zone` / the cloud default) instead of the VM's
   * own Nova zone: for clouds whose Cinder zones are named differently from their Nova zones. Default false.
   */
  ignore_server_availability_zone?: boolean;
  /** Cinder volume type for persistent disks; the cloud's default type when absent. */
  volume_type?: string;
  /** How often an asynchronous state (BUILD, attaching, extending...) is polled, in ms. Default 1000. */
  poll_interval_ms?: number;
  /** Per-service endpoint overrides (private regions whose catalog lists unreachable URLs, or a local fake). */
  endpoint_overrides?: { compute?: string; volumev3?: string; image?: string };
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['auth_url', 'credentials_ref', 'network_id'],
  properties: {
    auth_url: {
      type: 'string',
      pattern: '^https?://',
      description: 'Keystone base URL, e.g. https://keystone.example.com:5000/v3',
    },
    credentials_ref: {
      type: 'string',
      minLength: 1,
      description:
        'Credential name of a json credential with username, password, user_domain_name, project_name, project_domain_name',
    },
    region: { type: 'string', minLength: 1 },
    interface: { enum: ['public', 'internal', 'admin'] },
    network_id: { type: 'string', minLength: 1, description: 'Neutron network UUID for the VMs' },
    availability_zone: { type: 'string', minLength: 1 },
    default_flavor: { type: 'string', minLength: 1 },
    security_groups: { type: 'array', items: { type: 'string', minLength: 1 } },
    key_name: { type: 'string', minLength: 1 },
    ignore_server_availability_zone: { type: 'boolean' },
    volume_type: { type: 'string', minLength: 1 },
    poll_interval_ms: { type: 'integer', minimum: 1, maximum: 60000 },
    endpoint_overrides: {
      type: 'object',
      additionalProperties: false,
      properties: {
        compute: { type: 'string', pattern: '^https?://' },
        volumev3: { type: 'string', pattern: '^https?://' },
        image: { type: 'string', pattern: '^https?://' },
      },
    },
  },
};

/** The fields of the credential `credentials_ref` names. */
export interface OpenStackPasswordCredential {
  username: string;
  password: string;
  user_domain_name: string;
  project_name: string;
  project_domain_name: string;
}
