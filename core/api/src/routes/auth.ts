import { Hono } from 'hono';
import { SlipwayError } from '@slipway/contracts';
import type { AuthService } from '@slipway/engine';
import type { AppEnv } from '../context.js';
import { readJson, validateBody } from '../validate.js';

/** OAuth2 password grant at /oauth/token (form or JSON body), as UAA offered to the pks CLI. */
export function oauthRoutes(auth: AuthService) {
  const app = new Hono<AppEnv>();
  app.post('/oauth/token', async (c) => {
    const type = c.req.header('content-type') ?? '';
    const raw = type.includes('application/x-www-form-urlencoded')
      ? Object.fromEntries(new URLSearchParams(await c.req.text()))
      : await readJson(c.req.raw);
    const body = validateBody<{ username: string; password: string }>('TokenRequest', raw);
    const token = await auth.passwordGrant(body.username, body.password);
    c.header('cache-control', 'no-store');
    return c.json(token);
  });
  return app;
}

/** Requires a bearer token on every route it guards; sets `principal`. */
export function bearerAuth(auth: AuthService) {
  return async (c: import('hono').Context<AppEnv>, next: () => Promise<void>) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new SlipwayError('Unauthenticated', 'this call needs a bearer token', { hint: 'Run `slipway login`, or POST /oauth/token.' });
    c.set('principal', await auth.authenticate(match[1]));
    await next();
  };
}
