import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentPaths, initialMemberId, isSameProcess, pidsWithEnv, readProcStat } from '@slipway/agent';
import type { CertificateValue, JobStatus } from '@slipway/contracts';
import { diskDir, killVmTree, readInventory, VM_MARKER, vmLayout, vmMarker } from '../src/index.js';
import { ensureBuilt } from './support.js';
// @ts-expect-error plain JavaScript shared with the benchmarks
import { startLocalControlPlane } from './local-control-plane.mjs';

const run = promisify(execFile);
const ETCD = '/usr/bin/etcd';
const ETCDCTL = '/usr/bin/etcdctl';
const haveEtcd = existsSync(ETCD) && existsSync(ETCDCTL);

/**
 * The whole path on real processes: the engine creates a 3-master cluster on the local driver, each
 * master's agent renders etcd's certificates and runs a real etcd member; a master's VM dies and is
 * recreated with its persistent disk, and the cluster comes back with every key.
 */
describe.skipIf(!haveEtcd)(
  `etcd on the local driver, end to end${haveEtcd ? '' : ' (skipped: etcd and etcdctl are not installed at /usr/bin; apt-get install etcd-server etcd-client)'}`,
  () => {
    let cp: Awaited<ReturnType<typeof startLocalControlPlane>>;
    /** The control plane started again on the same home, after the cold-start test stopped the first. */
    let second: Awaited<ReturnType<typeof startLocalControlPlane>> | undefined;
    /** What the first test made, for the next ones. */
    let made: { uuid: string; etcdctl: (...args: string[]) => Promise<{ stdout: string }> } | undefined;
    let tls: string;
    const seenPids = new Set<number>();
    // Set by the first scenario, used by the next.
    let uuid: string;
    let etcdctl: (...args: string[]) => Promise<{ stdout: string }>;

    beforeAll(async () => {
      ensureBuilt(['iaas-drivers/local']);
      tls = mkdtempSync(join(tmpdir(), 'slipway-etcdctl-'));
      // Short health intervals: a dead VM is found within seconds, not BOSH's minute.
      cp = await startLocalControlPlane({
        masters: 3,
        health: { analyze_interval_seconds: 0.5, cloud_check_interval_seconds: 1, agent_timeout_seconds: 8 },
      });
    }, 120_000);

    afterAll(async () => {
      await second?.stop();
      await cp?.stop();
      rmSync(tls, { recursive: true, force: true });
      // Stopping Slipway ends every process the local driver started.
      const alive = [...seenPids].filter((pid) => processExists(pid)).map((pid) => `${pid} ${describeProcess(pid)}`);
      await cp?.killAll();
      expect(alive, 'no VM process outlives the control plane').toEqual([]);
    }, 60_000);

    it('creates a 3-master cluster whose etcd members form one TLS cluster, survives losing a master, which the resurrector recreates with its disk', async () => {
      const created = await cp.createCluster('e2e');
      uuid = created.uuid;
      const masters = (await cp.instances(uuid))
        .filter((i: { group_name: string }) => i.group_name === 'master')
        .sort((a: { idx: number }, b: { idx: number }) => a.idx - b.idx);
      expect(masters).toHaveLength(3);
      for (const m of masters) {
        const jobs = JSON.parse(m.processes) as JobStatus[];
        const etcd = jobs.find((j) => j.name === 'etcd')!.processes[0]!;
        expect(etcd.state, `etcd on ${m.group_name}/${m.idx}`).toBe('running');
        // Jobs without binaries are reported with why, never as running.
        const apiserver = jobs.find((j) => j.name === 'kube-apiserver')!.processes[0]!;
        if (apiserver.state === 'unavailable') expect(apiserver.reason).toMatch(/kube-apiserver .* not found/);
        // Debian's etcd is 3.4; Kubernetes 1.31 ships with 3.5.15: it runs, and the mismatch is reported with it.
        const version = (await run(ETCD, ['--version'])).stdout.match(/etcd Version:\s*(\S+)/)![1]!;
        if (!version.startsWith('3.5.'))
          expect(etcd.warning).toMatch(
            new RegExp(
              `^etcd at \\S+/etcd reports version ${version.replace(/\./g, '\\.')}; the catalog wants 3\\.5\\.\\d+ for Kubernetes 1\\.\\d+\\.\\d+: install etcd 3\\.5\\.\\d+ in `,
            ),
          );
        else expect(etcd.warning).toBeUndefined();
      }
      for (const pid of pidsWithEnv(VM_MARKER, '', { prefix: true })) seenPids.add(pid);

      const client = (await cp.credential(uuid, 'etcd-client')) as CertificateValue;
      writeFileSync(join(tls, 'ca.pem'), client.ca!);
      writeFileSync(join(tls, 'client.pem'), client.certificate);
      writeFileSync(join(tls, 'client-key.pem'), client.private_key, { mode: 0o600 });
      const endpoints = masters.map((m: { ip: string }) => `https://${m.ip}:2379`).join(',');
      etcdctl = (...args: string[]) =>
        run(
          ETCDCTL,
          [
            `--endpoints=${endpoints}`,
            `--cacert=${join(tls, 'ca.pem')}`,
            `--cert=${join(tls, 'client.pem')}`,
            `--key=${join(tls, 'client-key.pem')}`,
            '--command-timeout=10s',
            ...args,
          ],
          { env: { ...process.env, ETCDCTL_API: '3' } },
        );

      made = { uuid, etcdctl };
      const members = memberList((await etcdctl('member', 'list', '-w', 'json')).stdout) as {
        members: Array<{ ID: string; name: string; peerURLs: string[] }>;
      };
      expect(members.members.map((m) => m.name).sort()).toEqual(['master-0', 'master-1', 'master-2']);
      // A member of the first boot has the id etcd derives from the initial cluster: how an agent tells a cluster
      // still forming from a member added back after its disk was lost. A master whose address came after the
      // others had formed the cluster joined it with member add instead, and recorded so on its disk.
      const atBoot = readInventory(join(cp.root, 'state.json'));
      for (const m of members.members) {
        if (m.ID === initialMemberId(m.peerURLs, `slipway-${uuid}`)) continue;
        const vmCid = masters.find((i: { idx: number }) => `master-${i.idx}` === m.name)!.vm_cid;
        const disk = Object.values(atBoot.disks).find((d) => d.attachedTo === vmCid)!;
        expect(
          JSON.parse(readFileSync(join(diskDir(cp.root, disk.id), 'etcd-bootstrap.json'), 'utf8')),
          `${m.name} joined as a new member`,
        ).toMatchObject({ state: 'existing', memberId: m.ID });
      }
      for (let i = 0; i < 50; i++) await etcdctl('put', `/e2e/key-${i}`, `value-${i}`);
      expect(
        (await etcdctl('get', '--prefix', '/e2e/', '--keys-only')).stdout.split('\n').filter(Boolean),
      ).toHaveLength(50);

      // master-1's host dies: its whole process tree, behind the control plane's back.
      const victim = masters[1]!;
      const inventory = readInventory(join(cp.root, 'state.json'));
      const vm = inventory.vms[victim.vm_cid]!;
      const killed = await killVmTree(cp.root, vm, 0);
      expect(killed.length, 'init, agent and etcd were found and killed').toBeGreaterThanOrEqual(3);
      expect(killed.every((pid) => !processExists(pid))).toBe(true);
      expect(await cp.driver.hasVm({ vmId: victim.vm_cid })).toBe(false);
      // Two of three members keep quorum: writes go on while master-1 is away.
      for (let i = 50; i < 60; i++)
        await etcdctl(`--endpoints=https://${masters[0].ip}:2379`, 'put', `/e2e/key-${i}`, `value-${i}`).catch(
          async () => etcdctl('put', `/e2e/key-${i}`, `value-${i}`),
        );

      // Nobody asks: the health monitor finds the VM missing and the resurrector recreates it.
      let recreated: any;
      await eventually(
        async () => {
          recreated = (await cp.instances(uuid)).find((i: { id: string }) => i.id === victim.id);
          return Boolean(recreated?.vm_cid && recreated.vm_cid !== victim.vm_cid);
        },
        60_000,
        'the resurrector to recreate master-1',
      );
      expect(recreated.vm_cid).not.toBe(victim.vm_cid);
      expect(recreated.ip, 'the recreated master keeps its address').toBe(victim.ip);
      expect(recreated.agent_id, 'a new VM incarnation has a new agent identity').not.toBe(victim.agent_id);
      expect(await cp.driver.getDisks({ vmId: recreated.vm_cid })).toHaveLength(1);

      await eventually(
        async () => {
          const health = await etcdctl('endpoint', 'health', '-w', 'json').catch((e) => ({
            stdout: String(e.stdout ?? '[]'),
          }));
          const list = JSON.parse(health.stdout || '[]') as Array<{ health: boolean }>;
          return list.length === 3 && list.every((h) => h.health);
        },
        90_000,
        'three healthy etcd members',
      );
      const after = JSON.parse((await etcdctl('member', 'list', '-w', 'json')).stdout) as {
        members: Array<{ name: string }>;
      };
      expect(
        after.members.map((m) => m.name).sort(),
        'the same three members: master-1 rejoined from its disk',
      ).toEqual(['master-0', 'master-1', 'master-2']);
      const keys = (await etcdctl('get', '--prefix', '/e2e/', '--keys-only')).stdout.split('\n').filter(Boolean);
      expect(keys).toHaveLength(60);
      // The recreated member serves the data itself.
      expect(
        (
          await etcdctl(`--endpoints=https://${victim.ip}:2379`, 'get', '/e2e/key-7', '--print-value-only')
        ).stdout.trim(),
      ).toBe('value-7');
      await eventually(
        async () => {
          const row = (await cp.instances(uuid)).find((i: { id: string }) => i.id === victim.id);
          return row?.agent_id === recreated.agent_id && row.state === 'running';
        },
        30_000,
        'the recreated master reported running to the engine',
      );
      for (const pid of pidsWithEnv(VM_MARKER, '', { prefix: true })) seenPids.add(pid);
      expect(
        inventory.vms[masters[0].vm_cid]!.initPid &&
          isSameProcess(inventory.vms[masters[0].vm_cid]!.initPid!, inventory.vms[masters[0].vm_cid]!.initStartTime!),
      ).toBe(true);
    }, 300_000);

    it('a master whose disk data is lost is removed and added back as a new member, never restarted under its old id', async () => {
      const masters = (await cp.instances(uuid))
        .filter((i: { group_name: string }) => i.group_name === 'master')
        .sort((a: { idx: number }, b: { idx: number }) => a.idx - b.idx);
      const victim = masters[2]!;
      const before = memberList((await etcdctl('member', 'list', '-w', 'json')).stdout);
      const oldId = String(before.members.find((m) => m.name === 'master-2')!.ID);

      // master-2's host dies and its disk comes back empty (a disk replaced, a file system recreated).
      const inventory = readInventory(join(cp.root, 'state.json'));
      const vm = inventory.vms[victim.vm_cid]!;
      const diskId = Object.values(inventory.disks).find((d) => d.attachedTo === victim.vm_cid)!.id;
      await killVmTree(cp.root, vm, 0);
      const disk = diskDir(cp.root, diskId);
      expect(readdirSync(join(disk, 'etcd')), 'etcd had data on the disk').toContain('member');
      for (const entry of readdirSync(disk)) rmSync(join(disk, entry), { recursive: true, force: true });

      await eventually(
        async () => {
          const row = (await cp.instances(uuid)).find((i: { id: string }) => i.id === victim.id);
          return Boolean(row?.vm_cid && row.vm_cid !== victim.vm_cid);
        },
        60_000,
        'the resurrector to recreate master-2',
      );
      let after: { members: Array<{ ID: string; name: string }> } = { members: [] };
      await eventually(
        async () => {
          const health = await etcdctl('endpoint', 'health', '-w', 'json').catch((e) => ({
            stdout: String(e.stdout ?? '[]'),
          }));
          const list = JSON.parse(health.stdout || '[]') as Array<{ health: boolean }>;
          if (!(list.length === 3 && list.every((h) => h.health))) return false;
          after = memberList((await etcdctl('member', 'list', '-w', 'json')).stdout);
          return after.members.length === 3 && after.members.every((m) => m.name);
        },
        90_000,
        'three healthy etcd members again',
      );
      expect(after.members.map((m) => m.name).sort()).toEqual(['master-0', 'master-1', 'master-2']);
      const newId = String(after.members.find((m) => m.name === 'master-2')!.ID);
      expect(newId, 'master-2 came back as a new member').not.toBe(oldId);
      expect(
        after.members.map((m) => String(m.ID)),
        'its old id is gone from the cluster',
      ).not.toContain(oldId);
      // The agent recorded how it joined, beside the new data dir on the disk.
      const recorded = JSON.parse(readFileSync(join(disk, 'etcd-bootstrap.json'), 'utf8')) as {
        state: string;
        replaced: string;
        memberId: string;
      };
      expect(recorded).toMatchObject({ state: 'existing', replaced: oldId, memberId: newId });
      // The new member has the data, from its peers.
      expect(
        (
          await etcdctl(`--endpoints=https://${victim.ip}:2379`, 'get', '/e2e/key-42', '--print-value-only')
        ).stdout.trim(),
      ).toBe('value-42');
      for (const pid of pidsWithEnv(VM_MARKER, '', { prefix: true })) seenPids.add(pid);
    }, 240_000);

    it('a master rebooted while the control plane is down starts etcd from its kept desired state (3/3 healthy without Slipway), and reconciles when Slipway is back', async () => {
      const { uuid, etcdctl } = made!;
      const master = (await cp.instances(uuid)).find(
        (i: { group_name: string; idx: number }) => i.group_name === 'master' && i.idx === 0,
      );
      const kept = agentPaths(vmLayout(cp.root, master.vm_cid).fs).desiredStateFile;
      expect(existsSync(kept), 'the agent keeps its last desired state on the VM').toBe(true);
      expect(statSync(kept).mode & 0o777).toBe(0o600);
      await eventually(() => etcdHealthy(etcdctl), 60_000, 'three healthy etcd members before the test');

      // Slipway goes away; then master-0's whole process tree dies (agent, etcd, every job), as in a power cut.
      await cp.crash();
      const vm = readInventory(join(cp.root, 'state.json')).vms[master.vm_cid]!;
      const killed = await killVmTree(cp.root, vm, 0);
      expect(killed.length).toBeGreaterThanOrEqual(3);
      // The VM boots again (the cloud's reboot; its init starts the agent), and nobody answers the agent.
      await cp.driver.rebootVm({ vmId: master.vm_cid });
      for (const pid of pidsWithEnv(VM_MARKER, '', { prefix: true })) seenPids.add(pid);
      await eventually(() => etcdHealthy(etcdctl), 90_000, 'etcd 3/3 healthy again without the control plane');
      const console = readFileSync(vmLayout(cp.root, master.vm_cid).console, 'utf8');
      expect(console).toMatch(/control plane unreachable at boot: starting jobs from the kept desired state/);
      const etcdPids = pidsWithEnv(VM_MARKER, vmMarker(cp.root, master.vm_cid)).filter((pid) =>
        readFileSafe(`/proc/${pid}/cmdline`).includes('etcd'),
      );
      expect(etcdPids.length).toBeGreaterThanOrEqual(1);

      // Slipway comes back on the same address: the agent reconciles with it, and etcd is not restarted for it.
      second = await startLocalControlPlane({ ...cp.options, home: cp.home, port: cp.port, cidr: cp.cidr });
      const backAt = new Date().toISOString();
      await eventually(
        async () => {
          const row = (await second!.instances(uuid)).find((i: { id: string }) => i.id === master.id);
          return Boolean(
            row &&
              row.last_heartbeat_at > backAt &&
              row.state === 'running' &&
              row.applied_generation >= row.desired_generation,
          );
        },
        90_000,
        'master-0 reporting running and applied to the control plane again',
      );
      expect(
        etcdPids.every((pid) => processExists(pid)),
        'the etcd started from the kept state keeps running',
      ).toBe(true);
      expect(await etcdHealthy(etcdctl)).toBe(true);
    }, 300_000);
  },
);

async function etcdHealthy(etcdctl: (...args: string[]) => Promise<{ stdout: string }>): Promise<boolean> {
  const health = await etcdctl('endpoint', 'health', '-w', 'json').catch((e) => ({ stdout: String(e.stdout ?? '[]') }));
  const list = JSON.parse(health.stdout || '[]') as Array<{ health: boolean }>;
  return list.length === 3 && list.every((h) => h.health);
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** `etcdctl member list -w json`, with member ids (uint64, beyond a double's precision) kept as strings. */
function memberList(stdout: string): { members: Array<{ ID: string; name: string; peerURLs: string[] }> } {
  return JSON.parse(stdout.replace(/"ID":(\d+)/g, '"ID":"$1"')) as {
    members: Array<{ ID: string; name: string; peerURLs: string[] }>;
  };
}

function describeProcess(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').slice(0, 80);
  } catch {
    return '(gone)';
  }
}

/** Whether a process runs (a zombie does not: it has exited, only its parent has not collected it yet). */
function processExists(pid: number): boolean {
  const state = readProcStat(pid)?.state;
  return state !== undefined && state !== 'Z' && state !== 'X';
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}
