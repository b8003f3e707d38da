import type { JsonSchema } from '@slipway/contracts';

export interface RangeConfig { cidr: string; gateway?: string; reserved?: string[]; dns?: string[] }
export interface FlatConfig {
  /** One range per IaaS target name. */
  ranges?: Record<string, RangeConfig>;
  /** For targets without their own range. */
  default_range?: RangeConfig;
}

const range: JsonSchema = {
  type: 'object', additionalProperties: false, required: ['cidr'],
  properties: {
    cidr: { type: 'string', pattern: '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$', description: 'IPv4 CIDR of the nodes, e.g. 10.20.0.0/16' },
    gateway: { type: 'string', description: 'default: the first host address (reserved)' },
    reserved: { type: 'array', items: { type: 'string' }, description: 'addresses or a-b ranges never handed out' },
    dns: { type: 'array', items: { type: 'string' }, maxItems: 3 },
  },
};

export const configSchema: JsonSchema = {
  type: 'object', additionalProperties: false,
  properties: {
    ranges: { type: 'object', additionalProperties: range },
    default_range: range,
  },
};
