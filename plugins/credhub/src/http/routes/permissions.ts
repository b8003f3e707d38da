import { Hono } from 'hono';
import type { PermissionOperation } from '@slipway/contracts';
import type { CredhubCredentialProvider } from '../../provider.js';
import type { CredhubEnv } from '../context.js';
import { jsonBody, missingQuery, onlyFields } from '../errors.js';
import { checkBody } from '../validate.js';

/** CredHub's /api/v2/permissions: one entry (actor, path, operations) per uuid. */
export function permissionRoutes(provider: CredhubCredentialProvider): Hono<CredhubEnv> {
  const app = new Hono<CredhubEnv>();

  app.post('/api/v2/permissions', async (c) => {
    const body = await jsonBody(c);
    onlyFields(body, ['actor', 'path', 'operations']);
    checkBody('CredhubPermissionRequest', body);
    const permission = await provider.permissions.create(
      { actor: body.actor as string, path: body.path as string, operations: body.operations as PermissionOperation[] },
      c.get('credentials'),
    );
    return c.json(permission, 201);
  });

  app.get('/api/v2/permissions', async (c) => {
    const path = c.req.query('path');
    const actor = c.req.query('actor');
    if (!path) throw missingQuery('path');
    if (!actor) throw missingQuery('actor');
    return c.json(await provider.permissions.find({ actor, path }, c.get('credentials')));
  });

  app.get('/api/v2/permissions/:uuid', async (c) =>
    c.json(await provider.permissions.get(c.req.param('uuid'), c.get('credentials'))),
  );

  app.put('/api/v2/permissions/:uuid', async (c) => {
    const body = await jsonBody(c);
    onlyFields(body, ['actor', 'path', 'operations']);
    checkBody('CredhubPermissionRequest', body);
    return c.json(
      await provider.permissions.replace(
        c.req.param('uuid'),
        {
          actor: body.actor as string,
          path: body.path as string,
          operations: body.operations as PermissionOperation[],
        },
        c.get('credentials'),
      ),
    );
  });

  app.patch('/api/v2/permissions/:uuid', async (c) => {
    const body = await jsonBody(c);
    onlyFields(body, ['operations']);
    checkBody('CredhubPermissionPatch', body);
    return c.json(
      await provider.permissions.patch(
        c.req.param('uuid'),
        body.operations as PermissionOperation[],
        c.get('credentials'),
      ),
    );
  });

  app.delete('/api/v2/permissions/:uuid', async (c) =>
    c.json(await provider.permissions.remove(c.req.param('uuid'), c.get('credentials'))),
  );

  return app;
}
