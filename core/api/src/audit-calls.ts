import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from '@slipway/contracts';
import { seesAllClusters, type Principal, type Store } from '@slipway/engine';
import type { AppEnv } from './context.js';
import { sourceAddress } from './routes/auth.js';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** An id a client may pass (X-Request-ID) to follow its call through logs and the audit trail. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Gives every request an id (the client's X-Request-ID when sane, else a new one), echoed in the answer. */
export function requestIds(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const given = c.req.header('x-request-id');
    const id = given && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', id);
    await next();
    c.res.headers.set('x-request-id', id);
  };
}

const SINGULAR: Record<string, string> = {
  clusters: 'cluster',
  users: 'user',
  tasks: 'task',
  'network-profiles': 'network-profile',
  'network-leftovers': 'network-leftover',
  'fleet-upgrades': 'fleet-upgrade',
  quotas: 'quota',
  sandbox: 'sandbox',
};
const VERB: Record<string, string> = { POST: 'create', PUT: 'set', PATCH: 'update', DELETE: 'delete' };

/**
 * The audit action and target of a call, from its route pattern (never the raw path): POST /v1/clusters is
 * `cluster.create`, PUT /v1/users/:name/roles is `user.roles.set`, POST /v1/clusters/:name/upgrade is
 * `cluster.upgrade`; the target is the first path parameter (`cluster:prod`).
 */
export function auditActionOf(
  method: string,
  pattern: string,
  params: Record<string, string>,
): { action: string; target: string | null; resource: string } {
  if (pattern === '/oauth/token') return { action: 'login', target: null, resource: 'user' };
  if (pattern === '/oauth/revoke') return { action: 'logout', target: null, resource: 'user' };
  const segments = pattern.split('/').filter((s) => s && s !== 'v1');
  const names = segments.filter((s) => !s.startsWith(':'));
  const resource = SINGULAR[names[0] ?? ''] ?? names[0] ?? 'api';
  const rest = names.slice(1);
  const action =
    rest.length === 0
      ? `${resource}.${VERB[method] ?? method.toLowerCase()}`
      : `${resource}.${rest.join('.')}${method === 'POST' ? '' : `.${VERB[method] ?? method.toLowerCase()}`}`;
  const firstParam = segments.find((s) => s.startsWith(':'))?.slice(1);
  const value = firstParam ? params[firstParam] : undefined;
  return { action, target: value ? `${resource}:${value.slice(0, 200)}` : null, resource };
}

function resultOf(status: number, action: string): 'success' | 'failure' | 'denied' {
  // A wrong password is a failed login; elsewhere a 401 or 403 is a refusal of who asked.
  if ((status === 401 && action !== 'login') || status === 403) return 'denied';
  return status < 400 ? 'success' : 'failure';
}

/** What an accepted change answered that names it (a created cluster's name and uuid), when the route had no name in its path. */
async function answerNames(c: Context<AppEnv>): Promise<{ name?: string; uuid?: string }> {
  if (c.res.status >= 300 || !(c.res.headers.get('content-type') ?? '').includes('json')) return {};
  try {
    const body = (await c.res.clone().json()) as { name?: unknown; owner?: unknown; uuid?: unknown };
    // Most documents are named by `name`; a quota by its `owner`.
    const name = typeof body.name === 'string' ? body.name : typeof body.owner === 'string' ? body.owner : undefined;
    return { name, uuid: typeof body.uuid === 'string' ? body.uuid : undefined };
  } catch {
    return {};
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The cluster a path names (its uuid, or a name: the caller's own, or the only one of that name), so `audit --cluster` finds the call. */
async function clusterUuidOf(store: Store, ref: string, principal: Principal | undefined): Promise<string | null> {
  if (UUID.test(ref)) return ref.toLowerCase();
  let q = store.db.selectFrom('clusters').select('uuid').where('name', '=', ref).orderBy('created_at', 'desc').limit(2);
  if (principal && !seesAllClusters(principal)) q = q.where('owner_id', '=', principal.id);
  const rows = await q.execute();
  return rows.length === 1 ? rows[0].uuid : null;
}

/**
 * Records every mutating call (and every login, successful or not) in the audit trail once it is answered:
 * who, what (route pattern), on what, the result, from where and the request id. The agent channel is
 * machine traffic and is not audited here; the credential API audits itself and writes through.
 */
export function auditCalls(store: Store | undefined, logger?: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    if (!store) return;
    if (!MUTATING.has(c.req.method) || c.req.path.startsWith('/agent/')) return;
    const pattern = c.req.routePath;
    if (!pattern || pattern === '*' || pattern.startsWith('/api/')) return;
    const principal = c.get('principal');
    const loginName = c.get('auditActor');
    const { action, target, resource } = auditActionOf(c.req.method, pattern, c.req.param() as Record<string, string>);
    const named = !target && c.res.status < 300 ? await answerNames(c) : {};
    const param = target ? target.slice(resource.length + 1) : undefined;
    const clusterUuid =
      resource !== 'cluster' ? null : (named.uuid ?? (param ? await clusterUuidOf(store, param, principal) : null));
    const status = c.res.status;
    try {
      await store.audit.append({
        at: new Date().toISOString(),
        actor: (principal?.name ?? loginName ?? 'anonymous').slice(0, 200),
        actor_id: principal?.id ?? c.get('auditActorId') ?? null,
        action,
        target: target ?? (named.name ? `${resource}:${named.name}` : null),
        cluster_uuid: clusterUuid,
        result: resultOf(status, action),
        source: sourceAddress(c) ?? null,
        request_id: c.get('requestId') ?? null,
        details: {
          method: c.req.method,
          route: pattern,
          status,
          ...(c.error ? { error: (c.error as { code?: string }).code ?? 'Internal' } : {}),
        },
      });
    } catch (e) {
      logger?.error('audit entry not written', { action, request_id: c.get('requestId'), error: (e as Error).message });
    }
  };
}
