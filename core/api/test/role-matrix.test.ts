import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredhubApi } from '../../../plugins/credhub/src/http/index.js';
import { createApp } from '../src/app.js';
import { openApiDocument } from '../src/openapi.js';
import { ADMIN_PASSWORD, startTestControlPlane, type ApiResponse, type TestControlPlane } from './harness.js';

/**
 * Every endpoint of /v1 and of the CredHub API, called as each role, against the full expected matrix below.
 * The routes are read from the routers themselves, so a new route without a row here fails the test.
 *
 * Roles: admin (clusters.admin), reader (clusters.admin.read), owner (clusters.manage, owns cluster "alpha"),
 * other (clusters.manage, another tenant with its own cluster), anon (no token).
 *
 * No cell leaks: besides its status, every 403/404 answer, and every answer to `other`, is compared with the
 * answer to the same request about an object that does not exist (a "ghost": another cluster name, uuid,
 * task id, credential id): they must be identical but for the name asked, and never name alpha's uuid.
 */
type Role = 'admin' | 'reader' | 'owner' | 'other' | 'anon';
const ROLES: Role[] = ['anon', 'other', 'reader', 'owner', 'admin']; // allowed (mutating) cells run last

interface Fixture {
  cluster: string;
  uuid: string;
  task: number;
  caId: string;
  caVersion: string;
  permission: string;
  ownerId: number;
  doomed: Record<'owner' | 'admin', string>;
}
interface Request {
  path: string;
  body?: unknown;
}
interface Case {
  route: string;
  label?: string;
  request: (fx: Fixture, role: Role) => Request;
  expect: Record<Exclude<Role, 'anon'>, number>;
  /** Runs after the row (the admin reset a password: log the owner in again). */
  after?: () => Promise<void>;
  /** Cells whose refusal may legitimately differ for a missing object: the caller may see this one. */
  knows?: Role[];
  /** Without a token: 401 unless said otherwise. */
  anon?: number;
  /** A check of the answer's content, beyond its status; returns what is wrong. */
  check?: (res: ApiResponse, role: Role) => string | undefined;
  /** The answer echoes the caller's own earlier requests (its audit trail): no ghost to compare with. */
  echoes?: true;
}

const all = (status: number) => ({ admin: status, reader: status, owner: status, other: status });
const clusterRead = { admin: 200, reader: 200, owner: 200, other: 404 };
const clusterWrite = (ok: number) => ({ admin: ok, reader: 403, owner: ok, other: 404 });
const adminOnly = (ok: number) => ({ admin: ok, reader: 403, owner: 403, other: 403 });
const enc = encodeURIComponent;
const credential = (fx: Fixture, name: string) => `/slipway/clusters/${fx.uuid}/${name}`;

