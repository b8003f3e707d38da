import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSameProcess, readProcStat } from '@slipway/agent';
import type { JobStatus } from '@slipway/contracts';
import { diskDir, pidsUnderRoot, readInventory, vmLayout, vmMarker, VM_MARKER } from '../src/index.js';
import { ensureBuilt } from './support.js';
// @ts-expect-error plain JavaScript shared with the benchmarks
import { startLocalControlPlane } from './local-control-plane.mjs';

type ControlPlane = Awaited<ReturnType<typeof startLocalControlPlane>>;
interface Row {
  id: string;
  group_name: string;
  idx: number;
  vm_cid: string;
  processes: string | null;
  last_heartbeat_at: string | null;
  agent_id: string;
}

const haveEtcd = existsSync('/usr/bin/etcd');

/**
 * What real processes demand of the local driver: a VM's agent restarts without restarting healthy jobs,
 * a crashed control plane leaves VMs running and its successor adopts them, deleting a VM ends its whole
 * tree and its ephemeral directory but keeps its persistent disk, and stopping Slipway leaves no process.
 */
describe.skipIf(!haveEtcd)(
  `local VMs as process trees${haveEtcd ? '' : ' (skipped: etcd is not installed at /usr/bin/etcd)'}`,
  () => {
    let first: ControlPlane;
    let second: ControlPlane | undefined;
    let uuid: string;
    const everySeen = new Set<number>();

    beforeAll(async () => {
      ensureBuilt(['iaas-drivers/local']);
      first = await startLocalControlPlane({ masters: 1, workers: 1, keepHome: true, heartbeatSeconds: 1 });
      uuid = (await first.createCluster('procs', { workers: 1 })).uuid;
      pidsUnderRoot(first.root).forEach((pid) => everySeen.add(pid));
    }, 120_000);

    afterAll(async () => {
      await second?.stop();
      await first?.stop();
      // After a failed test the crashed control plane may own VMs nobody destroyed: the cleanup still ends them.
      const leftover = first ? pidsUnderRoot(first.root) : [];
      await first?.killAll();
      const alive = [...everySeen].filter(running);
      rmSync(first.home, { recursive: true, force: true });
      rmSync(`${first.home}-keys`, { recursive: true, force: true });
      expect(leftover.filter(running), 'no VM process outlives Slipway').toEqual([]);
      expect(alive, 'no VM process outlives Slipway').toEqual([]);
    }, 60_000);

    it("a VM's agent that dies comes back and adopts its running etcd without restarting it", async () => {
      const master = await instance(first, 'master');
      const etcdBefore = etcdOf(master);
      const vm = readInventory(join(first.root, 'state.json')).vms[master.vm_cid]!;
      const agentPid = agentPidOf(first.root, vm.id);
      const etcdStart = readProcStat(etcdBefore.pid!)!.startTime;

      process.kill(agentPid, 'SIGKILL');
      const killedAt = new Date().toISOString();
      await eventually(
        async () => {
          const row = await instance(first, 'master');
          // The new agent reports the adopted etcd `starting` until its first health check passes (within a second).
          return Boolean(
            row.last_heartbeat_at &&
              row.last_heartbeat_at > killedAt &&
              agentPidOf(first.root, vm.id, agentPid) !== undefined &&
              etcdOf(row).state === 'running',
          );
        },
        20_000,
        'a new agent heartbeating, etcd running',
      );
      const after = await instance(first, 'master');
      expect(etcdOf(after).pid, 'the same etcd process').toBe(etcdBefore.pid);
      expect(etcdOf(after).restarts).toBe(0);
      expect(etcdOf(after).state).toBe('running');
      expect(isSameProcess(etcdBefore.pid!, etcdStart), 'etcd was never restarted').toBe(true);
      expect(agentPidOf(first.root, vm.id)).not.toBe(agentPid);
    });

    it('a crashed control plane leaves the VMs running and the next one adopts them', async () => {
      const before = steadyPids(first.root);
      const master = await instance(first, 'master');
      await first.crash();
      expect(steadyPids(first.root), 'every VM process runs on without the control plane').toEqual(before);

      second = await startLocalControlPlane({ ...first.options, home: first.home, port: first.port, cidr: first.cidr });
      for (const vmId of Object.keys(readInventory(join(first.root, 'state.json')).vms)) {
        expect(await second.driver.hasVm({ vmId }), `VM ${vmId} is still there`).toBe(true);
      }
      const restartedAt = new Date().toISOString();
      await eventually(
        async () => {
          const row = await instance(second!, 'master');
          return Boolean(row.last_heartbeat_at && row.last_heartbeat_at > restartedAt);
        },
        20_000,
        'the master heartbeating to the new control plane',
      );
      expect(etcdOf(await instance(second, 'master')).pid, 'etcd kept running through it').toBe(etcdOf(master).pid);
      expect(steadyPids(first.root)).toEqual(before);
    }, 60_000);

    it('deleting a VM ends its tree and its ephemeral directory, and keeps its persistent disk until the disk is deleted', async () => {
      const cp = second!;
      pidsUnderRoot(cp.root).forEach((pid) => everySeen.add(pid));
      const master = await instance(cp, 'master');
      const worker = await instance(cp, 'worker');
      const [diskId] = await cp.driver.getDisks({ vmId: master.vm_cid });
      const masterPids = pidsOf(cp.root, master.vm_cid).filter((pid) => !transient(pid));
      expect(masterPids.length, 'init, agent, etcd').toBeGreaterThanOrEqual(3);

      await cp.driver.deleteVm({ vmId: worker.vm_cid });
      expect(pidsOf(cp.root, worker.vm_cid)).toEqual([]);
      expect(existsSync(vmLayout(cp.root, worker.vm_cid).dir)).toBe(false);
      expect(
        pidsOf(cp.root, master.vm_cid)
          .filter((pid) => !transient(pid))
          .sort(),
        'the other VM is untouched',
      ).toEqual(masterPids.sort());

      await cp.driver.detachDisk({ vmId: master.vm_cid, diskId: diskId! });
      await cp.driver.deleteVm({ vmId: master.vm_cid });
      expect(masterPids.filter(running), 'every process of the deleted VM is gone').toEqual([]);
      expect(existsSync(vmLayout(cp.root, master.vm_cid).dir)).toBe(false);
      expect(
        readdirSync(join(diskDir(cp.root, diskId!), 'etcd')),
        "etcd's data survives on the persistent disk",
      ).toContain('member');
      await cp.driver.deleteDisk({ diskId: diskId! });
      expect(existsSync(diskDir(cp.root, diskId!))).toBe(false);
    }, 60_000);

    async function instance(cp: ControlPlane, group: 'master' | 'worker'): Promise<Row> {
      return ((await cp.instances(uuid)) as Row[]).find((i) => i.group_name === group)!;
    }
  },
);

