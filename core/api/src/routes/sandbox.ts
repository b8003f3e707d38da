import { Hono } from 'hono';
import { SlipwayError } from '@slipway/contracts';
import { requireRole, type PluginSet } from '@slipway/engine';
import type { AppEnv } from '../context.js';

/** Failure rehearsal on simulated clouds: only targets whose driver offers `rehearsal`. */
export function sandboxRoutes(plugins: PluginSet) {
  const app = new Hono<AppEnv>();
  const rehearsal = (iaas: string) => {
    const target = plugins.iaasTarget(iaas);
    if (!target.driver.rehearsal) {
      throw new SlipwayError(
        'Unsupported',
        `IaaS target "${iaas}" (${target.plugin}) is a real cloud: it offers no failure rehearsal`,
        { hint: 'Rehearse on a sandbox target or a driver fake.' },
      );
    }
    return target.driver.rehearsal;
  };
  app.use('/sandbox/*', async (c, next) => {
    requireRole(c.get('principal'), ['clusters.admin'], 'rehearse failures');
    await next();
  });
  app.get('/sandbox/:iaas/inventory', async (c) => c.json(await rehearsal(c.req.param('iaas')).inventory()));
  app.post('/sandbox/:iaas/vms/:cid/kill', async (c) => {
    await rehearsal(c.req.param('iaas')).killVm(c.req.param('cid'));
    return c.body(null, 204);
  });
  app.post('/sandbox/:iaas/vms/:cid/hang', async (c) => {
    await rehearsal(c.req.param('iaas')).hangAgent(c.req.param('cid'));
    return c.body(null, 204);
  });
  app.post('/sandbox/:iaas/disks/:cid/detach', async (c) => {
    await rehearsal(c.req.param('iaas')).detachDisk(c.req.param('cid'));
    return c.body(null, 204);
  });
  return app;
}
