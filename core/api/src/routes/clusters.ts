import { Hono } from 'hono';
import type { ClusterService } from '@slipway/engine';
import type { AppEnv } from '../context.js';
import { readJson, validateBody } from '../validate.js';

export function clusterRoutes(clusters: ClusterService) {
  const app = new Hono<AppEnv>();
  app.get('/plans', (c) => c.json(clusters.listPlans()));
  app.get('/clusters', async (c) => c.json(await clusters.list(c.get('principal'))));
  app.post('/clusters', async (c) => {
    const body = validateBody<Parameters<ClusterService['create']>[1]>('ClusterRequest', await readJson(c.req.raw));
    const cluster = await clusters.create(c.get('principal'), body);
    if (cluster.task_id) c.header('location', `/v1/tasks/${cluster.task_id}`);
    return c.json(cluster, 202);
  });
  app.get('/clusters/:name', async (c) => c.json(await clusters.get(c.get('principal'), c.req.param('name'))));
  app.patch('/clusters/:name', async (c) => {
    const body = validateBody<{ kubernetes_worker_instances?: number; network_profile_name?: string }>(
      'UpdateClusterParameters',
      await readJson(c.req.raw),
    );
    const cluster = await clusters.resize(
      c.get('principal'),
      c.req.param('name'),
      body.kubernetes_worker_instances,
      body.network_profile_name,
    );
    if (cluster.task_id) c.header('location', `/v1/tasks/${cluster.task_id}`);
    return c.json(cluster, 202);
  });
  app.delete('/clusters/:name', async (c) => {
    const cluster = await clusters.delete(c.get('principal'), c.req.param('name'));
    if (cluster.task_id) c.header('location', `/v1/tasks/${cluster.task_id}`);
    return c.json(cluster, 202);
  });
  app.post('/clusters/:name/rotate-certificates', async (c) => {
    const body = validateBody<{ ca?: boolean; registry_only?: boolean }>(
      'RotateCertificatesRequest',
      await readJson(c.req.raw),
    );
    const mode = body.registry_only === true ? 'registry' : body.ca === false ? 'leaf' : 'ca';
    const cluster = await clusters.rotateCertificates(c.get('principal'), c.req.param('name'), mode);
    if (cluster.task_id) c.header('location', `/v1/tasks/${cluster.task_id}`);
    return c.json(cluster, 202);
  });
  app.post('/clusters/:name/binds', async (c) => {
    const body = validateBody<{ user?: string; bind?: string }>('BindRequest', await readJson(c.req.raw));
    return c.json(await clusters.bind(c.get('principal'), c.req.param('name'), body), 201);
  });
  app.post('/clusters/:name/smoke-test', async (c) =>
    c.json(await clusters.smokeTest(c.get('principal'), c.req.param('name'))),
  );
  app.get('/clusters/:name/instances', async (c) =>
    c.json((await clusters.details(c.get('principal'), c.req.param('name'))).instances),
  );
  app.get('/clusters/:name/events', async (c) =>
    c.json((await clusters.details(c.get('principal'), c.req.param('name'))).events),
  );
  return app;
}
