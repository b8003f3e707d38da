import type { JsonSchema } from '@slipway/contracts';

/** Where one key-encryption key comes from. */
export interface KeySourceConfig {
  /** A file holding the key: 32 bytes in base64. */
  key_file?: string;
  /** An environment variable holding the key (base64 of 32 bytes) or a passphrase (stretched with scrypt). */
  key_env?: string;
  /** The key new values are encrypted under; exactly one key is active. */
  active?: boolean;
}

export interface CredhubConfig {
  encryption?: {
    /** One key from a file (shorthand for `keys: [{ key_file, active: true }]`). */
    key_file?: string;
    /** One key from an environment variable (shorthand for `keys: [{ key_env, active: true }]`). */
    key_env?: string;
    /**
     * Several keys, one active: values under the others stay readable and are re-encrypted under the
     * active key (see `rotate_on_start`). Add the new key as active, keep the old one until rotation ends.
     */
    keys?: KeySourceConfig[];
    /** Re-encrypt values held under inactive keys in the background at start. Default true. */
    rotate_on_start?: boolean;
  };
  permissions?: {
    /** Actors with every permission on every path. Default `['slipway:engine']`; the engine's actor always has it. */
    full_access_actors?: string[];
    /** Slipway roles with every permission (the caller's roles come with its request). Default `['clusters.admin']`. */
    admin_roles?: string[];
  };
  certificates?: {
    /**
     * A leaf's `ca` lists its signing CA and the CA's other trusted version during a rotation, so a
     * consumer's trust bundle spans both. Default true (CredHub's `certificates.concatenate_cas`).
     */
    concatenate_cas?: boolean;
  };
  audit?: {
    /** Audit events older than this many days are deleted at start. Default 365. */
    retention_days?: number;
  };
}

const keySource = {
  type: 'object',
  additionalProperties: false,
  properties: {
    key_file: { type: 'string', minLength: 1 },
    key_env: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
    active: { type: 'boolean' },
  },
};

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    encryption: {
      type: 'object',
      additionalProperties: false,
      description: 'where the key-encryption keys come from; default: a key file created in the plugin data directory',
      properties: {
        key_file: keySource.properties.key_file,
        key_env: keySource.properties.key_env,
        keys: { type: 'array', minItems: 1, items: keySource },
        rotate_on_start: { type: 'boolean' },
      },
    },
    permissions: {
      type: 'object',
      additionalProperties: false,
      properties: {
        full_access_actors: { type: 'array', items: { type: 'string', minLength: 1 } },
        admin_roles: { type: 'array', items: { type: 'string', minLength: 1 } },
      },
    },
    certificates: {
      type: 'object',
      additionalProperties: false,
      properties: { concatenate_cas: { type: 'boolean' } },
    },
    audit: {
      type: 'object',
      additionalProperties: false,
      properties: { retention_days: { type: 'integer', minimum: 1, maximum: 36500 } },
    },
  },
};

/** The engine's actor: it issues every cluster's PKI and must never lose access. */
export const ENGINE_ACTOR = 'slipway:engine';
