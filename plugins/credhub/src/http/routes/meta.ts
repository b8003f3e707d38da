import { Hono } from 'hono';
import { SlipwayError } from '@slipway/contracts';
import {
  AUDIT_OPERATIONS,
  AUDIT_RESULTS,
  type AuditFilter,
  type AuditOperation,
  type AuditResult,
} from '../../audit.js';
import type { CredhubCredentialProvider } from '../../provider.js';
import type { CredhubEnv } from '../context.js';
import { invalidQuery, jsonBody } from '../errors.js';
import { integer } from './data.js';

/** Authenticated extras: interpolate, key usage and rotation, and the audit trail (a Slipway addition). */
export function metaRoutes(provider: CredhubCredentialProvider): Hono<CredhubEnv> {
  const app = new Hono<CredhubEnv>();

  app.post('/api/v1/interpolate', async (c) =>
    c.json(await provider.interpolate(await jsonBody(c), c.get('credentials'))),
  );

  app.get('/api/v1/key-usage', async (c) => c.json(await provider.keyUsage(c.get('credentials'))));

  // Runs a rotation to its end and answers with the final count; progress goes to the audit trail and logs.
  app.post('/api/v1/key-usage/rotate', async (c) =>
    c.json(await provider.rotateEncryptionKeys(c.get('credentials'), { signal: c.req.raw.signal })),
  );

  app.get('/api/v1/audit', async (c) => {
    const q = c.req.query();
    const filter: AuditFilter = {};
    if (q.actor) filter.actor = q.actor;
    if (q.name) filter.name = q.name.startsWith('/') ? q.name : `/${q.name}`;
    if (q.path) filter.path = q.path.startsWith('/') ? q.path : `/${q.path}`;
    if (q.operation) {
      if (!AUDIT_OPERATIONS.includes(q.operation as AuditOperation))
        throw new SlipwayError('InvalidInput', `operation must be one of ${AUDIT_OPERATIONS.join(', ')}`, {
          field: 'operation',
        });
      filter.operation = q.operation as AuditOperation;
    }
    if (q.result) {
      if (!AUDIT_RESULTS.includes(q.result as AuditResult))
        throw new SlipwayError('InvalidInput', `result must be one of ${AUDIT_RESULTS.join(', ')}`, {
          field: 'result',
        });
      filter.result = q.result as AuditResult;
    }
    for (const key of ['since', 'until'] as const) {
      if (q[key] === undefined) continue;
      if (Number.isNaN(Date.parse(q[key]))) throw invalidQuery(key);
      filter[key] = new Date(q[key]).toISOString();
    }
    if (q.limit !== undefined) filter.limit = integer(q.limit, 'limit', 1);
    if (q.before !== undefined) filter.before = integer(q.before, 'before', 1);
    return c.json({ events: await provider.auditEvents(filter, c.get('credentials')) });
  });

  return app;
}
