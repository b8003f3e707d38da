/** TKGI's quota and usage documents, for the OpenAPI document (the engine validates request bodies itself). */
const limit = {
  type: 'object',
  additionalProperties: false,
  description: 'A null or missing limit is no limit; 0 allows none (cpu or memory 0: the owner can create no cluster)',
  properties: {
    cpu: {
      type: ['integer', 'null'],
      minimum: 0,
      description: "CPUs of all VMs (masters + workers) of the owner's live clusters",
    },
    memory: {
      type: ['number', 'null'],
      minimum: 0,
      description: "memory in GB of all VMs of the owner's live clusters",
    },
    cluster: { type: ['integer', 'null'], minimum: 0, description: 'live clusters' },
  },
};

export const quotaSchemas = {
  QuotaLimit: limit,
  QuotaRequest: {
    type: 'object',
    required: ['owner', 'limit'],
    properties: { owner: { type: 'string', description: 'a user name' }, limit },
  },
  QuotaUpdate: {
    type: 'object',
    required: ['limit'],
    properties: { limit: { ...limit, description: 'fields left out keep their value; null removes that limit' } },
  },
  Quota: {
    type: 'object',
    properties: {
      owner: { type: 'string' },
      limit,
      created_by: { type: 'string' },
      created_at: { type: 'string' },
      updated_at: { type: 'string' },
    },
  },
  Usage: {
    type: 'object',
    properties: {
      owner: { type: 'string' },
      totals: {
        type: 'object',
        properties: {
          cpu: { type: 'integer' },
          memory: { type: 'number', description: 'GB' },
          cluster: { type: 'integer' },
        },
      },
      clusters: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            cpu: { type: 'integer' },
            memory: { type: 'number', description: 'GB' },
          },
        },
      },
    },
  },
};
