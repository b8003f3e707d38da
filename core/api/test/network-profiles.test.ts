import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_YAML } from '@slipway/engine';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';

const HAPROXY = '/usr/sbin/haproxy';

describe('network profiles through the REST API', () => {
  let t: TestControlPlane;
  let admin: string;
  let dev: string;
  let other: string;

  beforeAll(async () => {
    t = await startTestControlPlane();
    admin = await t.login('admin', ADMIN_PASSWORD);
    for (const name of ['dev', 'other']) {
      const made = await t.call('POST', '/v1/users', {
        token: admin,
        body: { name, password: `${name}-password-1`, roles: ['clusters.manage'] },
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
    }
    dev = await t.login('dev', 'dev-password-1');
    other = await t.login('other', 'other-password-1');
  }, 60_000);
  afterAll(async () => t?.stop());

  const profile = (
    name: string,
    parameters: Record<string, unknown> = { nodes_dns: ['10.53.0.10'], lb_size: 'small' },
  ) => ({ name, description: 'test', parameters });

  it('lets admins create profiles, and anyone who creates clusters read them', async () => {
    const created = await t.call('POST', '/v1/network-profiles', { token: admin, body: profile('small-dns') });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers.location).toBe('/v1/network-profiles/small-dns');
    expect(created.body).toMatchObject({
      name: 'small-dns',
      parameters: { nodes_dns: ['10.53.0.10'], lb_size: 'small' },
      created_by: 'admin',
    });
    const listed = await t.call('GET', '/v1/network-profiles', { token: dev });
    expect(listed.status).toBe(200);
    expect(listed.body.map((p: { name: string }) => p.name)).toContain('small-dns');
    expect((await t.call('GET', '/v1/network-profiles/small-dns', { token: dev })).body.parameters.lb_size).toBe(
      'small',
    );
    const refused = await t.call('POST', '/v1/network-profiles', { token: dev, body: profile('mine') });
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/may not create network profiles: needs one of clusters.admin/);
    expect((await t.call('DELETE', '/v1/network-profiles/small-dns', { token: dev })).status).toBe(403);
    const again = await t.call('POST', '/v1/network-profiles', { token: admin, body: profile('small-dns') });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('AlreadyExists');
  });

  it('refuses a bad profile with every error at its path', async () => {
    const res = await t.call('POST', '/v1/network-profiles', {
      token: admin,
      body: {
        name: 'Bad Name',
        parameters: { nodes_dns: ['10.0.0.1', 'dns.example'], lb_size: 'huge', pod_subnet_prefix: 40, colour: 'blue' },
      },
    });
    expect(res.status).toBe(400);
    const errors: string[] = res.body.details.errors;
    expect(errors.some((e) => e.startsWith('name: must be lowercase letters'))).toBe(true);
    expect(errors).toContain('parameters.nodes_dns[1]: must be an IPv4 address (got "dns.example")');
    expect(errors).toContain('parameters.lb_size: must be one of "small", "medium", "large"');
    expect(errors.some((e) => e.startsWith('parameters.pod_subnet_prefix: must be <= 28'))).toBe(true);
    expect(errors).toContain('parameters.colour: is not a known field (check its spelling)');
    expect(res.body.field).toBe('name');
    expect(
      (await t.call('GET', '/v1/network-profiles', { token: admin })).body.map((p: { name: string }) => p.name),
    ).not.toContain('Bad Name');
  });

  it('creates a cluster with a profile, refuses an unknown one, and shows the profile', async () => {
    const unknown = await t.call('POST', '/v1/clusters', {
      token: dev,
      body: {
        name: 'np-missing',
        plan_name: 'small',
        network_profile_name: 'nope',
        parameters: { kubernetes_master_host: 'np.example.test' },
      },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ field: 'network_profile_name' });
    const res = await t.call('POST', '/v1/clusters', {
      token: dev,
      body: {
        name: 'np-one',
        plan_name: 'small',
        network_profile_name: 'small-dns',
        parameters: { kubernetes_master_host: 'np.example.test', kubernetes_worker_instances: 1 },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const task = await t.waitTask(dev, res.body.task_id, 60_000);
    expect(task.state, JSON.stringify(task.error)).toBe('done');
    expect((await t.call('GET', '/v1/clusters/np-one', { token: dev })).body.network_profile_name).toBe('small-dns');
  }, 90_000);

  it("refuses to delete a profile in use, naming how many clusters use it but not another tenant's names", async () => {
    const res = await t.call('DELETE', '/v1/network-profiles/small-dns', { token: admin });
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/network profile "small-dns" is used by 1 cluster/);
    expect(res.body.details).toEqual({ clusters: 1 });
    // A tenant without the cluster sees neither the cluster nor its name through the profile.
    expect((await t.call('GET', '/v1/clusters/np-one', { token: other })).status).toBe(404);
    expect(
      JSON.stringify((await t.call('GET', '/v1/network-profiles/small-dns', { token: other })).body),
    ).not.toContain('np-one');
  });

  it('updates a cluster to a profile that changes only updatable fields, and refuses one that changes its topology', async () => {
    await t.call('POST', '/v1/network-profiles', {
      token: admin,
      body: profile('small-dns-2', { nodes_dns: ['10.53.0.20', '10.53.0.21'], lb_size: 'small' }),
    });
    await t.call('POST', '/v1/network-profiles', {
      token: admin,
      body: profile('large-lb', { nodes_dns: ['10.53.0.10'], lb_size: 'large' }),
    });
    const fixed = await t.call('PATCH', '/v1/clusters/np-one', {
      token: dev,
      body: { network_profile_name: 'large-lb' },
    });
    expect(fixed.status).toBe(400);
    expect(fixed.body.detail).toMatch(/changes parameters.lb_size, which a running cluster cannot change/);
    expect(fixed.body.field).toBe('parameters.lb_size');
    const ok = await t.call('PATCH', '/v1/clusters/np-one', {
      token: dev,
      body: { network_profile_name: 'small-dns-2' },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
    const task = await t.waitTask(dev, ok.body.task_id, 60_000);
    expect(task.state, JSON.stringify(task.error)).toBe('done');
    const cluster = (await t.call('GET', '/v1/clusters/np-one', { token: dev })).body;
    expect(cluster).toMatchObject({
      network_profile_name: 'small-dns-2',
      parameters: { kubernetes_worker_instances: 1 },
    });
    // The old profile is free now.
    expect((await t.call('DELETE', '/v1/network-profiles/small-dns', { token: admin })).status).toBe(204);
    expect((await t.call('GET', '/v1/network-profiles/small-dns', { token: admin })).status).toBe(404);
  }, 90_000);
});

const LB_CONFIG = DEFAULT_CONFIG_YAML.replace(
  /network:\n(.*\n)*?(?=\nkubernetes:)/,
  `network:
  plugin: "@slipway/network-flat"
  config:
    ranges:
      sandbox:
        cidr: 10.21.0.0/16
    load_balancer:
      mode: haproxy
      vip_range: 127.77.3.10-127.77.3.20
      haproxy_binary: ${HAPROXY}
      health_check_interval_ms: 1000
`,
);

describe.skipIf(!existsSync(HAPROXY))(
  `a cluster behind the flat network's HAProxy VIP${existsSync(HAPROXY) ? '' : ` (skipped: ${HAPROXY} is not installed)`}`,
  () => {
    let t: TestControlPlane;
    let admin: string;
    beforeAll(async () => {
      t = await startTestControlPlane({ configYaml: LB_CONFIG });
      admin = await t.login('admin', ADMIN_PASSWORD);
    }, 60_000);
    afterAll(async () => t?.stop());

    it('shows the VIP before the masters, puts it in kubeconfigs, and stops its HAProxy on delete', async () => {
      expect(LB_CONFIG).toContain('mode: haproxy');
      const res = await t.call('POST', '/v1/clusters', {
        token: admin,
        body: {
          name: 'vip',
          plan_name: 'ha',
          parameters: { kubernetes_master_host: 'vip.example.test', kubernetes_worker_instances: 1 },
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      const task = await t.waitTask(admin, res.body.task_id, 90_000);
      expect(task.state, JSON.stringify(task.error)).toBe('done');
      const cluster = (await t.call('GET', '/v1/clusters/vip', { token: admin })).body;
      expect(cluster.kubernetes_api_vip).toBe('127.77.3.10');
      expect(cluster.kubernetes_master_ips[0]).toBe('127.77.3.10');
      expect(cluster.kubernetes_master_ips.slice(1)).toHaveLength(3);
      for (const ip of cluster.kubernetes_master_ips.slice(1)) expect(ip).toMatch(/^10\.21\./);
      const kubeconfig = (await t.call('POST', '/v1/clusters/vip/binds', { token: admin })).body;
      expect(JSON.stringify(kubeconfig)).toContain('https://127.77.3.10:8443');
      const gone = await t.call('DELETE', '/v1/clusters/vip', { token: admin });
      expect((await t.waitTask(admin, gone.body.task_id, 60_000)).state).toBe('done');
      const { execFileSync } = await import('node:child_process');
      const running = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes('haproxy') && l.includes(cluster.uuid));
      expect(running, 'no HAProxy of the deleted cluster runs').toEqual([]);
    }, 150_000);

    it('doctor --leftovers finds the network objects of a cluster the store says is gone, and removes them', async () => {
      const res = await t.call('POST', '/v1/clusters', {
        token: admin,
        body: {
          name: 'left',
          plan_name: 'small',
          parameters: { kubernetes_master_host: 'left.example.test', kubernetes_worker_instances: 1 },
        },
      });
      expect((await t.waitTask(admin, res.body.task_id, 90_000)).state).toBe('done');
      const { uuid } = (await t.call('GET', '/v1/clusters/left', { token: admin })).body;
      expect(
        (await t.call('GET', '/v1/network-leftovers', { token: admin })).body.leftovers,
        "a live cluster's network is no leftover",
      ).toEqual([]);
      const refused = await t.call('DELETE', `/v1/network-leftovers/${uuid}`, { token: admin });
      expect(refused.status).toBe(409);
      // What a delete interrupted after its network step would leave, made directly in the store: the cluster
      // row says deleted while the network still holds its VIP, its HAProxy and its addresses.
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(join(t.home, 'slipway.db'));
      db.prepare("update clusters set status = 'deleted', live = null where uuid = ?").run(uuid);
      db.close();
      const found = (await t.call('GET', '/v1/network-leftovers', { token: admin })).body;
      expect(found.supported).toBe(true);
      expect(found.leftovers).toHaveLength(1);
      expect(found.leftovers[0]).toMatchObject({ cluster_uuid: uuid, cluster_name: 'left' });
      expect(found.leftovers[0].objects.map((o: { kind: string }) => o.kind)).toEqual(
        expect.arrayContaining(['vip', 'haproxy-process', 'address', 'lb-config']),
      );
      const removed = await t.call('DELETE', `/v1/network-leftovers/${uuid}`, { token: admin });
      expect(removed.status).toBe(204);
      expect((await t.call('GET', '/v1/network-leftovers', { token: admin })).body.leftovers).toEqual([]);
    }, 150_000);
  },
);
