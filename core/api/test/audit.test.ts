import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_YAML } from '@slipway/engine';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';

let t: TestControlPlane;
let admin: string;

beforeAll(async () => {
  // A quick health monitor, so a killed VM is found missing and resurrected within seconds.
  t = await startTestControlPlane({
    configYaml: `${DEFAULT_CONFIG_YAML}\nhealth: { agent_timeout_seconds: 2, analyze_interval_seconds: 0.2, cloud_check_interval_seconds: 0.3 }\n`,
  });
  admin = await t.login('admin', ADMIN_PASSWORD);
}, 60_000);
afterAll(async () => t?.stop());

const audit = async (token: string, query = '') => {
  const res = await t.call('GET', `/v1/audit${query}`, { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as Array<{
    id: number;
    actor: string;
    action: string;
    target: string | null;
    result: string;
    source: string | null;
    request_id: string | null;
    cluster_uuid: string | null;
    details: any;
  }>;
};

describe('the audit trail', () => {
  it('records logins, API changes with their request ids, denials and credential operations, and shows each user only their own', async () => {
    const failed = await t.call('POST', '/oauth/token', {
      form: { grant_type: 'password', username: 'dora', password: 'not-her-password' },
    });
    expect(failed.status).toBe(401);
    const made = await t.call('POST', '/v1/users', {
      token: admin,
      body: { name: 'dora', password: 'dora-password', roles: ['clusters.manage'] },
    });
    expect(made.status).toBe(201);
    const dora = await t.login('dora', 'dora-password');
    const created = await t.call('POST', '/v1/clusters', {
      token: dora,
      body: {
        name: 'audited',
        plan_name: 'small',
        parameters: { kubernetes_master_host: 'audited.example.test', kubernetes_worker_instances: 1 },
      },
    });
    expect(created.status).toBe(202);
    expect((await t.waitTask(dora, created.body.task_id, 60_000)).state).toBe('done');
    const bind = await t.call('POST', '/v1/clusters/audited/binds', { token: dora });
    expect(bind.status).toBe(201);
    // Through the CredHub API, as herself: her cluster's CA, then a name she may not read.
    const ca = `/slipway/clusters/${created.body.uuid}/kubernetes-ca`;
    expect(
      (await t.call('GET', `/api/v1/data?name=${encodeURIComponent(ca)}&current=true`, { token: dora })).status,
    ).toBe(200);
    expect(
      (
        await t.call('GET', `/api/v1/data?name=${encodeURIComponent('/slipway/control-plane/agent-ca')}&current=true`, {
          token: dora,
        })
      ).status,
    ).toBe(404);
    const refused = await t.call('POST', '/v1/users', {
      token: dora,
      body: { name: 'eve', password: 'eve-password', roles: ['clusters.admin'] },
    });
    expect(refused.status).toBe(403);

    const all = await audit(admin, '?limit=1000');
    const failedLogin = all.find((e) => e.action === 'login' && e.actor === 'dora' && e.result === 'failure')!;
    expect(failedLogin).toMatchObject({ request_id: failed.headers['x-request-id'], details: { status: 401 } });
    expect(failedLogin.source).toMatch(/127\.0\.0\.1/);
    expect(all.find((e) => e.action === 'login' && e.actor === 'dora' && e.result === 'success')).toBeDefined();
    expect(all.find((e) => e.action === 'user.create' && e.actor === 'admin')).toMatchObject({
      actor: 'admin',
      target: 'user:dora',
      result: 'success',
      request_id: made.headers['x-request-id'],
    });
    expect(all.find((e) => e.action === 'cluster.create')).toMatchObject({
      actor: 'dora',
      target: 'cluster:audited',
      cluster_uuid: created.body.uuid,
      result: 'success',
      request_id: created.headers['x-request-id'],
    });
    expect(all.find((e) => e.action === 'cluster.binds')).toMatchObject({
      actor: 'dora',
      target: 'cluster:audited',
      result: 'success',
    });
    expect(all.find((e) => e.action === 'user.create' && e.actor === 'dora')).toMatchObject({
      result: 'denied',
      details: { status: 403, error: 'Forbidden' },
    });
    // The credential store's operations are written through: the engine's, and the user's own reads for her kubeconfig.
    expect(
      all.some(
        (e) =>
          e.action === 'credential.generate' && e.actor === 'slipway:engine' && e.target?.includes(created.body.uuid),
      ),
    ).toBe(true);
    expect(
      all.find((e) => e.action === 'credential.get' && e.actor === 'dora' && e.target === `credential:${ca}`),
    ).toMatchObject({ result: 'success' });
    expect(all.find((e) => e.action === 'credential.get' && e.actor === 'dora' && e.result === 'denied')).toMatchObject(
      { target: 'credential:/slipway/control-plane/agent-ca' },
    );

    // Dora reads only what she did; asking for another actor is refused; filters combine.
    const hers = await audit(dora, '?limit=1000');
    expect(hers.length).toBeGreaterThan(3);
    expect(hers.every((e) => e.actor === 'dora')).toBe(true);
    expect((await t.call('GET', '/v1/audit?actor=admin', { token: dora })).status).toBe(403);
    const clusterOnly = await audit(dora, '?action=cluster.*&cluster=audited');
    expect(clusterOnly.map((e) => e.action).sort()).toEqual(['cluster.binds', 'cluster.create']);
    // Paging: newest first, `before` continues where a page ended.
    const page1 = await audit(admin, '?limit=3');
    const page2 = await audit(admin, `?limit=3&before=${page1[2].id}`);
    expect(page2[0].id).toBeLessThan(page1[2].id);
    expect(await audit(admin, `?since=2999-01-01`)).toEqual([]);
    expect((await t.call('GET', '/v1/audit?since=yesterday', { token: admin })).body).toMatchObject({ field: 'since' });
    expect((await t.call('GET', '/v1/audit?result=maybe', { token: admin })).body).toMatchObject({ field: 'result' });
  }, 120_000);

  it('records what the engine decides on its own: a resurrection', async () => {
    const instances = (await t.call('GET', '/v1/clusters/audited/instances', { token: admin })).body as Array<{
      vm_cid: string;
    }>;
    const killed = await t.call('POST', `/v1/sandbox/sandbox/vms/${encodeURIComponent(instances[0].vm_cid)}/kill`, {
      token: admin,
    });
    expect(killed.status).toBe(204);
    const deadline = Date.now() + 30_000;
    let decision;
    while (!decision && Date.now() < deadline) {
      decision = (await audit(admin, '?actor=engine&action=resurrection.start')).find(
        (e) => e.target === 'cluster:audited',
      );
      if (!decision) await new Promise((r) => setTimeout(r, 200));
    }
    expect(decision).toMatchObject({ actor: 'engine', result: 'success', details: { task_id: expect.any(Number) } });
    // The admin's kill is in the trail too, under the route pattern's name.
    expect((await audit(admin, '?action=sandbox.*')).map((e) => e.action)).toContain('sandbox.vms.kill');
  }, 60_000);
});
