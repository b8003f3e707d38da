import { Hono } from 'hono';
import { SlipwayError } from '@slipway/contracts';
import type { ClusterService } from '@slipway/engine';
import type { AppEnv } from '../context.js';
import { positiveId } from '../params.js';

function taskId(raw: string): number {
  return positiveId(raw, 'task');
}

export function taskRoutes(clusters: ClusterService) {
  const app = new Hono<AppEnv>();
  app.get('/tasks', async (c) => {
    const limit = c.req.query('limit');
    if (limit !== undefined && !/^\d+$/.test(limit))
      throw new SlipwayError('InvalidInput', `limit must be a positive integer; got "${limit}"`, { field: 'limit' });
    return c.json(
      await clusters.listTasks(c.get('principal'), {
        limit: limit ? Number(limit) : undefined,
        cluster: c.req.query('cluster'),
      }),
    );
  });
  app.get('/tasks/:id', async (c) => c.json(await clusters.getTask(c.get('principal'), taskId(c.req.param('id')))));
  app.post('/tasks/:id/cancel', async (c) =>
    c.json(await clusters.cancelTask(c.get('principal'), taskId(c.req.param('id'))), 202),
  );
  // PKS cancels with PUT /tasks/{id}; keep that spelling working too.
  app.put('/tasks/:id', async (c) =>
    c.json(await clusters.cancelTask(c.get('principal'), taskId(c.req.param('id'))), 202),
  );
  return app;
}
