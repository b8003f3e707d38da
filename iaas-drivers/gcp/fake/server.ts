import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { FakeApiError, googleErrorPage, notFound, readJson, sendJson, sendText } from './http.js';
import { serveMetadata } from './metadata-server.js';
import { exchangeToken, COMPUTE_SCOPES } from './oauth.js';
import { operationReply } from './operation-routes.js';
import type { FakeContext, Route } from './routes.js';
import type { FakeToken } from './state.js';
import { checkRequestId } from './validate.js';

const COMPUTE_PREFIX = /^\/compute\/v1\/projects\/([^/]+)(\/.*)?$/;
const METADATA_PREFIX = /^\/metadata\/([^/]+)(\/.*)$/;
const REALM = 'Bearer realm="https://accounts.google.com/"';

/** The fake's one HTTP server on 127.0.0.1: the token endpoint, the Compute API and the per-instance metadata servers. */
export class FakeGceServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(ctx: FakeContext, routes: Route[], port = 0): Promise<FakeGceServer> {
    const server = createServer((req, res) => {
      void dispatch(ctx, routes, req, res);
    });
    server.keepAliveTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address() as AddressInfo;
    return new FakeGceServer(server, `http://127.0.0.1:${address.port}`);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function dispatch(ctx: FakeContext, routes: Route[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake');
  try {
    const metadata = METADATA_PREFIX.exec(url.pathname);
    if (metadata) {
      serveMetadata(ctx, req, res, metadata[1]!, metadata[2]!);
      return;
    }
    if (url.pathname === '/token') {
      await serveToken(ctx, req, res);
      return;
    }
    const compute = COMPUTE_PREFIX.exec(url.pathname);
    if (!compute) {
      sendText(
        res,
        404,
        googleErrorPage(404, `The requested URL <code>${url.pathname}</code> was not found on this server.`),
        { 'content-type': 'text/html; charset=UTF-8' },
      );
      return;
    }
    await serveCompute(ctx, routes, req, res, url, compute[1]!, compute[2] ?? '/');
  } catch (error) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const known =
      error instanceof FakeApiError
        ? error
        : new FakeApiError(
            500,
            'backendError',
            `Internal error in the fake: ${(error as Error)?.message ?? String(error)}`,
          );
    sendJson(res, known.status, known.body(), known.headers);
  } finally {
    // A handler that answered before reading the whole body: drain it so the connection can be reused.
    if (!req.readableEnded) req.resume();
  }
}

async function serveToken(ctx: FakeContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (ctx.faults.latencyMs > 0) await delay(ctx.faults.latencyMs);
  count(ctx, 'token');
  const fault = ctx.faults.take('token', false);
  if (fault) {
    sendJson(res, fault.status, { error: fault.reason, error_description: fault.message }, fault.headers);
    return;
  }
  if (req.method !== 'POST') {
    sendJson(res, 405, { error: 'invalid_request', error_description: 'Method not allowed.' });
    return;
  }
  const reply = await exchangeToken(ctx, req);
  sendJson(res, reply.status, reply.body, {
    'cache-control': 'no-cache, no-store, max-age=0, must-revalidate',
    pragma: 'no-cache',
  });
}

async function serveCompute(
  ctx: FakeContext,
  routes: Route[],
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  project: string,
  path: string,
): Promise<void> {
  if (ctx.faults.latencyMs > 0) await delay(ctx.faults.latencyMs);
  const token = authenticate(ctx, req);
  const { route, match } = findRoute(routes, req.method ?? 'GET', path, url.pathname);
  const body = req.method === 'POST' ? await readJson(req) : {};
  count(ctx, route.method);
  const fault = ctx.faults.take(route.method, true);
  if (fault) throw fault;
  checkProject(ctx, project, route, path);
  const requestId = route.mutation ? checkRequestId(url.searchParams.get('requestId')) : undefined;
  if (requestId) {
    // GCE's idempotency: a requestId it has seen answers the first request's operation, whatever it was.
    const earlier = ctx.operations.byRequestId(requestId);
    if (earlier) {
      const reply = operationReply(ctx, earlier);
      sendJson(res, reply.status, reply.body);
      return;
    }
  }
  const params = match.slice(1).map((p) => decodeURIComponent(p));
  const reply = await route.handle({
    project,
    params,
    query: url.searchParams,
    body,
    token,
    req,
    ...(requestId ? { requestId } : {}),
  });
  sendJson(res, reply.status, reply.body);
}

function count(ctx: FakeContext, method: string): void {
  ctx.calls.set(method, (ctx.calls.get(method) ?? 0) + 1);
}

function findRoute(
  routes: Route[],
  http: string,
  path: string,
  fullPath: string,
): { route: Route; match: RegExpExecArray } {
  let pathMatched = false;
  for (const route of routes) {
    const match = route.path.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (route.http === http) return { route, match };
  }
  if (pathMatched)
    throw new FakeApiError(405, 'httpMethodNotAllowed', `Request method '${http}' is not supported for ${fullPath}`);
  throw new FakeApiError(404, 'notFound', `The requested URL ${fullPath} was not found on this server.`);
}

/** A bearer token the fake issued, unexpired, with a scope that covers Compute Engine; Google's 401/403 otherwise. */
function authenticate(ctx: FakeContext, req: IncomingMessage): FakeToken {
  const header = req.headers.authorization;
  const value =
    typeof header === 'string' && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '').trim() : undefined;
  if (!value) {
    throw new FakeApiError(
      401,
      'required',
      'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
      'global',
      { 'www-authenticate': REALM },
      { location: 'Authorization', locationType: 'header' },
    );
  }
  const token = ctx.state.tokens.get(value);
  if (!token || token.expiresAt <= Date.now()) {
    if (token) ctx.state.tokens.delete(value);
    throw new FakeApiError(
      401,
      'authError',
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
      'global',
      { 'www-authenticate': `${REALM}, error="invalid_token"` },
      { location: 'Authorization', locationType: 'header' },
    );
  }
  if (!token.scopes.some((s) => COMPUTE_SCOPES.has(s))) {
    throw new FakeApiError(
      403,
      'insufficientPermissions',
      'Request had insufficient authentication scopes.',
      'global',
      { 'www-authenticate': `${REALM}, error="insufficient_scope", scope="https://www.googleapis.com/auth/compute"` },
    );
  }
  return token;
}

/** The fake's project is the caller's; its public image project can be read, not written; any other project does not exist. */
function checkProject(ctx: FakeContext, project: string, route: Route, path: string): void {
  if (project === ctx.state.project) return;
  if (project === ctx.state.imageProject) {
    if (route.publicImages) return;
    throw new FakeApiError(
      403,
      'forbidden',
      `Required '${route.method.replace(/^(\w+)\.(\w+)$/, 'compute.$1.$2')}' permission for 'projects/${project}${path}'`,
    );
  }
  throw notFound(`projects/${project}`);
}
