import { Hono } from 'hono';
import type { NetworkLeftovers, NetworkProfileService } from '@slipway/engine';
import type { AppEnv } from '../context.js';
import { readJson } from '../validate.js';

/**
 * TKGI's /v1/network-profiles: reads for anyone who creates clusters (they choose a profile by name), writes
 * for admins. The body is validated by the engine, so the CLI's file and the API get the same errors.
 */
export function networkProfileRoutes(profiles: NetworkProfileService, leftovers: NetworkLeftovers) {
  const app = new Hono<AppEnv>();
  app.get('/network-profiles', async (c) => c.json(await profiles.list(c.get('principal'))));
  app.get('/network-profiles/:name', async (c) => c.json(await profiles.get(c.get('principal'), c.req.param('name'))));
  app.post('/network-profiles', async (c) => {
    const created = await profiles.create(c.get('principal'), await readJson(c.req.raw));
    c.header('location', `/v1/network-profiles/${encodeURIComponent(created.name)}`);
    return c.json(created, 201);
  });
  app.delete('/network-profiles/:name', async (c) => {
    await profiles.delete(c.get('principal'), c.req.param('name'));
    return c.body(null, 204);
  });
  // `slipway doctor --leftovers`: network objects of clusters that are gone, and their removal (admins).
  app.get('/network-leftovers', async (c) => c.json(await leftovers.scan(c.get('principal'), c.req.raw.signal)));
  app.delete('/network-leftovers/:uuid', async (c) => {
    await leftovers.remove(c.get('principal'), c.req.param('uuid'), c.req.raw.signal);
    return c.body(null, 204);
  });
  return app;
}
