import { Hono } from 'hono';
import { SlipwayError } from '@slipway/contracts';
import type { CredhubCredentialProvider } from '../../provider.js';
import type { CredhubEnv } from '../context.js';
import { jsonBody, onlyFields } from '../errors.js';
import { credentialView } from '../views.js';
import { checkBody } from '../validate.js';
import { booleanQuery, metadataOf } from './data.js';

/** /api/v1/certificates: listing, regenerate (transitional), update_transitional_version, versions. */
export function certificateRoutes(provider: CredhubCredentialProvider): Hono<CredhubEnv> {
  const app = new Hono<CredhubEnv>();

  app.get('/api/v1/certificates', async (c) => {
    const name = c.req.query('name');
    return c.json({
      certificates: await provider.listCertificates(c.get('credentials'), name === undefined ? undefined : name),
    });
  });

  app.post('/api/v1/certificates/:id/regenerate', async (c) => {
    const body =
      c.req.header('content-length') === '0' ? {} : await jsonBody(c).catch(() => ({}) as Record<string, unknown>);
    onlyFields(body, [
      'set_as_transitional',
      'allow_transitional_parent_to_sign',
      'key_length',
      'duration',
      'metadata',
    ]);
    checkBody('CredhubCertificateRegenerateRequest', body);
    for (const flag of ['set_as_transitional', 'allow_transitional_parent_to_sign']) {
      if (body[flag] !== undefined && typeof body[flag] !== 'boolean')
        throw new SlipwayError('InvalidInput', `${flag} must be true or false`, { field: flag });
    }
    const name = await provider.nameOfCertificate(c.req.param('id'), c.get('credentials'));
    const credential = await provider.regenerate(name, c.get('credentials'), {
      transitional: body.set_as_transitional === true,
      allowTransitionalParentToSign: body.allow_transitional_parent_to_sign === true,
      ...(body.key_length !== undefined ? { keyLength: body.key_length as 2048 } : {}),
      ...(body.duration !== undefined ? { duration: body.duration as number } : {}),
      ...(body.metadata !== undefined ? { metadata: metadataOf(body.metadata) ?? null } : {}),
    });
    return c.json(credentialView(credential, { generation: true }));
  });

  app.put('/api/v1/certificates/:id/update_transitional_version', async (c) => {
    const body = await jsonBody(c);
    onlyFields(body, ['version']);
    checkBody('CredhubTransitionalRequest', body);
    if (body.version !== null && body.version !== undefined && typeof body.version !== 'string') {
      throw new SlipwayError('InvalidInput', 'version must be a version id, "latest" or null', { field: 'version' });
    }
    const ctx = c.get('credentials');
    const name = await provider.nameOfCertificate(c.req.param('id'), ctx);
    let version = (body.version as string | null | undefined) ?? null;
    if (version === 'latest') version = (await provider.getVersions(name, 1, ctx))[0].id;
    const current = await provider.setTransitionalVersion(name, version, ctx);
    return c.json(current.map((v) => credentialView(v)));
  });

  app.get('/api/v1/certificates/:id/versions', async (c) => {
    const ctx = c.get('credentials');
    const name = await provider.nameOfCertificate(c.req.param('id'), ctx);
    const versions = booleanQuery(c.req.query('current'), 'current')
      ? await provider.getCurrent(name, ctx)
      : await provider.getAllVersions(name, ctx);
    return c.json(versions.map((v) => credentialView(v)));
  });

  app.delete('/api/v1/certificates/:id/versions/:versionId', async (c) => {
    const ctx = c.get('credentials');
    const name = await provider.nameOfCertificate(c.req.param('id'), ctx);
    const version = await provider.getVersion(c.req.param('versionId'), ctx).catch((e) => {
      throw SlipwayError.is(e, 'NotFound') ? mismatch() : e;
    });
    if (version.name !== name) throw mismatch();
    return c.json(credentialView(await provider.deleteVersion(version.id, ctx)));
  });

  return app;
}

function mismatch(): SlipwayError {
  return new SlipwayError(
    'NotFound',
    'The request could not be completed because the specified version does not exist or does not belong to the specified credential.',
  );
}
