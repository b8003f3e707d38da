import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';

let t: TestControlPlane;
let admin: string;

beforeAll(async () => {
  t = await startTestControlPlane();
  admin = await t.login('admin', ADMIN_PASSWORD);
});
afterAll(async () => t?.stop());

const create = (name: string, extra: Record<string, unknown> = {}, token = admin) =>
  t.call('POST', '/v1/clusters', {
    token,
    body: { name, plan_name: 'small', parameters: { kubernetes_master_host: `${name}.example.test`, ...extra } },
  });
const inventory = async () =>
  (await t.call('GET', '/v1/sandbox/sandbox/inventory', { token: admin })).body as {
    vms: Array<{ vmId: string; metadata: Record<string, string> }>;
    disks: Array<{ diskId: string; vmId?: string; metadata: Record<string, string> }>;
  };
const vmsOf = async (uuid: string) =>
  (await inventory()).vms.filter((v) => v.metadata['slipway.cluster_uuid'] === uuid);
const disksOf = async (uuid: string) =>
  (await inventory()).disks.filter((d) => d.metadata['slipway.cluster_uuid'] === uuid);

describe('cluster lifecycle through the REST API', () => {
  it("lists the operator's plans", async () => {
    const res = await t.call('GET', '/v1/plans', { token: admin });
    expect(res.status).toBe(200);
    expect(res.body.map((p: { name: string }) => p.name)).toEqual(['small', 'ha']);
    expect(res.body[0]).toMatchObject({ master_instances: 1, worker_instances: 3, kubernetes_version: '1.31.4' });
  });

  it('creates a cluster with exactly the planned VMs, each with its persistent disk attached', async () => {
    const res = await create('demo');
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/v1/tasks/${res.body.task_id}`);
    expect(res.body).toMatchObject({
      name: 'demo',
      plan_name: 'small',
      last_action: 'CREATE',
      last_action_state: 'in progress',
    });
    const task = await t.waitTask(admin, res.body.task_id);
    expect(task.state, JSON.stringify(task.error)).toBe('done');
    expect(task.steps.map((s: { state: string }) => s.state).every((s: string) => s === 'done')).toBe(true);

    const cluster = (await t.call('GET', '/v1/clusters/demo', { token: admin })).body;
    expect(cluster).toMatchObject({
      last_action_state: 'succeeded',
      k8s_version: '1.31.4',
      parameters: { kubernetes_worker_instances: 3, kubernetes_master_host: 'demo.example.test' },
    });
    expect(cluster.kubernetes_master_ips).toHaveLength(1);
    const vms = await vmsOf(cluster.uuid);
    expect(vms.map((v) => v.metadata['slipway.instance']).sort()).toEqual([
      'master/0',
      'worker/0',
      'worker/1',
      'worker/2',
    ]);
    const disks = await disksOf(cluster.uuid);
    expect(disks).toHaveLength(4);
    expect(disks.every((d) => vms.some((v) => v.vmId === d.vmId))).toBe(true);

    const instances = (await t.call('GET', '/v1/clusters/demo/instances', { token: admin })).body;
    expect(instances).toHaveLength(4);
    expect(new Set(instances.map((i: { ip: string }) => i.ip)).size).toBe(4);
  });

  it('refuses a second mutating task on a busy cluster with 409 naming the running task', async () => {
    const first = await t.call('PATCH', '/v1/clusters/demo', {
      token: admin,
      body: { kubernetes_worker_instances: 5 },
    });
    expect(first.status).toBe(202);
    const second = await t.call('PATCH', '/v1/clusters/demo', {
      token: admin,
      body: { kubernetes_worker_instances: 6 },
    });
    expect(second.status).toBe(409);
    expect(second.headers['content-type']).toContain('application/problem+json');
    expect(second.body.detail).toContain(`task ${first.body.task_id}`);
    expect(second.body.detail).toContain(`slipway cancel-task ${first.body.task_id}`);
    const done = await t.waitTask(admin, first.body.task_id);
    expect(done.state).toBe('done');
    const cluster = (await t.call('GET', '/v1/clusters/demo', { token: admin })).body;
    expect(cluster.parameters.kubernetes_worker_instances).toBe(5);
    expect(await vmsOf(cluster.uuid)).toHaveLength(6);
  });

  it('resizes down by draining and deleting the highest-index workers, keeping the rest', async () => {
    const cluster = (await t.call('GET', '/v1/clusters/demo', { token: admin })).body;
    const before = await vmsOf(cluster.uuid);
    const keep = before
      .filter((v) => ['master/0', 'worker/0', 'worker/1'].includes(v.metadata['slipway.instance']))
      .map((v) => v.vmId)
      .sort();
    const res = await t.call('PATCH', '/v1/clusters/demo', { token: admin, body: { kubernetes_worker_instances: 2 } });
    const task = await t.waitTask(admin, res.body.task_id);
    expect(task.state, JSON.stringify(task.error)).toBe('done');
    expect(task.steps.find((s: { name: string }) => s.name === 'drain').detail).toMatch(
      /drained worker\/2, worker\/3, worker\/4/,
    );
    const after = await vmsOf(cluster.uuid);
    expect(after.map((v) => v.vmId).sort()).toEqual(keep);
    expect(await disksOf(cluster.uuid)).toHaveLength(3);
  });

  it('hands out a kubeconfig whose client certificate verifies against the cluster CA', async () => {
    const res = await t.call('POST', '/v1/clusters/demo/binds', { token: admin });
    expect(res.status).toBe(201);
    const kubeconfig = res.body;
    expect(kubeconfig['current-context']).toBe('demo');
    expect(kubeconfig.clusters[0].cluster.server).toBe('https://demo.example.test:8443');
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    try {
      const ca = Buffer.from(kubeconfig.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
      const cert = Buffer.from(kubeconfig.users[0].user['client-certificate-data'], 'base64').toString();
      writeFileSync(join(dir, 'ca.pem'), ca);
      writeFileSync(join(dir, 'cert.pem'), cert);
      expect(
        execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'cert.pem')]).toString(),
      ).toContain('OK');
      const subject = execFileSync('openssl', ['x509', '-in', join(dir, 'cert.pem'), '-noout', '-subject']).toString();
      expect(subject).toContain('CN = admin');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('deletes a cluster with its VMs, disks, addresses and credentials', async () => {
    const cluster = (await t.call('GET', '/v1/clusters/demo', { token: admin })).body;
    const res = await t.call('DELETE', '/v1/clusters/demo', { token: admin });
    expect(res.status).toBe(202);
    const task = await t.waitTask(admin, res.body.task_id);
    expect(task.state, JSON.stringify(task.error)).toBe('done');
    expect(await vmsOf(cluster.uuid)).toEqual([]);
    expect(await disksOf(cluster.uuid)).toEqual([]);
    expect((await t.call('GET', '/v1/clusters/demo', { token: admin })).status).toBe(404);
    // The name is free again, and the released addresses are handed out anew.
    const again = await create('demo');
    expect(again.status).toBe(202);
    expect((await t.waitTask(admin, again.body.task_id)).state).toBe('done');
    await t.waitTask(admin, (await t.call('DELETE', '/v1/clusters/demo', { token: admin })).body.task_id);
  });
});

describe('bad input is refused with a problem naming the field', () => {
  it('an unknown plan', async () => {
    const res = await t.call('POST', '/v1/clusters', {
      token: admin,
      body: { name: 'x', plan_name: 'huge', parameters: { kubernetes_master_host: 'x.example.test' } },
    });
    expect(res.status).toBe(404);
    expect(res.body.detail).toContain('huge');
    expect(res.body.detail).toContain('small, ha');
    expect(res.body.field).toBe('plan_name');
  });
  it('a missing field and a wrong type, both at once', async () => {
    const res = await t.call('POST', '/v1/clusters', {
      token: admin,
      body: { name: 'Bad Name', plan_name: 7, parameters: {} },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('InvalidInput');
    expect(res.body.detail).toMatch(/name/);
    expect(res.body.detail).toMatch(/plan_name: must be string/);
    expect(res.body.detail).toMatch(/parameters.*kubernetes_master_host/);
  });
  it('a worker count beyond the plan', async () => {
    const res = await create('toobig', { kubernetes_worker_instances: 11 });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('parameters.kubernetes_worker_instances');
    expect(res.body.detail).toContain('10');
  });
  it('zero workers, on create and on resize (as PKS: at least 1)', async () => {
    const created = await create('empty', { kubernetes_worker_instances: 0 });
    expect(created.status).toBe(400);
    expect(created.body.field).toBe('parameters.kubernetes_worker_instances');
    expect(created.body.detail).toMatch(/parameters\.kubernetes_worker_instances: must be at least 1 .*\(got 0\)/);
    const resized = await t.call('PATCH', '/v1/clusters/demo', {
      token: admin,
      body: { kubernetes_worker_instances: 0 },
    });
    expect(resized.status).toBe(400);
    expect(resized.body.field).toBe('kubernetes_worker_instances');
    expect(resized.body.detail).toMatch(/must be at least 1/);
  });
  it('a body that is not JSON', async () => {
    const res = await t.call('POST', '/v1/clusters', { token: admin, body: '{nope' });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/JSON/i);
  });
  it('a cluster that does not exist', async () => {
    const res = await t.call('GET', '/v1/clusters/ghost', { token: admin });
    expect(res.status).toBe(404);
    expect(res.body.detail).toContain('ghost');
  });
});

describe('tasks', () => {
  it('cancels a running task; the cluster records the failed action', async () => {
    const res = await create('cancelme');
    const cancel = await t.call('POST', `/v1/tasks/${res.body.task_id}/cancel`, { token: admin });
    expect(cancel.status).toBe(202);
    const task = await t.waitTask(admin, res.body.task_id);
    expect(['cancelled', 'done']).toContain(task.state);
    const cluster = (await t.call('GET', '/v1/clusters/cancelme', { token: admin })).body;
    if (task.state === 'cancelled') expect(cluster.last_action_state).toBe('failed');
    const del = await t.call('DELETE', '/v1/clusters/cancelme', { token: admin });
    expect((await t.waitTask(admin, del.body.task_id)).state).toBe('done');
    const cancelled = await t.call('POST', `/v1/tasks/${res.body.task_id}/cancel`, { token: admin });
    expect(cancelled.status).toBe(409);
  });
  it('lists tasks newest first and filters by cluster', async () => {
    const all = (await t.call('GET', '/v1/tasks', { token: admin })).body;
    expect(all.length).toBeGreaterThan(3);
    expect(all[0].id).toBeGreaterThan(all[1].id);
    const some = (await t.call('GET', '/v1/tasks?cluster=cancelme', { token: admin })).body;
    expect(some.every((x: { cluster_name: string }) => x.cluster_name === 'cancelme')).toBe(true);
    expect((await t.call('GET', '/v1/tasks/abc', { token: admin })).status).toBe(400);
  });
});

describe('tenancy', () => {
  it('a clusters.manage user sees and changes only the clusters they created', async () => {
    for (const [name, roles] of [
      ['alice', ['clusters.manage']],
      ['bob', ['clusters.manage']],
      ['auditor', ['clusters.admin.read']],
    ] as const) {
      expect(
        (await t.call('POST', '/v1/users', { token: admin, body: { name, password: `${name}-password`, roles } }))
          .status,
      ).toBe(201);
    }
    const alice = await t.login('alice', 'alice-password');
    const bob = await t.login('bob', 'bob-password');
    const auditor = await t.login('auditor', 'auditor-password');
    const res = await create('alices', {}, alice);
    expect(res.status).toBe(202);
    await t.waitTask(alice, res.body.task_id);

    expect((await t.call('GET', '/v1/clusters', { token: bob })).body).toEqual([]);
    // Another tenant's cluster does not exist for bob: no leak of its name.
    expect((await t.call('GET', '/v1/clusters/alices', { token: bob })).status).toBe(404);
    expect((await t.call('DELETE', '/v1/clusters/alices', { token: bob })).status).toBe(404);
    expect((await t.call('POST', '/v1/clusters/alices/binds', { token: bob })).status).toBe(404);
    expect((await t.call('GET', `/v1/tasks/${res.body.task_id}`, { token: bob })).status).toBe(404);

    expect(
      (await t.call('GET', '/v1/clusters', { token: auditor })).body.map((c: { name: string }) => c.name),
    ).toContain('alices');
    const refused = await t.call('DELETE', '/v1/clusters/alices', { token: auditor });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toContain('clusters.admin');
    expect(
      (
        await t.call('POST', '/v1/users', {
          token: alice,
          body: { name: 'eve', password: 'eve-password', roles: ['clusters.admin'] },
        })
      ).status,
    ).toBe(403);

    const del = await t.call('DELETE', '/v1/clusters/alices', { token: alice });
    expect((await t.waitTask(alice, del.body.task_id)).state).toBe('done');
  });

  it('refuses calls without a valid token', async () => {
    expect((await t.call('GET', '/v1/clusters')).status).toBe(401);
    expect((await t.call('GET', '/v1/clusters', { token: 'forged' })).status).toBe(401);
    const bad = await t.call('POST', '/oauth/token', {
      form: { grant_type: 'password', username: 'admin', password: 'wrong' },
    });
    expect(bad.status).toBe(401);
  });
});

describe('documents', () => {
  it('publishes an OpenAPI document with the request schemas it validates against', async () => {
    const res = await t.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/plans',
        '/v1/clusters',
        '/v1/clusters/{name}',
        '/v1/clusters/{name}/binds',
        '/v1/tasks',
        '/v1/tasks/{id}',
        '/v1/tasks/{id}/cancel',
        '/oauth/token',
      ]),
    );
    expect(res.body.components.schemas.ClusterRequest.required).toEqual(['name', 'plan_name', 'parameters']);
  });
});
