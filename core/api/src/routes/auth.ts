import { Hono, type Context } from 'hono';
import { SlipwayError } from '@slipway/contracts';
import type { AuthService } from '@slipway/engine';
import type { AppEnv } from '../context.js';
import { readJson, validateBody } from '../validate.js';

/** The caller's address, for login limits and the events table. */
export function sourceAddress(c: Context<AppEnv>): string | undefined {
  return c.env?.incoming?.socket?.remoteAddress;
}

async function formOrJson(c: Context<AppEnv>): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  return type.includes('application/x-www-form-urlencoded')
    ? Object.fromEntries(new URLSearchParams(await c.req.text()))
    : readJson(c.req.raw);
}

/**
 * OAuth2 password grant at /oauth/token (form or JSON body), as UAA offered to the pks CLI, and token
 * revocation at /oauth/revoke (RFC 7009) for `slipway logout`.
 */
export function oauthRoutes(auth: AuthService) {
  const app = new Hono<AppEnv>();
  app.post('/oauth/token', async (c) => {
    const body = validateBody<{ username: string; password: string }>('TokenRequest', await formOrJson(c));
    // The audit names whoever the login tried to be, successful or not (the name, never the password).
    c.set('auditActor', body.username);
    const token = await auth.passwordGrant(body.username, body.password, sourceAddress(c));
    c.set('auditActorId', (await auth.authenticate(token.access_token)).id);
    c.header('cache-control', 'no-store');
    return c.json(token);
  });
  // RFC 7009: the token to revoke is in the body; the answer is 200 whether or not it was valid, so the
  // endpoint tells nobody which tokens exist. Whoever holds a token may revoke it.
  app.post('/oauth/revoke', async (c) => {
    const body = validateBody<{ token: string }>('RevokeRequest', await formOrJson(c));
    await auth.revoke(body.token);
    return c.body(null, 200);
  });
  return app;
}

/** Whether an Authorization header carries a valid bearer token (for answers that say more to users). */
export async function isAuthenticated(auth: AuthService, header: string | undefined): Promise<boolean> {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!match) return false;
  try {
    await auth.authenticate(match[1]);
    return true;
  } catch {
    return false;
  }
}

/** Requires a bearer token on every route it guards; sets `principal`. */
export function bearerAuth(auth: AuthService) {
  return async (c: Context<AppEnv>, next: () => Promise<void>) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match)
      throw new SlipwayError('Unauthenticated', 'this call needs a bearer token', {
        hint: 'Run `slipway login`, or POST /oauth/token.',
      });
    c.set('principal', await auth.authenticate(match[1]));
    await next();
  };
}
