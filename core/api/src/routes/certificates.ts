import { Hono } from 'hono';
import { SlipwayError } from '@slipway/contracts';
import type { CertificateService } from '@slipway/engine';
import type { AppEnv } from '../context.js';

/** GET /v1/clusters/{name}/certificates[?days=N]: every certificate of a cluster with its expiry. */
export function certificateRoutes(certificates: CertificateService) {
  const app = new Hono<AppEnv>();
  app.get('/clusters/:name/certificates', async (c) => {
    const days = c.req.query('days');
    if (days !== undefined && !/^\d{1,5}$/.test(days)) {
      throw new SlipwayError('InvalidInput', `days must be a whole number of days (0 or more); got "${days}"`, {
        field: 'days',
      });
    }
    return c.json(
      await certificates.list(c.get('principal'), c.req.param('name'), {
        days: days === undefined ? undefined : Number(days),
      }),
    );
  });
  return app;
}
