import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';

let t: TestControlPlane;
let admin: string;

beforeAll(async () => {
  t = await startTestControlPlane();
  admin = await t.login('admin', ADMIN_PASSWORD);
  for (const name of ['alice', 'bob']) {
    await t.call('POST', '/v1/users', {
      token: admin,
      body: { name, password: `${name}-password`, roles: ['clusters.manage'] },
    });
  }
});
afterAll(async () => t?.stop());

async function createCluster(token: string, name: string): Promise<string> {
  const res = await t.call('POST', '/v1/clusters', {
    token,
    body: { name, plan_name: 'small', parameters: { kubernetes_master_host: `${name}.example.test` } },
  });
  expect((await t.waitTask(token, res.body.task_id)).state).toBe('done');
  return res.body.uuid as string;
}

describe('the CredHub API served by slipway up', () => {
  it("lets a cluster's owner read its CA certificate without the key and its own kubeconfig certificate, nothing more; another tenant gets the answer of a missing name", async () => {
    const alice = await t.login('alice', 'alice-password');
    const bob = await t.login('bob', 'bob-password');
    const uuid = await createCluster(alice, 'alices');
    const path = `/slipway/clusters/${uuid}`;
    const read = (name: string, token: string) =>
      t.call('GET', `/api/v1/data?name=${encodeURIComponent(name)}&current=true`, { token });

    const own = await read(`${path}/kubernetes-ca`, alice);
    expect(own.status).toBe(200);
    expect(own.body.data[0]).toMatchObject({ name: `${path}/kubernetes-ca`, type: 'certificate' });
    expect(own.body.data[0].value.certificate).toContain('BEGIN CERTIFICATE');
    expect(own.body.data[0].value.private_key).toBeNull();
    // get-credentials issues the owner's kubeconfig certificate, which it may then read (key included).
    expect((await t.call('POST', '/v1/clusters/alices/binds', { token: alice })).status).toBe(201);
    const me = (await t.call('GET', '/v1/users/alice', { token: alice })).body;
    const kubeconfigCert = await read(`${path}/users/${me.id}`, alice);
    expect(kubeconfigCert.body.data[0].value.private_key).toContain('PRIVATE KEY');

    // What would let the owner act as system:masters, a node, a component or a CA: the answer of a missing name.
    const missing = await read(`${path}/no-such-thing`, alice);
    expect(missing.status).toBe(404);
    for (const name of [
      'admin',
      'service-account',
      'kube-apiserver',
      'etcd-client',
      'nodes/master-0/etcd-server',
      'nodes/worker-0/kubelet-client',
    ]) {
      expect(await read(`${path}/${name}`, alice)).toMatchObject({ status: 404, body: missing.body });
    }
    expect(await read('/slipway/control-plane/agent-ca', admin)).toMatchObject({ status: 404, body: missing.body });
    // Another tenant: the same answer as for a name nobody uses, naming nothing.
    const denied = await read(`${path}/kubernetes-ca`, bob);
    expect(denied).toMatchObject({ status: 404, body: missing.body });
    expect(JSON.stringify(denied.body)).not.toContain(uuid);
    const found = await t.call('GET', `/api/v1/data?path=${encodeURIComponent(path)}`, { token: bob });
    expect(found.body.credentials).toEqual([]);
    const mine = await t.call('GET', `/api/v1/data?path=${encodeURIComponent(path)}`, { token: alice });
    expect((mine.body.credentials as Array<{ name: string }>).map((c) => c.name).sort()).toEqual([
      `${path}/etcd-ca`,
      `${path}/front-proxy-ca`,
      `${path}/kubernetes-ca`,
      `${path}/users/${me.id}`,
    ]);
    expect((await t.call('GET', '/api/v1/data?path=/slipway', { token: 'not-a-token' })).status).toBe(401);

    const del = await t.call('DELETE', '/v1/clusters/alices', { token: alice });
    expect((await t.waitTask(alice, del.body.task_id)).state).toBe('done');
    const after = await t.call('GET', `/api/v1/data?path=${encodeURIComponent(path)}`, { token: admin });
    expect(after.body.credentials).toEqual([]);
  });

  it("keeps Slipway's own /info and /health and serves CredHub's under /api/v1", async () => {
    expect((await t.call('GET', '/info')).body.app).toBe('slipway');
    const info = await t.call('GET', '/api/v1/info', { token: admin });
    expect(info.body['auth-server'].url).toBe(t.cp.url);
  });
});
