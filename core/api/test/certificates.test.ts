import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_YAML } from '@slipway/engine';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';

let t: TestControlPlane;
let admin: string;
let alice: string;
let bob: string;
let auditor: string;

beforeAll(async () => {
  // The default config without its network version pin: this branch's base installs flat 2.0.0 while the
  // default still asks for ^1 (any version is taken when none is named).
  t = await startTestControlPlane({
    configYaml: DEFAULT_CONFIG_YAML.replace(/(plugin: "@slipway\/network-flat"\n)\s+version: "\^1"\n/, '$1'),
  });
  admin = await t.login('admin', ADMIN_PASSWORD);
  for (const [name, roles] of [
    ['alice', ['clusters.manage']],
    ['bob', ['clusters.manage']],
    ['auditor', ['clusters.admin.read']],
  ] as const) {
    expect(
      (await t.call('POST', '/v1/users', { token: admin, body: { name, password: `${name}-password-1`, roles } }))
        .status,
    ).toBe(201);
  }
  [alice, bob, auditor] = await Promise.all(['alice', 'bob', 'auditor'].map((n) => t.login(n, `${n}-password-1`)));
  const res = await t.call('POST', '/v1/clusters', {
    token: alice,
    body: {
      name: 'certs',
      plan_name: 'small',
      parameters: { kubernetes_master_host: 'certs.example.test', kubernetes_worker_instances: 1 },
    },
  });
  expect((await t.waitTask(alice, res.body.task_id, 60_000)).state).toBe('done');
  // Both hold kubeconfigs: each has a user certificate under the cluster's path.
  expect((await t.call('POST', '/v1/clusters/certs/binds', { token: alice })).status).toBe(201);
  expect((await t.call('POST', '/v1/clusters/certs/binds', { token: admin })).status).toBe(201);
}, 90_000);
afterAll(async () => t?.stop());

interface Entry {
  name: string;
  kind: string;
  common_name: string;
  alt_names: string[];
  not_after: string;
  days_left: number;
  serial: string;
}

describe('GET /v1/clusters/{name}/certificates', () => {
  it('lists every certificate of the cluster with its expiry, soonest first, and no key material', async () => {
    const res = await t.call('GET', '/v1/clusters/certs/certificates', { token: admin });
    expect(res.status).toBe(200);
    const list = res.body.certificates as Entry[];
    const names = list.map((c) => c.name);
    for (const name of [
      'kubernetes-ca',
      'etcd-ca',
      'front-proxy-ca',
      'kube-apiserver',
      'admin',
      'nodes/master-0/etcd-server',
      'nodes/worker-0/kubelet',
      'users/admin',
      'users/alice',
    ]) {
      expect(names, name).toContain(name);
    }
    expect(list.find((c) => c.name === 'kubernetes-ca')).toMatchObject({ kind: 'ca', days_left: 3650 });
    const api = list.find((c) => c.name === 'kube-apiserver')!;
    expect(api).toMatchObject({ kind: 'leaf', common_name: 'kube-apiserver', days_left: 365 });
    expect(api.alt_names).toContain('certs.example.test');
    expect(list.map((c) => c.not_after)).toEqual([...list.map((c) => c.not_after)].sort());
    expect(JSON.stringify(res.body)).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
  });

  it('with ?days=N lists only those expiring within N days, and refuses a bad N naming the field', async () => {
    const soon = await t.call('GET', '/v1/clusters/certs/certificates?days=400', { token: admin });
    expect(soon.body.certificates.length).toBeGreaterThan(10);
    expect(soon.body.certificates.every((c: Entry) => c.days_left <= 400 && c.kind !== 'ca')).toBe(true);
    // Within 30 days only the users' kubeconfig certificates expire: they are short-lived by design (7 days).
    const within30 = (await t.call('GET', '/v1/clusters/certs/certificates?days=30', { token: admin })).body
      .certificates as Entry[];
    expect(within30.length).toBeGreaterThan(0);
    expect(within30.every((c) => c.kind === 'user' && c.days_left <= 7)).toBe(true);
    const bad = await t.call('GET', '/v1/clusters/certs/certificates?days=soon', { token: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toContain('days must be a whole number');
  });

  it("follows the cluster routes' tenancy: the owner and readers see it, another tenant gets 404, and a tenant sees no other user's certificate", async () => {
    const own = await t.call('GET', '/v1/clusters/certs/certificates', { token: alice });
    expect(own.status).toBe(200);
    const userCerts = (own.body.certificates as Entry[]).filter((c) => c.kind === 'user').map((c) => c.name);
    expect(userCerts).toEqual(['users/alice']);
    expect((await t.call('GET', '/v1/clusters/certs/certificates', { token: auditor })).status).toBe(200);
    const other = await t.call('GET', '/v1/clusters/certs/certificates', { token: bob });
    expect(other.status).toBe(404);
    expect((await t.call('GET', '/v1/clusters/none/certificates', { token: bob })).body.detail).toBe(
      other.body.detail.replace('certs', 'none'),
    );
    expect((await t.call('GET', '/v1/clusters/certs/certificates')).status).toBe(401);
  });
});
