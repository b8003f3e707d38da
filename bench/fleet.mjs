// Fleet upgrade figure (issue 5): 50 clusters (1 master + 1 worker each) upgraded by one fleet upgrade on the
// sandbox with known per-call latencies, canary first then max_in_flight at a time; the wall time next to
// the critical-path lower bound computed from those latencies.
// Run with `npm run bench -- fleet.mjs` (compiled JS; `npm run build` first). Prints figures, asserts nothing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '@slipway/api';
import { client, fmt, peakRssMb } from './lib.mjs';

const CLUSTERS = Number(process.env.BENCH_CLUSTERS ?? 50);
const MAX_IN_FLIGHT = Number(process.env.BENCH_MAX_IN_FLIGHT ?? 10);
const CANARIES = 1;
const PASSWORD = 'bench-password-1';
// Per-call latencies of the simulated cloud (ms) and its VM boot time: what the lower bound is made of.
const LATENCY = { default: 10, createVm: 400, deleteVm: 200, attachDisk: 150, detachDisk: 150, createStemcell: 800 };
const BOOT_MS = 500;
const WATCH_LOW_MS = 300;
const CONFIG = `
iaas: [{ name: sandbox, plugin: "@slipway/iaas-sandbox", config: { boot_delay_ms: ${BOOT_MS}, latency_ms: ${JSON.stringify(LATENCY)} } }]
network: { plugin: "@slipway/network-flat", config: { ranges: { sandbox: { cidr: 10.60.0.0/22 } } } }
agents: { heartbeat_interval_seconds: 5, boot_timeout_seconds: 120 }
kubernetes:
  default_version: 1.31.4
  stemcell: { name: ubuntu-jammy, version: "1.600" }
  stemcells: [{ name: ubuntu-jammy, version: "1.601" }]
plans:
  - name: bench
    iaas: sandbox
    master_instances: 1
    worker_instances: 1
    max_worker_instances: 10
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
    update: { canaries: 1, max_in_flight: 1, canary_watch_time: "${WATCH_LOW_MS}-60000", update_watch_time: "${WATCH_LOW_MS}-60000" }
`;

const home = mkdtempSync(join(tmpdir(), 'slipway-bench-fleet-'));
writeFileSync(join(home, 'slipway.yaml'), CONFIG);
const cp = await startControlPlane({ home, port: 0, adminPassword: PASSWORD, log: () => {}, env: {} });
const api = client(cp.url, readFileSync(cp.caPath, 'utf8'));
try {
  const token = await api.login('admin', PASSWORD);
  const t0 = performance.now();
  const created = [];
  // Created 10 at a time: the cluster PKI (RSA keys) is the slow part and is not what is measured here.
  for (let i = 0; i < CLUSTERS; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, CLUSTERS - i) }, (_, k) =>
        api.call('POST', '/v1/clusters', {
          token,
          body: {
            name: `f${i + k}`,
            plan_name: 'bench',
            parameters: { kubernetes_master_host: `f${i + k}.example.test` },
          },
        }),
      ),
    );
    created.push(...(await Promise.all(batch.map((r) => api.waitTask(token, r.body.task_id)))));
  }
  const failedCreates = created.filter((t) => t.state !== 'done').length;
  console.log(
    `created ${CLUSTERS} clusters (1 master + 1 worker) in ${fmt((performance.now() - t0) / 1000, 1)} s${failedCreates ? `, ${failedCreates} failed` : ''}`,
  );

  const start = performance.now();
  const job = await api.call('POST', '/v1/fleet-upgrades', {
    token,
    body: { all: true, canaries: CANARIES, max_in_flight: MAX_IN_FLIGHT, stemcell: 'ubuntu-jammy/1.601' },
  });
  if (job.status !== 202) throw new Error(`fleet upgrade refused: ${JSON.stringify(job.body)}`);
  let final;
  for (;;) {
    final = (await api.call('GET', `/v1/fleet-upgrades/${job.body.id}`, { token })).body;
    if (!['queued', 'in progress'].includes(final.state)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const wallS = (performance.now() - start) / 1000;

  // The critical path of one VM replacement: detach the disk, delete the VM, create the new one, attach the
  // disk, boot, watch. A cluster replaces its master, then its worker, one after the other; the stemcell is
  // uploaded once, by the first (canary) cluster. Canaries run alone, then ceil(rest / max_in_flight) waves.
  const replaceMs =
    LATENCY.detachDisk + LATENCY.deleteVm + LATENCY.createVm + LATENCY.attachDisk + BOOT_MS + WATCH_LOW_MS;
  const clusterMs = 2 * replaceMs;
  const waves = CANARIES + Math.ceil((CLUSTERS - CANARIES) / MAX_IN_FLIGHT);
  const boundS = (LATENCY.createStemcell + waves * clusterMs) / 1000;
  console.log(
    `fleet upgrade of ${CLUSTERS} clusters to stemcell ubuntu-jammy/1.601, ${CANARIES} canary then max_in_flight ${MAX_IN_FLIGHT}: ` +
      `${final.state} (${Object.entries(final.summary)
        .filter(([, n]) => n)
        .map(([s, n]) => `${n} ${s}`)
        .join(', ')})`,
  );
  console.log(
    `  wall ${fmt(wallS, 2)} s vs critical-path lower bound ${fmt(boundS, 2)} s ` +
      `(${waves} waves x ${clusterMs} ms per cluster [2 VMs x (detach ${LATENCY.detachDisk} + delete ${LATENCY.deleteVm} + create ${LATENCY.createVm} + attach ${LATENCY.attachDisk} + boot ${BOOT_MS} + watch ${WATCH_LOW_MS} ms)] + stemcell upload ${LATENCY.createStemcell} ms): ` +
      `ratio ${fmt(wallS / boundS, 3)} (goal <= 1.2); peak RSS ${fmt(peakRssMb(), 0)} MiB`,
  );
} finally {
  api.close();
  await cp.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(`${home}-keys`, { recursive: true, force: true });
}
