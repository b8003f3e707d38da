import { Hono } from 'hono';
import { SlipwayError } from '@slipway/contracts';
import type { QuotaService } from '@slipway/engine';
import type { AppEnv } from '../context.js';
import { readJson } from '../validate.js';

type Limit = { cpu?: number; memory?: number; cluster?: number };

/** The `limit` object of a quota request: cpu, memory (GB) and cluster, whole numbers (0: no limit). */
function limitOf(body: unknown, required: boolean): Limit {
  const limit = (body as { limit?: unknown } | null)?.limit;
  if (typeof limit !== 'object' || limit === null || Array.isArray(limit)) {
    throw new SlipwayError('InvalidInput', 'limit must be an object: {"cpu": N, "memory": GB, "cluster": N} (0: no limit)', { field: 'limit' });
  }
  const unknown = Object.keys(limit).filter((k) => !['cpu', 'memory', 'cluster'].includes(k));
  if (unknown.length) throw new SlipwayError('InvalidInput', `limit.${unknown[0]} is not a quota field; the fields are cpu, memory (GB) and cluster`, { field: `limit.${unknown[0]}` });
  const out: Limit = {};
  for (const key of ['cpu', 'memory', 'cluster'] as const) {
    const value = (limit as Record<string, unknown>)[key];
    if (value === undefined) {
      if (required) throw new SlipwayError('InvalidInput', `limit.${key} is required (0: no limit)`, { field: `limit.${key}` });
      continue;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new SlipwayError('InvalidInput', `limit.${key} must be a whole number, 0 or more (0: no limit); got ${JSON.stringify(value)}`, { field: `limit.${key}` });
    out[key] = value;
  }
  return out;
}

/** TKGI's quotas (admins set them per owner; 0 means no limit) and usages. */
export function quotaRoutes(quotas: QuotaService) {
  const app = new Hono<AppEnv>();
  app.get('/quotas', async (c) => c.json(await quotas.list(c.get('principal'))));
  app.post('/quotas', async (c) => {
    const body = await readJson(c.req.raw);
    const owner = (body as { owner?: unknown } | null)?.owner;
    if (typeof owner !== 'string' || !owner) throw new SlipwayError('InvalidInput', 'owner must be a user name', { field: 'owner' });
    return c.json(await quotas.set(c.get('principal'), owner, limitOf(body, true), 'create'), 201);
  });
  app.get('/quotas/:owner', async (c) => c.json(await quotas.get(c.get('principal'), c.req.param('owner'))));
  app.patch('/quotas/:owner', async (c) => c.json(await quotas.set(c.get('principal'), c.req.param('owner'), limitOf(await readJson(c.req.raw), false), 'patch')));
  app.delete('/quotas/:owner', async (c) => {
    await quotas.remove(c.get('principal'), c.req.param('owner'));
    return c.body(null, 204);
  });
  app.get('/usages', async (c) => c.json(await quotas.usages(c.get('principal'))));
  app.get('/usages/:owner', async (c) => c.json(await quotas.usage(c.get('principal'), c.req.param('owner'))));
  return app;
}
