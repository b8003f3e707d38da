import { schemas } from './schemas.js';
import { agentSchemas } from './agent-schemas.js';
import { quotaSchemas } from './quota-schemas.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});
const nameParam = { name: 'name', in: 'path', required: true, schema: { type: 'string' } };
const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' },
  description: 'a positive integer in canonical form (no sign, spaces or leading zeros)',
};
const errors = {
  413: problem('body over its limit (1 MiB)'),
  400: problem('invalid input (the field is named)'),
  401: problem('not logged in'),
  403: problem('not allowed'),
  404: problem('not found'),
  409: problem('busy or exists'),
};

/** What a plugin's HTTP API adds to the document (PluginHttpApi.openapi). */
export interface PluginOpenApi {
  paths: Record<string, unknown>;
  schemas?: Record<string, unknown>;
}

/**
 * The OpenAPI 3.1 document, built from the same schemas the API validates with, plus the routes plugins
 * serve on this server (the CredHub API) from the schemas they validate with.
 */
export function openApiDocument(version: string, plugins: readonly PluginOpenApi[] = []) {
  const doc = coreDocument(version);
  for (const plugin of plugins) {
    Object.assign(doc.paths, plugin.paths);
    Object.assign(doc.components.schemas, plugin.schemas ?? {});
  }
  return doc;
}

/** The event stream's and audit trail's documents (read-only: never request bodies). */
const observabilitySchemas = {
  AuditEntry: {
    type: 'object',
    required: ['id', 'at', 'actor', 'action', 'target', 'cluster_uuid', 'result', 'source', 'request_id', 'details'],
    properties: {
      id: { type: 'integer' },
      at: { type: 'string', format: 'date-time' },
      actor: {
        type: 'string',
        description:
          'a user name; `engine` for its own decisions; `slipway:engine` for its credential operations; the tried name for a failed login',
      },
      actor_id: { type: ['integer', 'null'] },
      action: {
        type: 'string',
        description:
          'from the route pattern (cluster.create, user.roles.set, cluster.upgrade), login, logout, credential.OPERATION, resurrection.start, meltdown.hold, meltdown.release, certificates.renew',
      },
      target: { type: ['string', 'null'], description: 'cluster:NAME, user:NAME, task:ID, credential:PATH' },
      cluster_uuid: { type: ['string', 'null'] },
      result: { type: 'string', enum: ['success', 'failure', 'denied'] },
      source: { type: ['string', 'null'], description: "the caller's address" },
      request_id: { type: ['string', 'null'], description: 'the X-Request-ID the answer carried' },
      details: {
        type: ['object', 'null'],
        description:
          "API calls: method, route, status, error code; credential operations: the store's own result and version id",
      },
    },
  },
  Event: {
    type: 'object',
    required: [
      'id',
      'at',
      'kind',
      'severity',
      'message',
      'cluster',
      'cluster_uuid',
      'instance_id',
      'task_id',
      'details',
    ],
    properties: {
      id: { type: 'integer', description: "increasing; the stream's Last-Event-ID" },
      at: { type: 'string', format: 'date-time' },
      kind: {
        type: 'string',
        description:
          'task.queued, task.started, task.step.started, task.step.detail, task.step.finished, task.waiting, task.log, task.finished, resurrection.started, meltdown.*, process.*, certificate.*, login.failed...',
      },
      severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
      message: { type: 'string' },
      cluster: { type: ['string', 'null'], description: "the cluster's name" },
      cluster_uuid: { type: ['string', 'null'] },
      instance_id: { type: ['string', 'null'] },
      task_id: { type: ['integer', 'null'] },
      details: { type: ['object', 'null'], description: 'task events: step, seq, state, duration_ms, level, type' },
    },
  },
};

const iaasParam = { name: 'iaas', in: 'path', required: true, schema: { type: 'string' } };
const ownerParam = {
  name: 'owner',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'a user name',
};
const cidParam = { name: 'cid', in: 'path', required: true, schema: { type: 'string' } };