const CASES: Case[] = [
  // ---- /v1 ----
  { route: 'GET /v1/plans', request: () => ({ path: '/v1/plans' }), expect: all(200) },
  {
    route: 'GET /v1/clusters',
    request: () => ({ path: '/v1/clusters' }),
    expect: all(200),
    check: (res, role) => {
      if (role === 'anon') return undefined;
      const names = (res.body as Array<{ name: string }>)
        .map((c) => c.name)
        .sort()
        .join(',');
      const want = {
        admin: 'alpha,bravo,doomed-a,doomed-b',
        reader: 'alpha,bravo,doomed-a,doomed-b',
        owner: 'alpha,doomed-a,doomed-b',
        other: 'bravo',
        anon: '',
      }[role];
      return role === 'anon' || names === want ? undefined : `lists ${names}, expected ${want}`;
    },
  },
  {
    route: 'POST /v1/clusters',
    label: 'an invalid host: refused after the role check',
    request: () => ({
      path: '/v1/clusters',
      body: { name: 'matrix-new', plan_name: 'small', parameters: { kubernetes_master_host: 'not a host!' } },
    }),
    expect: { admin: 400, reader: 403, owner: 400, other: 400 },
  },
  { route: 'GET /v1/clusters/:name', request: (fx) => ({ path: `/v1/clusters/${fx.cluster}` }), expect: clusterRead },
  {
    route: 'PATCH /v1/clusters/:name',
    label: 'beyond the plan',
    request: (fx) => ({ path: `/v1/clusters/${fx.cluster}`, body: { kubernetes_worker_instances: 999 } }),
    expect: clusterWrite(400),
  },
  {
    route: 'DELETE /v1/clusters/:name',
    label: 'a cluster of its own per allowed cell',
    request: (fx, role) => ({ path: `/v1/clusters/${role === 'owner' ? fx.doomed.owner : fx.doomed.admin}` }),
    expect: clusterWrite(202),
  },
  {
    route: 'POST /v1/clusters/:name/rotate-certificates',
    label: 'leaves only, on a cluster of its own per allowed cell',
    request: (fx, role) => ({
      path: `/v1/clusters/${role === 'owner' ? fx.doomed.owner : fx.doomed.admin}/rotate-certificates`,
      body: { ca: false },
    }),
    // The owner's and the admin's deletes above are still running: busy.
    expect: clusterWrite(409),
  },
  {
    route: 'POST /v1/clusters/:name/binds',
    request: (fx) => ({ path: `/v1/clusters/${fx.cluster}/binds` }),
    expect: clusterWrite(201),
  },
  {
    route: 'POST /v1/clusters/:name/binds',
    label: "another user's kubeconfig: admins only",
    request: (fx) => ({ path: `/v1/clusters/${fx.cluster}/binds`, body: { user: 'admin' } }),
    expect: { admin: 201, reader: 403, owner: 403, other: 404 },
    knows: ['owner'],
  },
  {
    route: 'POST /v1/clusters/:name/smoke-test',
    request: (fx) => ({ path: `/v1/clusters/${fx.cluster}/smoke-test` }),
    expect: clusterWrite(200),
  },
  {
    route: 'GET /v1/clusters/:name/instances',
    request: (fx) => ({ path: `/v1/clusters/${fx.cluster}/instances` }),
    expect: clusterRead,
  },
  {
    route: 'GET /v1/clusters/:name/events',
    request: (fx) => ({ path: `/v1/clusters/${fx.cluster}/events` }),
    expect: clusterRead,
  },
  {
    route: 'GET /v1/clusters/:name/health',
    request: (fx) => ({ path: `/v1/clusters/${fx.cluster}/health` }),
    expect: clusterRead,
  },
  {
    route: 'GET /v1/clusters/:name/resurrection',
    request: (fx) => ({ path: `/v1/clusters/${fx.cluster}/resurrection` }),
    expect: clusterRead,
  },
  {
    route: 'PUT /v1/clusters/:name/resurrection',
    request: (fx) => ({ path: `/v1/clusters/${fx.cluster}/resurrection`, body: { enabled: true } }),
    expect: clusterWrite(200),
  },
  {
    route: 'GET /v1/clusters/:name/doctor',
    request: (fx) => ({ path: `/v1/clusters/${fx.cluster}/doctor` }),
    expect: clusterRead,
  },
  {
    route: 'POST /v1/clusters/:name/doctor',
    label: 'nothing chosen',
    request: (fx) => ({ path: `/v1/clusters/${fx.cluster}/doctor`, body: {} }),
    expect: clusterWrite(200),
  },
  {
    route: 'GET /v1/clusters/:name/upgrades',
    request: (fx) => ({ path: `/v1/clusters/${fx.cluster}/upgrades` }),
    expect: clusterRead,
  },
  {
    route: 'POST /v1/clusters/:name/upgrade',
    label: 'to a version not in the catalog',
    request: (fx) => ({ path: `/v1/clusters/${fx.cluster}/upgrade`, body: { kubernetes_version: '9.9.9' } }),
    expect: clusterWrite(400),
  },
  {
    route: 'POST /v1/clusters/:name/update',
    label: 'to a plan that does not exist',
    request: (fx) => ({ path: `/v1/clusters/${fx.cluster}/update`, body: { plan_name: 'no-such-plan' } }),
    expect: clusterWrite(404),
  },
  {
    route: 'GET /v1/tasks',
    request: (fx) => ({ path: `/v1/tasks?cluster=${fx.cluster}` }),
    expect: all(200),
    check: (res, role) =>
      role === 'other' && res.status === 200 && (res.body as unknown[]).length
        ? 'another tenant sees the tasks of alpha'
        : undefined,
  },
  { route: 'GET /v1/tasks/:id', request: (fx) => ({ path: `/v1/tasks/${fx.task}` }), expect: clusterRead },
  {
    route: 'POST /v1/tasks/:id/cancel',
    label: 'a finished task',
    request: (fx) => ({ path: `/v1/tasks/${fx.task}/cancel` }),
    expect: { admin: 409, reader: 403, owner: 409, other: 404 },
  },
  {
    route: 'PUT /v1/tasks/:id',
    label: 'a finished task',
    request: (fx) => ({ path: `/v1/tasks/${fx.task}` }),
    expect: { admin: 409, reader: 403, owner: 409, other: 404 },
  },
  { route: 'GET /v1/users', request: () => ({ path: '/v1/users' }), expect: adminOnly(200) },
  {
    route: 'POST /v1/users',
    request: () => ({
      path: '/v1/users',
      body: { name: 'matrix-user', password: 'matrix-password', roles: ['clusters.manage'] },
    }),
    expect: adminOnly(201),
  },
  {
    route: 'GET /v1/users/:name',
    label: "the owner's",
    request: () => ({ path: '/v1/users/alice' }),
    expect: { admin: 200, reader: 403, owner: 200, other: 403 },
  },
  { route: 'DELETE /v1/users/:name', request: () => ({ path: '/v1/users/matrix-user' }), expect: adminOnly(204) },
  {
    route: 'PUT /v1/users/:name/roles',
    request: () => ({ path: '/v1/users/carol/roles', body: { roles: ['clusters.admin.read'] } }),
    expect: adminOnly(200),
  },
  {
    route: 'PUT /v1/users/:name/password',
    label: "the owner's (its own with its old one)",
    request: () => ({
      path: '/v1/users/alice/password',
      body: { password: 'alice-password', old_password: 'alice-password' },
    }),
    expect: { admin: 204, reader: 403, owner: 204, other: 403 },
    after: async () => {
      tokens.owner = await t.login('alice', 'alice-password');
    },
  },
  {
    route: 'GET /v1/clusters/:name/certificates',
    request: (fx) => ({ path: `/v1/clusters/${fx.cluster}/certificates` }),
    expect: clusterRead,
  },
  { route: 'GET /v1/network-profiles', request: () => ({ path: '/v1/network-profiles' }), expect: all(200) },
  {
    route: 'GET /v1/network-profiles/:name',
    label: 'one that does not exist',
    request: () => ({ path: '/v1/network-profiles/no-such-profile' }),
    expect: all(404),
  },
  {
    route: 'POST /v1/network-profiles',
    label: 'an invalid profile: refused after the role check',
    request: () => ({
      path: '/v1/network-profiles',
      body: { name: 'matrix-profile', parameters: { lb_size: 'enormous' } },
    }),
    expect: adminOnly(400),
  },
  {
    route: 'DELETE /v1/network-profiles/:name',
    label: 'one that does not exist',
    request: () => ({ path: '/v1/network-profiles/no-such-profile' }),
    expect: adminOnly(404),
  },
  {
    route: 'GET /v1/quotas',
    request: () => ({ path: '/v1/quotas' }),
    expect: { admin: 200, reader: 200, owner: 403, other: 403 },
  },
  {
    route: 'POST /v1/quotas',
    label: 'a negative limit: refused after the role check',
    request: () => ({ path: '/v1/quotas', body: { owner: 'alice', limit: { cpu: -1 } } }),
    expect: adminOnly(400),
  },
  // Alice has no quota: she and the admins learn that; another tenant gets the refusal it gets for anyone.
  {
    route: 'GET /v1/quotas/:owner',
    label: "the owner's, which has none",
    request: () => ({ path: '/v1/quotas/alice' }),
    expect: { admin: 404, reader: 404, owner: 404, other: 403 },
  },
  {
    route: 'PATCH /v1/quotas/:owner',
    label: 'an owner without a quota',
    request: () => ({ path: '/v1/quotas/alice', body: { limit: { cluster: 1 } } }),
    expect: adminOnly(404),
  },
  {
    route: 'DELETE /v1/quotas/:owner',
    label: 'an owner without a quota',
    request: () => ({ path: '/v1/quotas/alice' }),
    expect: adminOnly(404),
  },
  {
    route: 'GET /v1/usages',
    request: () => ({ path: '/v1/usages' }),
    expect: all(200),
    check: (res, role) => {
      if (role === 'anon') return undefined;
      const owners = (res.body as Array<{ owner: string }>)
        .map((u) => u.owner)
        .sort()
        .join(',');
      const want = { admin: 'alice,bob', reader: 'alice,bob', owner: 'alice', other: 'bob' }[role];
      return owners === want ? undefined : `lists usages of ${owners}, expected ${want}`;
    },
  },
  {
    route: 'GET /v1/usages/:owner',
    label: "the owner's",
    request: () => ({ path: '/v1/usages/alice' }),
    expect: { admin: 200, reader: 200, owner: 200, other: 403 },
  },
  { route: 'GET /v1/network-leftovers', request: () => ({ path: '/v1/network-leftovers' }), expect: adminOnly(200) },
  {
    route: 'DELETE /v1/network-leftovers/:uuid',
    label: 'a live cluster: its objects are not leftovers',
    request: (fx) => ({ path: `/v1/network-leftovers/${fx.uuid}` }),
    expect: adminOnly(409),
  },
  {
    route: 'GET /v1/sandbox/:iaas/inventory',
    request: () => ({ path: '/v1/sandbox/sandbox/inventory' }),
    expect: adminOnly(200),
  },
  {
    route: 'POST /v1/sandbox/:iaas/vms/:cid/kill',
    label: 'a VM that does not exist',
    request: () => ({ path: '/v1/sandbox/sandbox/vms/vm-none/kill' }),
    expect: adminOnly(404),
  },
  {
    route: 'POST /v1/sandbox/:iaas/vms/:cid/hang',
    label: 'a VM that does not exist',
    request: () => ({ path: '/v1/sandbox/sandbox/vms/vm-none/hang' }),
    expect: adminOnly(404),
  },
  {
    route: 'POST /v1/sandbox/:iaas/disks/:cid/detach',
    label: 'a disk that does not exist',
    request: () => ({ path: '/v1/sandbox/sandbox/disks/disk-none/detach' }),
    expect: adminOnly(404),
  },
  { route: 'GET /v1/alerts', request: (fx) => ({ path: `/v1/alerts?cluster=${fx.cluster}` }), expect: clusterRead },
  { route: 'GET /v1/versions', request: () => ({ path: '/v1/versions' }), expect: all(200) },
  {
    route: 'GET /v1/fleet-upgrades',
    request: () => ({ path: '/v1/fleet-upgrades' }),
    expect: { admin: 200, reader: 200, owner: 403, other: 403 },
  },
  {
    route: 'POST /v1/fleet-upgrades',
    label: 'of a cluster nobody has',
    request: () => ({ path: '/v1/fleet-upgrades', body: { clusters: ['no-such-cluster'] } }),
    expect: adminOnly(404),
  },
  {
    route: 'GET /v1/fleet-upgrades/:id',
    label: 'an id never used',
    request: () => ({ path: '/v1/fleet-upgrades/424242' }),
    expect: { admin: 404, reader: 404, owner: 403, other: 403 },
  },
  {
    route: 'POST /v1/fleet-upgrades/:id/cancel',
    label: 'an id never used',
    request: () => ({ path: '/v1/fleet-upgrades/424242/cancel' }),
    expect: adminOnly(404),
  },
  { route: 'GET /v1/iaas', request: () => ({ path: '/v1/iaas' }), expect: all(200) },
  // The JSON form of the event stream, filtered by the cluster: a tenant names only its own.
  { route: 'GET /v1/events', request: (fx) => ({ path: `/v1/events?cluster=${fx.cluster}` }), expect: clusterRead },
  // Everyone may read the audit trail; all but admins read only their own actions (its content: audit.test.ts).
  { route: 'GET /v1/audit', request: () => ({ path: '/v1/audit?limit=1000' }), expect: all(200), echoes: true },

  // ---- the CredHub API ----
  // As CredHub's: answered without a token.
  { route: 'GET /api/v1/info', request: () => ({ path: '/api/v1/info' }), expect: all(200), anon: 200 },
  { route: 'GET /api/v1/health', request: () => ({ path: '/api/v1/health' }), expect: all(200), anon: 200 },
  { route: 'GET /api/v1/version', request: () => ({ path: '/api/v1/version' }), expect: all(200), anon: 200 },
  {
    route: 'GET /api/v1/data',
    label: 'the cluster CA (its certificate; the key is withheld)',
    request: (fx) => ({ path: `/api/v1/data?name=${enc(credential(fx, 'kubernetes-ca'))}&current=true` }),
    expect: { admin: 200, reader: 404, owner: 200, other: 404 },
    knows: ['owner'],
  },
  {
    route: 'GET /api/v1/data',
    label: 'the system:masters certificate',
    request: (fx) => ({ path: `/api/v1/data?name=${enc(credential(fx, 'admin'))}` }),
    expect: all(404),
  },
  {
    route: 'GET /api/v1/data',
    label: 'the service-account signing key',
    request: (fx) => ({ path: `/api/v1/data?name=${enc(credential(fx, 'service-account'))}` }),
    expect: all(404),
  },
  {
    route: 'GET /api/v1/data',
    label: "a node's kubelet client certificate",
    request: (fx) => ({ path: `/api/v1/data?name=${enc(credential(fx, 'nodes/worker-0/kubelet-client'))}` }),
    expect: all(404),
  },
  {
    route: 'GET /api/v1/data',
    label: "the control plane's agent CA",
    request: () => ({ path: `/api/v1/data?name=${enc('/slipway/control-plane/agent-ca')}` }),
    expect: all(404),
  },
  {
    route: 'GET /api/v1/data',
    label: 'find under the cluster path',
    request: (fx) => ({ path: `/api/v1/data?path=${enc(`/slipway/clusters/${fx.uuid}`)}` }),
    expect: all(200),
  },
  {
    route: 'GET /api/v1/data/:id',
    label: 'a version of the cluster CA',
    request: (fx) => ({ path: `/api/v1/data/${fx.caVersion}` }),
    expect: { admin: 200, reader: 404, owner: 200, other: 404 },
    knows: ['owner'],
  },
  {
    route: 'DELETE /api/v1/data',
    label: 'the cluster CA',
    request: (fx) => ({ path: `/api/v1/data?name=${enc(credential(fx, 'kubernetes-ca'))}` }),
    expect: all(404),
  },
  {
    route: 'DELETE /api/v1/data/:id',
    label: 'a version of the cluster CA',
    request: (fx) => ({ path: `/api/v1/data/${fx.caVersion}` }),
    expect: { admin: 403, reader: 404, owner: 403, other: 404 },
    knows: ['owner', 'admin'],
  },
  {
    route: 'PUT /api/v1/data',
    label: "a credential outside Slipway's paths",
    request: () => ({ path: '/api/v1/data', body: { name: '/team/matrix', type: 'value', value: 'v' } }),
    expect: { admin: 200, reader: 403, owner: 403, other: 403 },
  },
  {
    route: 'POST /api/v1/data',
    label: 'a node certificate signed by the cluster CA',
    request: (fx) => ({
      path: '/api/v1/data',
      body: {
        name: credential(fx, 'nodes/evil/kubelet-client'),
        type: 'certificate',
        parameters: {
          common_name: 'system:node:evil',
          organization: 'system:nodes',
          ca: credential(fx, 'kubernetes-ca'),
        },
      },
    }),
    expect: all(403),
  },
  {
    route: 'POST /api/v1/data',
    label: 'signing with the cluster CA into a writable path',
    request: (fx) => ({
      path: '/api/v1/data',
      body: {
        name: '/team/evil',
        type: 'certificate',
        parameters: { common_name: 'admin', organization: 'system:masters', ca: credential(fx, 'kubernetes-ca') },
      },
    }),
    expect: { admin: 404, reader: 403, owner: 403, other: 403 },
  },
  {
    route: 'POST /api/v1/regenerate',
    label: 'the cluster CA',
    request: (fx) => ({ path: '/api/v1/regenerate', body: { name: credential(fx, 'kubernetes-ca') } }),
    expect: all(403),
  },
  {
    route: 'POST /api/v1/bulk-regenerate',
    label: 'everything the cluster CA signed',
    request: (fx) => ({ path: '/api/v1/bulk-regenerate', body: { signed_by: credential(fx, 'kubernetes-ca') } }),
    expect: { admin: 403, reader: 404, owner: 403, other: 404 },
    knows: ['owner', 'admin'],
  },
  { route: 'GET /api/v1/certificates', request: () => ({ path: '/api/v1/certificates' }), expect: all(200) },
  {
    route: 'POST /api/v1/certificates/:id/regenerate',
    label: 'the cluster CA',
    request: (fx) => ({ path: `/api/v1/certificates/${fx.caId}/regenerate`, body: {} }),
    expect: { admin: 403, reader: 404, owner: 403, other: 404 },
    knows: ['owner', 'admin'],
  },
  {
    route: 'PUT /api/v1/certificates/:id/update_transitional_version',
    label: 'the cluster CA',
    request: (fx) => ({ path: `/api/v1/certificates/${fx.caId}/update_transitional_version`, body: { version: null } }),
    expect: { admin: 403, reader: 404, owner: 403, other: 404 },
    knows: ['owner', 'admin'],
  },
  {
    route: 'GET /api/v1/certificates/:id/versions',
    label: 'the cluster CA',
    request: (fx) => ({ path: `/api/v1/certificates/${fx.caId}/versions` }),
    expect: { admin: 200, reader: 404, owner: 200, other: 404 },
    knows: ['owner'],
  },
  {
    route: 'DELETE /api/v1/certificates/:id/versions/:versionId',
    label: 'the cluster CA',
    request: (fx) => ({ path: `/api/v1/certificates/${fx.caId}/versions/${fx.caVersion}` }),
    expect: { admin: 403, reader: 404, owner: 403, other: 404 },
    knows: ['owner', 'admin'],
  },
  {
    route: 'POST /api/v2/permissions',
    label: 'read on the cluster CA for someone',
    request: (fx) => ({
      path: '/api/v2/permissions',
      body: { actor: 'user:424242', path: credential(fx, 'kubernetes-ca'), operations: ['read'] },
    }),
    expect: all(403),
  },
  {
    route: 'GET /api/v2/permissions',
    label: "the owner's entry on its CA",
    request: (fx) => ({
      path: `/api/v2/permissions?path=${enc(credential(fx, 'kubernetes-ca'))}&actor=user:${fx.ownerId}`,
    }),
    expect: all(404),
  },
  {
    route: 'GET /api/v2/permissions/:uuid',
    label: "an admin's entry for the other tenant",
    request: (fx) => ({ path: `/api/v2/permissions/${fx.permission}` }),
    expect: { admin: 200, reader: 404, owner: 404, other: 404 },
    knows: ['admin'],
  },
  {
    route: 'PUT /api/v2/permissions/:uuid',
    request: (fx) => ({
      path: `/api/v2/permissions/${fx.permission}`,
      body: { actor: 'user:bob-id', path: '/team/*', operations: ['read', 'write'] },
    }),
    expect: { admin: 200, reader: 404, owner: 404, other: 404 },
    knows: ['admin'],
  },
  {
    route: 'PATCH /api/v2/permissions/:uuid',
    request: (fx) => ({ path: `/api/v2/permissions/${fx.permission}`, body: { operations: ['read'] } }),
    expect: { admin: 200, reader: 404, owner: 404, other: 404 },
    knows: ['admin'],
  },
  {
    route: 'DELETE /api/v2/permissions/:uuid',
    request: (fx) => ({ path: `/api/v2/permissions/${fx.permission}` }),
    expect: { admin: 200, reader: 404, owner: 404, other: 404 },
    knows: ['admin'],
  },
  {
    route: 'POST /api/v1/interpolate',
    label: 'a reference to the cluster CA',
    request: (fx) => ({
      path: '/api/v1/interpolate',
      body: { svc: [{ credentials: { 'credhub-ref': `((${credential(fx, 'kubernetes-ca')}))` } }] },
    }),
    expect: { admin: 400, reader: 404, owner: 400, other: 404 },
    knows: ['owner', 'admin'],
  },
  { route: 'GET /api/v1/key-usage', request: () => ({ path: '/api/v1/key-usage' }), expect: adminOnly(200) },
  {
    route: 'POST /api/v1/key-usage/rotate',
    request: () => ({ path: '/api/v1/key-usage/rotate' }),
    expect: adminOnly(200),
  },
  {
    // A tenant's trail holds only its own calls (the names it asked for included, nobody else's).
    route: 'GET /api/v1/audit',
    request: () => ({ path: '/api/v1/audit?limit=1000' }),
    expect: all(200),
    echoes: true,
    check: (res, role) => {
      if (role === 'admin' || role === 'anon') return undefined;
      const actors = new Set((res.body.events as Array<{ actor: string }>).map((e) => e.actor));
      return actors.size <= 1 ? undefined : `events of several actors: ${[...actors].join(', ')}`;
    },
  },
];

