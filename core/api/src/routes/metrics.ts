import { timingSafeEqual, createHash } from 'node:crypto';
import { Hono, type MiddlewareHandler } from 'hono';
import { SlipwayError } from '@slipway/contracts';
import { seesAllClusters, type AuthService, type ControlPlaneMetrics } from '@slipway/engine';
import type { AppEnv } from '../context.js';

function sameToken(a: string, b: string): boolean {
  // Compared as digests: equal lengths, constant time, whatever was sent.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * GET /metrics in Prometheus' text format. Readable with the scrape token (metrics.scrape_token_file) or an
 * admin's bearer token: the figures name every cluster, so a tenant does not read them.
 */
export function metricsRoutes(metrics: ControlPlaneMetrics, auth: AuthService, scrapeToken?: string) {
  const app = new Hono<AppEnv>();
  app.get('/metrics', async (c) => {
    const match = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
    if (!match)
      throw new SlipwayError('Unauthenticated', "GET /metrics needs a bearer token: the scrape token or an admin's", {
        hint: "Point Prometheus' bearer_token_file at metrics.scrape_token_file, or run `slipway login` as an admin.",
      });
    if (!scrapeToken || !sameToken(match[1], scrapeToken)) {
      const principal = await auth.authenticate(match[1]);
      if (!seesAllClusters(principal)) {
        throw new SlipwayError(
          'Forbidden',
          `${principal.name} may not read metrics: needs clusters.admin or clusters.admin.read, or the scrape token`,
          { hint: 'Ask an admin, or use the scrape token (metrics.scrape_token_file).' },
        );
      }
    }
    return c.body(await metrics.text(), 200, { 'content-type': metrics.contentType });
  });
  return app;
}

/** Counts and times every API request by its route pattern (never the raw path: ids would explode the labels). */
export function requestMetrics(metrics: ControlPlaneMetrics | undefined): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    if (!metrics) return;
    const route = c.req.routePath && c.req.routePath !== '*' && c.res.status !== 404 ? c.req.routePath : 'unmatched';
    metrics.apiRequest(c.req.method, route, c.res.status, (performance.now() - started) / 1000);
  };
}
