// Backup and restore figures (issue 11): a home with N clusters (1 master + 1 worker each) on the sandbox;
// `takeBackup` online while the control plane runs and its agents heartbeat, then `restoreBackup` into a
// new home. Median of several backups. Run with `npm run bench -- backup.mjs` (compiled JS; `npm run build`
// first). BENCH_CLUSTERS sets N (default 20). Prints figures, asserts nothing.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '@slipway/api';
import { restoreBackup, takeBackup } from '@slipway/engine';
import { client, fmt, median } from './lib.mjs';

const CLUSTERS = Number(process.env.BENCH_CLUSTERS ?? 20);
const RUNS = 5;
const PASSWORD = 'bench-password-1';
const root = mkdtempSync(join(tmpdir(), 'slipway-bench-backup-'));
const home = join(root, 'home');
const CONFIG = `
iaas: [{ name: sandbox, plugin: "@slipway/iaas-sandbox", config: { state_file: ${JSON.stringify(join(root, 'cloud.json'))} } }]
network: { plugin: "@slipway/network-flat", config: { ranges: { sandbox: { cidr: 10.61.0.0/22 } } } }
agents: { heartbeat_interval_seconds: 1, boot_timeout_seconds: 120 }
plans:
  - name: bench
    iaas: sandbox
    master_instances: 1
    worker_instances: 1
    max_worker_instances: 10
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
`;

mkdirSync(home);
writeFileSync(join(home, 'slipway.yaml'), CONFIG);
const cp = await startControlPlane({ home, port: 0, adminPassword: PASSWORD, log: () => {}, env: {} });
const api = client(cp.url, readFileSync(cp.caPath, 'utf8'));
try {
  const token = await api.login('admin', PASSWORD);
  for (let i = 0; i < CLUSTERS; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, CLUSTERS - i) }, (_, k) =>
        api.call('POST', '/v1/clusters', {
          token,
          body: {
            name: `b${i + k}`,
            plan_name: 'bench',
            parameters: { kubernetes_master_host: `b${i + k}.example.test` },
          },
        }),
      ),
    );
    await Promise.all(batch.map((r) => api.waitTask(token, r.body.task_id)));
  }
  const times = [];
  let manifest;
  for (let run = 0; run < RUNS; run++) {
    const to = join(root, `backup-${run}`);
    const t0 = performance.now();
    manifest = await takeBackup({ home, configPath: join(home, 'slipway.yaml'), to, version: cp.version });
    times.push(performance.now() - t0);
  }
  const size = manifest.files.reduce((n, f) => n + f.bytes, 0);
  console.log(
    `backup of a home with ${CLUSTERS} clusters (${CLUSTERS * 2} VMs), online: median ${fmt(median(times), 0)} ms of ${RUNS} ` +
      `(min ${fmt(Math.min(...times), 0)}, max ${fmt(Math.max(...times), 0)}), ${fmt(size / 1024, 0)} KiB: ` +
      manifest.files.map((f) => `${f.path} ${fmt(f.bytes / 1024, 0)} KiB`).join(', '),
  );
  const restores = [];
  for (let run = 0; run < RUNS; run++) {
    const t0 = performance.now();
    await restoreBackup({
      from: join(root, `backup-${run}`),
      home: join(root, `restored-${run}`),
      keysDir: `${home}-keys`,
      env: {},
    });
    restores.push(performance.now() - t0);
  }
  console.log(`restore (checksums, key check, files in place): median ${fmt(median(restores), 0)} ms of ${RUNS}`);
} finally {
  api.close();
  await cp.stop();
  rmSync(root, { recursive: true, force: true });
  rmSync(`${home}-keys`, { recursive: true, force: true });
}
