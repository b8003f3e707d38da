import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';

let t: TestControlPlane;
let admin: string;

beforeAll(async () => {
  t = await startTestControlPlane();
  admin = await t.login('admin', ADMIN_PASSWORD);
}, 60_000);
afterAll(async () => t?.stop());

async function user(name: string, roles = ['clusters.manage']): Promise<string> {
  const res = await t.call('POST', '/v1/users', { token: admin, body: { name, password: `${name}-password`, roles } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return t.login(name, `${name}-password`);
}

async function createCluster(token: string, name: string): Promise<{ status: number; body: any }> {
  const res = await t.call('POST', '/v1/clusters', {
    token,
    body: {
      name,
      plan_name: 'small',
      parameters: { kubernetes_master_host: `${name}.example.test`, kubernetes_worker_instances: 1 },
    },
  });
  if (res.status === 202) expect((await t.waitTask(token, res.body.task_id, 60_000)).state).toBe('done');
  return res;
}

const read = (name: string, token: string) =>
  t.call('GET', `/api/v1/data?name=${encodeURIComponent(name)}&current=true`, { token });

describe('tenants', () => {
  it('keep cluster names per owner: a name another tenant uses is free, and admins name such clusters by uuid', async () => {
    const ann = await user('ann');
    const ben = await user('ben');
    const first = await createCluster(ann, 'web');
    // Ben cannot tell that Ann has a "web": his create of the name succeeds as for any free name.
    const second = await createCluster(ben, 'web');
    expect(second.status).toBe(202);
    expect(second.body.uuid).not.toBe(first.body.uuid);
    // His own name twice is a conflict, naming only his own cluster.
    const again = await t.call('POST', '/v1/clusters', {
      token: ben,
      body: { name: 'web', plan_name: 'small', parameters: { kubernetes_master_host: 'x.example.test' } },
    });
    expect(again).toMatchObject({ status: 409, body: { detail: 'you already have a cluster named "web"' } });
    expect((await t.call('GET', '/v1/clusters/web', { token: ann })).body.uuid).toBe(first.body.uuid);
    expect((await t.call('GET', '/v1/clusters/web', { token: ben })).body.uuid).toBe(second.body.uuid);
    // Ann addressing Ben's cluster by uuid: the answer of a uuid nobody has.
    const foreign = await t.call('GET', `/v1/clusters/${second.body.uuid}`, { token: ann });
    const none = await t.call('GET', '/v1/clusters/5f1e1c8e-0000-4000-8000-000000000000', { token: ann });
    expect(foreign.status).toBe(404);
    expect(foreign.body.detail.replace(second.body.uuid, 'X')).toBe(
      none.body.detail.replace('5f1e1c8e-0000-4000-8000-000000000000', 'X'),
    );
    // The admin sees both: the name is ambiguous for it, the uuid is not.
    const ambiguous = await t.call('GET', '/v1/clusters/web', { token: admin });
    expect(ambiguous.status).toBe(409);
    expect(ambiguous.body.detail).toContain(first.body.uuid);
    expect((await t.call('GET', `/v1/clusters/${second.body.uuid}`, { token: admin })).body).toMatchObject({
      name: 'web',
      owner: 'ben',
    });
    // One owner racing creates of one name: the unique index lets exactly one in.
    const racing = await Promise.all(
      Array.from({ length: 6 }, () =>
        t.call('POST', '/v1/clusters', {
          token: ann,
          body: {
            name: 'dup',
            plan_name: 'small',
            parameters: { kubernetes_master_host: 'dup.example.test', kubernetes_worker_instances: 1 },
          },
        }),
      ),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409, 409]);
    await t.waitTask(ann, racing.find((r) => r.status === 202)!.body.task_id, 60_000);
    // Tasks of "web": each tenant sees its own; a name nobody uses gives the same empty answer as another's.
    const annTasks = await t.call('GET', '/v1/tasks?cluster=web', { token: ann });
    expect(annTasks.body.map((task: { cluster_uuid?: string; description: string }) => task.description)).toEqual([
      'create cluster web',
    ]);
    expect((await t.call('GET', '/v1/tasks?cluster=nobodys', { token: ann })).body).toEqual([]);
  }, 120_000);

  it('give exactly one 201 to concurrent creates of a user, and 409 to the rest', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, () =>
        t.call('POST', '/v1/users', {
          token: admin,
          body: { name: 'racer', password: 'racer-password', roles: ['clusters.manage'] },
        }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(11);
  });

  it("refuse to delete a user who owns clusters; a new user of a deleted user's name inherits nothing", async () => {
    const cat = await user('cat');
    const cluster = await createCluster(cat, 'cats');
    const path = `/slipway/clusters/${cluster.body.uuid}`;
    expect((await t.call('POST', '/v1/clusters/cats/binds', { token: cat })).status).toBe(201);
    const catId = (await t.call('GET', '/v1/users/cat', { token: cat })).body.id;
    expect((await read(`${path}/kubernetes-ca`, cat)).status).toBe(200);

    const refused = await t.call('DELETE', '/v1/users/cat', { token: admin });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain('owns 1 cluster (cats)');
    expect(refused.body.hint).toContain('--reassign-to');

    // Handed over to dan: dan reads and changes the cluster, cat's token and grants are gone.
    const dan = await user('dan');
    const moved = await t.call('DELETE', '/v1/users/cat?reassign_to=dan', { token: admin });
    expect(moved).toMatchObject({ status: 200, body: { reassigned: ['cats'] } });
    expect((await t.call('GET', '/v1/clusters', { token: cat })).status).toBe(401);
    expect((await t.call('GET', '/v1/clusters/cats', { token: dan })).body).toMatchObject({
      owner: 'dan',
      uuid: cluster.body.uuid,
    });
    expect((await read(`${path}/kubernetes-ca`, dan)).status).toBe(200);
    const certs = await t.call('GET', `/api/v1/data?path=${encodeURIComponent(path)}`, { token: admin });
    expect(certs.body.credentials.map((c: { name: string }) => c.name)).not.toContain(`${path}/users/${catId}`);

    // A new "cat": no cluster, no credential, no audit trail of the old one.
    const newCat = await user('cat');
    expect((await t.call('GET', '/v1/users/cat', { token: newCat })).body.id).not.toBe(catId);
    expect((await t.call('GET', '/v1/clusters', { token: newCat })).body).toEqual([]);
    expect((await t.call('GET', '/v1/clusters/cats', { token: newCat })).status).toBe(404);
    expect((await t.call('GET', '/v1/tasks', { token: newCat })).body).toEqual([]);
    expect((await read(`${path}/kubernetes-ca`, newCat)).status).toBe(404);
    expect(
      (await t.call('GET', `/api/v1/data?path=${encodeURIComponent(path)}`, { token: newCat })).body.credentials,
    ).toEqual([]);
    const trail = (await t.call('GET', '/api/v1/audit', { token: newCat })).body.events as Array<{ actor: string }>;
    expect(trail.length).toBeGreaterThan(0);
    expect(trail.filter((e) => e.actor === `user:${catId}`)).toEqual([]);

    // Reassigning to someone who could not manage clusters is refused, naming the field.
    await user('viewer', ['clusters.admin.read']);
    await createCluster(newCat, 'kittens');
    const toViewer = await t.call('DELETE', '/v1/users/cat?reassign_to=viewer', { token: admin });
    expect(toViewer).toMatchObject({ status: 400, body: { field: 'reassign_to' } });
  }, 120_000);

  it('let admins set roles and passwords, and a user change its own password with its current one', async () => {
    const eve = await user('eve');
    expect(
      (await t.call('PUT', '/v1/users/eve/password', { token: eve, body: { password: 'eve-new-password' } })).body
        .field,
    ).toBe('old_password');
    expect(
      (
        await t.call('PUT', '/v1/users/eve/password', {
          token: eve,
          body: { password: 'eve-new-password', old_password: 'wrong-password' },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await t.call('PUT', '/v1/users/eve/password', {
          token: eve,
          body: { password: 'eve-new-password', old_password: 'eve-password' },
        })
      ).status,
    ).toBe(204);
    const again = await t.login('eve', 'eve-new-password');
    expect((await t.call('GET', '/v1/clusters', { token: eve })).status).toBe(200);
    // An admin's reset ends the user's sessions.
    expect(
      (await t.call('PUT', '/v1/users/eve/password', { token: admin, body: { password: 'eve-reset-password' } }))
        .status,
    ).toBe(204);
    expect((await t.call('GET', '/v1/clusters', { token: again })).status).toBe(401);
    const fresh = await t.login('eve', 'eve-reset-password');
    expect(
      (await t.call('PUT', '/v1/users/eve/roles', { token: admin, body: { roles: ['clusters.admin.read'] } })).body
        .roles,
    ).toEqual(['clusters.admin.read']);
    expect(
      (
        await t.call('POST', '/v1/clusters', {
          token: fresh,
          body: { name: 'x', plan_name: 'small', parameters: { kubernetes_master_host: 'x.example.test' } },
        })
      ).status,
    ).toBe(403);
    // The last admin keeps its role.
    expect(
      (await t.call('PUT', '/v1/users/admin/roles', { token: admin, body: { roles: ['clusters.manage'] } })).status,
    ).toBe(409);
  });
});
