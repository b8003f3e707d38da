import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { FaultPlan } from './faults.js';
import { HarborHttpError, readJson, sendError, sendJson } from './http.js';
import type { RepositoryStore, Route } from './routes.js';
import type { HarborState } from './state.js';
import { parseScopes, type AccessGrant, type TokenIssuer } from './token.js';

export interface FakeServerContext {
  state: HarborState;
  routes: Route[];
  faults: FaultPlan;
  tokens: TokenIssuer;
  /** What the registry's storage holds, for the project quota on pushes. */
  repos: RepositoryStore;
  /** The real registry behind `/v2/`, or undefined until it runs. */
  registryUrl(): string | undefined;
  /** Requests per operation, for tests. */
  calls: Map<string, number>;
}

const API = '/api/v2.0';

/** The fake Harbor's one HTTPS listener on 127.0.0.1: the API, the token service, and `/v2/` proxied to the registry. */
export async function startHarborServer(
  ctx: FakeServerContext,
  tls: { cert: string; key: string },
  port = 0,
): Promise<{ server: Server; url: string }> {
  // Large stream buffers: image layers pass through here, and 16 KiB chunks cost a TLS record and a syscall each.
  const registryAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  const server = createServer({ cert: tls.cert, key: tls.key, highWaterMark: 1 << 20 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/v2' || path.startsWith('/v2/'))
      return void guardQuota(ctx, req, res).then((refused) => refused || proxy(ctx, registryAgent, req, res));
    if (path === '/service/token') return void token(ctx, req, res);
    void api(ctx, req, res);
  });
  server.keepAliveTimeout = 10_000;
  server.on('close', () => registryAgent.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function api(ctx: FakeServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const given = req.headers['x-request-id'];
  const requestId = typeof given === 'string' && given.length <= 128 ? given : randomUUID();
  const url = new URL(req.url ?? '/', 'https://fake');
  try {
    if (!url.pathname.startsWith(`${API}/`)) throw new HarborHttpError(404, `no route for ${url.pathname}`);
    const rest = url.pathname.slice(API.length);
    const { route, match } = findRoute(ctx.routes, req.method ?? 'GET', rest);
    ctx.calls.set(route.operation, (ctx.calls.get(route.operation) ?? 0) + 1);
    if (ctx.faults.latencyMs > 0) await delay(ctx.faults.latencyMs);
    const fault = ctx.faults.take(route.operation);
    if (fault) throw fault;
    if (!route.anonymous) {
      const who = ctx.state.authenticate(req.headers.authorization);
      if (!who)
        throw new HarborHttpError(401, 'unauthorized', 'UNAUTHORIZED', { 'www-authenticate': 'Basic realm="harbor"' });
      // A project robot may pull and push, not administer projects or robots.
      if (who.kind !== 'admin')
        throw new HarborHttpError(403, `${who.robot.name} has no permission to ${route.operation}`, 'FORBIDDEN');
    }
    const body = req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH' ? await readJson(req) : {};
    const params = match.slice(1).map((p) => decodeURIComponent(p));
    const reply = await route.handle({
      params,
      query: url.searchParams,
      body,
      byName: req.headers['x-is-resource-name'] === 'true',
    });
    const headers = { ...reply.headers, 'x-request-id': requestId };
    if (reply.text !== undefined) {
      res.writeHead(reply.status, {
        ...headers,
        'content-type': reply.contentType ?? 'text/plain',
        'content-length': Buffer.byteLength(reply.text),
      });
      res.end(reply.text);
    } else if (req.method === 'HEAD') {
      res.writeHead(reply.status, headers);
      res.end();
    } else {
      sendJson(res, reply.status, reply.body, headers);
    }
  } catch (error) {
    if (res.headersSent) return void res.destroy();
    const known =
      error instanceof HarborHttpError
        ? error
        : new HarborHttpError(500, `unexpected error in the fake: ${(error as Error)?.message ?? String(error)}`);
    if (req.method === 'HEAD') {
      res.writeHead(known.status, { ...known.headers, 'x-request-id': requestId });
      res.end();
    } else {
      sendError(res, known, requestId);
    }
  } finally {
    if (!req.readableEnded) req.resume();
  }
}

function findRoute(routes: Route[], method: string, path: string): { route: Route; match: RegExpExecArray } {
  let pathMatched = false;
  for (const route of routes) {
    const match = route.path.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (route.method === method) return { route, match };
  }
  if (pathMatched) throw new HarborHttpError(405, `${method} is not allowed on ${path}`);
  throw new HarborHttpError(404, `no route for ${path}`);
}

/**
 * The token service (`/service/token`) of the Docker registry token spec: Basic credentials of the admin or a
 * robot; a token granting only what the account may do on each asked scope. Wrong credentials are a 401, so a
 * rotated-away secret cannot even get an anonymous token.
 */
async function token(ctx: FakeServerContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  req.resume();
  const requestId = randomUUID();
  const url = new URL(req.url ?? '/', 'https://fake');
  const header = req.headers.authorization;
  const who = ctx.state.authenticate(header);
  if (header && !who) return sendError(res, new HarborHttpError(401, 'invalid credentials', 'UNAUTHORIZED'), requestId);
  const granted: AccessGrant[] = [];
  for (const scope of parseScopes(url.searchParams.getAll('scope'))) {
    const actions = allowedActions(ctx, who, scope);
    if (actions.length) granted.push({ type: scope.type, name: scope.name, actions });
  }
  const subject = !who ? '' : who.kind === 'admin' ? who.name : who.robot.name;
  sendJson(res, 200, ctx.tokens.issue(subject, granted), { 'x-request-id': requestId });
}

function allowedActions(
  ctx: FakeServerContext,
  who: ReturnType<FakeServerContext['state']['authenticate']>,
  scope: AccessGrant,
): string[] {
  if (scope.type === 'registry') return who?.kind === 'admin' && scope.name === 'catalog' ? scope.actions : [];
  if (scope.type !== 'repository') return [];
  const projectName = scope.name.split('/')[0]!;
  const project = [...ctx.state.projects.values()].find((p) => p.name === projectName);
  // Harbor keeps images in projects only: a repository outside one is refused to everyone.
  if (!project || !scope.name.includes('/')) return [];
  let allowed: Set<string>;
  if (who?.kind === 'admin') allowed = new Set(['pull', 'push', 'delete', '*']);
  else if (who?.kind === 'robot') allowed = ctx.state.robotActions(who.robot, projectName);
  else allowed = new Set(project.metadata.public === 'true' ? ['pull'] : []);
  return scope.actions.filter((a) => allowed.has(a));
}

/**
 * Harbor's project quota on the data path: a manifest pushed into a project whose layers already take more
 * than its storage limit is refused, as Harbor's quota middleware refuses it. Answers true when it refused.
 */
async function guardQuota(ctx: FakeServerContext, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const match = req.method === 'PUT' ? /^\/v2\/(.+)\/manifests\/[^/?]+/.exec(req.url ?? '') : null;
  if (!match) return false;
  const projectName = match[1]!.split('/')[0]!;
  const project = [...ctx.state.projects.values()].find((p) => p.name === projectName);
  if (!project || project.storageLimit < 0) return false;
  const used = await ctx.repos.usedBytes(projectName);
  if (used <= project.storageLimit) return false;
  req.resume();
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const message = `quota exceeded: current usage of ${mib(used)} will exceed the configured upper limit of ${mib(project.storageLimit)} of project ${projectName}`;
  sendJson(res, 403, { errors: [{ code: 'DENIED', message }] });
  return true;
}

/** `/v2/` to the real registry, streamed both ways; its 401s carry the realm of this server's token service. */
function proxy(ctx: FakeServerContext, agent: HttpAgent, req: IncomingMessage, res: ServerResponse): void {
  const target = ctx.registryUrl();
  if (!target) {
    sendJson(res, 503, { errors: [{ code: 'UNAVAILABLE', message: 'the registry is not running' }] });
    req.resume();
    return;
  }
  const upstream = httpRequest(`${target}${req.url}`, { method: req.method, headers: req.headers, agent }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', (error) => {
    if (res.headersSent) return void res.destroy(error);
    sendJson(res, 502, { errors: [{ code: 'UNAVAILABLE', message: `the registry did not answer: ${error.message}` }] });
  });
  req.pipe(upstream);
}
