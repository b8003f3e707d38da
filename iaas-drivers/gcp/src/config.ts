import type { JsonSchema } from '@slipway/contracts';

/**
 * Operator configuration of the Google Compute Engine driver (`iaas[].config` in slipway.yaml). Secrets are
 * never here: `credentials_ref` names a `json` credential holding a service-account key file's JSON.
 */
export interface GcpConfig {
  /** Project id the VMs live in. Default: the `project_id` of the service-account key. */
  project?: string;
  /** Zone for VMs and disks when neither the call, the plan's cloud properties nor a VM hint names one (`europe-west1-b`). */
  zone: string;
  /** Name of a `json` credential whose value is a service-account key (`type: service_account`, `private_key`, `client_email`, `token_uri`...). */
  credentials_ref: string;
  /** Compute API root. Default `https://compute.googleapis.com` (the driver appends `/compute/v1`); a Private Service Connect endpoint or a local fake otherwise. */
  endpoint?: string;
  /** VPC network of the VMs' first interface. Default `global/networks/default`. */
  network?: string;
  /** Subnetwork (`regions/REGION/subnetworks/NAME`) for custom-mode networks; the network driver's addresses must lie in it. */
  subnetwork?: string;
  /** Machine series the driver picks from when a plan gives cpu and memory but no machine type. Default `e2`. */
  machine_type_series?: string;
  /** Machine type when nothing else names one and no machine of the series fits the resources. */
  default_machine_type?: string;
  /** Disk type of persistent disks. Default `pd-balanced`. */
  disk_type?: string;
  /** Image copied into the project by createStemcell when the stemcell names no source (`projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts`). */
  stemcell_source_image?: string;
  /** Network tags (firewall targets) given to every VM. */
  network_tags?: string[];
  /** Service account the VMs run as (no service account when absent: Slipway's agents need no Google API). */
  vm_service_account?: string;
}

const ZONE = '^[a-z]+-[a-z]+[0-9]+-[a-z]$';

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['zone', 'credentials_ref'],
  properties: {
    project: {
      type: 'string',
      pattern: '^[a-z][-a-z0-9]{4,28}[a-z0-9]$',
      description: 'GCP project id; default the project of the service-account key',
    },
    zone: { type: 'string', pattern: ZONE, description: 'Default zone, e.g. europe-west1-b' },
    credentials_ref: {
      type: 'string',
      minLength: 1,
      description: 'Credential name of a json credential holding a service-account key',
    },
    endpoint: {
      type: 'string',
      pattern: '^https?://',
      description: 'Compute API root; default https://compute.googleapis.com',
    },
    network: { type: 'string', minLength: 1 },
    subnetwork: { type: 'string', minLength: 1 },
    machine_type_series: { type: 'string', pattern: '^[a-z][a-z0-9]*$' },
    default_machine_type: { type: 'string', minLength: 1 },
    disk_type: { type: 'string', pattern: '^[a-z][-a-z0-9]*$' },
    stemcell_source_image: { type: 'string', minLength: 1 },
    network_tags: { type: 'array', items: { type: 'string', pattern: '^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$' } },
    vm_service_account: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$' },
  },
};

/** The fields of a service-account key file the driver uses (the rest of the file is ignored). */
export interface ServiceAccountKey {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  token_uri: string;
}

export const DEFAULT_ENDPOINT = 'https://compute.googleapis.com';
