import { Hono } from 'hono';
import { SlipwayError } from '@slipway/contracts';
import type { HealthService, RepairRequest } from '@slipway/engine';
import type { AppEnv } from '../context.js';
import { readJson, validateBody } from '../validate.js';

/** Health of a cluster, resurrection on/off, the cloud check (`slipway doctor`) and alerts. */
export function healthRoutes(health: HealthService) {
  const app = new Hono<AppEnv>();
  app.get('/clusters/:name/health', async (c) => c.json(await health.health(c.get('principal'), c.req.param('name'))));
  app.get('/clusters/:name/resurrection', async (c) =>
    c.json(await health.resurrection(c.get('principal'), c.req.param('name'))),
  );
  app.put('/clusters/:name/resurrection', async (c) => {
    const body = validateBody<{ enabled: boolean | null }>('ResurrectionRequest', await readJson(c.req.raw));
    return c.json(await health.setResurrection(c.get('principal'), c.req.param('name'), body.enabled));
  });
  app.get('/clusters/:name/doctor', async (c) =>
    c.json(await health.check(c.get('principal'), c.req.param('name'), c.req.raw.signal)),
  );
  app.post('/clusters/:name/doctor', async (c) => {
    const body = validateBody<RepairRequest>('RepairRequest', await readJson(c.req.raw));
    const { report, task } = await health.repair(c.get('principal'), c.req.param('name'), body);
    if (!task) return c.json({ report, task_id: null }, 200);
    c.header('location', `/v1/tasks/${task.id}`);
    return c.json({ report, task_id: task.id }, 202);
  });
  app.get('/alerts', async (c) => {
    const limit = c.req.query('limit');
    if (limit !== undefined && !/^\d+$/.test(limit))
      throw new SlipwayError('InvalidInput', `limit must be a positive integer; got "${limit}"`, { field: 'limit' });
    return c.json(
      await health.alerts(c.get('principal'), {
        cluster: c.req.query('cluster'),
        limit: limit ? Number(limit) : undefined,
      }),
    );
  });
  return app;
}
