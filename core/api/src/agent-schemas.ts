import { Ajv, type ValidateFunction } from 'ajv';
import { DRAIN_STATES, HOOK_STATES, PROCESS_STATES, SlipwayError, type JsonSchema } from '@slipway/contracts';
import { describeAjvErrors } from '@slipway/engine';

/**
 * Schemas of the agent channel's bodies, checked with ajv before the engine sees them, and published in
 * the OpenAPI document. Unknown keys are allowed in heartbeats (a newer agent may report more), but every
 * known one is typed and every list and string is bounded.
 */
const name = { type: 'string', minLength: 1, maxLength: 253 };
const reason = { type: 'string', maxLength: 4096 };
const count = { type: 'integer', minimum: 0 };

export const agentSchemas = {
  AgentBootstrapRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['agentId', 'token', 'csr'],
    properties: {
      agentId: {
        type: 'string',
        minLength: 1,
        maxLength: 128,
        pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
        description: 'the agent id from the user data',
      },
      token: {
        type: 'string',
        minLength: 16,
        maxLength: 256,
        description: 'the one-time bootstrap token from the user data',
      },
      csr: {
        type: 'string',
        minLength: 1,
        maxLength: 8192,
        description: 'PEM certificate request; subject CN = agentId',
      },
    },
  },
  AgentRenewRequest: {
    type: 'object',
    additionalProperties: false,
    required: ['csr'],
    properties: {
      csr: {
        type: 'string',
        minLength: 1,
        maxLength: 8192,
        description: 'PEM certificate request for a new key; subject CN = the agent id',
      },
    },
  },
  Heartbeat: {
    type: 'object',
    required: ['agentId', 'instanceId', 'appliedGeneration', 'jobs'],
    properties: {
      agentId: { type: 'string', minLength: 1, maxLength: 128 },
      instanceId: { type: 'string', minLength: 1, maxLength: 128 },
      appliedGeneration: count,
      jobs: {
        type: 'array',
        maxItems: 64,
        items: {
          type: 'object',
          required: ['name', 'processes'],
          properties: {
            name,
            processes: {
              type: 'array',
              maxItems: 64,
              items: {
                type: 'object',
                required: ['name', 'state', 'restarts'],
                properties: {
                  name,
                  state: { enum: [...PROCESS_STATES] },
                  restarts: count,
                  pid: count,
                  reason,
                  warning: reason,
                },
              },
            },
            unavailable: reason,
            hooks: {
              type: 'array',
              maxItems: 64,
              items: {
                type: 'object',
                required: ['name', 'state', 'attempts'],
                properties: { name, state: { enum: [...HOOK_STATES] }, attempts: count, reason },
              },
            },
          },
        },
      },
      persistentDiskId: { type: ['string', 'null'], maxLength: 1024 },
      drained: { type: 'boolean' },
      drain: {
        type: 'object',
        required: ['state', 'attempts'],
        properties: {
          state: { enum: [...DRAIN_STATES] },
          attempts: count,
          message: { type: 'string', maxLength: 4096 },
        },
      },
      uptimeMs: { type: 'number', minimum: 0 },
      vitals: {
        type: 'object',
        properties: {
          load1: { type: 'number' },
          memUsedPct: { type: 'number' },
          diskUsedPct: { type: 'object', maxProperties: 64, additionalProperties: { type: 'number' } },
        },
      },
    },
  },
} satisfies Record<string, JsonSchema>;

export type AgentSchemaName = keyof typeof agentSchemas;

const ajv = new Ajv({ allErrors: true, strict: false });
const compiled = new Map<AgentSchemaName, ValidateFunction>();

/** Validates an agent channel body; `InvalidInput` (400) names every problem, the first field first. */
export function validateAgentBody<T>(schema: AgentSchemaName, body: unknown): T {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(agentSchemas[schema] as JsonSchema);
    compiled.set(schema, validate);
  }
  if (!validate(body)) {
    const problems = describeAjvErrors(validate.errors);
    const field = problems[0]?.split(':')[0];
    throw new SlipwayError(
      'InvalidInput',
      `${schema === 'Heartbeat' ? 'heartbeat' : 'request'}: ${problems.join('; ')}`,
      { field, details: { errors: problems } },
    );
  }
  return body as T;
}
