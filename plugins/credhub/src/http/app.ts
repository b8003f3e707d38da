import { Hono, type Context } from 'hono';
import { SlipwayError } from '@slipway/contracts';
import type { CredhubApiOptions, CredhubEnv } from './context.js';
import { errorResponse } from './errors.js';
import { certificateRoutes } from './routes/certificates.js';
import { dataRoutes } from './routes/data.js';
import { metaRoutes } from './routes/meta.js';
import { permissionRoutes } from './routes/permissions.js';

/**
 * CredHub's HTTP API (v1 data, certificates, regenerate, interpolate, key-usage; v2 permissions) over a
 * CredhubCredentialProvider, with CredHub's paths, field names and status codes. Every /api route takes
 * a bearer token; the caller's actor, roles and address reach the provider, which enforces permissions
 * and audits. One difference on purpose: a credential the caller may not touch is a 403 naming the path
 * it asked for, where CredHub answers 404; the answer is the same whether the name exists or not.
 */
export function createCredhubApi(options: CredhubApiOptions): Hono<CredhubEnv> {
  const { provider } = options;
  const app = new Hono<CredhubEnv>();
  app.onError((error, c) => errorResponse(c, error, options.logger));
  app.notFound((c) =>
    c.json(
      {
        error:
          'The request could not be fulfilled because the request path or body did not meet expectation. Please check the documentation for required formatting and retry your request.',
      },
      404,
    ),
  );

  const info = (c: Context) =>
    c.json({ 'auth-server': { url: options.authServerUrl ?? '' }, app: { name: 'CredHub' } });
  const health = (c: Context) => c.json({ status: 'UP' });
  const version = (c: Context) => c.json({ version: options.version ?? '2.15.0-slipway' });
  app.get('/api/v1/info', info);
  app.get('/api/v1/health', health);
  app.get('/api/v1/version', version);
  if (options.rootEndpoints ?? true) {
    app.get('/info', info);
    app.get('/health', health);
    app.get('/version', version);
  }

  const sourceOf = options.sourceAddress ?? remoteAddress;
  app.use('/api/*', async (c, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    if (!match)
      throw new SlipwayError('Unauthenticated', 'Full authentication is required to access this resource', {
        hint: 'Send Authorization: Bearer TOKEN (slipway login).',
      });
    let principal;
    try {
      principal = await options.authenticate(match[1]);
    } catch (e) {
      throw SlipwayError.is(e)
        ? e
        : new SlipwayError('Unauthenticated', 'the token could not be verified', { cause: e });
    }
    c.set('credentials', {
      actor: principal.actor,
      roles: principal.roles,
      sourceAddress: sourceOf(c),
      signal: c.req.raw.signal,
    });
    await next();
  });
  app.route('/', dataRoutes(provider));
  app.route('/', certificateRoutes(provider));
  app.route('/', permissionRoutes(provider));
  app.route('/', metaRoutes(provider));
  return app;
}

function remoteAddress(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}
