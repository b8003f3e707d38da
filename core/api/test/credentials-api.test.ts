import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';

let t: TestControlPlane;
let admin: string;

beforeAll(async () => {
  t = await startTestControlPlane();
  admin = await t.login('admin', ADMIN_PASSWORD);
  for (const name of ['alice', 'bob']) {
    await t.call('POST', '/v1/users', { token: admin, body: { name, password: `${name}-password`, roles: ['clusters.manage'] } });
  }
});
afterAll(async () => t?.stop());

async function createCluster(token: string, name: string): Promise<string> {
  const res = await t.call('POST', '/v1/clusters', { token, body: { name, plan_name: 'small', parameters: { kubernetes_master_host: `${name}.example.test` } } });
  expect((await t.waitTask(token, res.body.task_id)).state).toBe('done');
  return res.body.uuid as string;
}

describe('the CredHub API served by slipway up', () => {
  it('lets a cluster\'s owner read its credentials, refuses another tenant with 403 naming the path, and deletes them with the cluster', async () => {
    const alice = await t.login('alice', 'alice-password');
    const bob = await t.login('bob', 'bob-password');
    const uuid = await createCluster(alice, 'alices');
    const path = `/slipway/clusters/${uuid}`;

    const own = await t.call('GET', `/api/v1/data?name=${encodeURIComponent(`${path}/kubernetes-ca`)}&current=true`, { token: alice });
    expect(own.status).toBe(200);
    expect(own.body.data[0]).toMatchObject({ name: `${path}/kubernetes-ca`, type: 'certificate' });
    expect(own.body.data[0].value.certificate).toContain('BEGIN CERTIFICATE');

    const denied = await t.call('GET', `/api/v1/data?name=${encodeURIComponent(`${path}/kubernetes-ca`)}&current=true`, { token: bob });
    expect(denied.status).toBe(403);
    expect(JSON.stringify(denied.body)).toContain(`${path}/kubernetes-ca`);
    // A find lists only what the caller may read: nothing of another tenant's cluster.
    const found = await t.call('GET', `/api/v1/data?path=${encodeURIComponent(path)}`, { token: bob });
    expect(found.body.credentials).toEqual([]);

    const listed = await t.call('GET', `/api/v1/data?path=${encodeURIComponent(path)}`, { token: admin });
    const names = (listed.body.credentials as Array<{ name: string }>).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining([`${path}/kubernetes-ca`, `${path}/etcd-ca`, `${path}/kube-apiserver`, `${path}/nodes/master-0/etcd-server`, `${path}/nodes/worker-2/kubelet`]));
    expect((await t.call('GET', '/api/v1/data?path=/slipway', { token: 'not-a-token' })).status).toBe(401);

    const del = await t.call('DELETE', '/v1/clusters/alices', { token: alice });
    expect((await t.waitTask(alice, del.body.task_id)).state).toBe('done');
    const after = await t.call('GET', `/api/v1/data?path=${encodeURIComponent(path)}`, { token: admin });
    expect(after.body.credentials).toEqual([]);
  });

  it('keeps Slipway\'s own /info and /health and serves CredHub\'s under /api/v1', async () => {
    expect((await t.call('GET', '/info')).body.app).toBe('slipway');
    const info = await t.call('GET', '/api/v1/info', { token: admin });
    expect(info.body['auth-server'].url).toBe(t.cp.url);
  });
});
