// Spine figures (issue: contracts, store, engine, API, CLI), on the sandbox with zero latency:
//  1. 100 clusters (1 master + 3 workers) created concurrently: wall time, CPU per VM, peak RSS;
//  2. `slipway clusters --json` latency with 1,000 clusters stored;
//  3. GET /v1/clusters/{name} throughput next to a bare hono handler on the same TLS setup, as a ratio.
// Run with `npm run bench` (compiled JS); prints figures, asserts nothing.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { startControlPlane } from '@slipway/api';
import { createStore } from '@slipway/engine';
import { createCertificate } from '@slipway/pki';
import { client, fmt, hasWrk, median, peakRssMb, wrk } from './lib.mjs';

const CLUSTERS = Number(process.env.BENCH_CLUSTERS ?? 100);
const STORED = Number(process.env.BENCH_STORED ?? 1000);
const PASSWORD = 'bench-password-1';
const run = promisify(execFile);
const cli = fileURLToPath(new URL('../core/cli/dist/main.js', import.meta.url));

const CONFIG = `
iaas: [{ name: sandbox, plugin: "@slipway/iaas-sandbox", config: { boot_delay_ms: 0 } }]
network: { plugin: "@slipway/network-flat", config: { ranges: { sandbox: { cidr: 10.0.0.0/12 } } } }
agents: { heartbeat_interval_seconds: 30, boot_timeout_seconds: 600 }
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

const home = mkdtempSync(join(tmpdir(), 'slipway-bench-'));
writeFileSync(join(home, 'slipway.yaml'), CONFIG);
const cp = await startControlPlane({ home, port: 0, adminPassword: PASSWORD, log: () => {}, env: {} });
const ca = readFileSync(cp.caPath, 'utf8');
const api = client(cp.url, ca);
const token = await api.login('admin', PASSWORD);

try {
  // 1. concurrent creates
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const created = await Promise.all(
    Array.from({ length: CLUSTERS }, (_, i) =>
      api.call('POST', '/v1/clusters', {
        token,
        body: { name: `c${i}`, plan_name: 'bench', parameters: { kubernetes_master_host: `c${i}.example.test` } },
      }),
    ),
  );
  const tasks = await Promise.all(created.map((r) => api.waitTask(token, r.body.task_id)));
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const peakMb = peakRssMb();
  const failed = tasks.filter((t) => t.state !== 'done').length;
  const vms = CLUSTERS * 4;
  console.log(
    `create ${CLUSTERS} clusters x 4 VMs concurrently: wall ${fmt(wallS, 2)} s, ` +
      `CPU ${fmt((cpu.user + cpu.system) / 1000 / vms, 1)} ms per VM (control plane + simulated agents, one process), ` +
      `peak RSS ${fmt(peakMb, 0)} MiB, ${failed} failed`,
  );

  if (process.env.BENCH_ONLY === 'create') process.exit(0);
  // 2. 1,000 clusters stored: fill with rows (as created clusters leave them), then time the CLI.
  const store = await createStore(join(home, 'slipway.db'));
  const now = new Date().toISOString();
  for (let i = CLUSTERS; i < STORED; i += 100) {
    const batch = Array.from({ length: Math.min(100, STORED - i) }, (_, k) => ({ uuid: randomUUID(), n: i + k }));
    await store.db
      .insertInto('clusters')
      .values(
        batch.map(({ uuid, n }) => ({
          uuid,
          name: `s${n}`,
          owner: 'admin',
          plan_name: 'bench',
          iaas: 'sandbox',
          external_hostname: `s${n}.example.test`,
          k8s_version: '1.31.4',
          stemcell: 'ubuntu-jammy/1.600',
          master_instances: 1,
          worker_instances: 3,
          api_address: '10.1.0.1',
          status: 'active',
          live: 1,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
    await store.instances.insert(
      batch.flatMap(({ uuid }) =>
        ['master', 'worker', 'worker', 'worker'].map((group, idx) => ({
          id: randomUUID(),
          cluster_uuid: uuid,
          group_name: group,
          idx: group === 'master' ? 0 : idx - 1,
          agent_id: randomUUID(),
          vm_cid: null,
          ip: `10.1.${Math.floor(idx / 250)}.${(idx % 250) + 1}`,
          zone: null,
          desired: 'present',
          state: 'running',
          last_heartbeat_at: null,
          processes: null,
          desired_generation: 1,
          applied_generation: 1,
          drained: 0,
          created_at: now,
          updated_at: now,
        })),
      ),
    );
  }
  await store.db.destroy();
  const apiTimes = [];
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    const res = await api.call('GET', '/v1/clusters', { token });
    apiTimes.push(performance.now() - s);
    if (res.body.length !== STORED) throw new Error(`expected ${STORED} clusters, got ${res.body.length}`);
  }
  const cliConfig = join(home, 'cli.json');
  const env = { ...process.env, SLIPWAY_CLI_CONFIG: cliConfig };
  let cliLine = 'slipway clusters --json: skipped (CLI not built)';
  try {
    // Asynchronous: the control plane answering the CLI runs in this process.
    await run('node', [cli, 'login', '-a', cp.url, '-u', 'admin', '-p', PASSWORD, '--ca-cert', cp.caPath], { env });
    const times = [];
    for (let i = 0; i < 7; i++) {
      const s = performance.now();
      const { stdout } = await run('node', [cli, 'clusters', '--json'], { env, maxBuffer: 64 * 2 ** 20 });
      times.push(performance.now() - s);
      if (JSON.parse(stdout).length !== STORED) throw new Error('wrong cluster count from the CLI');
    }
    const bare = [];
    for (let i = 0; i < 7; i++) {
      const s = performance.now();
      await run('node', ['-e', '0']);
      bare.push(performance.now() - s);
    }
    cliLine =
      `slipway clusters --json with ${STORED} clusters: median ${fmt(median(times), 0)} ms for the whole command ` +
      `(node start alone ${fmt(median(bare), 0)} ms)`;
  } catch (e) {
    cliLine = `slipway clusters --json: failed (${e.message.split('\n')[0]})`;
  }
  console.log(`GET /v1/clusters with ${STORED} clusters: median ${fmt(median(apiTimes), 1)} ms`);
  console.log(cliLine);

  // 3. throughput of a point read vs a bare hono handler on the same TLS setup
  if (!hasWrk()) {
    console.log('GET /v1/clusters/{name} throughput: skipped (install wrk: apt-get install wrk)');
  } else {
    const sample = JSON.stringify((await api.call('GET', '/v1/clusters/c0', { token })).body);
    const bareApp = new Hono();
    bareApp.get('/v1/clusters/:name', (c) => c.body(sample, 200, { 'content-type': 'application/json' }));
    // The same TLS shape as the control plane's listener: an RSA 2048 serving certificate.
    const pair = await createCertificate({ subject: { commonName: 'bare' }, altNames: ['127.0.0.1'] });
    const bare = createServer(
      { cert: pair.certificatePem, key: pair.privateKeyPem },
      getRequestListener(bareApp.fetch),
    );
    await new Promise((r) => bare.listen(0, '127.0.0.1', r));
    const bareUrl = `https://127.0.0.1:${bare.address().port}/v1/clusters/c0`;
    const headers = { authorization: `Bearer ${token}` };
    await wrk(`${cp.url}/v1/clusters/c0`, { seconds: 2, headers }); // warm-up
    const ours = await wrk(`${cp.url}/v1/clusters/c0`, { seconds: 5, headers });
    await wrk(bareUrl, { seconds: 2 });
    const base = await wrk(bareUrl, { seconds: 5 });
    bare.close();
    console.log(
      `GET /v1/clusters/{name}: ${fmt(ours.rps, 0)} req/s (p99 ${ours.p99}, ${ours.non2xx} non-2xx) vs bare hono ${fmt(base.rps, 0)} req/s ` +
        `(p99 ${base.p99}): ratio ${fmt(ours.rps / base.rps, 2)}`,
    );
  }
} finally {
  api.close();
  await cp.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(`${home}-keys`, { recursive: true, force: true });
}
