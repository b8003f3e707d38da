import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '@slipway/contracts';
import { SystemClock, type ResurrectParams } from '../src/index.js';
import { ADMIN, startHarness, testConfig, type Harness } from './health-harness.js';

/** The control plane's clock, which a test moves forward at once, as a laptop waking from sleep sees it. */
class JumpingClock implements Clock {
  offset = 0;
  private readonly system = new SystemClock();
  now(): number {
    return Date.now() + this.offset;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.system.sleep(ms, signal);
  }
}

const clock = new JumpingClock();
let h: Harness;
beforeAll(async () => {
  h = await startHarness(
    testConfig({
      // minimum_down 10: the meltdown guard stays out of the way; these tests are about what it does not cover.
      health:
        '{ agent_timeout_seconds: 2, analyze_interval_seconds: 0.2, cloud_check_interval_seconds: 0.5, resurrector: { minimum_down: 10 } }',
      plans: `
  - name: ha
    iaas: sandbox
    master_instances: 3
    worker_instances: 1
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768 }
    kubernetes: { require_api: false }`,
    }),
    { clock },
  );
}, 60_000);
afterAll(async () => h?.stop());

const resurrections = async (uuid: string) =>
  (await h.store.tasks.list({ limit: 100 })).filter((t) => t.type === 'RESURRECT' && t.cluster_uuid === uuid);

describe('a monitor that cannot stampede', () => {
  it('does not count a pause of the control plane (a clock jump of twice the agent timeout) as agents going silent', async () => {
    const cluster = await h.createCluster('sleepy', 'ha');
    await h.waitFor('every agent running', async () =>
      (await h.instances('sleepy')).every((i) => i.state === 'running'),
    );
    const logged = h.lines.length;
    // The control plane "sleeps" for 4 s: no pass ran and no heartbeat arrived meanwhile, and when it wakes
    // every heartbeat it holds is twice the agent timeout old.
    clock.offset += 4_000;
    await new Promise((r) => setTimeout(r, 3_000));
    expect(h.lines.slice(logged).join('\n')).toMatch(/the health monitor ran late: the control plane was paused/);
    const rows = await h.instances('sleepy');
    expect(rows.map((r) => `${r.group_name}/${r.idx}: ${r.state}`)).toEqual([
      'master/0: running',
      'master/1: running',
      'master/2: running',
      'worker/0: running',
    ]);
    expect(await resurrections(cluster.uuid)).toEqual([]);
    const events = (await h.store.events.ofCluster(cluster.uuid)).map((e) => e.kind);
    expect(events).not.toContain('instance.unresponsive');

    // The grace is one timeout, not a blind spot: an agent that really stops after the pause is still found.
    const worker = rows.find((r) => r.group_name === 'worker')!;
    await h.rehearsal().hangAgent(worker.vm_cid!);
    await h.waitFor(
      'the hung worker found unresponsive',
      async () => {
        const events = await h.store.events.ofCluster(cluster.uuid);
        return events.some((e) => e.kind === 'instance.unresponsive' && e.instance_id === worker.id);
      },
      20_000,
    );
  }, 60_000);

  it('recreates one master at a time when 2 of 3 die, so etcd regains its quorum before the next goes', async () => {
    // The cluster of the test above (its hung worker replaced by now, or soon).
    const cluster = await h.cluster('sleepy');
    await h.waitFor(
      'every instance running',
      async () => (await h.instances('sleepy')).every((i) => i.state === 'running'),
      30_000,
    );
    const tasksBefore = (await resurrections(cluster.uuid)).map((t) => t.id);
    const masters = (await h.instances('sleepy')).filter((i) => i.group_name === 'master');
    // Both die before the resurrector may act (resurrection off until both are found missing).
    await h.services.health.setResurrection(ADMIN, 'sleepy', false);
    await h.rehearsal().killVm(masters[1]!.vm_cid!);
    await h.rehearsal().killVm(masters[2]!.vm_cid!);
    await h.waitFor(
      'both masters found missing',
      async () => (await h.instances('sleepy')).filter((i) => i.state === 'missing').length === 2,
      20_000,
    );
    await h.services.health.setResurrection(ADMIN, 'sleepy', true);
    const both = await h.waitFor(
      'master/1 and master/2 back on new VMs',
      async () => {
        const rows = await h.instances('sleepy');
        const m1 = rows.find((r) => r.id === masters[1]!.id)!;
        const m2 = rows.find((r) => r.id === masters[2]!.id)!;
        return m1.state === 'running' &&
          m2.state === 'running' &&
          m1.vm_cid !== masters[1]!.vm_cid &&
          m2.vm_cid !== masters[2]!.vm_cid
          ? [m1, m2]
          : undefined;
      },
      45_000,
    );
    expect(both).toHaveLength(2);
    const tasks = (await resurrections(cluster.uuid)).filter((t) => !tasksBefore.includes(t.id));
    // Every resurrection task held at most one master; two tasks, one after the other, brought both back.
    const perTask = tasks.map((t) => (JSON.parse(t.params) as ResurrectParams).instances.length);
    expect(
      perTask.every((n) => n === 1),
      `masters per task: ${perTask.join(', ')}`,
    ).toBe(true);
    expect(tasks.length).toBeGreaterThanOrEqual(2);
    expect(tasks.every((t) => t.state === 'done')).toBe(true);
    const held = (await h.store.events.ofCluster(cluster.uuid)).filter((e) => e.kind === 'resurrection.held');
    expect(held[0]?.message).toMatch(
      /^master\/[12] waits: at most 1 of 3 masters are recreated at once, so etcd keeps \(or regains\) its quorum$/,
    );
  }, 60_000);
});
