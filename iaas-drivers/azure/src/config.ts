import type { JsonSchema } from '@slipway/contracts';

/** Managed-disk SKUs (`sku.name` of Microsoft.Compute/disks). */
export const STORAGE_ACCOUNT_TYPES = [
  'Standard_LRS',
  'StandardSSD_LRS',
  'Premium_LRS',
  'StandardSSD_ZRS',
  'Premium_ZRS',
  'PremiumV2_LRS',
  'UltraSSD_LRS',
] as const;
export type StorageAccountType = (typeof STORAGE_ACCOUNT_TYPES)[number];

/** A platform (marketplace) image, as `az vm image list` names it. */
export interface MarketplaceImage {
  publisher: string;
  offer: string;
  sku: string;
  /** A version such as `22.04.202404090` or `latest`. */
  version: string;
}

/**
 * Operator configuration of the Azure driver (`iaas[].config` in slipway.yaml). The secret is never here:
 * `credentials_ref` names a `json` credential `{ tenant_id, client_id, client_secret }` of an Entra ID app
 * registration (service principal) with the Contributor role on the resource group.
 */
export interface AzureConfig {
  subscription_id: string;
  /** The resource group every VM, NIC, disk, snapshot and image lives in; it must exist. */
  resource_group: string;
  /** Azure region of the resources (`westeurope`). */
  location: string;
  /** Full resource id of the subnet VMs get their NIC in: `/subscriptions/…/virtualNetworks/{vnet}/subnets/{subnet}`. */
  subnet_id: string;
  /** Name of a `json` credential: `{ tenant_id, client_id, client_secret }`. */
  credentials_ref: string;
  /** OpenSSH public key put on every VM; Azure requires SSH or password authentication on Linux, and passwords stay off. */
  ssh_public_key: string;
  /** Linux admin user created on every VM. Default `slipway`. */
  admin_username?: string;
  /** Azure Resource Manager endpoint. Default `https://management.azure.com` (sovereign clouds and Azure Stack Hub have their own). */
  resource_manager_url?: string;
  /** Entra ID authority. Default `https://login.microsoftonline.com`. */
  authority_url?: string;
  /** OAuth scope of the ARM token. Default `https://management.azure.com/.default`. */
  token_scope?: string;
  /**
   * PEM of a CA the driver trusts for its HTTPS connections, in addition to the system roots: for Azure Stack
   * Hub with a private CA (or a fake). Applies to both ARM and the authority.
   */
  ca_cert?: string;
  /** Availability zones VMs may be placed in (`["1","2","3"]`); none means regional VMs. */
  zones?: string[];
  /** VM size when the plan names none; otherwise the smallest size of the region that fits the plan's cpu and memory. */
  default_vm_size?: string;
  /** SKU of persistent and OS disks. Default `StandardSSD_LRS` (every VM size can attach it). */
  storage_account_type?: StorageAccountType;
  /** Network security group given to every NIC, by resource id. */
  network_security_group_id?: string;
  /** The platform image a stemcell boots when it brings neither an image file nor image cloud properties. */
  marketplace_image?: MarketplaceImage;
  /** How often a long-running operation is polled when Azure sends no Retry-After, in ms. Default 2000. */
  poll_interval_ms?: number;
}

const ARM_URL = { type: 'string', pattern: '^https://' } as const;

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['subscription_id', 'resource_group', 'location', 'subnet_id', 'credentials_ref', 'ssh_public_key'],
  properties: {
    subscription_id: { type: 'string', pattern: '^[0-9a-fA-F-]{36}$', description: 'Subscription id (a GUID)' },
    resource_group: { type: 'string', minLength: 1, maxLength: 90 },
    location: { type: 'string', minLength: 1, description: 'Azure region, e.g. westeurope' },
    subnet_id: {
      type: 'string',
      pattern:
        '^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.Network/virtualNetworks/[^/]+/subnets/[^/]+$',
    },
    credentials_ref: {
      type: 'string',
      minLength: 1,
      description: 'Credential name of a json credential with tenant_id, client_id, client_secret',
    },
    ssh_public_key: { type: 'string', pattern: '^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp256) ' },
    admin_username: { type: 'string', pattern: '^[a-z_][a-z0-9_-]{0,31}$' },
    resource_manager_url: {
      ...ARM_URL,
      description: 'ARM endpoint; https only (Azure refuses bearer tokens over plain http)',
    },
    authority_url: { ...ARM_URL, description: 'Entra ID authority' },
    token_scope: { type: 'string', pattern: '/\\.default$' },
    ca_cert: { type: 'string', pattern: '-----BEGIN CERTIFICATE-----' },
    zones: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
    default_vm_size: { type: 'string', minLength: 1 },
    storage_account_type: { enum: [...STORAGE_ACCOUNT_TYPES] },
    network_security_group_id: { type: 'string', pattern: '^/subscriptions/' },
    marketplace_image: {
      type: 'object',
      additionalProperties: false,
      required: ['publisher', 'offer', 'sku', 'version'],
      properties: {
        publisher: { type: 'string', minLength: 1 },
        offer: { type: 'string', minLength: 1 },
        sku: { type: 'string', minLength: 1 },
        version: { type: 'string', minLength: 1 },
      },
    },
    poll_interval_ms: { type: 'integer', minimum: 1, maximum: 60000 },
  },
};

/** The fields of the credential `credentials_ref` names. */
export interface AzureClientCredential {
  tenant_id: string;
  client_id: string;
  client_secret: string;
}

export const DEFAULT_RESOURCE_MANAGER_URL = 'https://management.azure.com';
export const DEFAULT_AUTHORITY_URL = 'https://login.microsoftonline.com';
export const DEFAULT_TOKEN_SCOPE = 'https://management.azure.com/.default';
