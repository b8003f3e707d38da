import { Hono } from 'hono';
import type { FleetUpgradeRequest, UpdateRequest, UpgradeRequest, UpgradeService } from '@slipway/engine';
import type { AppEnv } from '../context.js';
import { positiveId } from '../params.js';
import { readJson, validateBody } from '../validate.js';

function fleetId(raw: string): number {
  return positiveId(raw, 'fleet upgrade');
}

/** The version catalog, upgrade-cluster, update-cluster and fleet upgrades. */
export function upgradeRoutes(upgrades: UpgradeService) {
  const app = new Hono<AppEnv>();
  app.get('/versions', (c) => c.json(upgrades.versions()));
  app.get('/clusters/:name/upgrades', async (c) =>
    c.json(await upgrades.available(c.get('principal'), c.req.param('name'))),
  );
  app.post('/clusters/:name/upgrade', async (c) => {
    const body = validateBody<UpgradeRequest>('UpgradeClusterRequest', await readJson(c.req.raw));
    const cluster = await upgrades.upgrade(c.get('principal'), c.req.param('name'), body);
    if (cluster.task_id) c.header('location', `/v1/tasks/${cluster.task_id}`);
    return c.json(cluster, 202);
  });
  app.post('/clusters/:name/update', async (c) => {
    const body = validateBody<UpdateRequest>('UpdateClusterRequest', await readJson(c.req.raw));
    const cluster = await upgrades.update(c.get('principal'), c.req.param('name'), body);
    if (cluster.task_id) c.header('location', `/v1/tasks/${cluster.task_id}`);
    return c.json(cluster, 202);
  });
  app.get('/fleet-upgrades', async (c) => c.json(await upgrades.listFleets(c.get('principal'))));
  app.post('/fleet-upgrades', async (c) => {
    const body = validateBody<FleetUpgradeRequest>('FleetUpgradeRequest', await readJson(c.req.raw));
    const job = await upgrades.startFleet(c.get('principal'), body);
    c.header('location', `/v1/fleet-upgrades/${job.id}`);
    return c.json(job, 202);
  });
  app.get('/fleet-upgrades/:id', async (c) =>
    c.json(await upgrades.getFleet(c.get('principal'), fleetId(c.req.param('id')))),
  );
  app.post('/fleet-upgrades/:id/cancel', async (c) =>
    c.json(await upgrades.cancelFleet(c.get('principal'), fleetId(c.req.param('id'))), 202),
  );
  return app;
}
