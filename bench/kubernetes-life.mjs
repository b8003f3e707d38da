// Figures for keeping a Kubernetes cluster alive on the local driver (real processes, real etcd), not pass/fail:
//   1. kill -9 of a master's whole process tree -> etcd 3/3 healthy again, through the health monitor and the
//      resurrector, with the default timings (heartbeat 30 s, analyze 10 s, cloud check 60 s, agent timeout 60 s)
//      and with test timings (heartbeat 1 s, analyze 0.5 s, cloud check 1 s, agent timeout 8 s);
//   2. a cold start of every job of a VM without the control plane: Slipway stopped, a master's tree killed, the
//      VM booted again; time until its agent started its jobs from the kept desired state, and until etcd is
//      3/3 healthy.
// One cluster (3 masters, 1 worker) serves all three: the control plane is restarted on the same home between them.
// Needs the build (npx tsc -b) and etcd + etcdctl (Debian: etcd-server etcd-client).
//   node bench/kubernetes-life.mjs
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startLocalControlPlane } from '../iaas-drivers/local/test/local-control-plane.mjs';
import { killVmTree, readInventory, vmLayout } from '../iaas-drivers/local/dist/src/index.js';

const run = promisify(execFile);
if (!existsSync('/usr/bin/etcd') || !existsSync('/usr/bin/etcdctl')) {
  console.log('skipped: etcd and etcdctl are not installed at /usr/bin (apt-get install etcd-server etcd-client)');
  process.exit(0);
}

const TEST_TIMINGS = { analyze_interval_seconds: 0.5, cloud_check_interval_seconds: 1, agent_timeout_seconds: 8 };
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;

let cp = await startLocalControlPlane({ masters: 3, workers: 1, heartbeatSeconds: 30, keepHome: true });
const home = cp.home;
const tls = mkdtempSync(join(tmpdir(), 'bench-life-'));
try {
  const created = await cp.createCluster('life', { workers: 1 });
  console.log(`cluster of 3 masters + 1 worker created in ${s(created.wallMs)}`);
  const masters = (await cp.instances(created.uuid))
    .filter((i) => i.group_name === 'master')
    .sort((a, b) => a.idx - b.idx);
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
  const untilHealthy = async (from, limitMs) => {
    while (!(await healthy())) {
      if (Date.now() - from > limitMs) throw new Error(`etcd not 3/3 healthy within ${s(limitMs)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return Date.now() - from;
  };
  const vmOf = async (id) => (await cp.instances(created.uuid)).find((i) => i.id === id);
  await untilHealthy(Date.now(), 60_000);

  // 1. Through the resurrector, with the default timings, then with test timings.
  const resurrect = async (label, victim) => {
    const before = await vmOf(victim.id);
    const killedAt = Date.now();
    await killVmTree(cp.root, readInventory(join(cp.root, 'state.json')).vms[before.vm_cid], 0);
    let recreatedMs;
    while (!recreatedMs) {
      const row = await vmOf(victim.id);
      if (row.vm_cid && row.vm_cid !== before.vm_cid) recreatedMs = Date.now() - killedAt;
      else await new Promise((r) => setTimeout(r, 200));
      if (Date.now() - killedAt > 600_000) throw new Error('no resurrection within 600 s');
    }
    const healthyMs = await untilHealthy(killedAt, 600_000);
    console.log(
      `master killed (kill -9 of its tree) -> etcd 3/3 healthy, ${label}: ${s(healthyMs)} (new VM created after ${s(recreatedMs)})`,
    );
  };
  await resurrect('default timings (heartbeat 30 s, analyze 10 s, cloud check 60 s, agent timeout 60 s)', masters[1]);
  await cp.crash();
  cp = await startLocalControlPlane({
    ...cp.options,
    home,
    port: cp.port,
    cidr: cp.cidr,
    heartbeatSeconds: 1,
    health: TEST_TIMINGS,
    keepHome: true,
  });
  await untilHealthy(Date.now(), 120_000);
  await resurrect('test timings (heartbeat 1 s, analyze 0.5 s, cloud check 1 s, agent timeout 8 s)', masters[2]);

  // 2. A cold start without the control plane: Slipway stopped, master-0's tree killed, its VM booted again.
  const victim = await vmOf(masters[0].id);
  await new Promise((r) => setTimeout(r, 3_000)); // the agent has kept the desired state it applied
  await cp.crash();
  const vm = readInventory(join(cp.root, 'state.json')).vms[victim.vm_cid];
  await killVmTree(cp.root, vm, 0);
  const consoleFile = vmLayout(cp.root, vm.id).console;
  const consoleBefore = readFileSync(consoleFile, 'utf8').length;
  const bootedAt = Date.now();
  await cp.driver.rebootVm({ vmId: vm.id });
  const healthyMs = await untilHealthy(bootedAt, 180_000);
  const lines = readFileSync(consoleFile, 'utf8')
    .slice(consoleBefore)
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return undefined;
      }
    })
    .filter(Boolean);
  const at = (message) => lines.find((l) => String(l.msg ?? l.message ?? '').includes(message))?.time;
  const fromCache = at('starting jobs from the kept desired state');
  const applied = at('desired state applied');
  const rel = (t) => (t ? s(Date.parse(t) - bootedAt) : 'not seen');
  console.log(
    `cold start of every job of a master without the control plane: agent started its jobs from the kept desired state ${rel(fromCache)} after boot, applied ${rel(applied)}; etcd 3/3 healthy after ${s(healthyMs)}`,
  );
} finally {
  await cp.crash().catch(() => {});
  await cp.killAll();
  rmSync(tls, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
  rmSync(`${home}-keys`, { recursive: true, force: true });
}
