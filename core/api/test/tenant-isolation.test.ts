import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_PASSWORD,
  seededRandom as random,
  startTestControlPlane,
  type ApiResponse,
  type TestControlPlane,
} from './harness.js';

let t: TestControlPlane;
let admin: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestControlPlane();
  admin = await t.login('admin', ADMIN_PASSWORD);
  const ids: Record<string, number> = {};
  for (const user of ['mallory', 'bob', 'carol']) {
    const created = await t.call('POST', '/v1/users', {
      token: admin,
      body: { name: user, password: `${user}-password-1`, roles: ['clusters.manage'] },
    });
    expect(created.status).toBe(201);
    ids[user] = created.body.id;
    tokens[user] = await t.login(user, `${user}-password-1`);
  }
  // Credential actors are users' immutable ids (as CredHub names UAA users by guid), not their names.
  for (const user of ['bob', 'carol']) {
    const res = await t.call('POST', '/api/v2/permissions', {
      token: admin,
      body: { actor: `user:${ids[user]}`, path: `/team/${user}/*`, operations: ['read', 'write'] },
    });
    expect(res.status).toBe(201);
  }
}, 120_000);

afterAll(async () => t?.stop());

/** Bodies a hostile tenant sends to the credential API: wrong types, missing fields, huge and deep values. */
function hostileBodies(count: number, seed: number): Array<{ method: string; body: unknown }> {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
  const names: unknown[] = [
    true,
    false,
    null,
    '',
    0,
    42,
    -1,
    [],
    {},
    ['/a'],
    { a: 1 },
    'x'.repeat(5000),
    '/ok/../x',
    '//',
    '/a//b',
    '/mallory/x',
    '\u0000',
  ];
  const types: unknown[] = [
    'value',
    'password',
    'json',
    'user',
    'certificate',
    'rsa',
    'ssh',
    true,
    null,
    7,
    'secret',
    '',
  ];
  const values: unknown[] = [
    true,
    null,
    0,
    '',
    'v',
    [],
    {},
    { password: true },
    { username: 5, password: 'p' },
    { public_key: 5 },
    { certificate: 7 },
    'y'.repeat(70_000),
  ];
  let deep: unknown = 'bottom';
  for (let i = 0; i < 60; i++) deep = { d: deep };
  const out: Array<{ method: string; body: unknown }> = [];
  for (let i = 0; i < count; i++) {
    const shape = Math.floor(next() * 6);
    if (shape === 0) out.push({ method: 'PUT', body: { name: pick(names), type: pick(types), value: pick(values) } });
    else if (shape === 1)
      out.push({
        method: 'POST',
        body: {
          name: pick(names),
          type: pick(types),
          parameters: pick([null, true, 5, { length: 'x' }, { length: 1e9 }, { key_length: 'big' }, deep]),
        },
      });
    else if (shape === 2)
      out.push({
        method: 'PUT',
        body: { name: pick(names), type: 'value', value: 'v', metadata: pick([true, 5, 'm', [], deep]) },
      });
    else if (shape === 3) out.push({ method: 'POST', body: { name: pick(names), regenerate: pick([true, 'yes', 1]) } });
    else if (shape === 4)
      out.push({ method: 'PUT', body: pick(['{', '[]', 'null', '"x"', JSON.stringify(deep), '{"name":']) });
    else out.push({ method: 'PUT', body: { name: `/team/bob/${i}`, type: 'value', value: 'stolen' } });
  }
  return out;
}

async function inBatches<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(work));
}

describe("one tenant's bad requests never fail another's", () => {
  it('refuses "name": true, null and "" with a 400 naming the field, and stores nothing', async () => {
    for (const name of [true, null, '', 5]) {
      const res = await t.call('PUT', '/api/v1/data', { token: admin, body: { name, type: 'value', value: 'v' } });
      expect(res.status, JSON.stringify(name)).toBe(400);
      expect(res.body.field).toBe('name');
    }
    const res = await t.call('POST', '/api/v1/data', {
      token: admin,
      body: { name: '/x', type: 'password', parameters: { length: 'long' } },
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('parameters.length');
    const listed = await t.call('GET', '/api/v1/data?path=/', { token: admin });
    expect(listed.body.credentials.map((c: { name: string }) => c.name)).not.toContain('');
  });

  it("keeps every admin create and every other user's write, each with its audit event, while a tenant fuzzes the API", async () => {
    const hostile: ApiResponse[] = [];
    const fuzz = inBatches(hostileBodies(600, 11), 12, async ({ method, body }) => {
      hostile.push(await t.call(method, '/api/v1/data', { token: tokens.mallory, body }));
    });
    const writes: Array<{ user: string; res: ApiResponse }> = [];
    const others = Promise.all(
      ['bob', 'carol'].map((user) =>
        inBatches(
          Array.from({ length: 40 }, (_, i) => i),
          8,
          async (i) => {
            const res = await t.call('PUT', '/api/v1/data', {
              token: tokens[user],
              body: { name: `/team/${user}/secret-${i}`, type: 'value', value: `v${i}` },
            });
            writes.push({ user, res });
          },
        ),
      ),
    );
    const creates = Promise.all(
      ['iso-a', 'iso-b'].map(async (name) => {
        const res = await t.call('POST', '/v1/clusters', {
          token: admin,
          body: { name, plan_name: 'small', parameters: { kubernetes_master_host: `${name}.example.test` } },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(202);
        return t.waitTask(admin, res.body.task_id, 90_000);
      }),
    );
    const [tasks] = await Promise.all([creates, fuzz, others]);

    for (const task of tasks) expect(task.state, JSON.stringify(task.error)).toBe('done');
    const serverErrors = hostile.filter((r) => r.status >= 500);
    expect(serverErrors.map((r) => JSON.stringify(r.body)).slice(0, 3)).toEqual([]);
    expect(hostile.length).toBe(600);
    expect(
      writes.filter((w) => w.res.status !== 200).map((w) => `${w.res.status} ${JSON.stringify(w.res.body)}`),
    ).toEqual([]);

    // Every stored version has its event, and mallory stored nothing under bob's path.
    for (const user of ['bob', 'carol']) {
      const audit = await t.call('GET', `/api/v1/audit?path=/team/${user}&operation=set&result=success&limit=1000`, {
        token: admin,
      });
      const audited = new Set(audit.body.events.map((e: { version_id: string }) => e.version_id));
      for (const w of writes.filter((x) => x.user === user))
        expect(audited.has(w.res.body.id), w.res.body.name).toBe(true);
    }
    const bobs = await t.call('GET', '/api/v1/data?path=/team/bob', { token: admin });
    expect(bobs.body.credentials).toHaveLength(40);
  }, 180_000);
});
