import { Hono } from 'hono';
import type { AppEnv, ApiDeps } from './context.js';
import { auditCalls, requestIds } from './audit-calls.js';
import { openApiDocument } from './openapi.js';
import { problemResponse } from './problem.js';
import { agentRoutes } from './routes/agent.js';
import { bearerAuth, isAuthenticated, oauthRoutes } from './routes/auth.js';
import { certificateRoutes } from './routes/certificates.js';
import { BODY_LIMITS, limitBody } from './limits.js';
import { clusterRoutes } from './routes/clusters.js';
import { auditRoutes } from './routes/audit.js';
import { metricsRoutes, requestMetrics } from './routes/metrics.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { networkProfileRoutes } from './routes/network-profiles.js';
import { quotaRoutes } from './routes/quotas.js';
import { upgradeRoutes } from './routes/upgrades.js';
import { sandboxRoutes } from './routes/sandbox.js';
import { taskRoutes } from './routes/tasks.js';
import { loadDashboard, uiRoutes } from './routes/ui.js';
import { userRoutes } from './routes/users.js';
import { SlipwayError } from '@slipway/contracts';

/** The REST API: PKS-shaped /v1, the OAuth token endpoint, the agent channel and the OpenAPI document. */
export function createApp(deps: ApiDeps): Hono<AppEnv> {
  const { services, engine, version, logger } = deps;
  const app = new Hono<AppEnv>();
  app.onError((error, c) => problemResponse(c, error, logger));
  app.use('*', requestIds());
  app.use('*', requestMetrics(engine.metrics));
  app.use('*', auditCalls(engine.store, logger));
  // Every route has a body limit; the token endpoint's is small (it is reached without a token).
  app.use('/oauth/*', limitBody(BODY_LIMITS.token));
  app.use('*', limitBody(BODY_LIMITS.default));
  app.notFound((c) =>
    problemResponse(
      c,
      new SlipwayError('NotFound', `no route ${c.req.method} ${c.req.path}`, {
        hint: 'GET /openapi.json lists every route.',
      }),
    ),
  );

  const openapi = JSON.stringify(
    openApiDocument(
      version,
      (deps.pluginApis ?? []).flatMap((api) => (api.openapi ? [api.openapi] : [])),
    ),
  );
  app.get('/openapi.json', (c) => c.body(openapi, 200, { 'content-type': 'application/json' }));
  app.get('/health', (c) => c.json({ status: 'UP' }));
  // Plugin names and versions tell an attacker what to try: only a logged-in caller sees them.
  app.get('/info', async (c) =>
    c.json({
      app: 'slipway',
      version,
      ...((await isAuthenticated(services.auth, c.req.header('authorization')))
        ? { plugins: engine.plugins.loaded }
        : {}),
    }),
  );
  if (engine.metrics) app.route('/', metricsRoutes(engine.metrics, services.auth, deps.scrapeToken));
  app.route('/', oauthRoutes(services.auth));
  app.route('/', agentRoutes(services.agents, services.agentBootstrap));
  app.route('/', uiRoutes(loadDashboard()));

  const v1 = new Hono<AppEnv>();
  v1.use('*', bearerAuth(services.auth));
  v1.route('/', clusterRoutes(services.clusters));
  v1.route('/', taskRoutes(services.clusters));
  v1.route('/', userRoutes(services.users));
  v1.route('/', sandboxRoutes(engine.plugins));
  v1.route('/', healthRoutes(services.health));
  v1.route('/', upgradeRoutes(services.upgrades));
  v1.route('/', networkProfileRoutes(services.networkProfiles, services.networkLeftovers));
  v1.route('/', certificateRoutes(services.certificates));
  v1.route('/', eventRoutes(services.events));
  v1.route('/', auditRoutes(services.audit));
  v1.route('/', quotaRoutes(services.quotas));
  v1.get('/iaas', (c) =>
    c.json(
      [...engine.plugins.iaas.values()].map((t) => ({
        name: t.name,
        plugin: t.plugin,
        version: t.version,
        capabilities: [...t.capabilities],
        rehearsal: Boolean(t.driver.rehearsal),
      })),
    ),
  );
  app.route('/v1', v1);

  // Plugins' own APIs (CredHub's /api/v1, /api/v2 from the credential provider) are forwarded untouched:
  // they authenticate with the same bearer tokens through the HttpApiHost the control plane gave them.
  for (const api of deps.pluginApis ?? []) {
    for (const prefix of api.prefixes) app.all(`${prefix.replace(/\/$/, '')}/*`, (c) => api.fetch(c.req.raw, c.env));
  }
  return app;
}
