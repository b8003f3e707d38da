import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RegistryDriver, UserValue } from '@slipway/contracts';
import { createCertificate } from '@slipway/pki';
import harbor from '@slipway/registry-harbor';
import { startFake, writeOciImage, type StartedHarborFake } from '@slipway/registry-harbor/fake';
import { createTestHost, type TestHost } from '@slipway/testkit/simulation';
import {
  applyPullSecret,
  ClusterRegistrySteps,
  createStore,
  dockerConfigSecret,
  JobPropertiesBuilder,
  PlanCatalog,
  robotCredentialNames,
  SystemClock,
  type Store,
} from '../src/index.js';
import type { PluginSet } from '../src/plugins/plugin-set.js';
import type { SlipwayConfig } from '../src/config/schema.js';
import type { StepContext } from '../src/tasks/model.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const clock = new SystemClock();
const ENGINE = { actor: 'slipway:engine' };
const vm = { cpu: 1, memory_mb: 1024, ephemeral_disk_mb: 1024 };

let fake: StartedHarborFake;
let host: TestHost;
let driver: RegistryDriver;
let dir: string;
let store: Store;
let steps: ClusterRegistrySteps;
let seq = 0;

beforeAll(async () => {
  fake = await startFake();
  host = await createTestHost({ credentials: fake.credentials });
  driver = await harbor.create(fake.config, host);
}, 60_000);
afterAll(async () => {
  await driver?.destroy();
  await fake?.stop();
  await host?.cleanup();
});

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-registry-steps-'));
  store = await createStore(join(dir, 'slipway.db'));
  const config = {
    tasks: { retry_attempts: 3, max_concurrent_vm_calls: 4 },
    kubernetes: { default_version: '1.31.4' },
    plans: [
      {
        name: 'own',
        iaas: 'sandbox',
        master_instances: 1,
        worker_instances: 1,
        max_worker_instances: 3,
        master_vm: vm,
        worker_vm: vm,
        registry: { project: 'per-cluster' },
        kubernetes: { require_api: false },
      },
      {
        name: 'team',
        iaas: 'sandbox',
        master_instances: 1,
        worker_instances: 1,
        max_worker_instances: 3,
        master_vm: vm,
        worker_vm: vm,
        registry: { project: 'per-owner' },
        kubernetes: { require_api: false },
      },
    ],
  } as unknown as SlipwayConfig;
  const plugins = {
    credentials: host.credentials,
    registry: driver,
    registryCapabilities: harbor.capabilities,
  } as unknown as PluginSet;
  steps = new ClusterRegistrySteps(store, plugins, clock, config, new PlanCatalog(config, store, clock));
  return async () => {
    await store.db.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
});

async function cluster(plan: 'own' | 'team', owner = 'alice') {
  const n = ++seq;
  const uuid = `0000000${n}-aaaa-4000-8000-00000000000${n}`.slice(-36);
  const row = {
    uuid,
    name: `c${n}`,
    owner,
    plan_name: plan,
    iaas: 'sandbox',
    external_hostname: `c${n}.example.test`,
    k8s_version: '1.31.4',
    stemcell: 'ubuntu-jammy/1.600',
    master_instances: 1,
    worker_instances: 1,
    api_address: null,
    status: 'active' as const,
    live: 1,
    created_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
  };
  await store.clusters.insert(row);
  const details: string[] = [];
  const ctx = {
    task: { id: n },
    cluster: row,
    params: {},
    signal: new AbortController().signal,
    log: async () => undefined,
    detail: async (text: string) => void details.push(text),
    waitingFor: async () => undefined,
  } as unknown as StepContext;
  return { row, ctx, details };
}

const secretOf = async (name: string) => (await host.credentials.get(name, ENGINE)).value as UserValue;

