import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';

let t: TestControlPlane;
let admin: string;

beforeAll(async () => {
  t = await startTestControlPlane();
  admin = await t.login('admin', ADMIN_PASSWORD);
}, 60_000);
afterAll(async () => t?.stop());

const body = (name: string, workers: number) => ({ name, plan_name: 'small', parameters: { kubernetes_master_host: `${name}.example.test`, kubernetes_worker_instances: workers } });

describe('quotas and usages', () => {
  it('refuses what would exceed an owner\'s quota, naming the limit, the usage and the need; admins are exempt', async () => {
    expect((await t.call('POST', '/v1/users', { token: admin, body: { name: 'quinn', password: 'quinn-password', roles: ['clusters.manage'] } })).status).toBe(201);
    const quinn = await t.login('quinn', 'quinn-password');
    // Only an admin sets quotas; a bad limit names its field.
    expect((await t.call('POST', '/v1/quotas', { token: quinn, body: { owner: 'quinn', limit: { cpu: 100, memory: 0, cluster: 0 } } })).status).toBe(403);
    expect((await t.call('POST', '/v1/quotas', { token: admin, body: { owner: 'quinn', limit: { cpu: -1, memory: 0, cluster: 0 } } })).body).toMatchObject({ field: 'limit.cpu' });
    const set = await t.call('POST', '/v1/quotas', { token: admin, body: { owner: 'quinn', limit: { cpu: 6, memory: 0, cluster: 3 } } });
    expect(set).toMatchObject({ status: 201, body: { owner: 'quinn', limit: { cpu: 6, memory: 0, cluster: 3 } } });

    // small: a master of 2 CPUs / 4 GB, workers of 2 CPUs / 8 GB.
    const first = await t.call('POST', '/v1/clusters', { token: quinn, body: body('q1', 1) });
    expect(first.status).toBe(202);
    expect((await t.waitTask(quinn, first.body.task_id, 60_000)).state).toBe('done');
    expect((await t.call('GET', '/v1/usages/quinn', { token: quinn })).body).toEqual({ owner: 'quinn', totals: { cpu: 4, memory: 12, cluster: 1 }, clusters: [{ name: 'q1', cpu: 4, memory: 12 }] });

    const second = await t.call('POST', '/v1/clusters', { token: quinn, body: body('q2', 1) });
    expect(second.status).toBe(403);
    expect(second.body).toMatchObject({
      code: 'QuotaExceeded', field: 'limit.cpu', detail: 'the quota of quinn allows 6 CPUs; 4 in use and this request needs 4 (8 in all)',
      details: { limit: 'cpu', quota: 6, in_use: 4, requested: 4 },
    });
    const grow = await t.call('PATCH', '/v1/clusters/q1', { token: quinn, body: { kubernetes_worker_instances: 3 } });
    expect(grow.body).toMatchObject({ code: 'QuotaExceeded', detail: 'the quota of quinn allows 6 CPUs; 0 in use by the other clusters and this request needs 8 (8 in all)' });
    // An admin is exempt, as in TKGI: it grows quinn's cluster past the quota.
    const byAdmin = await t.call('PATCH', `/v1/clusters/${first.body.uuid}`, { token: admin, body: { kubernetes_worker_instances: 3 } });
    expect(byAdmin.status).toBe(202);

    // A raised quota lets the request through; quinn sees her own quota only; deleting lifts it.
    expect((await t.call('PATCH', '/v1/quotas/quinn', { token: admin, body: { limit: { cpu: 0 } } })).body).toEqual({ owner: 'quinn', limit: { cpu: 0, memory: 0, cluster: 3 } });
    expect((await t.call('GET', '/v1/quotas', { token: quinn })).body).toEqual([{ owner: 'quinn', limit: { cpu: 0, memory: 0, cluster: 3 } }]);
    expect((await t.call('GET', '/v1/quotas/admin', { token: quinn })).status).toBe(404);
    expect((await t.call('GET', '/v1/usages', { token: admin })).body.map((u: { owner: string }) => u.owner)).toContain('quinn');
    expect((await t.call('DELETE', '/v1/quotas/quinn', { token: admin })).status).toBe(204);
    expect((await t.call('GET', '/v1/quotas/quinn', { token: admin })).status).toBe(404);
  }, 120_000);
});
