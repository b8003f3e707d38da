import { Hono } from 'hono';
import { SlipwayError, type CredentialType, type GenerateMode } from '@slipway/contracts';
import type { CredhubCredentialProvider } from '../../provider.js';
import type { CredhubEnv } from '../context.js';
import { BAD_REQUEST, invalidQuery, jsonBody, missingQuery, onlyFields } from '../errors.js';
import { credentialView } from '../views.js';
import { credentialNotFound } from '../../access.js';
import { checkBody } from '../validate.js';

/** /api/v1/data (get, find, set, generate, regenerate, delete), /api/v1/regenerate, /api/v1/bulk-regenerate. */
export function dataRoutes(provider: CredhubCredentialProvider): Hono<CredhubEnv> {
  const app = new Hono<CredhubEnv>();

  app.get('/api/v1/data', async (c) => {
    const ctx = c.get('credentials');
    const q = c.req.query();
    if (q.path !== undefined || q['name-like'] !== undefined) {
      const expires = q['expires-within-days'];
      const credentials = await provider.findCredentials(
        {
          ...(q['name-like'] !== undefined ? { nameLike: q['name-like'] } : { path: q.path }),
          ...(expires !== undefined && expires !== ''
            ? { expiresWithinDays: integer(expires, 'expires-within-days', 0) }
            : {}),
        },
        ctx,
      );
      return c.json({ credentials });
    }
    if (!q.name) throw missingQuery('name');
    const current = booleanQuery(q.current, 'current');
    if (current && q.versions !== undefined) {
      throw new SlipwayError(
        'InvalidInput',
        'The query parameters current and versions cannot be provided in the same request.',
        { field: 'versions' },
      );
    }
    const data = current
      ? await provider.getCurrent(q.name, ctx)
      : q.versions !== undefined
        ? await provider.getVersions(q.name, integer(q.versions, 'versions', 1), ctx)
        : await provider.getAllVersions(q.name, ctx);
    return c.json({ data: data.map((v) => credentialView(v)) });
  });

  app.get('/api/v1/data/:id', async (c) =>
    c.json(credentialView(await provider.getVersion(c.req.param('id'), c.get('credentials')))),
  );

  app.delete('/api/v1/data', async (c) => {
    const name = c.req.query('name');
    if (!name) throw missingQuery('name');
    if (!(await provider.deleteName(name, c.get('credentials')))) throw credentialNotFound();
    return c.body(null, 204);
  });

  // Not in CredHub, whose deletes are by name: one version, by its id.
  app.delete('/api/v1/data/:id', async (c) => {
    await provider.deleteVersion(c.req.param('id'), c.get('credentials'));
    return c.body(null, 204);
  });

  app.put('/api/v1/data', async (c) => {
    const body = await jsonBody(c);
    onlyFields(body, ['name', 'type', 'value', 'metadata']);
    checkBody('CredhubSetRequest', body);
    const credential = await provider.set(
      {
        name: body.name as string,
        type: body.type as CredentialType,
        value: body.value as never,
        metadata: metadataOf(body.metadata),
      },
      c.get('credentials'),
    );
    return c.json(credentialView(credential));
  });

  app.post('/api/v1/data', async (c) => {
    const body = await jsonBody(c);
    const ctx = c.get('credentials');
    if (body.regenerate === true) {
      onlyFields(body, ['name', 'regenerate', 'metadata']);
      checkBody('CredhubGenerateRequest', body);
      return c.json(
        credentialView(await provider.regenerate(body.name as string, ctx, metadataOption(body)), { generation: true }),
      );
    }
    onlyFields(body, ['name', 'type', 'parameters', 'mode', 'overwrite', 'metadata', 'regenerate']);
    checkBody('CredhubGenerateRequest', body);
    if (body.mode !== undefined && body.overwrite !== undefined) {
      throw new SlipwayError(
        'InvalidInput',
        'The parameters overwrite and mode cannot be combined. Please update and retry your request.',
        { field: 'overwrite' },
      );
    }
    if (body.overwrite !== undefined && typeof body.overwrite !== 'boolean')
      throw new SlipwayError('InvalidInput', BAD_REQUEST, { field: 'overwrite' });
    const mode =
      body.overwrite === undefined
        ? (body.mode as GenerateMode | undefined)
        : body.overwrite
          ? 'overwrite'
          : 'no-overwrite';
    const credential = await provider.generate(
      {
        name: body.name as string,
        type: body.type as 'password',
        parameters: body.parameters as never,
        mode,
        metadata: metadataOf(body.metadata),
      },
      ctx,
    );
    return c.json(credentialView(credential, { generation: true }));
  });

  app.post('/api/v1/regenerate', async (c) => {
    const body = await jsonBody(c);
    onlyFields(body, ['name', 'metadata']);
    checkBody('CredhubRegenerateRequest', body);
    return c.json(
      credentialView(await provider.regenerate(body.name as string, c.get('credentials'), metadataOption(body)), {
        generation: true,
      }),
    );
  });

  app.post('/api/v1/bulk-regenerate', async (c) => {
    const body = await jsonBody(c);
    onlyFields(body, ['signed_by']);
    if (typeof body.signed_by !== 'string' || !body.signed_by) {
      throw new SlipwayError('InvalidInput', 'You must specify a signing CA. Please update and retry your request.', {
        field: 'signed_by',
      });
    }
    checkBody('CredhubBulkRegenerateRequest', body);
    const names = await provider.bulkRegenerate({ signedBy: body.signed_by }, c.get('credentials'));
    return c.json({ regenerated_credentials: names });
  });

  return app;
}

export function integer(value: string, name: string, min: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) throw invalidQuery(name);
  return n;
}

export function booleanQuery(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw invalidQuery(name);
}

export function metadataOf(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw new SlipwayError('InvalidInput', 'metadata must be a JSON object', { field: 'metadata' });
  if (JSON.stringify(value).length > 7000) {
    throw new SlipwayError(
      'InvalidInput',
      'The request could not be completed. The credential metadata cannot exceed 7000 characters',
      { field: 'metadata' },
    );
  }
  return value as Record<string, unknown>;
}

function metadataOption(body: Record<string, unknown>): { metadata?: Record<string, unknown> } {
  return body.metadata === undefined ? {} : { metadata: metadataOf(body.metadata) };
}