describe('the cluster registry steps', () => {
  it('re-running the step after a crash keeps the robot and refreshes a secret the store never got', async () => {
    const { row, ctx } = await cluster('own');
    await steps.ensure(ctx);
    const first = await secretOf(robotCredentialNames(row.uuid).pull);
    const robotsBefore = fake.state.robots.size;
    // As if the engine died between Harbor making the robot and the store keeping its secret.
    await host.credentials.delete(robotCredentialNames(row.uuid).pull, ENGINE);
    await steps.ensure(ctx);
    const second = await secretOf(robotCredentialNames(row.uuid).pull);
    expect(fake.state.robots.size).toBe(robotsBefore);
    expect(second.username).toBe(first.username);
    expect(second.password).not.toBe(first.password);
    expect([...fake.state.robots.values()].find((r) => r.name === second.username)!.secret).toBe(second.password);
    // A third run with everything in place changes nothing.
    await steps.ensure(ctx);
    expect((await secretOf(robotCredentialNames(row.uuid).pull)).password).toBe(second.password);
  });

  it('makes the project without the owner when the registry does not know the user, and says so', async () => {
    fake.state.userMode = 'known';
    try {
      const { row, ctx } = await cluster('own', 'carol');
      const warnings: string[] = [];
      (ctx as { log: unknown }).log = async (level: string, message: string) =>
        void (level === 'warn' && warnings.push(message));
      await steps.ensure(ctx);
      const project = (await store.registry.find(row.uuid))!.project;
      const stored = [...fake.state.projects.values()].find((p) => p.name === project)!;
      expect([...fake.state.members.values()].filter((m) => m.projectId === stored.id)).toEqual([]);
      expect(warnings.join('\n')).toMatch(/refused carol as maintainer .*user carol not found/);
      expect((await secretOf(robotCredentialNames(row.uuid).pull)).username).toMatch(/\+nodes-/);
    } finally {
      fake.state.userMode = 'any';
    }
  });

  it('keeps a project that holds images on delete, and deletes its robots and their secrets anyway', async () => {
    const { row, ctx, details } = await cluster('own');
    await steps.ensure(ctx);
    const project = (await store.registry.find(row.uuid))!.project;
    const ci = await driver.ensureRobot({ project, robot: 'bench-ci', access: 'push-pull' });
    const work = mkdtempSync(join(tmpdir(), 'slipway-img-'));
    const image = await writeOciImage(join(work, 'img'));
    const certDir = join(work, 'certs');
    await run('mkdir', ['-p', certDir]);
    await import('node:fs').then((fs) => fs.writeFileSync(join(certDir, 'ca.crt'), fake.caPem));
    await run('skopeo', [
      'copy',
      '--quiet',
      '--dest-cert-dir',
      certDir,
      '--dest-creds',
      `${ci.name}:${ci.secret}`,
      `oci:${image.dir}:v1`,
      `docker://${fake.host}/${project}/app:v1`,
    ]);
    await steps.teardown(ctx);
    expect(details.at(-1)).toBe(
      `robots deleted; project ${project} kept: it holds images (delete them in the registry, then the project)`,
    );
    expect([...fake.state.projects.values()].map((p) => p.name)).toContain(project);
    const id = row.uuid.slice(0, 8);
    expect(
      [...fake.state.robots.values()].filter((r) => r.name.endsWith(`+nodes-${id}`) || r.name.endsWith(`+ci-${id}`)),
    ).toEqual([]);
    await expect(host.credentials.get(robotCredentialNames(row.uuid).pull, ENGINE)).rejects.toMatchObject({
      code: 'NotFound',
    });
    expect(await store.registry.find(row.uuid)).toBeUndefined();
    await driver.deleteProject({ project, force: true });
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it("shares a team project between an owner's clusters and deletes it with the last one", async () => {
    const a = await cluster('team', 'bob');
    const b = await cluster('team', 'bob');
    await steps.ensure(a.ctx);
    await steps.ensure(b.ctx);
    const project = (await store.registry.find(a.row.uuid))!.project;
    expect(project).toBe('slipway-team-bob');
    expect((await store.registry.find(b.row.uuid))!.project).toBe(project);
    await steps.teardown(a.ctx);
    expect(a.details.at(-1)).toBe(`robots deleted; project ${project} kept (used by 1 other cluster)`);
    await steps.teardown(b.ctx);
    expect(b.details.at(-1)).toBe(`robots deleted; project ${project} deleted`);
    expect([...fake.state.projects.values()].map((p) => p.name)).not.toContain(project);
  });

  it('records that the pull secret was skipped when no Kubernetes API answers', async () => {
    const { row, ctx, details } = await cluster('own');
    await steps.ensure(ctx);
    await steps.pullSecret(ctx);
    expect(details.at(-1)).toBe('skipped: the cluster has no API address yet');
    await store.clusters.update(row.uuid, { api_address: '127.0.0.1' });
    // The admin certificate the step would use against the API: a real one, from a real CA.
    const ca = await createCertificate({
      subject: { commonName: 'kubernetes' },
      isCa: true,
      keyUsage: ['key_cert_sign'],
    });
    const admin = await createCertificate({ subject: { commonName: 'admin' }, extendedKeyUsage: ['client_auth'] }, ca);
    const path = `/slipway/clusters/${row.uuid}`;
    await host.credentials.set(
      {
        name: `${path}/kubernetes-ca`,
        type: 'certificate',
        value: { ca: ca.certificatePem, certificate: ca.certificatePem, private_key: ca.privateKeyPem },
      },
      ENGINE,
    );
    await host.credentials.set(
      {
        name: `${path}/admin`,
        type: 'certificate',
        value: { ca: ca.certificatePem, certificate: admin.certificatePem, private_key: admin.privateKeyPem },
      },
      ENGINE,
    );
    await steps.pullSecret(ctx);
    expect(details.at(-1)).toMatch(
      /^skipped: the Kubernetes API at https:\/\/127\.0\.0\.1:8443 does not answer; nodes pull without a secret$/,
    );
  }, 60_000);
});

describe('what nodes are told about the registry', () => {
  it("a node's job properties carry the registry host, its CA and the pull login, and the new secret after a rotation", async () => {
    const credhub = (await import('@slipway/credentials-credhub')).default;
    const pkiHost = await createTestHost();
    const provider = await credhub.create({}, pkiHost);
    const config = {
      tasks: { retry_attempts: 3 },
      plans: [{ name: 'own', registry: {} }],
      kubernetes: { default_version: '1.31.4' },
    } as unknown as SlipwayConfig;
    const plugins = {
      credentials: provider,
      registry: driver,
      registryCapabilities: harbor.capabilities,
    } as unknown as PluginSet;
    const local = new ClusterRegistrySteps(store, plugins, clock, config, new PlanCatalog(config, store, clock));
    const { row, ctx } = await cluster('own');
    const now = new Date().toISOString();
    await store.instances.insert([
      {
        id: 'i-master',
        cluster_uuid: row.uuid,
        group_name: 'master',
        idx: 0,
        agent_id: 'a-master',
        vm_cid: null,
        ip: '10.0.0.10',
        zone: null,
        desired: 'present',
        state: 'starting',
        last_heartbeat_at: null,
        processes: null,
        desired_generation: 1,
        applied_generation: 0,
        drained: 0,
        mounted_disk_cid: null,
        created_at: now,
        updated_at: now,
      },
    ]);
    await local.ensure(ctx);
    const builder = new JobPropertiesBuilder(store, plugins, clock);
    const instance = (await store.instances.ofCluster(row.uuid))[0]!;
    const login = (await provider.get(robotCredentialNames(row.uuid).pull, ENGINE)).value as UserValue;
    const first = await builder.propertiesFor(instance);
    expect(first.registry).toEqual({
      host: fake.host,
      caPem: fake.caPem,
      username: login.username,
      password: login.password,
    });
    await local.rotate(ctx);
    const rotated = (await provider.get(robotCredentialNames(row.uuid).pull, ENGINE)).value as UserValue;
    expect(rotated.password).not.toBe(login.password);
    expect((await builder.propertiesFor(instance)).registry).toMatchObject({
      username: login.username,
      password: rotated.password,
    });
    await provider.destroy();
    await pkiHost.cleanup();
  }, 120_000);
});

describe('the registry steps in the lifecycle tasks', () => {
  it('every certificate rotation gives the robots new secrets first; none without a registry plugin', async () => {
    const { rotateCertificatesTask } = await import('../src/lifecycle/rotate-certificates.js');
    const { createClusterTask, deleteClusterTask } = await import('../src/lifecycle/cluster-tasks.js');
    expect(rotateCertificatesTask({} as never, steps).steps({ mode: 'leaf' })).toEqual([
      'registry-robots',
      'registry-pull-secret',
      'reissue-leaves',
      'roll-leaves',
    ]);
    expect(
      rotateCertificatesTask({} as never, steps)
        .steps({ mode: 'ca' })
        .slice(0, 3),
    ).toEqual(['registry-robots', 'registry-pull-secret', 'add-new-ca']);
    expect(rotateCertificatesTask({} as never, steps).steps({ mode: 'registry' })).toEqual([
      'registry-robots',
      'registry-pull-secret',
    ]);
    expect(rotateCertificatesTask({} as never).steps({ mode: 'leaf' })).toEqual(['reissue-leaves', 'roll-leaves']);
    expect(createClusterTask({} as never, steps).steps({ workers: 1 })).toEqual([
      'plan',
      'network',
      'credentials',
      'registry',
      'stemcell',
      'masters',
      'workers',
      'agents',
      'api-endpoint',
      'registry-pull-secret',
    ]);
    expect(createClusterTask({} as never).steps({ workers: 1 })).not.toContain('registry');
    expect(deleteClusterTask({} as never, steps).steps({})).toEqual([
      'vms-and-disks',
      'registry-teardown',
      'network-and-credentials',
      'finalize',
    ]);
  });
});

describe('the dockerconfigjson pull secret', () => {
  let server: Server;
  let url: string;
  const requests: Array<{ method: string; path: string; type?: string; body: any; cn?: string }> = [];
  let client: { certificatePem: string; privateKeyPem: string };
  let ca: { certificatePem: string; privateKeyPem: string };

  beforeAll(async () => {
    ca = await createCertificate({ subject: { commonName: 'kubernetes' }, isCa: true, keyUsage: ['key_cert_sign'] });
    const serving = await createCertificate(
      { subject: { commonName: 'kube-apiserver' }, altNames: ['127.0.0.1'], extendedKeyUsage: ['server_auth'] },
      ca,
    );
    client = await createCertificate(
      { subject: { commonName: 'admin', organization: 'system:masters' }, extendedKeyUsage: ['client_auth'] },
      ca,
    );
    let secretExists = false;
    // A stand-in for kube-apiserver's REST paths, requiring a client certificate from the cluster CA.
    server = createServer(
      {
        cert: serving.certificatePem,
        key: serving.privateKeyPem,
        ca: ca.certificatePem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        let text = '';
        req.on('data', (c) => (text += c));
        req.on('end', () => {
          const cn = (req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN;
          requests.push({
            method: req.method!,
            path: req.url!,
            type: req.headers['content-type'],
            body: text ? JSON.parse(text) : undefined,
            cn,
          });
          const status = req.method === 'PUT' && !secretExists ? 404 : req.method === 'POST' ? 201 : 200;
          if (req.method === 'POST') secretExists = true;
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end('{}');
        });
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('creates the secret in default, then replaces it, and lists it in the default service account', async () => {
    const api = {
      url,
      caPem: ca.certificatePem,
      clientCertificate: client.certificatePem,
      clientKey: client.privateKeyPem,
    };
    const secret = dockerConfigSecret('harbor.example.test', 'robot$p+nodes', 's3cret');
    await applyPullSecret(api, secret);
    await applyPullSecret(api, secret);
    expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'PUT /api/v1/namespaces/default/secrets/slipway-registry',
      'POST /api/v1/namespaces/default/secrets',
      'PATCH /api/v1/namespaces/default/serviceaccounts/default',
      'PUT /api/v1/namespaces/default/secrets/slipway-registry',
      'PATCH /api/v1/namespaces/default/serviceaccounts/default',
    ]);
    expect(requests.every((r) => r.cn === 'admin')).toBe(true);
    const created = requests[1]!.body;
    expect(created).toMatchObject({
      kind: 'Secret',
      type: 'kubernetes.io/dockerconfigjson',
      metadata: { name: 'slipway-registry', namespace: 'default' },
    });
    const config = JSON.parse(Buffer.from(created.data['.dockerconfigjson'], 'base64').toString());
    expect(config.auths['harbor.example.test']).toEqual({
      username: 'robot$p+nodes',
      password: 's3cret',
      auth: Buffer.from('robot$p+nodes:s3cret').toString('base64'),
    });
    expect(requests[2]).toMatchObject({
      type: 'application/strategic-merge-patch+json',
      body: { imagePullSecrets: [{ name: 'slipway-registry' }] },
    });
  });
});
