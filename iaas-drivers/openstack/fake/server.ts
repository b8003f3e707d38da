import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { FakeHttpError, readJson, sendError, sendJson, sendText, type FakeService } from './http.js';
import type { FakeContext, Microversion, Route, ServiceMount } from './routes.js';

const UNAUTHORIZED = 'The request you have made requires authentication.';

/** The fake's one HTTP server: every service under its devstack-style path prefix, on 127.0.0.1. */
export class FakeOpenStackServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(ctx: FakeContext, mounts: ServiceMount[], port = 0): Promise<FakeOpenStackServer> {
    const server = createServer((req, res) => {
      void dispatch(ctx, mounts, req, res);
    });
    server.keepAliveTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const bound = (server.address() as AddressInfo).port;
    return new FakeOpenStackServer(server, `http://127.0.0.1:${bound}`);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function dispatch(
  ctx: FakeContext,
  mounts: ServiceMount[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const requestId = `req-${randomUUID()}`;
  const url = new URL(req.url ?? '/', 'http://fake');
  const mount = mounts.find((m) => m.prefix.test(url.pathname));
  if (!mount) {
    sendText(res, 404, '404 Not Found\n\nThe resource could not be found.\n');
    return;
  }
  const service = mount.service;
  try {
    if (service !== 'metadata' && ctx.faults.latencyMs > 0) await delay(ctx.faults.latencyMs);
    const prefix = mount.prefix.exec(url.pathname)!;
    const rest = url.pathname.slice(prefix[0].length) || '/';
    const { route, match } = findRoute(mount.routes, req.method ?? 'GET', rest);
    const body = !route.rawBody && (req.method === 'POST' || req.method === 'PUT') ? await readJson(req) : {};
    const operation = typeof route.operation === 'function' ? route.operation(body) : route.operation;
    ctx.calls.set(operation, (ctx.calls.get(operation) ?? 0) + 1);
    const fault = service === 'metadata' ? undefined : ctx.faults.take(service, operation, service !== 'identity');
    if (fault) throw fault;
    const token = route.anonymous ? undefined : authenticate(ctx, req);
    if (!route.anonymous && !token) {
      // keystonemiddleware answers for every service, in Keystone's shape.
      sendError(
        res,
        'identity',
        new FakeHttpError(401, UNAUTHORIZED, undefined, {
          'www-authenticate': `Keystone uri="${ctx.baseUrl}/identity"`,
        }),
        requestId,
      );
      return;
    }
    const negotiated = mount.versions ? negotiate(mount, req) : { version: { major: 0, minor: 0 }, headers: {} };
    const params = [...prefix.slice(1), ...match.slice(1)].map((p) => decodeURIComponent(p));
    if (service === 'volume' && params[0] !== token?.projectId) throw new FakeHttpError(400, 'Malformed request url');
    const reply = await route.handle({
      params,
      query: url.searchParams,
      body,
      req,
      token,
      version: negotiated.version,
    });
    const headers = {
      ...negotiated.headers,
      ...reply.headers,
      'x-openstack-request-id': requestId,
      ...(service === 'compute' ? { 'x-compute-request-id': requestId } : {}),
    };
    if (reply.text !== undefined) {
      res.writeHead(reply.status, {
        ...headers,
        'content-type': reply.contentType ?? 'text/plain',
        'content-length': Buffer.byteLength(reply.text),
      });
      res.end(reply.text);
    } else {
      sendJson(res, reply.status, reply.body, headers);
    }
  } catch (error) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const known =
      error instanceof FakeHttpError
        ? error
        : new FakeHttpError(500, `Unexpected error in the fake: ${(error as Error)?.message ?? String(error)}`);
    sendError(res, service, known, requestId);
  } finally {
    // A handler that answered before reading the whole body: drain it so the connection can be reused.
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
  if (pathMatched) throw new FakeHttpError(405, 'The method is not allowed for the requested URL.');
  throw new FakeHttpError(404, 'The resource could not be found.');
}

function authenticate(ctx: FakeContext, req: IncomingMessage) {
  const value = req.headers['x-auth-token'];
  if (typeof value !== 'string') return undefined;
  const token = ctx.state.tokens.get(value);
  if (!token) return undefined;
  if (token.expiresAt <= Date.now()) {
    ctx.state.tokens.delete(value);
    return undefined;
  }
  return token;
}

/** Microversion negotiation: `OpenStack-API-Version: <service> X.Y` (or Nova's legacy header); none means the minimum. */
function negotiate(
  mount: ServiceMount,
  req: IncomingMessage,
): { version: Microversion; headers: Record<string, string> } {
  const versions = mount.versions!;
  let requested: string | undefined;
  const header = req.headers['openstack-api-version'];
  if (typeof header === 'string') {
    for (const part of header.split(',')) {
      const [service, value] = part.trim().split(/\s+/);
      if (service?.toLowerCase() === versions.header && value) requested = value;
    }
  }
  const legacy = versions.legacyHeader ? req.headers[versions.legacyHeader] : undefined;
  if (requested === undefined && typeof legacy === 'string') requested = legacy.trim();
  let version = versions.min;
  if (requested === 'latest') {
    version = versions.max;
  } else if (requested !== undefined) {
    const match = /^(\d+)\.(\d+)$/.exec(requested);
    if (!match)
      throw new FakeHttpError(
        400,
        `API Version String ${requested} is of invalid format. Must be of format MajorNum.MinorNum.`,
      );
    version = { major: Number(match[1]), minor: Number(match[2]) };
    const below =
      version.major < versions.min.major ||
      (version.major === versions.min.major && version.minor < versions.min.minor);
    const above =
      version.major > versions.max.major ||
      (version.major === versions.max.major && version.minor > versions.max.minor);
    if (below || above) {
      throw new FakeHttpError(
        406,
        `Version ${requested} is not supported by the API. Minimum is ${text(versions.min)} and maximum is ${text(versions.max)}.`,
        'computeFault',
      );
    }
  }
  const headers: Record<string, string> = {
    'openstack-api-version': `${versions.header} ${text(version)}`,
    vary: 'OpenStack-API-Version',
  };
  if (versions.legacyHeader) {
    headers[versions.legacyHeader] = text(version);
    headers.vary = `OpenStack-API-Version, ${versions.legacyHeader}`;
  }
  return { version, headers };
}

function text(version: Microversion): string {
  return `${version.major}.${version.minor}`;
}

export type { FakeService };
