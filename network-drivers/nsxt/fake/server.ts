import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { NsxApiError, badCredentials, notFound } from './errors.js';
import type { FaultPlan } from './faults.js';
import { type PolicyStore, parentOf, parsePath, type StoredObject } from './store.js';
import type { FakeTls } from './tls.js';

const BASE = '/policy/api/v1';
const BODY_LIMIT = 4 * 1024 * 1024;

export interface FakeUser {
  username: string;
  password: string;
}

/** What the server shares with the fake's handle. */
export interface FakeContext {
  store: PolicyStore;
  faults: FaultPlan;
  user: FakeUser;
  principalName: string;
  sessions: Map<string, { xsrf: string }>;
  calls: Map<string, number>;
  /** Paths whose next GET is followed by another writer's update (the next PUT with the read _revision is stale). */
  writeAfterRead: Set<string>;
  /** Members the LB's monitor sees DOWN, by `ip:port` or ip; every other member is UP. */
  downMembers: Set<string>;
}

const NAME_OF_COLLECTION: Record<string, string> = {
  'tier-0s': 'Tier0',
  'tier-1s': 'Tier1',
  'locale-services': 'LocaleServices',
  'ip-pools': 'IpPool',
  'ip-subnets': 'IpSubnet',
  'ip-allocations': 'IpAllocation',
  'ip-blocks': 'IpBlock',
  segments: 'Segment',
  nat: 'NatSection',
  'nat-rules': 'NatRule',
  'lb-services': 'LbService',
  'lb-pools': 'LbPool',
  'lb-virtual-servers': 'LbVirtualServer',
  'lb-monitor-profiles': 'LbMonitorProfile',
  'lb-app-profiles': 'LbAppProfile',
  domains: 'Domain',
  groups: 'Group',
  'security-policies': 'SecurityPolicy',
  rules: 'Rule',
};

/** The operation a request is, as the driver names it (`patchInfra`, `getLbPool`, `listIpAllocations`); faults aim at these. */
export function operationOf(method: string, path: string): string {
  if (path === '/infra') return `${method.toLowerCase()}Infra`;
  if (path === '/infra/realized-state/realized-entities') return 'getRealizedEntities';
  if (path === '/search/query') return 'searchQuery';
  if (/^\/infra\/lb-services\/[^/]+\/detailed-status$/.test(path)) return 'getLbServiceDetailedStatus';
  const parts = path.split('/').filter(Boolean);
  const listing = parts.length % 2 === 0;
  const collection = listing ? parts.at(-1)! : (parts.at(-2) ?? '');
  const name = NAME_OF_COLLECTION[collection] ?? 'Unknown';
  return listing ? `list${name}s` : `${method.toLowerCase()}${name}`;
}

