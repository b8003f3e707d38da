import { randomBytes, verify } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { readBody } from './http.js';
import type { FakeContext } from './routes.js';

/** The scopes that let a token call Compute Engine. */
export const COMPUTE_SCOPES: ReadonlySet<string> = new Set([
  'https://www.googleapis.com/auth/compute',
  'https://www.googleapis.com/auth/cloud-platform',
]);

/** Google accepts assertions issued up to a few minutes in the future (clock skew), for at most an hour. */
const SKEW_S = 300;
const MAX_LIFETIME_S = 3600;

export interface TokenReply {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Google's OAuth2 token endpoint for the JWT bearer grant: checks the assertion's RS256 signature against
 * the service account's public key, its issuer, audience (this endpoint) and lifetime, and answers an
 * access token, or `{"error": "invalid_grant", "error_description": ...}` as Google does.
 */
export async function exchangeToken(ctx: FakeContext, req: IncomingMessage): Promise<TokenReply> {
  const form = new URLSearchParams((await readBody(req)).toString('utf8'));
  const grantType = form.get('grant_type');
  if (grantType !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    return refuse('unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`);
  }
  const assertion = form.get('assertion') ?? '';
  const parts = assertion.split('.');
  if (parts.length !== 3) return refuse('invalid_request', 'Invalid JWT: no dots in the token or too many.');
  const [headerText, claimsText, signature] = parts as [string, string, string];
  const header = decode(headerText) as { alg?: unknown; kid?: unknown } | undefined;
  const claims = decode(claimsText) as
    | { iss?: unknown; scope?: unknown; aud?: unknown; iat?: unknown; exp?: unknown }
    | undefined;
  if (!header || !claims)
    return refuse('invalid_grant', 'Invalid JWT: the header or payload is not base64url-encoded JSON.');
  const account = ctx.state.serviceAccount;
  if (claims.iss !== account.email) return refuse('invalid_grant', 'Invalid grant: account not found');
  if (header.alg !== 'RS256') return refuse('invalid_grant', 'Invalid JWT Signature.');
  if (header.kid !== undefined && header.kid !== account.keyId)
    return refuse('invalid_grant', 'Invalid JWT Signature.');
  const signed = verify(
    'RSA-SHA256',
    Buffer.from(`${headerText}.${claimsText}`),
    account.publicKey,
    Buffer.from(signature, 'base64url'),
  );
  if (!signed) return refuse('invalid_grant', 'Invalid JWT Signature.');
  if (account.disabled) return refuse('invalid_grant', 'Invalid grant: account not found');
  const tokenUri = `${ctx.baseUrl}/token`;
  if (claims.aud !== tokenUri)
    return refuse('invalid_grant', `Invalid JWT: Failed audience check. The right audience is ${tokenUri}`);
  const now = Math.floor(Date.now() / 1000);
  const iat = Number(claims.iat);
  const exp = Number(claims.exp);
  if (
    !Number.isInteger(iat) ||
    !Number.isInteger(exp) ||
    iat > now + SKEW_S ||
    exp <= now ||
    exp - iat > MAX_LIFETIME_S
  ) {
    return refuse(
      'invalid_grant',
      'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
    );
  }
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(/\s+/).filter(Boolean) : [];
  if (scopes.length === 0) return refuse('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
  const value = `ya29.c.${randomBytes(48).toString('base64url')}`;
  const ttl = ctx.timings.tokenTtlSeconds;
  ctx.state.tokens.set(value, { value, email: account.email, scopes, expiresAt: Date.now() + ttl * 1000 });
  return { status: 200, body: { access_token: value, expires_in: ttl, token_type: 'Bearer' } };
}

function refuse(error: string, description: string): TokenReply {
  return { status: 400, body: { error, error_description: description } };
}

function decode(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}
