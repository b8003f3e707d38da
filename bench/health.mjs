// Health figures (issue 5, "keep clusters alive"):
//  1. detection-to-replacement on the sandbox, with known latencies: a VM killed (missing) and an agent hung
//     (unresponsive), each timed from the fault to its detection and on to the replacement VM running, next
//     to the documented detection bound;
//  2. the health monitor's CPU and RSS with 10,000 VMs heartbeating. Heartbeats are simulated by writing each
//     VM's row as the agent registry does (10,000 TLS agents would measure the agents, not the monitor), the
//     cloud is a stand-in that lists 10,000 VMs; the monitor, its store and its queries are the real ones.
// Run with `npm run bench -- health.mjs` (compiled JS; `npm run build` first). Prints figures, asserts nothing.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '@slipway/api';
import {
  AlertDispatcher,
  createStore,
  detectionBounds,
  HealthMonitor,
  healthSettingsOf,
  parseConfigText,
  Resurrector,
  SystemClock,
  TaskRunner,
  silentLogger,
  validateConfig,
} from '@slipway/engine';
import { client, fmt, median, peakRssMb } from './lib.mjs';

const PASSWORD = 'bench-password-1';
const TRIALS = Number(process.env.BENCH_TRIALS ?? 4);
const VMS = Number(process.env.BENCH_VMS ?? 10_000);
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 60);

// ---------- 1. detection to replacement ----------
const LATENCY = { default: 10, createVm: 250, deleteVm: 100, attachDisk: 80, detachDisk: 80, listResources: 30 };
const HEALTH = { heartbeat: 1, agentTimeout: 3, analyze: 0.5, cloudCheck: 2, boot: 300 };
const CONFIG = `
iaas: [{ name: sandbox, plugin: "@slipway/iaas-sandbox", config: { boot_delay_ms: ${HEALTH.boot}, latency_ms: ${JSON.stringify(LATENCY)} } }]
network: { plugin: "@slipway/network-flat", config: { ranges: { sandbox: { cidr: 10.50.0.0/24 } } } }
agents: { heartbeat_interval_seconds: ${HEALTH.heartbeat}, boot_timeout_seconds: 60 }
health: { agent_timeout_seconds: ${HEALTH.agentTimeout}, analyze_interval_seconds: ${HEALTH.analyze}, cloud_check_interval_seconds: ${HEALTH.cloudCheck} }
plans:
  - name: bench
    iaas: sandbox
    master_instances: 1
    worker_instances: 3
    max_worker_instances: 10
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
`;

