import { CREDENTIAL_TYPES } from '@slipway/contracts';
import { GENERATED_TYPES } from '../generate/parameters.js';

/**
 * Request bodies of the CredHub API: the one source for validation (ajv, before the provider runs) and
 * for the OpenAPI paths the control plane publishes. Field names and shapes are CredHub's.
 */
// Enumerations are checked by the provider, in CredHub's words; the schema checks the JSON types.
// No minLength: an empty name gets the provider's CredHub message, which names the field too.
const name = { type: 'string', maxLength: 1024, description: 'credential name, /path/name' };
const metadata = {
  type: ['object', 'null'],
  description: 'free-form JSON kept beside every version (at most 7000 characters)',
};
const _text = { type: 'string', maxLength: 65536 };
const optionalText = { type: ['string', 'null'], maxLength: 65536 };
const operations = {
  type: 'array',
  minItems: 1,
  maxItems: 16,
  items: { type: 'string', maxLength: 32, description: 'read, write, delete, read_acl or write_acl' },
};

/** What `value` must look like for each type of `PUT /api/v1/data`. */
const valueByType = [
  { types: ['value', 'password'], value: { type: 'string', maxLength: 65536 } },
  { types: ['json'], value: { type: ['object', 'array'] } },
  {
    types: ['user'],
    value: {
      type: 'object',
      additionalProperties: false,
      required: ['password'],
      properties: { username: optionalText, password: { type: 'string', maxLength: 65536 } },
    },
  },
  {
    types: ['rsa', 'ssh'],
    value: {
      type: 'object',
      additionalProperties: false,
      properties: { public_key: optionalText, private_key: optionalText },
    },
  },
  {
    types: ['certificate'],
    value: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ca: optionalText,
        ca_name: { type: ['string', 'null'], maxLength: 1024 },
        certificate: optionalText,
        private_key: optionalText,
      },
    },
  },
];

const stringList = { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 253 } };
const passwordParameters = {
  length: { type: 'integer', minimum: 4, maximum: 200 },
  exclude_upper: { type: 'boolean' },
  exclude_lower: { type: 'boolean' },
  exclude_number: { type: 'boolean' },
  include_special: { type: 'boolean' },
};
const parametersByType: Record<string, object> = {
  password: { type: 'object', additionalProperties: false, properties: passwordParameters },
  user: {
    type: 'object',
    additionalProperties: false,
    properties: { ...passwordParameters, username: { type: 'string', minLength: 1, maxLength: 1024 } },
  },
  rsa: { type: 'object', additionalProperties: false, properties: { key_length: { enum: [2048, 3072, 4096] } } },
  ssh: {
    type: 'object',
    additionalProperties: false,
    properties: { key_length: { enum: [2048, 3072, 4096] }, ssh_comment: { type: 'string', maxLength: 1024 } },
  },
  certificate: {
    type: 'object',
    additionalProperties: false,
    properties: {
      common_name: { type: 'string', maxLength: 64 },
      alternative_names: stringList,
      organization: { type: 'string', maxLength: 64 },
      organization_unit: { type: 'string', maxLength: 64 },
      locality: { type: 'string', maxLength: 128 },
      state: { type: 'string', maxLength: 128 },
      country: { type: 'string', maxLength: 2 },
      key_usage: { type: 'array', maxItems: 16, items: { type: 'string' } },
      extended_key_usage: { type: 'array', maxItems: 16, items: { type: 'string' } },
      duration: { type: 'integer', minimum: 1, maximum: 36500 },
      key_length: { enum: [2048, 3072, 4096] },
      key_algorithm: { type: 'string', maxLength: 32 },
      ca: { type: 'string', minLength: 1, maxLength: 1024 },
      is_ca: { type: 'boolean' },
      self_sign: { type: 'boolean' },
    },
  },
};

export const credhubSchemas = {
  CredhubSetRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'type', 'value'],
    properties: {
      name,
      type: { type: 'string', maxLength: 32, description: CREDENTIAL_TYPES.join(', ') },
      value: { description: 'shape depends on type' },
      metadata,
    },
    allOf: valueByType.map((v) => ({
      if: { required: ['type'], properties: { type: { enum: v.types } } },
      then: { properties: { value: v.value } },
    })),
  },
  CredhubGenerateRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name,
      type: { type: 'string', maxLength: 32, description: GENERATED_TYPES.join(', ') },
      parameters: { type: ['object', 'null'] },
      mode: { type: 'string', maxLength: 32, description: 'overwrite, no-overwrite or converge (default)' },
      overwrite: { type: 'boolean' },
      metadata,
      regenerate: { type: 'boolean', description: 'true: regenerate `name` from its stored parameters' },
    },
    allOf: [
      {
        if: { required: ['regenerate'], properties: { regenerate: { const: true } } },
        then: {},
        else: { required: ['type'] },
      },
      ...Object.entries(parametersByType).map(([type, schema]) => ({
        if: { required: ['type'], properties: { type: { const: type } } },
        then: { properties: { parameters: { ...schema, type: ['object', 'null'] } } },
      })),
    ],
  },
  CredhubRegenerateRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: { name, metadata },
  },
  CredhubBulkRegenerateRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['signed_by'],
    properties: { signed_by: name },
  },
  CredhubCertificateRegenerateRequest: {
    type: 'object',
    additionalProperties: false,
    properties: {
      set_as_transitional: { type: 'boolean' },
      allow_transitional_parent_to_sign: { type: 'boolean' },
      key_length: { enum: [2048, 3072, 4096] },
      duration: { type: 'integer', minimum: 1, maximum: 36500 },
      metadata,
    },
  },
  CredhubTransitionalRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['version'],
    properties: {
      version: { type: ['string', 'null'], maxLength: 64, description: 'a version id, "latest", or null for none' },
    },
  },
  CredhubPermissionRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['actor', 'path', 'operations'],
    properties: {
      actor: { type: 'string', minLength: 1, maxLength: 256 },
      path: { type: 'string', minLength: 1, maxLength: 1024 },
      operations,
    },
  },
  CredhubPermissionPatch: {
    type: 'object',
    additionalProperties: false,
    required: ['operations'],
    properties: { operations },
  },
  CredhubInterpolateRequest: {
    type: 'object',
    description: 'VCAP_SERVICES: service name → bindings whose credentials hold a credhub-ref',
  },
} as const;

export type CredhubSchemaName = keyof typeof credhubSchemas;
