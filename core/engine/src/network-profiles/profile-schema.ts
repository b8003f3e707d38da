import { Ajv, type ValidateFunction } from 'ajv';
import {
  SlipwayError,
  UPDATABLE_NETWORK_PROFILE_FIELDS,
  type JsonSchema,
  type NetworkProfile,
} from '@slipway/contracts';
import { describeAjvErrors } from '../config/ajv-errors.js';

const ID = { type: 'string', minLength: 1, maxLength: 255 };
const IPV4 = {
  type: 'string',
  pattern: '^(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}$',
  description: 'an IPv4 address',
};
const CIDR = {
  type: 'string',
  pattern: '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$',
  description: 'an IPv4 CIDR such as 10.0.0.0/24',
};

/**
 * A network profile document as `slipway create-network-profile FILE.json` sends it: TKGI's shape
 * (`name`, `description`, `parameters`) with the fields of ../shared/reference §5.3 that apply to Slipway.
 * Unknown fields are refused, so a misspelt one is not silently ignored.
 */
export const NETWORK_PROFILE_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'parameters'],
  properties: {
    name: {
      type: 'string',
      pattern: '^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$',
      description: 'lowercase letters, digits, dashes and underscores; 1-63 characters',
    },
    description: { type: 'string', maxLength: 1024 },
    parameters: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: {
        t0_router_id: ID,
        fip_pool_ids: { type: 'array', items: ID, minItems: 1, uniqueItems: true },
        pod_ip_block_ids: { type: 'array', items: ID, minItems: 1, uniqueItems: true },
        pod_subnet_prefix: { type: 'integer', minimum: 16, maximum: 28 },
        pod_routable: { type: 'boolean' },
        single_tier_topology: { type: 'boolean' },
        lb_size: { enum: ['small', 'medium', 'large'] },
        nodes_dns: { type: 'array', items: IPV4, minItems: 1, maxItems: 3 },
        dns_lookup_mode: { enum: ['API', 'API_INGRESS'] },
        failover_mode: { enum: ['PREEMPTIVE', 'NON_PREEMPTIVE'] },
        ingress_prefix: { type: 'string', minLength: 1, maxLength: 63 },
        master_vms_nsgroup_id: ID,
        infrastructure_networks: { type: 'array', items: CIDR, uniqueItems: true },
        cni_configurations: {
          type: 'object',
          additionalProperties: false,
          required: ['type'],
          properties: { type: { enum: ['nsxt', 'antrea', 'flannel'] }, parameters: { type: 'object' } },
        },
      },
    },
  },
};

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
let validate: ValidateFunction | undefined;

/** Checks a profile document; every problem is listed with its path (`parameters.nodes_dns[0]: must be ...`). */
export function validateNetworkProfile(document: unknown): NetworkProfile {
  validate ??= ajv.compile(NETWORK_PROFILE_SCHEMA);
  if (!validate(document)) {
    const problems = describeAjvErrors(validate.errors);
    throw new SlipwayError('InvalidInput', `the network profile is not valid: ${problems.join('; ')}`, {
      field: problems[0]?.split(':')[0],
      details: { errors: problems },
      hint: 'Fix every listed field; `slipway create-network-profile --help` shows the accepted fields.',
    });
  }
  return document as NetworkProfile;
}

/**
 * What changes when a running cluster moves from profile `from` to `to`: only the updatable fields may
 * differ (TKGI's rule: the topology of a running cluster is fixed). Returns the fields that differ.
 */
export function checkProfileUpdate(from: NetworkProfile | undefined, to: NetworkProfile): string[] {
  const before = (from?.parameters ?? {}) as Record<string, unknown>;
  const after = to.parameters as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  const changed = fields.filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]));
  const fixed = changed.filter((f) => !(UPDATABLE_NETWORK_PROFILE_FIELDS as readonly string[]).includes(f));
  if (fixed.length > 0) {
    const fields = fixed.map((f) => `parameters.${f}`).join(', ');
    throw new SlipwayError(
      'InvalidInput',
      `network profile "${to.name}" changes ${fields}, which a running cluster cannot change`,
      {
        field: `parameters.${fixed[0]}`,
        details: { fixed, updatable: [...UPDATABLE_NETWORK_PROFILE_FIELDS] },
        hint: `Only ${UPDATABLE_NETWORK_PROFILE_FIELDS.join(', ')} may change after create; make a profile that differs only in those.`,
      },
    );
  }
  return changed;
}
