import type { JsonSchema } from '@slipway/contracts';

export interface SandboxConfig {
  /** The simulated cloud's inventory file; default `sandbox.json` in the plugin's data directory. */
  state_file?: string;
  /** Latency of each call in ms: one number, or per verb with `default`. */
  latency_ms?: number | Record<string, number>;
  /** How long a new VM takes to boot its agent. */
  boot_delay_ms?: number;
  quotas?: { vms?: number; disks?: number; disk_gb?: number };
  zones?: string[];
  /** Share of calls that fail with a retryable error, to rehearse flaky clouds. */
  fail_rate?: { retryable?: number };
}

export const configSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state_file: { type: 'string', minLength: 1 },
    latency_ms: {
      oneOf: [
        { type: 'number', minimum: 0 },
        { type: 'object', additionalProperties: { type: 'number', minimum: 0 } },
      ],
    },
    boot_delay_ms: { type: 'number', minimum: 0, default: 0 },
    quotas: {
      type: 'object',
      additionalProperties: false,
      properties: {
        vms: { type: 'integer', minimum: 0 },
        disks: { type: 'integer', minimum: 0 },
        disk_gb: { type: 'integer', minimum: 0 },
      },
    },
    zones: { type: 'array', items: { type: 'string' }, minItems: 1, default: ['z1', 'z2', 'z3'] },
    fail_rate: {
      type: 'object',
      additionalProperties: false,
      properties: { retryable: { type: 'number', minimum: 0, maximum: 1 } },
    },
  },
};
