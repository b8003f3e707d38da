import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { readBody } from './http.js';
import type { FakeContext, Reply } from './routes.js';

/** The resource ARM tokens are issued for; a client-credentials scope is it plus `/.default`. */
const ARM_RESOURCES = [
  'https://management.azure.com',
  'https://management.azure.com/',
  'https://management.core.windows.net',
  'https://management.core.windows.net/',
];

/** An Entra ID error as the token endpoint writes it: a code, an AADSTS description with trace ids, the numeric codes. */
export class EntraError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly aadsts: number,
    message: string,
  ) {
    super(message);
  }

  reply(): Reply {
    const timestamp = new Date()
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, 'Z');
    const traceId = randomUUID();
    const correlationId = randomUUID();
    return {
      status: this.status,
      headers: { 'cache-control': 'no-store, no-cache', 'x-ms-request-id': traceId },
      body: {
        error: this.error,
        error_description: `AADSTS${this.aadsts}: ${this.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
        error_codes: [this.aadsts],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `https://login.microsoftonline.com/error?code=${this.aadsts}`,
      },
    };
  }
}

/**
 * `POST /{tenant}/oauth2/v2.0/token` with the client-credentials grant: checks tenant, application, secret
 * and scope in Entra's order, and issues a JWT-shaped bearer token the fake's ARM accepts until it expires.
 */
export async function issueToken(ctx: FakeContext, tenant: string, req: IncomingMessage): Promise<Reply> {
  const { state } = ctx;
  const form = new URLSearchParams((await readBody(req)).toString('utf8'));
  if (tenant.toLowerCase() !== state.app.tenantId.toLowerCase()) {
    throw new EntraError(
      400,
      'invalid_request',
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    );
  }
  const grant = form.get('grant_type');
  if (!grant)
    throw new EntraError(
      400,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'grant_type'.",
    );
  if (grant !== 'client_credentials')
    throw new EntraError(
      400,
      'unsupported_grant_type',
      70003,
      `The app requested an unsupported grant type '${grant}'.`,
    );
  const clientId = form.get('client_id') ?? '';
  if (clientId !== state.app.clientId) {
    throw new EntraError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }
  if (form.get('client_secret') !== state.app.clientSecret) {
    throw new EntraError(
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    );
  }
  const scope = form.get('scope') ?? '';
  if (!scope.endsWith('/.default')) {
    throw new EntraError(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  }
  const resource = scope.slice(0, -'/.default'.length);
  if (!ARM_RESOURCES.includes(resource)) {
    throw new EntraError(
      400,
      'invalid_resource',
      500011,
      `The resource principal named ${resource} was not found in the tenant named ${tenant}.`,
    );
  }
  const now = Math.floor(Date.now() / 1000);
  const ttl = Math.max(1, Math.round(ctx.timings.tokenTtlMs / 1000));
  const claims = {
    aud: 'https://management.azure.com',
    iss: `https://sts.windows.net/${state.app.tenantId}/`,
    iat: now,
    nbf: now,
    exp: now + ttl,
    appid: clientId,
    tid: state.app.tenantId,
    oid: randomUUID(),
  };
  const value = `${[{ typ: 'JWT', alg: 'RS256' }, claims].map((part) => Buffer.from(JSON.stringify(part)).toString('base64url')).join('.')}.${randomBytes(64).toString('base64url')}`;
  state.tokens.set(value, {
    value,
    clientId,
    tenantId: state.app.tenantId,
    expiresAt: Date.now() + ctx.timings.tokenTtlMs,
  });
  return {
    status: 200,
    headers: { 'cache-control': 'no-store, no-cache' },
    body: { token_type: 'Bearer', expires_in: ttl, ext_expires_in: ttl, access_token: value },
  };
}
