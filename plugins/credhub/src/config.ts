import type { JsonSchema } from '@slipway/contracts';

export interface CredhubConfig {
  encryption?: {
    /** Path of a file holding the key-encryption key (32 bytes, base64). */
    key_file?: string;
    /** Name of an environment variable holding the key (base64 of 32 bytes) or a passphrase. */
    key_env?: string;
  };
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    encryption: {
      type: 'object',
      additionalProperties: false,
      description: 'where the key-encryption key comes from; default: a key file created in the plugin data directory',
      properties: {
        key_file: { type: 'string', minLength: 1 },
        key_env: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
      },
    },
  },
};
