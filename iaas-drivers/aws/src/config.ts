import type { JsonSchema } from '@slipway/contracts';

/** EBS volume types the driver accepts for persistent and ephemeral disks. */
export const VOLUME_TYPES = ['gp3', 'gp2', 'io1', 'io2', 'st1', 'sc1', 'standard'] as const;
export type VolumeType = (typeof VOLUME_TYPES)[number];

/**
 * Configuration of one AWS IaaS target (`iaas[].config` in slipway.yaml). Frozen after validation.
 * Secrets are never here: `credentials_ref` names a `json` credential
 * `{ access_key_id, secret_access_key, session_token? }` in the credential provider.
 */
export interface AwsConfig {
  /** EC2 region, e.g. `eu-west-1`. */
  region: string;
  /** EC2 endpoint URL; defaults to the SDK's regional endpoint. For private regions, VPC endpoints and fakes. */
  endpoint?: string;
  /** Name of the credential holding the access key, e.g. `/slipway/iaas/aws`. */
  credentials_ref: string;
  /** Zone used when neither the plan nor the call names one. */
  availability_zone?: string;
  /** Subnet for VMs when the plan's cloud properties name none. */
  subnet_id?: string;
  /** Security groups for VMs when the plan's cloud properties name none. */
  security_group_ids?: string[];
  /** EC2 key pair for SSH access to VMs. */
  key_name?: string;
  /** IAM instance profile name given to every VM. */
  iam_instance_profile?: string;
  /** EBS volume type for persistent and ephemeral disks (default gp3). */
  volume_type?: VolumeType;
  /** Encrypt every EBS volume the driver creates. */
  encrypted?: boolean;
  /** KMS key for encrypted volumes; the account's default EBS key when absent. */
  kms_key_arn?: string;
  /** Tags put on every VM, disk and snapshot, under the caller's metadata. */
  default_tags?: Record<string, string>;
  /**
   * How long a VM or disk this process created is treated as existing while EC2 still answers NotFound for it
   * (EC2 is eventually consistent right after RunInstances / CreateVolume). Default 300 s.
   */
  consistency_window_seconds?: number;
  /** Interval between polls of an async EC2 operation (volume available, attached, instance terminated). Default 2000 ms. */
  poll_interval_ms?: number;
  /** Upper bound on one verb's polling, after which it fails with Timeout. Default 900 s. */
  operation_timeout_seconds?: number;
  /**
   * deleteVm waits until the instance is `terminated`, so its private IP can be given to the next VM at once.
   * Default true; false returns as soon as TerminateInstances is accepted.
   */
  wait_for_termination?: boolean;
}

const tagMap = {
  type: 'object',
  propertyNames: { type: 'string', minLength: 1, maxLength: 128 },
  additionalProperties: { type: 'string', maxLength: 256 },
} as const;

/** JSON Schema of {@link AwsConfig}; ajv with allErrors reports every problem with its path. */
export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['region', 'credentials_ref'],
  properties: {
    region: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$', description: 'EC2 region, e.g. eu-west-1' },
    endpoint: { type: 'string', pattern: '^https?://', description: 'EC2 endpoint URL (private regions, fakes)' },
    credentials_ref: {
      type: 'string',
      minLength: 1,
      description: 'credential name of {access_key_id, secret_access_key, session_token?}',
    },
    availability_zone: { type: 'string', minLength: 1 },
    subnet_id: { type: 'string', pattern: '^subnet-[0-9a-z]+$' },
    security_group_ids: { type: 'array', items: { type: 'string', pattern: '^sg-[0-9a-z]+$' } },
    key_name: { type: 'string', minLength: 1 },
    iam_instance_profile: { type: 'string', minLength: 1 },
    volume_type: { type: 'string', enum: [...VOLUME_TYPES] },
    encrypted: { type: 'boolean' },
    kms_key_arn: { type: 'string', pattern: '^arn:' },
    default_tags: tagMap,
    consistency_window_seconds: { type: 'integer', minimum: 0, maximum: 3600 },
    poll_interval_ms: { type: 'integer', minimum: 1, maximum: 60_000 },
    operation_timeout_seconds: { type: 'integer', minimum: 1, maximum: 86_400 },
    wait_for_termination: { type: 'boolean' },
  },
};

/** The config with every default filled in, as the driver uses it. */
export interface ResolvedAwsConfig extends AwsConfig {
  volume_type: VolumeType;
  consistency_window_seconds: number;
  poll_interval_ms: number;
  operation_timeout_seconds: number;
  wait_for_termination: boolean;
  default_tags: Record<string, string>;
}

/** The fields of the `json` credential `credentials_ref` names. */
export interface AwsCredential {
  access_key_id: string;
  secret_access_key: string;
  /** For temporary credentials (STS). */
  session_token?: string;
}

/** Fills in the defaults; the result is frozen and never changed. */
export function resolveConfig(config: AwsConfig): Readonly<ResolvedAwsConfig> {
  return Object.freeze({
    ...config,
    volume_type: config.volume_type ?? 'gp3',
    consistency_window_seconds: config.consistency_window_seconds ?? 300,
    poll_interval_ms: config.poll_interval_ms ?? 2000,
    operation_timeout_seconds: config.operation_timeout_seconds ?? 900,
    wait_for_termination: config.wait_for_termination ?? true,
    default_tags: { ...(config.default_tags ?? {}) },
  });
}
