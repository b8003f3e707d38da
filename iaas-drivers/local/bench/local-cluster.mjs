// Figures for the local driver (not pass/fail): a cluster of 3 masters and 2 workers created through the
// engine (etcd real, other jobs as their binaries are installed), its split by task step, the agent's memory
// and CPU on an idle VM, and the time from killing a master to a healthy 3-member etcd again.
// Needs the build: npx tsc -b core/engine core/api iaas-drivers/local   then: node iaas-drivers/local/bench/local-cluster.mjs
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pidsWithEnv } from '@slipway/agent';
import { startLocalControlPlane } from '../test/local-control-plane.mjs';
import { killVmTree, readInventory, VM_MARKER, vmMarker } from '../dist/src/index.js';

const run = promisify(execFile);
const TICK = 100; // USER_HZ

const cp = await startLocalControlPlane({ masters: 3, workers: 2, heartbeatSeconds: 2 });
try {
  const created = await cp.createCluster('bench', { workers: 2 });
  const task = created.task;
  console.log(`cluster create, 3 masters + 2 workers: ${(created.wallMs / 1000).toFixed(2)} s wall`);
  for (const step of task.steps) {
    const ms = Date.parse(step.finished_at) - Date.parse(step.started_at);
    console.log(`  step ${step.name.padEnd(14)} ${String(ms).padStart(6)} ms`);
  }

  // Idle VMs: the agents only heartbeat (every 2 s here; 30 s by default).
  const inventory = readInventory(join(cp.root, 'state.json'));
  const vms = Object.values(inventory.vms);
  const agents = vms.map((vm) => agentOf(cp.root, vm.id)).filter(Boolean);
  await new Promise((r) => setTimeout(r, 5_000));
  const before = agents.map(cpuTicks);
  const windowMs = 20_000;
  await new Promise((r) => setTimeout(r, windowMs));
  const after = agents.map(cpuTicks);
  const rss = agents.map((pid) => rssKb(pid));
  const cpu = agents.map((_, i) => ((after[i] - before[i]) / TICK / (windowMs / 1000)) * 100);
  console.log(
    `agent per idle VM (${agents.length} VMs, heartbeat 2 s): RSS ${avg(rss).toFixed(0)} KiB (min ${Math.min(...rss)}, max ${Math.max(...rss)}), CPU ${avg(cpu).toFixed(2)} % of a core over ${windowMs / 1000} s`,
  );
  const initRss = vms.map((vm) => rssKb(vm.initPid));
  console.log(`VM init (sh) per VM: RSS ${avg(initRss).toFixed(0)} KiB`);
  const etcdPids = vms
    .flatMap((vm) => pidsWithEnv(VM_MARKER, vmMarker(cp.root, vm.id)))
    .filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('/usr/bin/etcd'));
  if (etcdPids.length) console.log(`etcd member: RSS ${avg(etcdPids.map(rssKb)).toFixed(0)} KiB`);

  // Kill a master's whole tree; recreate it through the engine's Provisioner; wait for 3 healthy members.
  const masters = (await cp.instances(created.uuid))
    .filter((i) => i.group_name === 'master')
    .sort((a, b) => a.idx - b.idx);
  const tls = mkdtempSync(join(tmpdir(), 'bench-etcd-'));
  const client = await cp.credential(created.uuid, 'etcd-client');
  writeFileSync(join(tls, 'ca.pem'), client.ca);
  writeFileSync(join(tls, 'c.pem'), client.certificate);
  writeFileSync(join(tls, 'k.pem'), client.private_key, { mode: 0o600 });
  const endpoints = masters.map((m) => `https://${m.ip}:2379`).join(',');
  const healthy = async () => {
    try {
      const { stdout } = await run(
        'etcdctl',
        [
          `--endpoints=${endpoints}`,
          `--cacert=${join(tls, 'ca.pem')}`,
          `--cert=${join(tls, 'c.pem')}`,
          `--key=${join(tls, 'k.pem')}`,
          '--command-timeout=2s',
          'endpoint',
          'health',
          '-w',
          'json',
        ],
        { env: { ...process.env, ETCDCTL_API: '3' } },
      );
      const list = JSON.parse(stdout);
      return list.length === 3 && list.every((h) => h.health);
    } catch {
      return false;
    }
  };
  const victim = masters[2];
  const killedAt = Date.now();
  await killVmTree(cp.root, readInventory(join(cp.root, 'state.json')).vms[victim.vm_cid], 0);
  await cp.recreate(victim.id);
  const recreatedAt = Date.now();
  while (!(await healthy())) await new Promise((r) => setTimeout(r, 100));
  const healthyAt = Date.now();
  console.log(
    `master killed -> VM recreated (hasVm, createVm, attachDisk): ${recreatedAt - killedAt} ms; -> etcd 3/3 healthy: ${healthyAt - killedAt} ms`,
  );
  rmSync(tls, { recursive: true, force: true });
} finally {
  await cp.stop();
}

function agentOf(root, vmId) {
  return pidsWithEnv(VM_MARKER, vmMarker(root, vmId)).find((pid) => {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv[0] === process.execPath && argv[1]?.endsWith('main.js');
  });
}

function cpuTicks(pid) {
  const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

function rssKb(pid) {
  const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

function avg(values) {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}