let t: TestControlPlane;
const tokens: Record<Role, string | undefined> = {
  admin: undefined,
  reader: undefined,
  owner: undefined,
  other: undefined,
  anon: undefined,
};
let fx: Fixture;
let ghost: Fixture;

async function createCluster(token: string, name: string): Promise<{ uuid: string; task: number }> {
  const res = await t.call('POST', '/v1/clusters', {
    token,
    body: {
      name,
      plan_name: 'small',
      parameters: { kubernetes_master_host: `${name}.example.test`, kubernetes_worker_instances: 1 },
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect((await t.waitTask(token, res.body.task_id, 60_000)).state).toBe('done');
  return { uuid: res.body.uuid, task: res.body.task_id };
}

beforeAll(async () => {
  t = await startTestControlPlane();
  tokens.admin = await t.login('admin', ADMIN_PASSWORD);
  for (const [name, role] of [
    ['reader', 'clusters.admin.read'],
    ['alice', 'clusters.manage'],
    ['bob', 'clusters.manage'],
    ['carol', 'clusters.manage'],
  ]) {
    expect(
      (
        await t.call('POST', '/v1/users', {
          token: tokens.admin,
          body: { name, password: `${name}-password`, roles: [role] },
        })
      ).status,
    ).toBe(201);
  }
  tokens.reader = await t.login('reader', 'reader-password');
  tokens.owner = await t.login('alice', 'alice-password');
  tokens.other = await t.login('bob', 'bob-password');
  const alpha = await createCluster(tokens.owner, 'alpha');
  await createCluster(tokens.other, 'bravo');
  await createCluster(tokens.owner, 'doomed-a');
  await createCluster(tokens.owner, 'doomed-b');
  const ca = await t.call('GET', `/api/v1/certificates?name=${enc(`/slipway/clusters/${alpha.uuid}/kubernetes-ca`)}`, {
    token: tokens.owner,
  });
  const permission = await t.call('POST', '/api/v2/permissions', {
    token: tokens.admin,
    body: { actor: 'user:bob-id', path: '/team/*', operations: ['read'] },
  });
  expect(permission.status).toBe(201);
  const ownerId = (await t.call('GET', '/v1/users/alice', { token: tokens.owner })).body.id;
  fx = {
    cluster: 'alpha',
    uuid: alpha.uuid,
    task: alpha.task,
    caId: ca.body.certificates[0].id,
    caVersion: ca.body.certificates[0].versions[0].id,
    permission: permission.body.uuid,
    ownerId,
    doomed: { owner: 'doomed-a', admin: 'doomed-b' },
  };
  ghost = {
    ...fx,
    cluster: 'ghost',
    uuid: randomUUID(),
    task: 999_999,
    caId: randomUUID(),
    caVersion: randomUUID(),
    permission: randomUUID(),
    doomed: { owner: 'ghost', admin: 'ghost' },
  };
}, 240_000);
afterAll(async () => t?.stop());

/** Routes as the routers register them (middleware entries are `ALL`). */
function routerRoutes(): string[] {
  const core = createApp({ services: {} as never, engine: { plugins: {} } as never, version: 'matrix' }).routes;
  const credhub = createCredhubApi({
    provider: {} as never,
    authenticate: async () => ({ actor: 'none' }),
    rootEndpoints: false,
  }).routes;
  return [...core.filter((r) => r.path.startsWith('/v1/')), ...credhub.filter((r) => r.path.startsWith('/api/'))]
    .filter((r) => r.method !== 'ALL')
    .map((r) => `${r.method} ${r.path}`);
}

/** The body with the fixture's values replaced by the ghost's, so a real answer compares with a ghost one. */
function asGhost(response: ApiResponse): string {
  let text = JSON.stringify(response.body);
  for (const key of ['uuid', 'caId', 'caVersion', 'permission'] as const) text = text.split(fx[key]).join(ghost[key]);
  for (const name of [fx.cluster, fx.doomed.admin, fx.doomed.owner])
    text = text.replace(new RegExp(`\\b${name}\\b`, 'g'), ghost.cluster);
  return text.replace(new RegExp(`\\btask ${fx.task}\\b`, 'g'), `task ${ghost.task}`);
}

/**
 * Whose answer must not depend on whether the object exists: another tenant's and an anonymous caller's
 * always; admin.read's on credentials (it sees every cluster, but no credential); never the admin's.
 */
function mustNotKnow(row: Case, role: Role): boolean {
  if ((row.knows ?? []).includes(role) || row.echoes) return false;
  return role === 'other' || role === 'anon' || (role === 'reader' && row.route.includes(' /api/'));
}

async function send(route: string, request: Request, role: Role): Promise<ApiResponse> {
  const method = route.split(' ')[0];
  return t.call(method, request.path, {
    token: tokens[role],
    body: request.body ?? (method === 'GET' || method === 'DELETE' ? undefined : {}),
  });
}

describe('the role matrix', () => {
  it('has a row for every route of /v1 and of the CredHub API, and none for a route that does not exist', () => {
    const routes = routerRoutes();
    // The published document lists every /v1 route too, so what the matrix walks is what clients are told.
    const paths = (openApiDocument('matrix') as { paths: Record<string, Record<string, unknown>> }).paths;
    const undocumented = routes
      .filter((r) => r.includes(' /v1/'))
      .filter((r) => {
        const [method, path] = r.split(' ');
        return !paths[path.replace(/:(\w+)/g, '{$1}')]?.[method.toLowerCase()];
      });
    expect(undocumented, 'routes missing from /openapi.json').toEqual([]);
    const rows = new Set(CASES.map((c) => c.route));
    expect(
      routes.filter((r) => !rows.has(r)),
      'routes without a row in the matrix',
    ).toEqual([]);
    expect(
      [...rows].filter((r) => !routes.includes(r)),
      'rows for routes the routers do not have',
    ).toEqual([]);
  });

  it(`answers every cell as the matrix says, with no leak (${CASES.length} requests x ${ROLES.length} roles)`, async () => {
    const failures: string[] = [];
    for (const row of CASES) {
      for (const role of ROLES) {
        const want = role === 'anon' ? (row.anon ?? 401) : row.expect[role];
        const request = row.request(fx, role);
        const res = await send(row.route, request, role);
        const cell = `${row.route}${row.label ? ` (${row.label})` : ''} as ${role}`;
        if (res.status !== want)
          failures.push(`${cell}: ${res.status}, expected ${want}: ${JSON.stringify(res.body).slice(0, 300)}`);
        const text = JSON.stringify(res.body);
        const problem = row.check?.(res, role);
        if (problem) failures.push(`${cell}: ${problem}`);
        const asked = request.path + JSON.stringify(request.body ?? '');
        if (role === 'other' && !row.echoes && text.includes(fx.uuid) && !asked.includes(fx.uuid))
          failures.push(`${cell}: names the owner's cluster uuid: ${text.slice(0, 300)}`);
        if (role === 'other' && !row.echoes && /alice/.test(text))
          failures.push(`${cell}: names the owner: ${text.slice(0, 300)}`);
        if (mustNotKnow(row, role)) {
          const other = await send(row.route, row.request(ghost, role), role);
          if (other.status !== res.status || asGhost(res) !== JSON.stringify(other.body)) {
            failures.push(
              `${cell}: answers ${res.status} ${text.slice(0, 200)} but ${other.status} ${JSON.stringify(other.body).slice(0, 200)} for a missing object`,
            );
          }
        }
      }
      await row.after?.();
    }
    expect(failures).toEqual([]);
  }, 300_000);
});
