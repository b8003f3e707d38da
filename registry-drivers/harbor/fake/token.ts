import { createSign, randomUUID, X509Certificate } from 'node:crypto';

export const TOKEN_SERVICE = 'harbor-registry';
export const TOKEN_ISSUER = 'harbor-token-issuer';
const TOKEN_TTL_SECONDS = 1800;

/** One grant of the Docker registry token spec: `repository:<name>:pull,push` asked for, what is allowed given back. */
export interface AccessGrant {
  type: string;
  name: string;
  actions: string[];
}

/** Parses `scope` query values (`repository:proj/app:pull,push`); the name may hold colons (a registry port), the actions are after the last one. */
export function parseScopes(values: string[]): AccessGrant[] {
  const out: AccessGrant[] = [];
  for (const value of values.flatMap((v) => v.split(' '))) {
    const first = value.indexOf(':');
    const last = value.lastIndexOf(':');
    if (first <= 0 || last <= first) continue;
    out.push({
      type: value.slice(0, first),
      name: value.slice(first + 1, last),
      actions: value
        .slice(last + 1)
        .split(',')
        .filter(Boolean),
    });
  }
  return out;
}

/**
 * Issues the registry's bearer tokens as Harbor's core does: an RS256 JWT whose `x5c` header carries the
 * signer's certificate, which docker-registry verifies against its `rootcertbundle`; `access` lists only what
 * the account may do, so the registry itself refuses the rest.
 */
export class TokenIssuer {
  private readonly x5c: string;

  constructor(private readonly signer: { certificatePem: string; privateKeyPem: string }) {
    this.x5c = new X509Certificate(signer.certificatePem).raw.toString('base64');
  }

  issue(
    subject: string,
    access: AccessGrant[],
  ): { token: string; access_token: string; expires_in: number; issued_at: string } {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [this.x5c] };
    const claims = {
      iss: TOKEN_ISSUER,
      sub: subject,
      aud: TOKEN_SERVICE,
      exp: now + TOKEN_TTL_SECONDS,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(this.signer.privateKeyPem);
    const token = `${input}.${signature.toString('base64url')}`;
    return { token, access_token: token, expires_in: TOKEN_TTL_SECONDS, issued_at: new Date(now * 1000).toISOString() };
  }
}

function b64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
