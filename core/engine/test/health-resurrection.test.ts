import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAgentSettings } from '@slipway/contracts';
import { detectionBounds, healthSettingsOf, type InstanceRow } from '../src/index.js';
import { ADMIN, startHarness, testConfig, type Harness } from './health-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness(testConfig());
}, 60_000);
afterAll(async () => h?.stop());

const bounds = () => detectionBounds(healthSettingsOf(h.engine.config), true);
/** Slack for the test's own 20 ms polling, the store writes around the detection, and timers on a loaded 2-core machine. */
const SLACK_MS = 500;

async function userData(vmId: string) {
  return decodeAgentSettings(
    readFileSync(join(h.home, 'plugins', 'iaas', 'sandbox', 'sandbox.json.userdata', vmId), 'utf8'),
  );
}

/**
 * When the monitor declared the instance `kind` (instance.missing, instance.unresponsive), by its own clock.
 * The event, not the state: a resurrection starts at once and moves the instance on within milliseconds.
 */
async function detection(instance: InstanceRow, kind: string): Promise<{ at: number }> {
  return h.waitFor(`${kind} of ${instance.group_name}/${instance.idx}`, async () => {
    const event = (await h.store.events.ofCluster(instance.cluster_uuid)).find(
      (e) => e.kind === kind && e.instance_id === instance.id,
    );
    return event ? { at: Date.parse(event.at) } : undefined;
  });
}

/** The sandbox VM's store directory, where its agent links the persistent disk (a real VM's /var/vcap/store). */
const storeDir = (vmId: string) => join(h.home, 'plugins', 'iaas', 'sandbox', 'sandbox.json.vms', vmId, 'store');