/** Short-lived processes of a VM: the init's `sleep 1` between agent restarts, the CoreDNS hook's kubectl. */
function transient(pid: number): boolean {
  const argv0 = (readFileSafe(`/proc/${pid}/cmdline`).split('\0')[0] ?? '').split('/').pop();
  return argv0 === 'sleep' || argv0 === 'kubectl';
}

/** The long-lived processes under a root: inits, agents, job processes. */
function steadyPids(root: string): number[] {
  return pidsUnderRoot(root)
    .filter((pid) => !transient(pid))
    .sort((a, b) => a - b);
}

function readFileSafe(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function etcdOf(row: Row) {
  return (JSON.parse(row.processes ?? '[]') as JobStatus[]).find((j) => j.name === 'etcd')!.processes[0]!;
}

function pidsOf(root: string, vmId: string): number[] {
  return pidsUnderRoot(root).filter((pid) => environOf(pid).includes(`${VM_MARKER}=${vmMarker(root, vmId)}`));
}

/** The VM's agent: the node process running the agent program (not its init, not `except`, the one just killed). */
function agentPidOf(root: string, vmId: string, except?: number): number {
  const pid = pidsOf(root, vmId).find((p) => {
    const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
    return p !== except && argv[0] === process.execPath && argv[1]?.endsWith('main.js');
  });
  return pid as number;
}

function environOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return '';
  }
}

function running(pid: number): boolean {
  const state = readProcStat(pid)?.state;
  return state !== undefined && state !== 'Z' && state !== 'X';
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
