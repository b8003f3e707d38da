import { Hono } from 'hono';
import type { Role, UserService } from '@slipway/engine';
import type { AppEnv } from '../context.js';
import { readJson, validateBody } from '../validate.js';

/**
 * /v1/users: admins create, list, show, delete users and set their roles and passwords; a user may see
 * itself and change its own password with its current one. The service checks roles before any lookup, so a
 * refusal says nothing of whether the user exists.
 */
export function userRoutes(users: UserService) {
  const app = new Hono<AppEnv>();
  app.get('/users', async (c) => c.json(await users.list(c.get('principal'))));
  app.post('/users', async (c) => {
    const body = validateBody<{ name: string; password: string; roles: Role[] }>(
      'UserRequest',
      await readJson(c.req.raw),
    );
    const user = await users.create(c.get('principal'), body);
    c.header('location', `/v1/users/${encodeURIComponent(user.name)}`);
    return c.json(user, 201);
  });
  app.get('/users/:name', async (c) => c.json(await users.show(c.get('principal'), c.req.param('name'))));
  app.delete('/users/:name', async (c) => {
    const reassignTo = c.req.query('reassign_to');
    const result = await users.delete(
      c.get('principal'),
      c.req.param('name'),
      reassignTo === undefined ? {} : { reassignTo },
    );
    return result.reassigned.length ? c.json(result, 200) : c.body(null, 204);
  });
  app.put('/users/:name/roles', async (c) => {
    const body = validateBody<{ roles: Role[] }>('UserRolesRequest', await readJson(c.req.raw));
    return c.json(await users.setRoles(c.get('principal'), c.req.param('name'), body.roles));
  });
  app.put('/users/:name/password', async (c) => {
    const body = validateBody<{ password: string; old_password?: string }>(
      'UserPasswordRequest',
      await readJson(c.req.raw),
    );
    await users.setPassword(c.get('principal'), c.req.param('name'), body);
    return c.body(null, 204);
  });
  return app;
}
