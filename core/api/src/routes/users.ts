import { Hono } from 'hono';
import { requireRole, type AuthService, type Role } from '@slipway/engine';
import type { AppEnv } from '../context.js';
import { readJson, validateBody } from '../validate.js';

export function userRoutes(auth: AuthService) {
  const app = new Hono<AppEnv>();
  app.use('/users/*', async (c, next) => { requireRole(c.get('principal'), ['clusters.admin'], 'manage users'); await next(); });
  app.use('/users', async (c, next) => { requireRole(c.get('principal'), ['clusters.admin'], 'manage users'); await next(); });
  app.get('/users', async (c) => c.json(await auth.listUsers()));
  app.post('/users', async (c) => {
    const body = validateBody<{ name: string; password: string; roles: Role[] }>('UserRequest', await readJson(c.req.raw));
    await auth.createUser(body.name, body.password, body.roles);
    return c.json({ name: body.name, roles: body.roles }, 201);
  });
  app.delete('/users/:name', async (c) => {
    await auth.deleteUser(c.req.param('name'));
    return c.body(null, 204);
  });
  return app;
}
