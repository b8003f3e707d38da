import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_YAML } from '@slipway/engine';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';
import { subscribe } from './sse-client.js';

let t: TestControlPlane;
let admin: string;

beforeAll(async () => {
  t = await startTestControlPlane({
    configYaml: `${DEFAULT_CONFIG_YAML}\nevents:\n  heartbeat_seconds: 0.2\n  max_subscribers_per_user: 3\n`,
  });
  admin = await t.login('admin', ADMIN_PASSWORD);
}, 60_000);
afterAll(async () => t?.stop());

async function user(name: string, roles = ['clusters.manage']): Promise<string> {
  const res = await t.call('POST', '/v1/users', { token: admin, body: { name, password: `${name}-password`, roles } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return t.login(name, `${name}-password`);
}

const createBody = (name: string) => ({
  name,
  plan_name: 'small',
  parameters: { kubernetes_master_host: `${name}.example.test`, kubernetes_worker_instances: 1 },
});

describe('the event stream', () => {
  it("streams a task's steps live, shows each tenant only its own clusters, and resumes from Last-Event-ID", async () => {
    const ann = await user('ann');
    const bob = await user('bob');
    const annStream = subscribe(t, ann);
    const bobStream = subscribe(t, bob);
    const adminStream = subscribe(t, admin, '?kind=task.*');
    expect(await annStream.status).toBe(200);
    expect(await adminStream.status).toBe(200);
    const created = await t.call('POST', '/v1/clusters', { token: ann, body: createBody('streamed') });
    expect(created.status).toBe(202);
    const taskId = created.body.task_id as number;
    const finished = await annStream.waitFor((e) => e.kind === 'task.finished' && e.task_id === taskId, 60_000);
    expect(finished).toMatchObject({ cluster: 'streamed', details: { state: 'done', type: 'CREATE' } });
    // Every step started and finished, in order, ids increasing, as the task's own view lists them.
    const steps = (await t.call('GET', `/v1/tasks/${taskId}`, { token: ann })).body.steps.map(
      (s: { name: string }) => s.name,
    );
    const mine = annStream.events.filter((e) => e.task_id === taskId);
    expect(mine.filter((e) => e.kind === 'task.step.started').map((e) => e.details!.step)).toEqual(steps);
    expect(mine.filter((e) => e.kind === 'task.step.finished').map((e) => e.details!.step)).toEqual(steps);
    expect(mine.map((e) => e.id)).toEqual([...mine.map((e) => e.id)].sort((a, b) => a - b));
    expect(new Set(mine.map((e) => e.id)).size).toBe(mine.length);
    // The admin's kind filter lets only task events through; it sees ann's cluster by name.
    await adminStream.waitFor((e) => e.kind === 'task.finished' && e.task_id === taskId);
    expect(adminStream.events.every((e) => e.kind.startsWith('task.'))).toBe(true);
    // Bob saw none of it, though his stream was open the whole time (it heartbeats: it was alive).
    await new Promise((r) => setTimeout(r, 500));
    expect(bobStream.comments).toContain('keep-alive');
    expect(bobStream.events.filter((e) => e.cluster === 'streamed' || e.task_id === taskId)).toEqual([]);
    // Bob cannot name ann's cluster in a filter: it does not exist for him.
    const foreign = subscribe(t, bob, '?cluster=streamed');
    expect(await foreign.status).toBe(404);

    // A reconnect with the id of the third event gets exactly what came after it, from the store.
    const third = mine[2];
    const resumed = subscribe(t, ann, `?task=${taskId}`, third.id);
    await resumed.waitFor((e) => e.kind === 'task.finished');
    expect(resumed.events.map((e) => e.id)).toEqual(mine.filter((e) => e.id > third.id).map((e) => e.id));
    // The same history as JSON, for a reader that does not stream.
    const listed = await t.call('GET', `/v1/events?task=${taskId}&limit=1000`, { token: ann });
    expect(listed.body.map((e: { id: number }) => e.id)).toEqual(mine.map((e) => e.id));
    expect((await t.call('GET', `/v1/events?task=${taskId}`, { token: bob })).body).toEqual([]);
    for (const s of [annStream, bobStream, adminStream, foreign, resumed]) s.close();
  }, 120_000);

  it('bounds the streams one user holds, and frees a slot when a client goes away', async () => {
    const carl = await user('carl');
    const open = [subscribe(t, carl), subscribe(t, carl), subscribe(t, carl)];
    for (const s of open) expect(await s.status).toBe(200);
    const fourth = subscribe(t, carl);
    expect(await fourth.status).toBe(429);
    open[0].close();
    // The server notices the closed socket and releases the slot.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const again = subscribe(t, carl);
      status = await again.status;
      if (status === 200) open.push(again);
      else again.close();
    }
    expect(status).toBe(200);
    for (const s of open) s.close();
  }, 30_000);

  it('refuses a bad filter with the field named', async () => {
    const res = await t.call('GET', '/v1/events?kind=task;drop', { token: admin });
    expect(res).toMatchObject({ status: 400, body: { field: 'kind' } });
    const bad = await t.call('GET', '/v1/events?after=-1', { token: admin });
    expect(bad).toMatchObject({ status: 400, body: { field: 'after' } });
  });
});