/** NSX Manager's HTTPS endpoint: the session login and the Policy API, with faults applied before authentication. */
export class FakeNsxServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(ctx: FakeContext, tls: FakeTls, port = 0): Promise<FakeNsxServer> {
    const server = createServer(
      { key: tls.keyPem, cert: tls.certPem, ca: tls.caPem, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        void handle(ctx, req, res).catch((error: unknown) =>
          send(
            res,
            error instanceof NsxApiError ? error : new NsxApiError(500, 99, `Internal error: ${String(error)}`),
          ),
        );
      },
    );
    server.requestTimeout = 30_000;
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return new FakeNsxServer(server, `https://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function handle(ctx: FakeContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://127.0.0.1');
  const method = req.method ?? 'GET';
  const raw = await readBody(req);
  if (url.pathname === '/api/session/create' && method === 'POST') {
    ctx.calls.set('createSession', (ctx.calls.get('createSession') ?? 0) + 1);
    return createSession(ctx, raw, res);
  }
  if (!url.pathname.startsWith(`${BASE}/`))
    throw new NsxApiError(404, 404, `The requested URI ${url.pathname} could not be found.`, 'common-services');
  const path = url.pathname.slice(BASE.length).replace(/\/+$/, '');
  const operation = operationOf(method, path);
  ctx.calls.set(operation, (ctx.calls.get(operation) ?? 0) + 1);
  if (ctx.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, ctx.faults.latencyMs));
  const fault = ctx.faults.take(operation);
  if (fault) throw fault;
  authenticate(ctx, req);
  const body = raw.length ? parseJson(raw) : undefined;
  const store = ctx.store;

  if (path === '/infra' && method === 'PATCH') {
    store.patchTree(body ?? {});
    return json(res, 200, undefined);
  }
  if (path === '/infra/realized-state/realized-entities' && method === 'GET')
    return json(res, 200, realizedEntities(store, url.searchParams.get('intent_path') ?? ''));
  if (path === '/search/query' && method === 'GET') {
    return json(res, 200, page(search(store, url.searchParams.get('query') ?? ''), url.searchParams));
  }
  const detailed = /^(\/infra\/lb-services\/[^/]+)\/detailed-status$/.exec(path);
  if (detailed && method === 'GET') return json(res, 200, lbStatus(ctx, detailed[1]!));
  const parts = path.split('/').filter(Boolean);
  if (parts.length >= 2 && parts.length % 2 === 0 && method === 'GET') {
    const parent = parts.length === 2 ? '/infra' : `/${parts.slice(0, -1).join('/')}`;
    if (parent !== '/infra' && !store.get(parent)) throw notFound(parent);
    const children =
      parent === '/infra'
        ? [...store.objects.values()].filter((o) => parentOf(o.path) === '/infra' && o.path.split('/')[2] === parts[1])
        : store.children(parent, parts.at(-1));
    return json(
      res,
      200,
      page(
        children.map((o) => store.view(o)),
        url.searchParams,
      ),
    );
  }
  if (!parsePath(path)) throw notFound(path);
  switch (method) {
    case 'GET': {
      const object = store.get(path);
      if (!object) throw notFound(path);
      const view = store.view(object);
      if (ctx.writeAfterRead.delete(path)) store.patch(path, { description: 'changed by another writer' });
      return json(res, 200, view);
    }
    case 'PUT':
      return json(res, 200, store.view(store.put(path, requireBody(body, path))));
    case 'PATCH':
      store.patch(path, requireBody(body, path));
      return json(res, 200, undefined);
    case 'DELETE':
      store.delete(path);
      return json(res, 200, undefined);
    default:
      throw new NsxApiError(405, 405, `Method ${method} is not supported on ${path}.`, 'common-services');
  }
}

function authenticate(ctx: FakeContext, req: IncomingMessage): void {
  const socket = req.socket as TLSSocket;
  if (socket.authorized) {
    const subject = socket.getPeerCertificate()?.subject as { CN?: string } | undefined;
    if (subject?.CN === ctx.principalName) return;
  }
  const authorization = req.headers.authorization;
  if (authorization?.startsWith('Basic ')) {
    const [user, ...rest] = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':');
    if (user === ctx.user.username && same(rest.join(':'), ctx.user.password)) return;
    throw badCredentials();
  }
  const session = /JSESSIONID=([^;\s]+)/.exec(req.headers.cookie ?? '')?.[1];
  const known = session ? ctx.sessions.get(session) : undefined;
  if (known && req.headers['x-xsrf-token'] === known.xsrf) return;
  throw badCredentials();
}

function createSession(ctx: FakeContext, raw: Buffer, res: ServerResponse): void {
  const form = new URLSearchParams(raw.toString('utf8'));
  if (form.get('j_username') !== ctx.user.username || !same(form.get('j_password') ?? '', ctx.user.password))
    throw badCredentials();
  const id = randomBytes(16).toString('hex').toUpperCase();
  const xsrf = randomBytes(16).toString('hex');
  ctx.sessions.set(id, { xsrf });
  res.writeHead(200, {
    'set-cookie': `JSESSIONID=${id}; Path=/; Secure; HttpOnly`,
    'x-xsrf-token': xsrf,
    'content-length': '0',
  });
  res.end();
}

function realizedEntities(store: PolicyStore, intentPath: string): Record<string, unknown> {
  const object = store.get(intentPath);
  if (!object) return { results: [], result_count: 0 };
  const state = store.realized(object);
  const attributes: Array<{ key: string; values: string[]; data_type: string }> = [];
  if (state === 'REALIZED' && typeof object.body.cidr === 'string')
    attributes.push({ key: 'cidr', values: [object.body.cidr], data_type: 'STRING' });
  if (state === 'REALIZED' && typeof object.body.allocation_ip === 'string')
    attributes.push({ key: 'allocation_ip', values: [object.body.allocation_ip], data_type: 'STRING' });
  const id = intentPath.split('/').at(-1)!;
  return {
    results: [
      {
        resource_type: `Realized${String(store.view(object).resource_type)}`,
        id,
        display_name: id,
        path: `/infra/realized-state/enforcement-points/default/${id}`,
        intent_paths: [intentPath],
        intent_reference: [intentPath],
        state,
        runtime_status: state === 'REALIZED' ? 'UP' : 'UNKNOWN',
        extended_attributes: attributes,
        realization_specific_identifier: id,
        ...(object.realizationError
          ? {
              alarms: [
                {
                  message: object.realizationError,
                  error_details: { error_code: 500, error_message: object.realizationError },
                },
              ],
            }
          : {}),
      },
    ],
    result_count: 1,
  };
}

/** An LB service's detailed status: each pool of its virtual servers, each member UP unless the test set it DOWN. */
function lbStatus(ctx: FakeContext, servicePath: string): Record<string, unknown> {
  const store = ctx.store;
  const service = store.get(servicePath);
  if (!service) throw notFound(servicePath);
  const poolPaths = new Set(
    [...store.objects.values()]
      .filter((o) => o.body.lb_service_path === servicePath && typeof o.body.pool_path === 'string')
      .map((o) => String(o.body.pool_path)),
  );
  const pools = [...poolPaths].flatMap((path) => {
    const pool = store.get(path);
    if (!pool) return [];
    const members = ((pool.body.members as Array<{ ip_address: string; port?: string }> | undefined) ?? []).map((m) => {
      const down = ctx.downMembers.has(m.ip_address) || ctx.downMembers.has(`${m.ip_address}:${m.port ?? ''}`);
      return {
        ip_address: m.ip_address,
        port: m.port,
        status: down ? 'DOWN' : 'UP',
        ...(down ? { failure_cause: 'Connection refused' } : {}),
      };
    });
    const up = members.filter((m) => m.status === 'UP').length;
    return [
      {
        pool_path: path,
        status: members.length === 0 ? 'DETACHED' : up === members.length ? 'UP' : up === 0 ? 'DOWN' : 'PARTIALLY_UP',
        members,
      },
    ];
  });
  return {
    resource_type: 'LBServiceStatus',
    service_path: servicePath,
    service_status: 'UP',
    pools,
    last_update_timestamp: Date.now(),
  };
}

/** `/search/query`: the Lucene subset the driver uses, `field:value` terms joined by AND (escaped `\/`, `\-`). */
function search(store: PolicyStore, query: string): Array<Record<string, unknown>> {
  const terms = query.split(/\s+AND\s+/).map((term) => {
    const at = term.indexOf(':');
    return { field: term.slice(0, at), value: term.slice(at + 1).replace(/\\(.)/g, '$1') };
  });
  const matches = (o: StoredObject) => {
    const view = store.view(o);
    const tags = (view.tags as Array<{ scope?: string; tag?: string }> | undefined) ?? [];
    return terms.every(({ field, value }) => {
      switch (field) {
        case 'resource_type':
          return view.resource_type === value;
        case 'tags.scope':
          return tags.some((t) => t.scope === value);
        case 'tags.tag':
          return tags.some((t) => t.tag === value);
        case 'id':
          return view.id === value;
        default:
          return false;
      }
    });
  };
  return [...store.objects.values()].filter((o) => !o.seeded && matches(o)).map((o) => store.view(o));
}

function page(results: Array<Record<string, unknown>>, params: URLSearchParams): Record<string, unknown> {
  const size = Math.min(Number(params.get('page_size') ?? 1000) || 1000, 1000);
  const start = Number(params.get('cursor') ?? 0) || 0;
  const slice = results.slice(start, start + size);
  return {
    results: slice,
    result_count: results.length,
    ...(start + size < results.length ? { cursor: String(start + size) } : {}),
  };
}

function requireBody(body: Record<string, unknown> | undefined, path: string): Record<string, unknown> {
  if (!body || typeof body !== 'object') throw new NsxApiError(400, 500095, `A JSON body is required for ${path}.`);
  return body;
}

function parseJson(raw: Buffer): Record<string, unknown> {
  try {
    return JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new NsxApiError(400, 500095, 'Request body is not valid JSON.', 'common-services');
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) throw new NsxApiError(413, 413, 'Request body too large.', 'common-services');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function send(res: ServerResponse, error: NsxApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(error.body());
  res.writeHead(error.status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...error.headers,
  });
  res.end(text);
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