function coreDocument(version: string) {
  return {
    openapi: '3.1.0',
    info: { title: 'Slipway API', version, description: 'Kubernetes clusters on demand; shaped like the PKS v1 API.' },
    servers: [{ url: '/' }],
    components: {
      schemas: { ...schemas, ...quotaSchemas, ...observabilitySchemas } as Record<string, unknown>,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
    security: [{ bearer: [] }],
    paths: {
      '/openapi.json': {
        get: { summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1' } } },
      },
      '/health': { get: { summary: 'Liveness', security: [], responses: { 200: { description: 'UP' } } } },
      '/ui': {
        get: {
          summary: 'The web dashboard: redirects to /ui/',
          security: [],
          responses: { 301: { description: 'to /ui/' } },
        },
      },
      '/ui/*': {
        get: {
          summary:
            "The web dashboard's files (index.html, app.css, js/*); the app calls this API with the user's bearer token",
          security: [],
          responses: {
            200: { description: 'a file of the app' },
            404: { description: 'no such file, or the dashboard is not built' },
          },
        },
      },
      '/info': {
        get: {
          summary: 'Version; the loaded plugins only to a logged-in caller',
          security: [{ bearer: [] }, {}],
          responses: { 200: { description: 'info' } },
        },
      },
      '/metrics': {
        get: {
          summary:
            "Prometheus metrics (text format): tasks, step durations, cloud calls, instances, heartbeat age, resurrections, meltdown holds, credential operations, certificate expiry, API requests by route pattern, store query time. Bearer: the scrape token (metrics.scrape_token_file) or an admin's token",
          responses: {
            200: { description: 'text/plain; version=0.0.4' },
            401: problem('no or a bad token'),
            403: problem('not an admin'),
          },
        },
      },
      '/oauth/revoke': {
        post: {
          summary: 'Revoke a token (RFC 7009; slipway logout); 200 whether or not it was valid',
          security: [],
          requestBody: {
            content: {
              'application/x-www-form-urlencoded': { schema: ref('RevokeRequest') },
              'application/json': { schema: ref('RevokeRequest') },
            },
          },
          responses: { 200: { description: 'revoked' }, 400: problem('invalid input') },
        },
      },
      '/oauth/token': {
        post: {
          summary: 'Password grant',
          security: [],
          requestBody: {
            content: {
              'application/x-www-form-urlencoded': { schema: ref('TokenRequest') },
              'application/json': { schema: ref('TokenRequest') },
            },
          },
          responses: {
            200: { description: 'token' },
            401: problem('bad credentials'),
            413: problem('body over 8 KiB'),
            429: problem('too many failed logins (Retry-After)'),
          },
        },
      },
      '/v1/plans': {
        get: {
          summary: 'List plans',
          responses: { 200: { description: 'plans', ...json({ type: 'array', items: ref('Plan') }) }, ...errors },
        },
      },
      '/v1/clusters': {
        get: {
          summary: 'List clusters you may see',
          responses: { 200: { description: 'clusters', ...json({ type: 'array', items: ref('Cluster') }) }, ...errors },
        },
        post: {
          summary: 'Create a cluster (async)',
          requestBody: json(ref('ClusterRequest')),
          responses: { 202: { description: 'accepted', ...json(ref('Cluster')) }, ...errors },
        },
      },
      '/v1/clusters/{name}': {
        parameters: [nameParam],
        get: {
          summary: 'Show a cluster',
          responses: { 200: { description: 'cluster', ...json(ref('Cluster')) }, ...errors },
        },
        patch: {
          summary: 'Resize a cluster, or move it to another network profile (async)',
          requestBody: json(ref('UpdateClusterParameters')),
          responses: { 202: { description: 'accepted', ...json(ref('Cluster')) }, ...errors },
        },
        delete: {
          summary: 'Delete a cluster (async)',
          responses: { 202: { description: 'accepted', ...json(ref('Cluster')) }, ...errors },
        },
      },
      '/v1/clusters/{name}/rotate-certificates': {
        parameters: [nameParam],
        post: {
          summary: 'Rotate certificates without downtime: CAs in three phases, or leaves only (async)',
          requestBody: json(ref('RotateCertificatesRequest')),
          responses: { 202: { description: 'accepted', ...json(ref('Cluster')) }, ...errors },
        },
      },
      '/v1/clusters/{name}/certificates': {
        parameters: [
          nameParam,
          {
            name: 'days',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 0 },
            description: 'only certificates expiring within this many days',
          },
        ],
        get: {
          summary: 'Every certificate of the cluster with its expiry (TKGI certificates)',
          responses: { 200: { description: 'certificates', ...json(ref('ClusterCertificates')) }, ...errors },
        },
      },
      '/v1/clusters/{name}/binds': {
        parameters: [nameParam],
        post: {
          summary:
            'Kubeconfig with a fresh short-lived client certificate (kubernetes.user_certificate_days): for the caller, or (admins) for `user`; binds the ClusterRole `bind` to that user when asked, nothing otherwise',
          requestBody: json(ref('BindRequest')),
          responses: { 201: { description: 'kubeconfig', ...json(ref('Kubeconfig')) }, ...errors },
        },
      },
      '/v1/clusters/{name}/smoke-test': {
        parameters: [nameParam],
        post: {
          summary:
            "TKGI's smoke-test errand: API /readyz, nodes Ready, CoreDNS endpoints, a pod per node; each check passed, failed or not-checked with why",
          responses: { 200: { description: 'report', ...json(ref('SmokeTestReport')) }, ...errors },
        },
      },
      '/v1/clusters/{name}/instances': {
        parameters: [nameParam],
        get: {
          summary: "The cluster's VMs, their processes and heartbeats",
          responses: { 200: { description: 'instances' }, ...errors },
        },
      },
      '/v1/clusters/{name}/events': {
        parameters: [nameParam],
        get: { summary: 'Recent events of the cluster', responses: { 200: { description: 'events' }, ...errors } },
      },
      '/v1/clusters/{name}/health': {
        parameters: [nameParam],
        get: {
          summary: 'Instance states, incidents, resurrection and meltdown state, detection bounds',
          responses: { 200: { description: 'health' }, ...errors },
        },
      },
      '/v1/clusters/{name}/resurrection': {
        parameters: [nameParam],
        get: {
          summary: "Whether the resurrector recreates this cluster's failed VMs",
          responses: { 200: { description: 'resurrection' }, ...errors },
        },
        put: {
          summary: 'Turn resurrection on or off for this cluster (slipway resurrection NAME on|off)',
          requestBody: json(ref('ResurrectionRequest')),
          responses: { 200: { description: 'resurrection' }, ...errors },
        },
      },
      '/v1/clusters/{name}/doctor': {
        parameters: [nameParam],
        get: {
          summary: 'Cloud check: what the store and the cloud disagree on, with possible fixes',
          responses: { 200: { description: 'report' }, ...errors },
        },
        post: {
          summary: 'Apply fixes (a REPAIR task); 200 when there is nothing to apply',
          requestBody: json(ref('RepairRequest')),
          responses: { 202: { description: 'repair task' }, 200: { description: 'nothing to apply' }, ...errors },
        },
      },
      '/v1/alerts': {
        get: {
          summary: 'Recent alerts you may see, newest first',
          parameters: [
            { name: 'cluster', in: 'query', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer' } },
          ],
          responses: { 200: { description: 'alerts' }, ...errors },
        },
      },
      '/v1/versions': {
        get: {
          summary: 'The version catalog: Kubernetes versions, stemcells, plan defaults, upgrade rules',
          responses: { 200: { description: 'catalog' }, ...errors },
        },
      },
      '/v1/clusters/{name}/upgrades': {
        parameters: [nameParam],
        get: {
          summary: 'What the cluster may upgrade to (PKS available_upgrades)',
          responses: { 200: { description: 'available upgrades' }, ...errors },
        },
      },
      '/v1/clusters/{name}/upgrade': {
        parameters: [nameParam],
        post: {
          summary: 'Upgrade the Kubernetes version and/or stemcell (async, rolling)',
          requestBody: json(ref('UpgradeClusterRequest')),
          responses: { 202: { description: 'accepted', ...json(ref('Cluster')) }, ...errors },
        },
      },
      '/v1/clusters/{name}/update': {
        parameters: [nameParam],
        post: {
          summary: 'Move to another plan or recreate every VM (async, rolling)',
          requestBody: json(ref('UpdateClusterRequest')),
          responses: { 202: { description: 'accepted', ...json(ref('Cluster')) }, ...errors },
        },
      },
      '/v1/fleet-upgrades': {
        get: {
          summary: 'Fleet upgrades, newest first (admin, admin.read)',
          responses: {
            200: { description: 'fleet upgrades', ...json({ type: 'array', items: ref('FleetUpgrade') }) },
            ...errors,
          },
        },
        post: {
          summary: 'Upgrade many clusters: canaries first, then max_in_flight at a time (admin)',
          requestBody: json(ref('FleetUpgradeRequest')),
          responses: { 202: { description: 'accepted', ...json(ref('FleetUpgrade')) }, ...errors },
        },
      },
      '/v1/fleet-upgrades/{id}': {
        parameters: [idParam],
        get: {
          summary: 'A fleet upgrade with the result per cluster',
          responses: { 200: { description: 'fleet upgrade', ...json(ref('FleetUpgrade')) }, ...errors },
        },
      },
      '/v1/fleet-upgrades/{id}/cancel': {
        parameters: [idParam],
        post: {
          summary: 'Drop the clusters not started yet (running ones finish)',
          responses: { 202: { description: 'cancelling', ...json(ref('FleetUpgrade')) }, ...errors },
        },
      },
      '/v1/tasks': {
        get: {
          summary: 'List tasks, newest first',
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer' } },
            { name: 'cluster', in: 'query', schema: { type: 'string' } },
          ],
          responses: { 200: { description: 'tasks', ...json({ type: 'array', items: ref('Task') }) }, ...errors },
        },
      },
      '/v1/tasks/{id}': {
        parameters: [idParam],
        get: {
          summary: 'Show a task with its steps and log',
          responses: { 200: { description: 'task', ...json(ref('Task')) }, ...errors },
        },
        put: {
          summary: "Cancel a running task (PKS's spelling of POST /v1/tasks/{id}/cancel)",
          responses: { 202: { description: 'cancelling', ...json(ref('Task')) }, ...errors },
        },
      },
      '/v1/tasks/{id}/cancel': {
        parameters: [idParam],
        post: {
          summary: 'Cancel a running task',
          responses: { 202: { description: 'cancelling', ...json(ref('Task')) }, ...errors },
        },
      },
      '/v1/users': {
        get: {
          summary: 'List users (admin)',
          responses: { 200: { description: 'users', ...json({ type: 'array', items: ref('User') }) }, ...errors },
        },
        post: {
          summary: 'Create a user (admin); a taken name is 409',
          requestBody: json(ref('UserRequest')),
          responses: { 201: { description: 'created', ...json(ref('User')) }, ...errors },
        },
      },
      '/v1/users/{name}': {
        parameters: [nameParam],
        get: {
          summary: 'Show a user (admin, or the user itself)',
          responses: { 200: { description: 'user', ...json(ref('User')) }, ...errors },
        },
        delete: {
          summary:
            'Delete a user (admin): refused while it owns clusters, unless reassign_to names who takes them over',
          parameters: [{ name: 'reassign_to', in: 'query', schema: { type: 'string' } }],
          responses: {
            204: { description: 'deleted' },
            200: { description: 'deleted; clusters reassigned' },
            ...errors,
          },
        },
      },
      '/v1/users/{name}/roles': {
        parameters: [nameParam],
        put: {
          summary: "Replace a user's roles (admin)",
          requestBody: json(ref('UserRolesRequest')),
          responses: { 200: { description: 'user', ...json(ref('User')) }, ...errors },
        },
      },
      '/v1/users/{name}/password': {
        parameters: [nameParam],
        put: {
          summary: 'Set a password: an admin for anyone (revoking its tokens), a user its own with old_password',
          requestBody: json(ref('UserPasswordRequest')),
          responses: { 204: { description: 'changed' }, ...errors },
        },
      },
      '/v1/network-profiles': {
        get: {
          summary: 'List network profiles',
          responses: {
            200: { description: 'profiles', ...json({ type: 'array', items: ref('NetworkProfile') }) },
            ...errors,
          },
        },
        post: {
          summary: 'Create a network profile (admins)',
          requestBody: json(ref('NetworkProfile')),
          responses: { 201: { description: 'created', ...json(ref('NetworkProfile')) }, ...errors },
        },
      },
      '/v1/network-profiles/{name}': {
        parameters: [nameParam],
        get: {
          summary: 'Show a network profile',
          responses: { 200: { description: 'profile', ...json(ref('NetworkProfile')) }, ...errors },
        },
        delete: {
          summary: 'Delete a network profile no live cluster uses (admins); 409 names how many use it',
          responses: { 204: { description: 'deleted' }, ...errors },
        },
      },
      '/v1/network-leftovers': {
        get: {
          summary: 'Network objects tagged with clusters that are gone (admins; slipway doctor --leftovers)',
          responses: { 200: { description: 'leftovers by cluster uuid' }, ...errors },
        },
      },
      '/v1/network-leftovers/{uuid}': {
        parameters: [{ name: 'uuid', in: 'path', required: true, schema: { type: 'string' } }],
        delete: {
          summary: 'Remove what the network holds for a cluster that is gone (admins)',
          responses: { 204: { description: 'removed' }, ...errors },
        },
      },
      '/v1/quotas': {
        get: {
          summary: 'List quotas (admins, read-only admins)',
          responses: { 200: { description: 'quotas', ...json({ type: 'array', items: ref('Quota') }) }, ...errors },
        },
        post: {
          summary: 'Set a quota on an owner (admins); 409 when it has one',
          requestBody: json(ref('QuotaRequest')),
          responses: { 201: { description: 'created', ...json(ref('Quota')) }, ...errors },
        },
      },
      '/v1/quotas/{owner}': {
        parameters: [ownerParam],
        get: {
          summary:
            "Show an owner's quota (admins, or the owner itself; 403 for anyone else's, whether or not it exists)",
          responses: { 200: { description: 'quota', ...json(ref('Quota')) }, ...errors },
        },
        patch: {
          summary: 'Change limits (admins); fields left out keep their value, null removes a limit',
          requestBody: json(ref('QuotaUpdate')),
          responses: { 200: { description: 'quota', ...json(ref('Quota')) }, ...errors },
        },
        delete: {
          summary: 'Remove a quota (admins): no limits apply to the owner',
          responses: { 204: { description: 'deleted' }, ...errors },
        },
      },
      '/v1/usages': {
        get: {
          summary:
            'CPUs, memory (GB) and clusters each owner holds (admins: every owner with a live cluster or a quota; others: themselves)',
          responses: { 200: { description: 'usages', ...json({ type: 'array', items: ref('Usage') }) }, ...errors },
        },
      },
      '/v1/usages/{owner}': {
        parameters: [ownerParam],
        get: {
          summary: "One owner's usage (admins, or the owner itself; 403 for anyone else's, whether or not it exists)",
          responses: { 200: { description: 'usage', ...json(ref('Usage')) }, ...errors },
        },
      },
      '/v1/events': {
        get: {
          summary:
            "Events you may see (tenants: their own clusters' only). JSON: the newest `limit`, or those after `after`, oldest first. With Accept: text/event-stream: the live stream (Server-Sent Events, each `id:` an event id, `data:` an Event), resumable with Last-Event-ID, comment heartbeats every events.heartbeat_seconds; 429 past events.max_subscribers_per_user open streams",
          parameters: [
            { name: 'cluster', in: 'query', schema: { type: 'string' }, description: 'a cluster name or uuid' },
            {
              name: 'kind',
              in: 'query',
              schema: { type: 'string' },
              description: 'comma-separated kinds; a trailing * matches a prefix (task.*)',
            },
            {
              name: 'task',
              in: 'query',
              schema: { type: 'integer', minimum: 1 },
              description: "only this task's progress",
            },
            {
              name: 'after',
              in: 'query',
              schema: { type: 'integer', minimum: 0 },
              description: 'events after this id (the stream: when no Last-Event-ID header is sent)',
            },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 1000 },
              description: 'JSON only; default 100',
            },
            {
              name: 'Last-Event-ID',
              in: 'header',
              schema: { type: 'integer' },
              description: 'the stream resumes after this id',
            },
          ],
          responses: {
            200: {
              description: 'events',
              content: {
                'application/json': { schema: { type: 'array', items: ref('Event') } },
                'text/event-stream': { schema: { type: 'string' } },
              },
            },
            ...errors,
          },
        },
      },
      '/v1/audit': {
        get: {
          summary:
            "The audit trail, newest first: mutating API calls, logins, credential operations, the engine's own decisions. Admins (clusters.admin, clusters.admin.read) read all of it; anyone else only their own actions",
          parameters: [
            { name: 'actor', in: 'query', schema: { type: 'string' }, description: 'a user name, or `engine`' },
            {
              name: 'action',
              in: 'query',
              schema: { type: 'string' },
              description: 'exact, or a prefix ending in * (cluster.*, credential.*, login)',
            },
            { name: 'cluster', in: 'query', schema: { type: 'string' }, description: 'a cluster name or uuid' },
            {
              name: 'target',
              in: 'query',
              schema: { type: 'string' },
              description: 'cluster:NAME, user:NAME, credential:PATH...',
            },
            { name: 'result', in: 'query', schema: { type: 'string', enum: ['success', 'failure', 'denied'] } },
            { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'inclusive' },
            { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'exclusive' },
            {
              name: 'before',
              in: 'query',
              schema: { type: 'integer' },
              description: 'entries with a lower id (the next page)',
            },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 1000 },
              description: 'default 100',
            },
          ],
          responses: {
            200: { description: 'entries', ...json({ type: 'array', items: ref('AuditEntry') }) },
            ...errors,
          },
        },
      },
      '/v1/iaas': {
        get: {
          summary: 'The IaaS targets: plugin, version, capabilities, whether they offer failure rehearsal',
          responses: { 200: { description: 'targets' }, ...errors },
        },
      },
      '/v1/sandbox/{iaas}/inventory': {
        parameters: [iaasParam],
        get: {
          summary: 'What a simulated cloud holds (admin)',
          responses: { 200: { description: 'inventory' }, ...errors },
        },
      },
      '/v1/sandbox/{iaas}/vms/{cid}/kill': {
        parameters: [iaasParam, cidParam],
        post: { summary: 'Rehearse a VM death (admin)', responses: { 204: { description: 'killed' }, ...errors } },
      },
      '/v1/sandbox/{iaas}/vms/{cid}/hang': {
        parameters: [iaasParam, cidParam],
        post: {
          summary: 'Rehearse an unresponsive agent (admin)',
          responses: { 204: { description: 'hung' }, ...errors },
        },
      },
      '/v1/sandbox/{iaas}/disks/{cid}/detach': {
        parameters: [iaasParam, cidParam],
        post: {
          summary: 'Rehearse a disk detaching (admin)',
          responses: { 204: { description: 'detached' }, ...errors },
        },
      },
      '/agent/v1/sync': {
        post: {
          summary: 'Agent channel: heartbeat and desired state (mTLS)',
          security: [],
          requestBody: json(agentSchemas.Heartbeat),
          responses: { 200: { description: 'desired state' }, ...errors },
        },
      },
      '/agent/v1/bootstrap': {
        post: {
          summary: 'Agent bootstrap: a one-time token and a CSR for a client certificate (server TLS only)',
          security: [],
          requestBody: json(agentSchemas.AgentBootstrapRequest),
          responses: { 200: { description: 'the signed client certificate' }, ...errors },
        },
      },
      '/agent/v1/renew': {
        post: {
          summary: 'Agent certificate renewal: a CSR for a new key (mTLS)',
          security: [],
          requestBody: json(agentSchemas.AgentRenewRequest),
          responses: { 200: { description: 'the signed client certificate' }, ...errors },
        },
      },
    },
  };
}
