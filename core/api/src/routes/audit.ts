import { Hono } from 'hono';
import { SlipwayError } from '@slipway/contracts';
import type { AuditFilters, AuditTrail } from '@slipway/engine';
import type { AppEnv } from '../context.js';

const RESULTS = ['success', 'failure', 'denied'] as const;

function time(raw: string | undefined, field: string): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const ms = Date.parse(raw);
  if (!/^\d{4}-\d\d-\d\d/.test(raw) || Number.isNaN(ms))
    throw new SlipwayError(
      'InvalidInput',
      `${field} must be an ISO-8601 time (2026-01-31 or 2026-01-31T12:00:00Z); got "${raw.slice(0, 40)}"`,
      { field },
    );
  return new Date(ms).toISOString();
}

function integer(raw: string | undefined, field: string, max: number): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^[1-9][0-9]{0,14}$/.test(raw) || Number(raw) > max)
    throw new SlipwayError('InvalidInput', `${field} must be an integer from 1 to ${max}; got "${raw.slice(0, 40)}"`, {
      field,
    });
  return Number(raw);
}

/** GET /v1/audit: the audit trail, newest first; admins read all of it, everyone else their own actions. */
export function auditRoutes(audit: AuditTrail) {
  const app = new Hono<AppEnv>();
  app.get('/audit', async (c) => {
    const result = c.req.query('result');
    if (result !== undefined && !(RESULTS as readonly string[]).includes(result)) {
      throw new SlipwayError(
        'InvalidInput',
        `result must be one of ${RESULTS.join(', ')}; got "${result.slice(0, 40)}"`,
        { field: 'result' },
      );
    }
    const filters: AuditFilters = {
      actor: c.req.query('actor') || undefined,
      action: c.req.query('action') || undefined,
      cluster: c.req.query('cluster') || undefined,
      target: c.req.query('target') || undefined,
      result: result as AuditFilters['result'],
      since: time(c.req.query('since'), 'since'),
      until: time(c.req.query('until'), 'until'),
      before: integer(c.req.query('before'), 'before', Number.MAX_SAFE_INTEGER),
      limit: integer(c.req.query('limit'), 'limit', 1000),
    };
    return c.json(await audit.query(c.get('principal'), filters));
  });
  return app;
}