async function detectionToReplacement() {
  const home = mkdtempSync(join(tmpdir(), 'slipway-bench-health-'));
  writeFileSync(join(home, 'slipway.yaml'), CONFIG);
  const cp = await startControlPlane({ home, port: 0, adminPassword: PASSWORD, log: () => {}, env: {} });
  const api = client(cp.url, readFileSync(cp.caPath, 'utf8'));
  try {
    const token = await api.login('admin', PASSWORD);
    const created = await api.call('POST', '/v1/clusters', {
      token,
      body: { name: 'h', plan_name: 'bench', parameters: { kubernetes_master_host: 'h.example.test' } },
    });
    await api.waitTask(token, created.body.task_id);
    const { config } = validateConfig(parseConfigText(CONFIG, 'bench.yaml'));
    const bounds = detectionBounds(healthSettingsOf(config), true);
    // The replacement's own critical path from the sandbox's latencies: create the VM, attach its disk, boot.
    const replaceFloor = LATENCY.createVm + LATENCY.attachDisk + HEALTH.boot;
    const rows = [];
    for (let t = 0; t < TRIALS; t++) {
      for (const fault of ['kill', 'hang']) {
        const instances = (await api.call('GET', '/v1/clusters/h/instances', { token })).body;
        const victim = instances.filter((i) => i.group === 'worker' && i.state === 'running')[t % 3];
        const start = performance.now();
        await api.call('POST', `/v1/sandbox/sandbox/vms/${victim.vm_cid}/${fault}`, { token });
        let detected;
        let replaced;
        for (;;) {
          const row = (await api.call('GET', '/v1/clusters/h/instances', { token })).body.find(
            (i) => i.id === victim.id,
          );
          const now = performance.now() - start;
          if (!detected && ['missing', 'unresponsive'].includes(row.state)) detected = { ms: now, state: row.state };
          if (row.vm_cid !== victim.vm_cid && row.state === 'running') {
            replaced = now;
            break;
          }
          if (now > 60_000) throw new Error(`worker ${victim.name} not replaced after 60 s`);
          await new Promise((r) => setTimeout(r, 10));
        }
        rows.push({
          fault,
          state: detected.state,
          detectMs: detected.ms,
          replaceMs: replaced - detected.ms,
          totalMs: replaced,
        });
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    console.log(
      `detection to replacement on the sandbox (heartbeat ${HEALTH.heartbeat} s, agent_timeout ${HEALTH.agentTimeout} s, analyze ${HEALTH.analyze} s, cloud check ${HEALTH.cloudCheck} s; ` +
        `latencies ${JSON.stringify(LATENCY)}, boot ${HEALTH.boot} ms; ${TRIALS} trials each):`,
    );
    for (const fault of ['kill', 'hang']) {
      const r = rows.filter((x) => x.fault === fault);
      const bound = fault === 'kill' ? bounds.missing : bounds.unresponsive;
      console.log(
        `  ${fault === 'kill' ? 'VM killed   → missing     ' : 'agent hung  → unresponsive'}: detected median ${fmt(median(r.map((x) => x.detectMs)), 0)} ms, ` +
          `max ${fmt(Math.max(...r.map((x) => x.detectMs)), 0)} ms (documented bound ${bound} ms); ` +
          `detection → replacement running median ${fmt(median(r.map((x) => x.replaceMs)), 0)} ms (cloud + boot floor ${replaceFloor}${fault === 'hang' ? ` + delete ${LATENCY.deleteVm + LATENCY.detachDisk}` : ''} ms); ` +
          `fault → running median ${fmt(median(r.map((x) => x.totalMs)), 0)} ms`,
      );
    }
  } finally {
    api.close();
    await cp.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(`${home}-keys`, { recursive: true, force: true });
  }
}

// ---------- 2. the monitor at 10,000 VMs ----------
async function monitorAtScale() {
  const home = mkdtempSync(join(tmpdir(), 'slipway-bench-monitor-'));
  const store = await createStore(join(home, 'slipway.db'));
  const clusters = Math.ceil(VMS / 4);
  const now = new Date().toISOString();
  const jobs = JSON.stringify([
    { name: 'containerd', processes: [{ name: 'containerd', state: 'running', restarts: 0, pid: 1000 }] },
    { name: 'kubelet', processes: [{ name: 'kubelet', state: 'running', restarts: 0, pid: 1001 }] },
    { name: 'kube-proxy', processes: [{ name: 'kube-proxy', state: 'running', restarts: 0, pid: 1002 }] },
  ]);
  const ids = [];
  const vmIds = [];
  for (let c = 0; c < clusters; c += 100) {
    const batch = Array.from({ length: Math.min(100, clusters - c) }, (_, k) => ({ uuid: randomUUID(), n: c + k }));
    await store.db
      .insertInto('clusters')
      .values(
        batch.map(({ uuid, n }) => ({
          uuid,
          name: `c${n}`,
          owner: 'admin',
          plan_name: 'bench',
          iaas: 'standin',
          external_hostname: `c${n}.example.test`,
          k8s_version: '1.31.4',
          stemcell: 'ubuntu-jammy/1.600',
          master_instances: 1,
          worker_instances: 3,
          api_address: null,
          status: 'active',
          live: 1,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
    const rows = batch.flatMap(({ uuid, n }) =>
      ['master', 'worker', 'worker', 'worker'].map((group, idx) => {
        const id = randomUUID();
        const vm = `vm-${n}-${idx}`;
        ids.push(id);
        vmIds.push(vm);
        return {
          id,
          cluster_uuid: uuid,
          group_name: group,
          idx: group === 'master' ? 0 : idx - 1,
          agent_id: randomUUID(),
          vm_cid: vm,
          ip: `10.${(n >> 8) & 255}.${n & 255}.${idx + 1}`,
          zone: 'z1',
          desired: 'present',
          state: 'running',
          last_heartbeat_at: now,
          processes: jobs,
          desired_generation: 1,
          applied_generation: 1,
          drained: 0,
          created_at: now,
          updated_at: now,
        };
      }),
    );
    await store.instances.insert(rows);
  }
  const { config } = validateConfig(
    parseConfigText(
      `
iaas: [{ name: standin, plugin: "@slipway/iaas-sandbox" }]
agents: { heartbeat_interval_seconds: 30 }
health: { agent_timeout_seconds: 60, analyze_interval_seconds: 10, cloud_check_interval_seconds: 60 }
plans: [{ name: bench, iaas: standin, master_instances: 1, worker_instances: 3, master_vm: { cpu: 1, memory_mb: 1024, ephemeral_disk_mb: 2048 }, worker_vm: { cpu: 1, memory_mb: 1024, ephemeral_disk_mb: 2048 }, kubernetes: { require_api: false } }]
`,
      'bench.yaml',
    ),
  );
  const listed = { vms: vmIds.map((vmId) => ({ vmId, metadata: {} })), disks: [] };
  const plugins = {
    iaas: new Map([
      [
        'standin',
        {
          name: 'standin',
          plugin: 'stand-in',
          version: '0',
          capabilities: ['inventory'],
          driver: {
            async listResources() {
              return listed;
            },
            async hasVm() {
              return true;
            },
          },
        },
      ],
    ]),
    network: {
      async ensureApiEndpoint(i) {
        return { address: i.masters[0] };
      },
    },
  };
  const clock = new SystemClock();
  const alerts = new AlertDispatcher(store, clock, silentLogger, { sinks: [], async destroy() {} });
  const resurrector = new Resurrector(
    store,
    new TaskRunner(store, clock, silentLogger),
    clock,
    silentLogger,
    config,
    alerts,
  );
  const monitor = new HealthMonitor(store, plugins, clock, silentLogger, config, alerts, resurrector);

  // Heartbeats as the agent registry records them: one write per VM per heartbeat interval, spread evenly.
  const intervalMs = config.agents.heartbeat_interval_seconds * 1000;
  const tickMs = 50;
  let cursor = 0;
  let beats = 0;
  const writer = setInterval(() => {
    const at = new Date().toISOString();
    const n = Math.round((VMS * tickMs) / intervalMs);
    for (let i = 0; i < n; i++) {
      const id = ids[cursor++ % ids.length];
      void store.instances.update(id, {
        last_heartbeat_at: at,
        processes: jobs,
        applied_generation: 1,
        drained: 0,
        state: 'running',
        updated_at: at,
      });
      beats++;
    }
  }, tickMs);

  const measure = async (seconds) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let rssMax = 0;
    const rssTimer = setInterval(() => {
      rssMax = Math.max(rssMax, process.memoryUsage().rss);
    }, 200);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    clearInterval(rssTimer);
    const cpu = process.cpuUsage(cpu0);
    return { corePct: ((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 100, rssMb: rssMax / 2 ** 20 };
  };

  // The first pass reads every instance (the monitor starting up) and lists the cloud; later ones read what
  // heartbeated since the pass before. Each pass is timed with the CPU it used, in this process.
  const timed = async () => {
    const cpu0 = process.cpuUsage();
    const s = performance.now();
    await monitor.analyze();
    await monitor.settle();
    const cpu = process.cpuUsage(cpu0);
    return { wallMs: performance.now() - s, cpuMs: (cpu.user + cpu.system) / 1000 };
  };
  const first = await timed();
  await new Promise((r) => setTimeout(r, 10_000));
  const steady = await timed();
  const writesOnly = await measure(WINDOW_S);
  const passCpu = [];
  const analyze = monitor.analyze.bind(monitor);
  // Counts the monitor's own CPU: every pass the loop runs during the window, timed as above.
  monitor.analyze = async () => {
    const cpu0 = process.cpuUsage();
    await analyze();
    await monitor.settle();
    const cpu = process.cpuUsage(cpu0);
    passCpu.push((cpu.user + cpu.system) / 1000);
  };
  await monitor.start();
  const withMonitor = await measure(WINDOW_S);
  await monitor.stop();
  clearInterval(writer);
  const down = await store.db
    .selectFrom('instances')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('state', '!=', 'running')
    .executeTakeFirst();
  console.log(
    `health monitor with ${VMS} VMs heartbeating every ${intervalMs / 1000} s (simulated: store writes as the agent registry makes them, ${fmt(beats / (2 * WINDOW_S), 0)}/s), analyze every 10 s, cloud list every 60 s:`,
  );
  console.log(
    `  first pass (reads all ${VMS} instances, lists the cloud's ${VMS} VMs): ${fmt(first.wallMs, 1)} ms wall, ${fmt(first.cpuMs, 1)} ms CPU; ` +
      `a steady pass 10 s later (heartbeats since the last pass, silent ones, no cloud list): ${fmt(steady.wallMs, 1)} ms wall, ${fmt(steady.cpuMs, 1)} ms CPU`,
  );
  const monitorCpuMs = passCpu.reduce((a, b) => a + b, 0);
  console.log(
    `  over ${WINDOW_S} s: the monitor's ${passCpu.length} passes used ${fmt(monitorCpuMs, 0)} ms CPU = ${fmt((monitorCpuMs / (WINDOW_S * 1000)) * 100, 2)} % of one core (goal < 10 %); ` +
      `the whole process ${fmt(withMonitor.corePct, 2)} % with heartbeat writes (${fmt(writesOnly.corePct, 2)} % for the writes alone)`,
  );
  console.log(
    `  RSS: ${fmt(withMonitor.rssMb, 0)} MiB while monitoring (process peak ${fmt(peakRssMb(), 0)} MiB; goal < 300 MB); instances flagged down: ${down.n}`,
  );
  await store.db.destroy();
  rmSync(home, { recursive: true, force: true });
  rmSync(`${home}-keys`, { recursive: true, force: true });
}

if (process.env.BENCH_ONLY !== 'scale') await detectionToReplacement();
if (process.env.BENCH_ONLY !== 'detect') await monitorAtScale();
