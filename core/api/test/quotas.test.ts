import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';

let t: TestControlPlane;
let admin: string;
/** The plans as the API describes them: usages must agree with their VM types. */
let plans: Map<
  string,
  {
    master_instances: number;
    vm_type: { master: { cpu: number; memory_mb: number }; worker: { cpu: number; memory_mb: number } };
  }
>;

beforeAll(async () => {
  t = await startTestControlPlane();
  admin = await t.login('admin', ADMIN_PASSWORD);
  plans = new Map((await t.call('GET', '/v1/plans', { token: admin })).body.map((p: { name: string }) => [p.name, p]));
}, 60_000);
afterAll(async () => t?.stop());

async function user(name: string, roles = ['clusters.manage']): Promise<string> {
  const res = await t.call('POST', '/v1/users', { token: admin, body: { name, password: `${name}-password`, roles } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return t.login(name, `${name}-password`);
}

const create = (token: string, name: string, workers = 1) =>
  t.call('POST', '/v1/clusters', {
    token,
    body: {
      name,
      plan_name: 'small',
      parameters: { kubernetes_master_host: `${name}.example.test`, kubernetes_worker_instances: workers },
    },
  });

async function created(token: string, name: string, workers = 1): Promise<void> {
  const res = await create(token, name, workers);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect((await t.waitTask(token, res.body.task_id, 60_000)).state).toBe('done');
}

/** What `workers` workers and the masters of a small cluster hold, from the plan's VM types. */
function small(workers: number): { cpu: number; memory: number } {
  const p = plans.get('small')!;
  return {
    cpu: p.master_instances * p.vm_type.master.cpu + workers * p.vm_type.worker.cpu,
    memory: (p.master_instances * p.vm_type.master.memory_mb + workers * p.vm_type.worker.memory_mb) / 1024,
  };
}

describe('quotas and usages', () => {
  it('validate limits by field, and only admins set them', async () => {
    const bad = await t.call('POST', '/v1/quotas', {
      token: admin,
      body: { owner: 'nobody', limit: { cpu: -1, memory: 'lots', cluster: 1 } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('limit.cpu');
    expect(bad.body.detail).toContain('limit.cpu: must be a whole number');
    expect(bad.body.detail).toContain('limit.memory: must be a number of GB');
    const unknown = await t.call('POST', '/v1/quotas', { token: admin, body: { owner: 'nobody', limit: { cpus: 4 } } });
    expect(unknown).toMatchObject({ status: 400, body: { field: 'limit.cpus' } });
    const tenant = await user('tina');
    expect(
      (await t.call('POST', '/v1/quotas', { token: tenant, body: { owner: 'tina', limit: { cluster: 9 } } })).status,
    ).toBe(403);
    expect((await t.call('GET', '/v1/quotas', { token: tenant })).status).toBe(403);
  });

  it('refuse a create past the cluster limit with the limit, the usage and the way out; admins are exempt', async () => {
    const quinn = await user('quinn');
    const set = await t.call('POST', '/v1/quotas', {
      token: admin,
      body: { owner: 'quinn', limit: { cluster: 1, cpu: small(3).cpu, memory: 100 } },
    });
    expect(set.status, JSON.stringify(set.body)).toBe(201);
    expect(set.body.limit).toEqual({ cluster: 1, cpu: small(3).cpu, memory: 100 });
    await created(quinn, 'q1');

    const refused = await create(quinn, 'q2');
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('QuotaExceeded');
    expect(refused.body.detail).toBe(
      'the quota of quinn would be exceeded: cluster limit 1 cluster: 1 cluster in use, creating cluster "q2" needs 2 clusters in total',
    );
    expect(refused.body.hint).toContain('slipway set-quota quinn --clusters 2');
    expect((await t.call('GET', '/v1/clusters', { token: quinn })).body.map((c: { name: string }) => c.name)).toEqual([
      'q1',
    ]);

    // Admins are exempt, even from a quota of their own that allows nothing.
    expect(
      (
        await t.call('POST', '/v1/quotas', {
          token: admin,
          body: { owner: 'admin', limit: { cluster: 0, cpu: 0, memory: 0 } },
        })
      ).status,
    ).toBe(201);
    await created(admin, 'adm1');

    // Resize past the CPU limit: refused naming the CPU limit; up to it: accepted.
    const tooBig = await t.call('PATCH', '/v1/clusters/q1', { token: quinn, body: { kubernetes_worker_instances: 4 } });
    expect(tooBig.status).toBe(403);
    expect(tooBig.body.detail).toBe(
      `the quota of quinn would be exceeded: cpu limit ${small(3).cpu} CPUs: ${small(1).cpu} CPUs in use, resizing cluster "q1" to 4 workers on plan "small" needs ${small(4).cpu} CPUs in total`,
    );
    expect(tooBig.body.details).toMatchObject({ exceeded: ['cpu'], usage: { cluster: 1, cpu: small(1).cpu } });
    const fits = await t.call('PATCH', '/v1/clusters/q1', { token: quinn, body: { kubernetes_worker_instances: 3 } });
    expect(fits.status, JSON.stringify(fits.body)).toBe(202);
    // While the resize runs, its target already counts.
    expect((await t.call('GET', '/v1/usages/quinn', { token: quinn })).body.totals.cpu).toBe(small(3).cpu);
    expect((await t.waitTask(quinn, fits.body.task_id, 60_000)).state).toBe('done');

    const usage = await t.call('GET', '/v1/usages/quinn', { token: quinn });
    expect(usage.body).toEqual({
      owner: 'quinn',
      totals: { ...small(3), cluster: 1 },
      clusters: [{ name: 'q1', ...small(3) }],
    });

    // Raising the limit lets the create through; removing the quota lifts every limit.
    expect(
      (await t.call('PATCH', '/v1/quotas/quinn', { token: admin, body: { limit: { cluster: null } } })).body.limit,
    ).toEqual({ cluster: null, cpu: small(3).cpu, memory: 100 });
    const cpuBound = await create(quinn, 'q2');
    expect(cpuBound.body.detail).toContain(`cpu limit ${small(3).cpu} CPUs`);
    expect((await t.call('DELETE', '/v1/quotas/quinn', { token: admin })).status).toBe(204);
    expect((await t.call('DELETE', '/v1/quotas/quinn', { token: admin })).status).toBe(404);

    // Admins see every owner's usage: quinn's and their own.
    const all = await t.call('GET', '/v1/usages', { token: admin });
    expect(all.body.find((u: { owner: string }) => u.owner === 'quinn').totals).toEqual({ ...small(3), cluster: 1 });
    expect(all.body.find((u: { owner: string }) => u.owner === 'admin').totals).toEqual({ ...small(1), cluster: 1 });
  }, 120_000);

  it('let exactly one of concurrent creates at the edge through', async () => {
    const rita = await user('rita');
    expect(
      (await t.call('POST', '/v1/quotas', { token: admin, body: { owner: 'rita', limit: { cluster: 1 } } })).status,
    ).toBe(201);
    const racing = await Promise.all(['r1', 'r2', 'r3', 'r4'].map((name) => create(rita, name)));
    expect(racing.map((r) => r.status).sort()).toEqual([202, 403, 403, 403]);
    for (const r of racing.filter((x) => x.status === 403))
      expect(r.body.detail).toContain('cluster limit 1 cluster: 1 cluster in use');
    await t.waitTask(rita, racing.find((r) => r.status === 202)!.body.task_id, 60_000);
    expect((await t.call('GET', '/v1/usages/rita', { token: admin })).body.totals.cluster).toBe(1);
  }, 120_000);

  it("tell a tenant nothing of another owner's quota or usage", async () => {
    const sam = await user('sam');
    // Another owner with a quota and one without any: the same refusal, word for word.
    const other = await t.call('GET', '/v1/usages/rita', { token: sam });
    const none = await t.call('GET', '/v1/usages/no-such-owner', { token: sam });
    expect(other.status).toBe(403);
    expect(none).toEqual({ ...other, headers: none.headers });
    const otherQuota = await t.call('GET', '/v1/quotas/rita', { token: sam });
    const noQuota = await t.call('GET', '/v1/quotas/no-such-owner', { token: sam });
    expect(otherQuota.status).toBe(403);
    expect(noQuota.body).toEqual(otherQuota.body);
    // Its own: the usage list holds only itself; its own quota is readable.
    expect((await t.call('GET', '/v1/usages', { token: sam })).body).toEqual([
      { owner: 'sam', totals: { cpu: 0, memory: 0, cluster: 0 }, clusters: [] },
    ]);
    expect(
      (await t.call('POST', '/v1/quotas', { token: admin, body: { owner: 'sam', limit: { cpu: 0 } } })).status,
    ).toBe(201);
    expect((await t.call('GET', '/v1/quotas/sam', { token: sam })).body.limit).toEqual({
      cpu: 0,
      memory: null,
      cluster: null,
    });
    // cpu 0 means no cluster at all, as in TKGI.
    const zero = await create(sam, 's1');
    expect(zero.status).toBe(403);
    expect(zero.body.detail).toContain('cpu limit 0 CPUs');
    // An admin asking about an owner nobody knows gets a 404.
    expect((await t.call('GET', '/v1/usages/no-such-owner', { token: admin })).status).toBe(404);
  });
});
