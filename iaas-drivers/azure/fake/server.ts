import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { checkApiVersion } from './api-versions.js';
import { EntraError, issueToken } from './entra.js';
import { ArmHttpError, readJson, sendJson } from './http.js';
import type { FakeTls } from './pki.js';
import type { FakeContext, Reply, Route } from './routes.js';
import type { FakeToken } from './state.js';

const TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;

/** The fake's HTTPS server: Entra's token endpoint and ARM, on 127.0.0.1, with the fake's own CA. */
export class FakeArmServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(ctx: FakeContext, routes: Route[], tls: FakeTls, port = 0): Promise<FakeArmServer> {
    const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      void dispatch(ctx, routes, req, res);
    });
    server.keepAliveTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const { port: bound } = server.address() as AddressInfo;
    return new FakeArmServer(server, `https://127.0.0.1:${bound}`);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function dispatch(ctx: FakeContext, routes: Route[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', ctx.baseUrl);
  const headers: Record<string, string> = {
    'x-ms-request-id': randomUUID(),
    'x-ms-correlation-request-id': header(req, 'x-ms-correlation-request-id') ?? randomUUID(),
    ...(header(req, 'x-ms-client-request-id')
      ? { 'x-ms-client-request-id': header(req, 'x-ms-client-request-id')! }
      : {}),
  };
  try {
    if (ctx.faults.latencyMs > 0) await delay(ctx.faults.latencyMs);
    const token = TOKEN_PATH.exec(url.pathname);
    if (token) {
      count(ctx, 'Token_Request');
      const fault = ctx.faults.take('Token_Request', true, false);
      if (fault)
        throw new EntraError(
          fault.status,
          fault.status >= 500 ? 'temporarily_unavailable' : 'invalid_request',
          50001,
          fault.message,
        );
      if (req.method !== 'POST')
        throw new EntraError(405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
      return send(res, await issueToken(ctx, decodeURIComponent(token[1]!), req), headers);
    }
    const { route, match } = findRoute(routes, req.method ?? 'GET', url.pathname);
    count(ctx, route.operation);
    const bearer = authenticate(ctx, req);
    if (!route.schedule) throw new ArmHttpError(500, 'InternalServerError', 'route without an api-version schedule');
    const params = match.slice(1).map((p) => decodeURIComponent(p));
    if (params[0]!.toLowerCase() !== ctx.state.subscriptionId) {
      throw new ArmHttpError(404, 'SubscriptionNotFound', `The subscription '${params[0]}' could not be found.`);
    }
    const apiVersion = checkApiVersion(
      route.schedule,
      route.resourceType ?? '',
      ctx.state.location,
      url.searchParams.get('api-version'),
    );
    if (
      /\/resourceGroups\//i.test(url.pathname) &&
      params[1]!.toLowerCase() !== ctx.state.resourceGroup.toLowerCase()
    ) {
      throw new ArmHttpError(404, 'ResourceGroupNotFound', `Resource group '${params[1]}' could not be found.`);
    }
    const fault = ctx.faults.take(route.operation, req.method !== 'GET');
    if (fault) throw fault;
    const body = req.method === 'PUT' || req.method === 'PATCH' || req.method === 'POST' ? await readJson(req) : {};
    send(res, await route.handle({ params, query: url.searchParams, body, req, token: bearer, apiVersion }), headers);
  } catch (error) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof EntraError) return send(res, error.reply(), headers);
    const known =
      error instanceof ArmHttpError
        ? error
        : new ArmHttpError(
            500,
            'InternalServerError',
            `Unexpected error in the fake: ${(error as Error)?.message ?? String(error)}`,
          );
    sendJson(res, known.status, known.body(), { ...known.headers, ...headers });
  } finally {
    // A handler that answered before reading the whole body: drain it so the connection can be reused.
    if (!req.readableEnded) req.resume();
  }
}

function send(res: ServerResponse, reply: Reply, headers: Record<string, string>): void {
  sendJson(res, reply.status, reply.body, { ...reply.headers, ...headers });
}

function findRoute(routes: Route[], method: string, path: string): { route: Route; match: RegExpExecArray } {
  let pathMatched = false;
  for (const route of routes) {
    const match = route.path.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (route.method === method) return { route, match };
  }
  if (pathMatched)
    throw new ArmHttpError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
  const namespace = /\/providers\/([^/]+)\/([^/]+)/i.exec(path);
  throw new ArmHttpError(
    404,
    namespace ? 'InvalidResourceType' : 'NotFound',
    namespace
      ? `The resource type '${namespace[2]}' could not be found in the namespace '${namespace[1]}'.`
      : `No HTTP resource was found that matches the request URI '${path}'.`,
  );
}

/** ARM's bearer check, with its three refusals and the WWW-Authenticate challenge it sends. */
function authenticate(ctx: FakeContext, req: IncomingMessage): FakeToken {
  const challenge = (description: string) => ({
    'www-authenticate': `Bearer authorization_uri="https://login.microsoftonline.com/${ctx.state.app.tenantId}", error="invalid_token", error_description="${description}"`,
  });
  const value = header(req, 'authorization');
  if (!value)
    throw new ArmHttpError(
      401,
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is missing.",
      challenge("The authentication failed because of missing 'Authorization' header."),
    );
  const match = /^Bearer\s+(\S+)$/i.exec(value);
  if (!match)
    throw new ArmHttpError(
      401,
      'AuthenticationFailed',
      "Authentication failed. The 'Authorization' header is provided in an invalid format.",
      challenge("The authentication failed because of invalid format of 'Authorization' header."),
    );
  const token = ctx.state.tokens.get(match[1]!);
  if (!token)
    throw new ArmHttpError(
      401,
      'InvalidAuthenticationToken',
      'The access token is invalid.',
      challenge('The access token is invalid.'),
    );
  if (token.expiresAt <= Date.now()) {
    ctx.state.tokens.delete(token.value);
    throw new ArmHttpError(
      401,
      'ExpiredAuthenticationToken',
      `The access token expiry UTC time '${new Date(token.expiresAt).toUTCString()}' is earlier than current UTC time '${new Date().toUTCString()}'.`,
      challenge('The access token has expired.'),
    );
  }
  return token;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function count(ctx: FakeContext, operation: string): void {
  ctx.calls.set(operation, (ctx.calls.get(operation) ?? 0) + 1);
}
