import { SlipwayError, type Clock } from '@slipway/contracts';
import type { AzureClientCredential } from './config.js';
import { abortable } from './abort.js';
import { PLUGIN, entraError, transportError } from './errors.js';
import type { HttpsTransport } from './transport.js';

/** An ARM access token and when the driver stops using it. */
export interface AccessToken {
  value: string;
  /** Clock time after which a new token is fetched (a margin before Entra's expiry). */
  renewAt: number;
}

/**
 * OAuth 2.0 client credentials against Entra ID (`POST {authority}/{tenant}/oauth2/v2.0/token`): one token
 * shared by every call, fetched again shortly before it expires. Concurrent callers wait for the same
 * request instead of starting their own.
 */
export class EntraTokenSession {
  private readonly tokenUrl: URL;
  private current?: AccessToken;
  private pending?: Promise<AccessToken>;

  constructor(
    authorityUrl: string,
    private readonly credential: AzureClientCredential,
    private readonly scope: string,
    private readonly transport: HttpsTransport,
    private readonly clock: Clock,
  ) {
    this.tokenUrl = new URL(
      `${authorityUrl.replace(/\/+$/, '')}/${encodeURIComponent(credential.tenant_id)}/oauth2/v2.0/token`,
    );
  }

  /** A valid token, fetching one when there is none or the cached one is about to expire. */
  async token(signal?: AbortSignal): Promise<AccessToken> {
    const cached = this.current;
    if (cached && cached.renewAt > this.clock.now()) return cached;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return abortable(this.pending, signal);
  }

  /**
   * Drops `token` after ARM refused it (revoked, or the app's credentials rotated). A token that was already
   * replaced is left alone, so 50 concurrent refusals cause one new token request, not 50.
   */
  invalidate(token: AccessToken): void {
    if (this.current === token) this.current = undefined;
  }

  private async fetchToken(): Promise<AccessToken> {
    const form = new URLSearchParams({
      client_id: this.credential.client_id,
      client_secret: this.credential.client_secret,
      scope: this.scope,
      grant_type: 'client_credentials',
    }).toString();
    let response;
    try {
      // No signal: the request is shared; an aborted caller stops waiting for it in `abortable`.
      response = await this.transport.send({
        method: 'POST',
        url: this.tokenUrl,
        body: form,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      });
    } catch (error) {
      throw transportError(error, 'token request', this.tokenUrl.origin);
    }
    if (response.status !== 200) throw entraError(response);
    let body: { access_token?: unknown; expires_in?: unknown; token_type?: unknown };
    try {
      body = JSON.parse(response.text) as typeof body;
    } catch (error) {
      throw new SlipwayError('CloudError', 'Entra ID answered the token request with a body that is not JSON', {
        plugin: PLUGIN,
        cause: error,
      });
    }
    const expiresIn = Number(body.expires_in);
    if (
      typeof body.access_token !== 'string' ||
      !Number.isFinite(expiresIn) ||
      String(body.token_type).toLowerCase() !== 'bearer'
    ) {
      throw new SlipwayError('CloudError', 'Entra ID answered 200 without a bearer access_token and expires_in', {
        plugin: PLUGIN,
      });
    }
    // Renew before expiry (MSAL uses 5 minutes) so a call started just before it does not reach ARM with a dead token.
    const lifetimeMs = expiresIn * 1000;
    const margin = Math.min(300_000, lifetimeMs / 10);
    const token: AccessToken = { value: body.access_token, renewAt: this.clock.now() + lifetimeMs - margin };
    this.current = token;
    return token;
  }
}
