import { sign } from 'node:crypto';
import { SlipwayError, type Clock } from '@slipway/contracts';
import type { ServiceAccountKey } from './config.js';
import { abortable } from './abort.js';
import { PLUGIN, faultToError, readFault, transportError } from './errors.js';

/** The scope every call of this driver needs: read-write Compute Engine. */
export const COMPUTE_SCOPE = 'https://www.googleapis.com/auth/compute';
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Google accepts an assertion that lives at most an hour. */
const ASSERTION_LIFETIME_S = 3600;

export interface AccessToken {
  value: string;
  /** When the driver stops using it (shortly before Google's expiry), on the host clock. */
  renewAt: number;
}

/**
 * OAuth2 access tokens for a service account, by the JWT bearer grant (RFC 7523): an assertion signed with
 * the key's RSA private key (RS256, node:crypto) is exchanged at the key's `token_uri`. One token is cached
 * and shared until shortly before it expires; concurrent callers wait for the same exchange.
 */
export class ServiceAccountTokens {
  private current?: AccessToken;
  private pending?: Promise<AccessToken>;

  constructor(
    private readonly key: ServiceAccountKey,
    private readonly clock: Clock,
    private readonly scope: string = COMPUTE_SCOPE,
  ) {}

  get serviceAccount(): string {
    return this.key.client_email;
  }

  async token(signal?: AbortSignal): Promise<AccessToken> {
    const cached = this.current;
    if (cached && cached.renewAt > this.clock.now()) return cached;
    this.pending ??= this.exchange().finally(() => {
      this.pending = undefined;
    });
    return abortable(this.pending, signal);
  }

  /**
   * Drops `token` after the API refused it (revoked, or the key was disabled), so the next call exchanges
   * again. A token already replaced is left alone: 50 concurrent 401s cause one exchange, not 50.
   */
  invalidate(token: AccessToken): void {
    if (this.current === token) this.current = undefined;
  }

  /** The signed assertion: `base64url(header).base64url(claims).base64url(RS256 signature)`. */
  assertion(): string {
    const issuedAt = Math.floor(this.clock.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', kid: this.key.private_key_id };
    const claims = {
      iss: this.key.client_email,
      scope: this.scope,
      aud: this.key.token_uri,
      iat: issuedAt,
      exp: issuedAt + ASSERTION_LIFETIME_S,
    };
    const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign('RSA-SHA256', Buffer.from(unsigned), this.key.private_key);
    return `${unsigned}.${signature.toString('base64url')}`;
  }

  private async exchange(): Promise<AccessToken> {
    let assertion: string;
    try {
      assertion = this.assertion();
    } catch (error) {
      throw new SlipwayError(
        'InvalidConfig',
        `the private_key of service account ${this.key.client_email} cannot sign: ${(error as Error).message}`,
        { plugin: PLUGIN, field: 'credentials_ref', cause: error },
      );
    }
    const startedAt = this.clock.now();
    let response: Response;
    try {
      response = await fetch(this.key.token_uri, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
      });
    } catch (error) {
      throw transportError(error, 'oauth2', 'token');
    }
    if (!response.ok) throw faultToError(await readFault(response, 'oauth2', 'token'));
    const body = (await response.json().catch(() => ({}))) as {
      access_token?: unknown;
      expires_in?: unknown;
      token_type?: unknown;
    };
    if (typeof body.access_token !== 'string' || typeof body.expires_in !== 'number') {
      throw new SlipwayError('CloudError', `oauth2 token: ${response.status} without access_token or expires_in`, {
        plugin: PLUGIN,
      });
    }
    const lifetimeMs = body.expires_in * 1000;
    // Renew early (Google's own libraries use five minutes) so a call started just before expiry is not refused.
    const margin = Math.min(300_000, lifetimeMs / 10);
    const token: AccessToken = { value: body.access_token, renewAt: startedAt + lifetimeMs - margin };
    this.current = token;
    return token;
  }
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
