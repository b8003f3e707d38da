import type { JsonSchema } from '@slipway/contracts';

/**
 * Operator configuration of the vSphere driver (`iaas[].config` in slipway.yaml). Secrets are never here:
 * `credentials_ref` names a `user` (or `json`) credential `{ username, password }` of a vCenter SSO user.
 * Inventory names are paths as vCenter's SearchIndex.FindByInventoryPath reads them.
 */
export interface VsphereConfig {
  /** vCenter's Web Services endpoint: `https://vcenter.example.com/sdk` (`/sdk` is added when the URL has no path). */
  url: string;
  /** Name of a `user` or `json` credential with `username` and `password`. */
  credentials_ref: string;
  /** Datacenter name (or `folder/datacenter` when it sits in a folder). */
  datacenter: string;
  /** Cluster (compute resource) under the datacenter's host folder. */
  cluster: string;
  /** Resource pool path below the cluster's root pool (`slipway` or `team-a/slipway`); the root pool when absent. */
  resource_pool?: string;
  /** Datastore for VMs and, unless `disk_datastore` says otherwise, persistent disks. */
  datastore: string;
  /** Datastore for persistent disks. Default: `datastore`. Changing it later hides the disks already made. */
  disk_datastore?: string;
  /** VM folder path below the datacenter's `vm` folder; the folder must exist. Default: the `vm` folder itself. */
  vm_folder?: string;
  /** Folder for the templates createStemcell makes, below the datacenter's `vm` folder. Default: `vm_folder`. */
  template_folder?: string;
  /** Datastore folder holding persistent disks. Default `slipway-disks`. */
  disk_folder?: string;
  /**
   * Path (below the datacenter's `vm` folder) of the template createStemcell clones when a stemcell names no
   * template of its own: the operator's golden image. The clone gets a snapshot, so VMs are linked clones.
   */
  base_template?: string;
  /** Clone VMs as linked clones (delta disks on the template's snapshot) when the template has one. Default true. */
  linked_clones?: boolean;
  /** PEM of the CA that signed vCenter's certificate (the VMCA root), trusted instead of the system's CAs. */
  ca_cert?: string;
  /** Skip TLS verification. Unsafe: anyone on the path can read the vCenter password. Lab vCenters only. */
  insecure?: boolean;
  /** How often a vCenter Task is polled at most, in ms (the first polls come sooner). Default 500. */
  poll_interval_ms?: number;
  /** vim25 version sent in SOAPAction. Default `7.0.3.0` (vCenter 7.0 U3 and 8.x). */
  api_version?: string;
}

const PATH = { type: 'string', minLength: 1, pattern: '^[^/].*[^/]$|^[^/]$' };

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['url', 'credentials_ref', 'datacenter', 'cluster', 'datastore'],
  properties: {
    url: { type: 'string', pattern: '^https://', description: 'vCenter SDK URL, e.g. https://vcenter.example.com/sdk' },
    credentials_ref: {
      type: 'string',
      minLength: 1,
      description: 'Credential name of a user (or json) credential with username and password',
    },
    datacenter: PATH,
    cluster: PATH,
    resource_pool: PATH,
    datastore: { type: 'string', minLength: 1 },
    disk_datastore: { type: 'string', minLength: 1 },
    vm_folder: PATH,
    template_folder: PATH,
    disk_folder: PATH,
    base_template: PATH,
    linked_clones: { type: 'boolean' },
    ca_cert: { type: 'string', pattern: '-----BEGIN CERTIFICATE-----' },
    insecure: { type: 'boolean' },
    poll_interval_ms: { type: 'integer', minimum: 1, maximum: 60000 },
    api_version: { type: 'string', pattern: '^\\d+\\.\\d+(\\.\\d+){0,2}$' },
  },
};

/** The fields of the credential `credentials_ref` names. */
export interface VsphereCredential {
  username: string;
  password: string;
}

/** vCenter's SOAP endpoint for a configured URL. */
export function sdkUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.pathname === '' || parsed.pathname === '/') parsed.pathname = '/sdk';
  return parsed.toString();
}
