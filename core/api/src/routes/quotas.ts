import { Hono } from 'hono';
import type { QuotaService } from '@slipway/engine';
import type { AppEnv } from '../context.js';
import { readJson } from '../validate.js';

/**
 * TKGI's /v1/quotas (admins set per-owner limits; an owner reads its own) and /v1/usages (what each owner's
 * live clusters hold). The engine validates bodies so every bad limit is named by its field.
 */
export function quotaRoutes(quotas: QuotaService) {
  const app = new Hono<AppEnv>();
  app.get('/quotas', async (c) => c.json(await quotas.list(c.get('principal'))));
  app.post('/quotas', async (c) => {
    const created = await quotas.create(c.get('principal'), await readJson(c.req.raw));
    c.header('location', `/v1/quotas/${encodeURIComponent(created.owner)}`);
    return c.json(created, 201);
  });
  app.get('/quotas/:owner', async (c) => c.json(await quotas.get(c.get('principal'), c.req.param('owner'))));
  app.patch('/quotas/:owner', async (c) =>
    c.json(await quotas.update(c.get('principal'), c.req.param('owner'), await readJson(c.req.raw))),
  );
  app.delete('/quotas/:owner', async (c) => {
    await quotas.delete(c.get('principal'), c.req.param('owner'));
    return c.body(null, 204);
  });
  app.get('/usages', async (c) => c.json(await quotas.usages(c.get('principal'))));
  app.get('/usages/:owner', async (c) => c.json(await quotas.usage(c.get('principal'), c.req.param('owner'))));
  return app;
}
