import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { storeMatrix } from '@slipway/testkit/store-matrix';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';

// The API's own tests run on SQLite; this one runs a cluster's life through the API with the store on
// PostgreSQL, the credential store and the network's addresses in the same database.
const postgres = (await storeMatrix()).find((m) => m.dialect === 'postgres')!;

describe.skipIf(postgres.skip)(`a control plane on ${postgres.title}`, () => {
  let t: TestControlPlane;
  let admin: string;
  let url: string;
  beforeAll(async () => {
    url = await postgres.fresh();
    t = await startTestControlPlane({ env: { SLIPWAY_STORE_URL: url } });
    admin = await t.login('admin', ADMIN_PASSWORD);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await postgres.dispose();
  });

  it('creates, refuses a second task, resizes and deletes a cluster, all of it in the database', async () => {
    const created = await t.call('POST', '/v1/clusters', {
      token: admin,
      body: { name: 'pg', plan_name: 'small', parameters: { kubernetes_master_host: 'pg.example.test' } },
    });
    expect(created.status).toBe(202);
    const busy = await t.call('PATCH', '/v1/clusters/pg', { token: admin, body: { kubernetes_worker_instances: 4 } });
    expect(busy.status).toBe(409);
    expect(busy.body.detail).toContain(`task ${created.body.task_id}`);
    expect((await t.waitTask(admin, created.body.task_id, 60_000)).state).toBe('done');

    const resized = await t.call('PATCH', '/v1/clusters/pg', {
      token: admin,
      body: { kubernetes_worker_instances: 4 },
    });
    expect((await t.waitTask(admin, resized.body.task_id, 60_000)).state).toBe('done');
    const instances = (await t.call('GET', '/v1/clusters/pg/instances', { token: admin })).body as Array<{
      ip: string;
    }>;
    expect(instances).toHaveLength(5);

    // The state is where the URL says: the cluster, its certificates and its addresses, in PostgreSQL.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const count = async (q: string) => Number((await client.query(q)).rows[0].n);
      expect(await count("select count(*) as n from clusters where name = 'pg' and status = 'active'")).toBe(1);
      expect(await count('select count(*) as n from credhub_credentials')).toBeGreaterThan(5);
      expect(await count('select count(distinct ip) as n from flat_allocations')).toBe(5);
    } finally {
      await client.end();
    }

    const deleted = await t.call('DELETE', '/v1/clusters/pg', { token: admin });
    expect((await t.waitTask(admin, deleted.body.task_id, 60_000)).state).toBe('done');
    expect((await t.call('GET', '/v1/clusters/pg', { token: admin })).status).toBe(404);
  }, 180_000);
});
