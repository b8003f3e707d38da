import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlipwayError, type CertificateValue } from '@slipway/contracts';
import { ENGINE_ACTOR, type Kubeconfig, type Principal } from '../src/index.js';
import { startFakeKubeApi, type FakeKubeApi } from './fake-kube-api.js';
import { ADMIN, startHarness, testConfig, type Harness } from './health-harness.js';

/** `api` requires the Kubernetes API (the default); the harness's `small` is an etcd-only rehearsal. */
const PLANS = `
  - name: api
    iaas: sandbox
    master_instances: 1
    worker_instances: 1
    max_worker_instances: 5
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384 }
    worker_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384 }
`;
const READY_TIMEOUT_S = 6;

const pem = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

describe("tenants and the control plane reach their clusters' Kubernetes API", () => {
  let h: Harness;
  let tmp: string;
  let alice: Principal;
  let bob: Principal;
  const fakes = new Map<string, FakeKubeApi>();

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'slipway-k8s-access-'));
    const config = testConfig({ plans: PLANS }).replace(
      'kubernetes:\n',
      `kubernetes:\n  api_ready_timeout_seconds: ${READY_TIMEOUT_S}\n`,
    );
    // The sandbox's VMs cannot run kube-apiserver; each cluster's API is a TLS server of this test's, found by uuid.
    h = await startHarness(config, { kubernetesApiAddress: (cluster) => fakes.get(cluster.uuid)?.url });
    const user = async (name: string) => {
      const view = await h.services.users.create(ADMIN, {
        name,
        password: 'correct horse battery staple',
        roles: ['clusters.manage'],
      });
      return { id: view.id, name, roles: ['clusters.manage'] } as Principal;
    };
    alice = await user('alice');
    bob = await user('bob');
  }, 60_000);

  afterAll(async () => {
    for (const fake of fakes.values()) await fake.close();
    await h?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** Starts the cluster's API stand-in once the create has issued its PKI: it serves the cluster's own kube-apiserver certificate. */
  async function apiOf(name: string): Promise<FakeKubeApi> {
    const cluster = await h.waitFor(`cluster ${name}`, () => h.store.clusters.findByName(name));
    const path = `/slipway/clusters/${cluster.uuid}`;
    const get = async (n: string) =>
      (await h.engine.plugins.credentials.get(`${path}/${n}`, ENGINE_ACTOR)).value as CertificateValue;
    const server = await h.waitFor(`${name}'s kube-apiserver certificate`, () =>
      get('kube-apiserver').catch(() => undefined),
    );
    const fake = await startFakeKubeApi({
      caPem: (await get('kubernetes-ca')).certificate,
      certificatePem: server.certificate,
      privateKeyPem: server.private_key,
    });
    fakes.set(cluster.uuid, fake);
    return fake;
  }

  async function steps(taskId: number) {
    return Object.fromEntries((await h.store.tasks.steps(taskId)).map((s) => [s.name, s]));
  }

  it('a create succeeds only once /readyz answered the admin certificate, then binds cluster-admin to its creator and the drainer role', async () => {
    const view = await h.services.clusters.create(alice, {
      name: 'prod',
      plan_name: 'api',
      parameters: { kubernetes_master_host: 'prod.example.test' },
    });
    const api = await apiOf('prod');
    await h.waitFor('a /readyz probe', async () => api.requests.some((r) => r.path === '/readyz'), 40_000);
    // The task says what it waits for, with what /readyz answered.
    const waiting = await h.waitFor(
      'the task to wait for /readyz',
      async () => {
        const t = (await h.store.tasks.get(view.task_id!))!;
        return t.waiting_for?.includes('/readyz') ? t : undefined;
      },
      5000,
    );
    expect(waiting.state).toBe('processing');
    expect(waiting.waiting_for).toContain('/readyz');
    expect(waiting.waiting_for).toContain('etcd failed');

    api.readyStatus = 200;
    const task = await h.settle(view.task_id!);
    expect(task.state, task.error ?? '').toBe('done');
    const s = await steps(task.id);
    expect(s['kubernetes-api']!.detail).toContain('/readyz answered');
    // The probe presented the cluster's admin certificate (the server verified it against the cluster CA).
    const probes = api.requests.filter((r) => r.path === '/readyz');
    expect(probes.every((r) => r.user === 'admin' && r.groups.includes('system:masters'))).toBe(true);

    const applies = api.requests.filter((r) => r.method === 'PATCH');
    expect(applies.map((r) => r.path.split('?')[0])).toEqual([
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/slipway:cluster-admin:alice',
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/system:slipway:drainer',
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/system:slipway:drainer',
    ]);
    expect(
      applies.every((r) => r.contentType === 'application/apply-patch+yaml' && r.path.includes('fieldManager=slipway')),
    ).toBe(true);
    expect(JSON.parse(applies[0]!.body)).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'slipway:cluster-admin:alice', labels: { 'app.kubernetes.io/managed-by': 'slipway' } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
    });
    const drainer = JSON.parse(applies[1]!.body) as {
      rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    };
    expect(drainer.rules).toContainEqual({ apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] });
    expect(drainer.rules).toContainEqual({ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'patch'] });
    expect(drainer.rules).toContainEqual({ apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get', 'list'] });

    // The stand-in is as strict as kube-apiserver's --client-ca-file: a certificate of another CA gets no answer.
    const stranger = await new Promise<string>((resolve) => {
      const req = request(
        `${api.url}/readyz`,
        { cert: h.engine.tls.cert, key: h.engine.tls.key, rejectUnauthorized: false },
        (res) => resolve(`answered ${res.statusCode}`),
      );
      req.on('error', (e) => resolve(`refused: ${e.message}`));
      req.end();
    });
    expect(stranger).toMatch(/^refused/);
  }, 90_000);

  it('a create whose API never answers /readyz fails after api_ready_timeout_seconds with what /readyz said', async () => {
    const view = await h.services.clusters.create(alice, {
      name: 'stuck',
      plan_name: 'api',
      parameters: { kubernetes_master_host: 'stuck.example.test' },
    });
    const api = await apiOf('stuck');
    const task = await h.settle(view.task_id!);
    expect(task.state).toBe('error');
    expect(task.error).toContain(`did not become ready within ${READY_TIMEOUT_S} s`);
    expect(task.error).toContain('/readyz answered 503');
    expect(api.requests.filter((r) => r.path === '/readyz').length).toBeGreaterThanOrEqual(2);
    expect((await h.services.clusters.get(alice, 'stuck')).last_action_state).toBe('failed');
  }, 90_000);

  it('an etcd-only rehearsal (require_api: false) succeeds, records what it did not check, and its smoke test says why nothing was checked', async () => {
    const cluster = await h.createCluster('rehearsal', 'small', 1);
    const task = (await h.store.tasks.list({ limit: 1, clusterName: 'rehearsal' }))[0]!;
    const s = await steps(task.id);
    expect(s['kubernetes-api']!.detail).toBe('skipped: plan small says kubernetes.require_api: false');
    expect(s.rbac!.detail).toContain('skipped: plan small says kubernetes.require_api: false');
    expect((await h.services.clusters.get(ADMIN, cluster.name)).kubernetes).toEqual({ require_api: false });

    const report = await h.services.clusters.smokeTest(ADMIN, 'rehearsal');
    expect(report.passed).toBe(false);
    expect(report.checks.map((c) => [c.name, c.state])).toEqual([
      ['api', 'not-checked'],
      ['nodes', 'not-checked'],
      ['dns', 'not-checked'],
      ['pods', 'not-checked'],
    ]);
    for (const check of report.checks) expect(check.detail).toContain('kubernetes.require_api: false');
  }, 60_000);

  it("get-credentials hands out a fresh certificate that expires after user_certificate_days; another user's needs the admin role and binds only when asked", async () => {
    const certOf = (kc: Kubeconfig) => pem(kc.users[0]!.user['client-certificate-data']);
    const first = await h.services.clusters.bind(alice, 'prod');
    const second = await h.services.clusters.bind(alice, 'prod');
    const file = join(tmp, 'alice.pem');
    writeFileSync(file, certOf(first));
    const enddate = execFileSync('openssl', ['x509', '-enddate', '-noout', '-in', file], { encoding: 'utf8' }).trim();
    const expires = Date.parse(enddate.replace(/^notAfter=/, ''));
    expect(Math.abs(expires - (Date.now() + 7 * 86_400_000)), enddate).toBeLessThan(3_600_000);
    const a = new X509Certificate(certOf(first));
    const b = new X509Certificate(certOf(second));
    expect(a.subject).toBe('CN=alice');
    expect(b.serialNumber).not.toBe(a.serialNumber);

    // A tenant may not ask for someone else's kubeconfig.
    const refused = await h.services.clusters.bind(alice, 'prod', { user: 'bob' }).catch((e: unknown) => e);
    expect(SlipwayError.is(refused, 'Forbidden')).toBe(true);

    const api = [...fakes.values()][0]!;
    const appliedBefore = api.requests.filter((r) => r.method === 'PATCH').length;
    const forBob = await h.services.clusters.bind(ADMIN, 'prod', { user: 'bob' });
    expect(new X509Certificate(certOf(forBob)).subject).toBe('CN=bob');
    expect(forBob.users[0]!.name).toBe('prod-bob');
    expect(api.requests.filter((r) => r.method === 'PATCH').length, 'nothing bound unless asked').toBe(appliedBefore);

    await h.services.clusters.bind(ADMIN, 'prod', { user: 'bob', bind: 'view' });
    const bound = api.requests.filter((r) => r.method === 'PATCH').slice(appliedBefore);
    expect(bound.map((r) => r.path.split('?')[0])).toEqual([
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/slipway:view:bob',
    ]);
    expect(JSON.parse(bound[0]!.body).subjects).toEqual([
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'bob' },
    ]);
    expect(bob.name).toBe('bob');
  }, 60_000);

  it('the smoke test of a cluster whose API answers reports check by check', async () => {
    const prod = await h.cluster('prod');
    const api = fakes.get(prod.uuid)!;
    api.documents.set('/api/v1/nodes', {
      items: [
        { metadata: { name: 'master-0' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } },
        {
          metadata: { name: 'worker-0' },
          status: {
            conditions: [
              {
                type: 'Ready',
                status: 'False',
                message: 'container runtime network not ready: cni plugin not initialized',
              },
            ],
          },
        },
      ],
    });
    api.documents.set('/api/v1/namespaces/kube-system/endpoints/kube-dns', {
      subsets: [{ addresses: [{ ip: '10.200.0.5' }, { ip: '10.200.1.7' }] }],
    });
    const report = await h.services.clusters.smokeTest(alice, 'prod');
    const by = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(by.api!.state).toBe('passed');
    expect(by.nodes).toMatchObject({ state: 'failed' });
    expect(by.nodes!.detail).toBe(
      'not Ready: worker-0 (container runtime network not ready: cni plugin not initialized)',
    );
    expect(by.dns).toEqual({
      name: 'dns',
      state: 'passed',
      detail: 'the kube-dns Service has 2 ready CoreDNS endpoints',
    });
    // This stand-in has no pods API: the check fails with the API's own answer rather than passing.
    expect(by.pods!.state).toBe('failed');
    expect(by.pods!.detail).toContain('404');
    expect(report.passed).toBe(false);
  }, 60_000);
});