describe('health monitor and resurrector', () => {
  it('finds a killed VM missing within the documented bound and recreates it at the same address with the same disk', async () => {
    const cluster = await h.createCluster('alpha', 'small');
    const before = (await h.instances('alpha')).find((i) => i.group_name === 'worker' && i.idx === 0)!;
    const disk = (await h.store.instances.diskOf(before.id))!;
    expect(before.state).toBe('running');

    expect(before.mounted_disk_cid, 'the agent reports the disk mounted').toBe(disk.disk_cid);
    writeFileSync(join(storeDir(before.vm_cid!), 'member-data'), 'written before the failure');

    const killedAt = Date.now();
    await h.rehearsal().killVm(before.vm_cid!);
    const missing = await detection(before, 'instance.missing');
    const detectMs = missing.at - killedAt;
    expect(detectMs, `detected after ${detectMs} ms`).toBeLessThanOrEqual(bounds().missing + SLACK_MS);

    const back = await h.waitFor('worker/0 to run on a new VM', async () => {
      const row = (await h.instances('alpha')).find((i) => i.id === before.id)!;
      return row.state === 'running' && row.vm_cid !== before.vm_cid ? row : undefined;
    });
    // The same address and the same persistent disk (data on it survives): in the store, in the cloud and in
    // what the new VM's agent was told to mount.
    expect(back.ip).toBe(before.ip);
    expect(back.agent_id).not.toBe(before.agent_id);
    const after = (await h.store.instances.diskOf(before.id))!;
    expect(after.disk_cid).toBe(disk.disk_cid);
    expect(after.attached_vm_cid).toBe(back.vm_cid);
    const inventory = await h.rehearsal().inventory();
    expect(inventory.disks.find((d) => d.diskId === disk.disk_cid)?.vmId).toBe(back.vm_cid);
    expect(inventory.vms.filter((v) => v.metadata['slipway.instance_id'] === before.id).map((v) => v.vmId)).toEqual([
      back.vm_cid,
    ]);
    expect((await userData(back.vm_cid!)).persistentDiskId).toBe(disk.disk_cid);
    expect(back.mounted_disk_cid, 'the new agent mounted it before its jobs started').toBe(disk.disk_cid);
    expect(readFileSync(join(storeDir(back.vm_cid!), 'member-data'), 'utf8')).toBe('written before the failure');
    expect(existsSync(storeDir(before.vm_cid!)), "the dead VM's own files went with it").toBe(false);

    const task = (await h.store.tasks.list({ limit: 5, clusterName: 'alpha' })).find((t) => t.type === 'RESURRECT')!;
    expect(task.state).toBe('done');
    expect(task.user).toBe('slipway:health-monitor');
    const log = (await h.store.tasks.logs(task.id)).map((l) => l.message).join('\n');
    expect(log).toMatch(new RegExp(`VM ${before.vm_cid} is gone`));
    expect(log).toMatch(new RegExp(`disk ${disk.disk_cid} attached`));

    const events = (await h.store.events.ofCluster(cluster.uuid)).map((e) => `${e.kind}: ${e.message}`);
    expect(events.some((e) => e.startsWith('instance.missing:') && e.includes(before.vm_cid!))).toBe(true);
    expect(
      events.some(
        (e) => e.startsWith('resurrection.done:') && e.includes(`persistent disk ${disk.disk_cid} reattached`),
      ),
    ).toBe(true);
    const health = await h.services.health.health(ADMIN, 'alpha');
    expect(health.incidents[0]).toMatchObject({
      instance: 'worker/0',
      kind: 'missing',
      resolution: 'resurrected',
      task_id: task.id,
    });
  });

  it('finds a hung agent unresponsive within agent_timeout + analyze_interval and replaces its VM', async () => {
    const before = (await h.instances('alpha')).find((i) => i.group_name === 'worker' && i.idx === 1)!;
    const hungAt = Date.now();
    await h.rehearsal().hangAgent(before.vm_cid!);
    const found = await detection(before, 'instance.unresponsive');
    expect(found.at - hungAt).toBeLessThanOrEqual(bounds().unresponsive + SLACK_MS);
    // Detected no sooner than the agent timeout after its last heartbeat.
    expect(found.at - Date.parse(before.last_heartbeat_at!)).toBeGreaterThanOrEqual(
      healthSettingsOf(h.engine.config).agentTimeoutMs,
    );

    const back = await h.waitFor('worker/1 to run on a new VM', async () => {
      const row = (await h.instances('alpha')).find((i) => i.id === before.id)!;
      return row.state === 'running' && row.vm_cid !== before.vm_cid ? row : undefined;
    });
    const inventory = await h.rehearsal().inventory();
    expect(inventory.vms.some((v) => v.vmId === before.vm_cid)).toBe(false); // the hung VM was deleted
    expect(back.ip).toBe(before.ip);
    const alerts = await h.services.health.alerts(ADMIN, { cluster: 'alpha' });
    expect(
      alerts.some((a) => a.kind === 'instance.unresponsive' && a.title === 'worker/1 of cluster alpha is unresponsive'),
    ).toBe(true);
    expect(h.lines.some((l) => l.includes('ALERT worker/1 of cluster alpha is unresponsive'))).toBe(true);
  });

  it('records process restarts and failing processes that agents report, and alerts on failing', async () => {
    await h.services.health.setResurrection(ADMIN, 'alpha', false);
    const master = (await h.instances('alpha')).find((i) => i.group_name === 'master')!;
    // Stand in for the master's agent: it stops syncing, and this test sends its heartbeats instead.
    await h.rehearsal().hangAgent(master.vm_cid!);
    const jobs = (restarts: number, state: 'running' | 'failing') => [
      { name: 'etcd', processes: [{ name: 'etcd', state: 'running' as const, restarts: 0 }] },
      { name: 'kube-apiserver', processes: [{ name: 'kube-apiserver', state, restarts }] },
    ];
    const send = (restarts: number, state: 'running' | 'failing') =>
      h.services.agents
        .sync(
          master.agent_id,
          {
            agentId: master.agent_id,
            instanceId: master.id,
            appliedGeneration: master.desired_generation,
            jobs: jobs(restarts, state),
          },
          0,
          undefined,
        )
        .catch(() => undefined);
    const analyze = healthSettingsOf(h.engine.config).analyzeIntervalMs;
    await send(0, 'running');
    await new Promise((r) => setTimeout(r, 2 * analyze));
    await send(2, 'running');
    const restarted = await h.waitFor('a restart event', async () =>
      (await h.store.events.ofCluster(master.cluster_uuid)).find(
        (e) => e.kind === 'process.restarted' && e.instance_id === master.id,
      ),
    );
    expect(restarted.message).toBe(
      'master/0: kube-apiserver/kube-apiserver was restarted by its agent (restarts 0 → 2)',
    );

    const failedAt = Date.now();
    await send(5, 'failing');
    const failing = await h.waitFor('a failing event', async () =>
      (await h.store.events.ofCluster(master.cluster_uuid)).find((e) => e.kind === 'instance.failing'),
    );
    expect(Date.now() - failedAt).toBeLessThanOrEqual(bounds().failing + SLACK_MS);
    expect(failing.message).toMatch(/master\/0 \(VM .+\) is failing: kube-apiserver failing \(5 restarts\)/);
    const alerts = await h.services.health.alerts(ADMIN, { cluster: 'alpha' });
    expect(alerts.find((a) => a.kind === 'instance.failing')?.title).toBe('master/0 of cluster alpha is failing');

    await send(5, 'running');
    await h.waitFor('the running-again event', async () =>
      (await h.store.events.ofCluster(master.cluster_uuid)).find((e) => e.kind === 'instance.running'),
    );
    await h.services.health.setResurrection(ADMIN, 'alpha', true);
  });
});
