import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestControlPlane, UserWorkspace } from './harness.js';

type ControlPlane = Awaited<ReturnType<typeof startTestControlPlane>>;
let plane: ControlPlane;
let user: UserWorkspace;

beforeAll(async () => {
  [plane, user] = await Promise.all([startTestControlPlane(), UserWorkspace.create()]);
  expect(
    (await user.run(['login', '-a', plane.cp.url, '-u', 'admin', '-p', ADMIN_PASSWORD, '--ca-cert', plane.cp.caPath]))
      .code,
  ).toBe(0);
}, 60_000);
afterAll(async () => {
  await plane?.stop();
  await user?.remove();
});

describe('events and --wait on the stream', () => {
  it("--wait follows the task's events instead of polling: done long before one poll interval", async () => {
    const started = Date.now();
    // A poll every two minutes: only the event stream can bring the steps in time.
    const run = await user.run(
      [
        'create-cluster',
        'live',
        '--plan',
        'small',
        '--external-hostname',
        'live.example.com',
        '--num-nodes',
        '1',
        '--wait',
      ],
      { pollIntervalMs: 120_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(60_000);
    for (const step of ['plan', 'masters', 'agents', 'api-endpoint'])
      expect(run.stdout).toMatch(new RegExp(`\\] ${step}: done`));
    expect(run.stdout).toMatch(/task \d+ done after/);
  }, 90_000);

  it("events --follow streams a resize as it happens, and events lists a cluster's history", async () => {
    const controller = new AbortController();
    let seen = '';
    const following = user.run(['events', 'live', '--follow', '--json', '--kind', 'task.*'], {
      signal: controller.signal,
      onStdout: (text) => {
        seen = text;
        if (/"kind":"task.finished".*"type":"UPDATE"/.test(text)) controller.abort();
      },
    });
    // Give the stream a moment to open, then change the cluster from another command.
    await new Promise((r) => setTimeout(r, 500));
    const resize = await user.run(['resize', 'live', '--num-nodes', '1', '--wait'], { pollIntervalMs: 120_000 });
    expect(resize.code, resize.stderr).toBe(0);
    const run = await following;
    expect(run.code).toBe(0);
    const lines = seen
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; cluster: string; details: { state?: string } });
    expect(lines.every((e) => e.cluster === 'live' && e.kind.startsWith('task.'))).toBe(true);
    expect(lines.filter((e) => e.kind === 'task.finished').map((e) => e.details.state)).toEqual(['done', 'done']);
    const listed = await user.run(['events', 'live', '--kind', 'task.finished']);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0].split(/\s{2,}/)).toEqual(['Time', 'Severity', 'Cluster', 'Kind', 'Message']);
    expect(listed.stdout.match(/task\.finished/g)).toHaveLength(2);
    const missing = await user.run(['events', 'nope', '--follow']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('cluster "nope" does not exist');
  }, 90_000);

  it('audit lists who changed what: the create and the resize of this file, by admin, with their targets', async () => {
    const table = await user.run(['audit', '--action', 'cluster.*']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/admin\s+cluster\.create\s+cluster:live\s+success/);
    const json = await user.run(['audit', '--actor', 'admin', '--json']);
    const entries = JSON.parse(json.stdout) as Array<{
      action: string;
      target: string | null;
      result: string;
      request_id: string | null;
    }>;
    expect(entries.find((e) => e.action === 'cluster.create')).toMatchObject({
      target: 'cluster:live',
      result: 'success',
    });
    expect(entries.every((e) => e.request_id)).toBe(true);
  }, 60_000);
});
