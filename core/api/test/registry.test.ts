import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createStore,
  dataDirOf,
  DEFAULT_CONFIG_YAML,
  importCredentials,
  pluginDatabases,
  silentLogger,
} from '@slipway/engine';
import { openCredhubProvider } from '@slipway/credentials-credhub';
import { startFake, type StartedHarborFake } from '@slipway/registry-harbor/fake';
import { probeRepositoryAccess } from '@slipway/testkit';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';
import { writeFileSync } from 'node:fs';

let harbor: StartedHarborFake;
let t: TestControlPlane;
let admin: string;
let home: string;

const PLANS = `
  - name: registry
    description: "a project per cluster, with a CI robot and a vulnerability policy"
    iaas: sandbox
    master_instances: 1
    worker_instances: 1
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    kubernetes: { require_api: false }
    registry: { project: per-cluster, push_robot: true, prevent_vulnerable: true, severity: high, auto_scan: true, storage_limit_gb: 2 }
`;

beforeAll(async () => {
  harbor = await startFake();
  home = await mkdtemp(join(tmpdir(), 'slipway-registry-'));
  const yaml = DEFAULT_CONFIG_YAML.replace('boot_delay_ms: 200', 'boot_delay_ms: 0')
    .replace('heartbeat_interval_seconds: 30', 'heartbeat_interval_seconds: 1')
    .replace(/(plugin: "@slipway\/network-flat"\n\s+version: )"\^1"/, '$1"^2"')
    .replace(
      '\nkubernetes:',
      `\nregistry:\n  plugin: "@slipway/registry-harbor"\n  version: "^1"\n  config: ${JSON.stringify(harbor.config)}\n\nkubernetes:`,
    )
    .replace('\nplans:\n', `\nplans:\n${PLANS}`);
  const configPath = join(home, 'slipway.yaml');
  writeFileSync(configPath, yaml);
  // Harbor's admin login goes into the credential store before the control plane starts the driver.
  await importCredentials({ home, configPath, logger: silentLogger, entries: harbor.credentials as never });
  t = await startTestControlPlane({ home });
  admin = await t.login('admin', ADMIN_PASSWORD);
}, 120_000);

afterAll(async () => {
  await t?.stop();
  await harbor?.stop();
});

/** The push robot is the owner's (its CI's) to read through the CredHub API. */
async function robotLogin(path: string): Promise<{ username: string; password: string }> {
  const res = await t.call('GET', `/api/v1/data?name=${encodeURIComponent(path)}&current=true`, { token: admin });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.data[0].value;
}

/** The pull robot is the engine's and the nodes': read it as the engine does, from the credential store itself. */
async function engineRead(path: string): Promise<{ username: string; password: string }> {
  // The credentials live in the control plane's own database, beside its tables.
  const db = await createStore(join(home, 'slipway.db'));
  const store = await openCredhubProvider({
    dataDir: join(home, dataDirOf({ kind: 'credentials', instanceName: 'default' })),
    keysDir: `${home}-keys`,
    rsaPoolSize: 0,
    database: await pluginDatabases(db.db)('credhub'),
  });
  try {
    return (await store.get(path, { actor: 'slipway:engine' })).value as { username: string; password: string };
  } finally {
    await store.destroy();
    await db.db.destroy();
  }
}

describe('clusters get a project and robots in Harbor', () => {
  let uuid: string;
  let project: string;

  it('create-cluster ensures the project and robots after the credentials and before the VMs', async () => {
    const res = await t.call('POST', '/v1/clusters', {
      token: admin,
      body: { name: 'reg', plan_name: 'registry', parameters: { kubernetes_master_host: 'reg.example.test' } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const task = await t.waitTask(admin, res.body.task_id, 90_000);
    expect(task.state, JSON.stringify(task.error)).toBe('done');
    const names = task.steps.map((s: { name: string }) => s.name);
    expect(names.indexOf('registry')).toBe(names.indexOf('credentials') + 1);
    expect(names.indexOf('registry')).toBeLessThan(names.indexOf('masters'));
    uuid = res.body.uuid;
    project = `slipway-reg-${uuid.slice(0, 8)}`;
    const step = task.steps.find((s: { name: string }) => s.name === 'registry');
    expect(step.detail).toContain(`project ${project} on ${harbor.host}`);
    // No kube-apiserver answers here: the step says it skipped and why.
    const secret = task.steps.find((s: { name: string }) => s.name === 'registry-pull-secret');
    expect(secret.detail).toMatch(/^skipped: the Kubernetes API at https:\/\/.* does not answer/);
  }, 120_000);

  it("gives the project the plan's policy and quota, and the owner as maintainer", () => {
    const stored = [...harbor.state.projects.values()].find((p) => p.name === project)!;
    expect(stored.metadata).toMatchObject({
      public: 'false',
      prevent_vul: 'true',
      severity: 'high',
      auto_scan: 'true',
    });
    expect(stored.storageLimit).toBe(2 * 1024 ** 3);
    expect([...harbor.state.members.values()].filter((m) => m.projectId === stored.id)).toMatchObject([
      { username: 'admin', roleId: 4 },
    ]);
  });

  it('slipway cluster shows the project and the pull robot', async () => {
    const view = (await t.call('GET', '/v1/clusters/reg', { token: admin })).body;
    expect(view.registry).toEqual({
      project,
      endpoint: harbor.host,
      pull_robot: `robot$${project}+nodes-${uuid.slice(0, 8)}`,
      push_robot: `robot$${project}+ci-${uuid.slice(0, 8)}`,
    });
  });

  it("stores the robots' secrets under the cluster's path, and the registry honours them", async () => {
    // The nodes' pull secret is not the owner's to read: it would let them pull as every node of the cluster.
    const refused = await t.call(
      'GET',
      `/api/v1/data?name=${encodeURIComponent(`/slipway/clusters/${uuid}/registry/pull-robot`)}&current=true`,
      { token: admin },
    );
    expect(refused.status).toBe(404);
    const pull = await engineRead(`/slipway/clusters/${uuid}/registry/pull-robot`);
    const push = await robotLogin(`/slipway/clusters/${uuid}/registry/push-robot`);
    const probe = (login: { username: string; password: string }) =>
      probeRepositoryAccess(
        harbor.host,
        harbor.caPem,
        { username: login.username, secret: login.password },
        `${project}/app`,
      );
    expect(await probe(pull)).toEqual({ authenticated: true, pull: true, push: false });
    expect(await probe(push)).toEqual({ authenticated: true, pull: true, push: true });
  });

  it('rotate-certificates --registry-only gives the robots new secrets; the old ones are refused', async () => {
    const before = await engineRead(`/slipway/clusters/${uuid}/registry/pull-robot`);
    const res = await t.call('POST', '/v1/clusters/reg/rotate-certificates', {
      token: admin,
      body: { registry_only: true },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const task = await t.waitTask(admin, res.body.task_id, 60_000);
    expect(task.state, JSON.stringify(task.error)).toBe('done');
    expect(task.steps.map((s: { name: string }) => s.name)).toEqual(['registry-robots', 'registry-pull-secret']);
    const after = await engineRead(`/slipway/clusters/${uuid}/registry/pull-robot`);
    expect(after.username).toBe(before.username);
    expect(after.password).not.toBe(before.password);
    const probe = (login: { username: string; password: string }) =>
      probeRepositoryAccess(
        harbor.host,
        harbor.caPem,
        { username: login.username, secret: login.password },
        `${project}/app`,
      );
    expect((await probe(before)).authenticated).toBe(false);
    expect((await probe(after)).pull).toBe(true);
  }, 90_000);

  it('delete-cluster deletes the robots, their secrets and the empty project', async () => {
    const res = await t.call('DELETE', '/v1/clusters/reg', { token: admin });
    const task = await t.waitTask(admin, res.body.task_id, 90_000);
    expect(task.state, JSON.stringify(task.error)).toBe('done');
    expect(task.steps.find((s: { name: string }) => s.name === 'registry-teardown').detail).toBe(
      `robots deleted; project ${project} deleted`,
    );
    expect([...harbor.state.projects.values()].map((p) => p.name)).not.toContain(project);
    expect([...harbor.state.robots.values()].filter((r) => r.name.includes(uuid.slice(0, 8)))).toEqual([]);
    const gone = await t.call(
      'GET',
      `/api/v1/data?name=${encodeURIComponent(`/slipway/clusters/${uuid}/registry/pull-robot`)}&current=true`,
      { token: admin },
    );
    expect(gone.status).toBe(404);
  }, 120_000);
});
