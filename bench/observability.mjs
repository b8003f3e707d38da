// Observability figures (issue 17): (1) what metrics and JSON logs cost GET /v1/clusters/{name}: requests per
// second with them on vs off, two control planes in one run (wrk, one after the other, twice, best of each);
// (2) event stream fan-out: SUBSCRIBERS Server-Sent Events subscribers follow a fleet upgrade of CLUSTERS
// clusters on the sandbox; latency from the engine's event (its `at`) to each subscriber's receipt (p50, p99).
// Run with `npm run bench -- observability.mjs` (compiled JS; `npm run build` first). Prints figures, asserts nothing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '@slipway/api';
import { client, fmt, hasWrk, percentile, wrk } from './lib.mjs';

const CLUSTERS = Number(process.env.BENCH_CLUSTERS ?? 100);
const SUBSCRIBERS = Number(process.env.BENCH_SUBSCRIBERS ?? 100);
const WRK_SECONDS = Number(process.env.BENCH_WRK_SECONDS ?? 5);
const PASSWORD = 'bench-password-1';
const config = (extra) => `
iaas: [{ name: sandbox, plugin: "@slipway/iaas-sandbox", config: { boot_delay_ms: 50 } }]
network: { plugin: "@slipway/network-flat", config: { ranges: { sandbox: { cidr: 10.60.0.0/20 } } } }
agents: { heartbeat_interval_seconds: 5, boot_timeout_seconds: 120 }
kubernetes:
  default_version: 1.31.4
  stemcell: { name: ubuntu-jammy, version: "1.600" }
  stemcells: [{ name: ubuntu-jammy, version: "1.601" }]
events: { max_subscribers_per_user: ${SUBSCRIBERS + 10} }
plans:
  - name: bench
    iaas: sandbox
    master_instances: 1
    worker_instances: 1
    max_worker_instances: 10
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768 }
    kubernetes: { require_api: false }
    update: { canaries: 1, max_in_flight: 10, canary_watch_time: "100-60000", update_watch_time: "100-60000" }
${extra}`;

async function plane(extra) {
  const home = mkdtempSync(join(tmpdir(), 'slipway-bench-obs-'));
  writeFileSync(join(home, 'slipway.yaml'), config(extra));
  const lines = [];
  const cp = await startControlPlane({
    home,
    port: 0,
    adminPassword: PASSWORD,
    log: (l) => lines.push(l),
    logIsTerminal: false,
    env: {},
  });
  const ca = readFileSync(cp.caPath, 'utf8');
  const api = client(cp.url, ca);
  const token = await api.login('admin', PASSWORD);
  return {
    cp,
    ca,
    api,
    token,
    lines,
    async stop() {
      api.close();
      await cp.stop();
      rmSync(home, { recursive: true, force: true });
      rmSync(`${home}-keys`, { recursive: true, force: true });
    },
  };
}

async function createClusters(p, count, prefix) {
  for (let i = 0; i < count; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, count - i) }, (_, k) =>
        p.api.call('POST', '/v1/clusters', {
          token: p.token,
          body: {
            name: `${prefix}${i + k}`,
            plan_name: 'bench',
            parameters: { kubernetes_master_host: `${prefix}${i + k}.example.test` },
          },
        }),
      ),
    );
    await Promise.all(batch.map((r) => p.api.waitTask(p.token, r.body.task_id)));
  }
}

// ---- (1) overhead on GET /v1/clusters/{name} ----
if (!hasWrk()) {
  console.log('wrk not installed: skipping the GET overhead figure (apt-get install wrk)');
} else {
  const on = await plane('metrics: { enabled: true }\nlog: { format: json }\n');
  const off = await plane('metrics: { enabled: false }\nlog: { format: text, level: error }\n');
  try {
    for (const p of [on, off]) await createClusters(p, 1, 'o');
    const best = { on: 0, off: 0 };
    // Alternating which goes first, so a load change on the machine does not favour one side.
    for (let round = 0; round < 4; round++) {
      for (const [name, p] of round % 2
        ? [
            ['off', off],
            ['on', on],
          ]
        : [
            ['on', on],
            ['off', off],
          ]) {
        const r = await wrk(`${p.cp.url}/v1/clusters/o0`, {
          seconds: WRK_SECONDS,
          headers: { authorization: `Bearer ${p.token}` },
        });
        if (r.non2xx) console.log(`  (${name}: ${r.non2xx} non-2xx answers)`);
        best[name] = Math.max(best[name], r.rps);
      }
    }
    console.log(
      `GET /v1/clusters/{name}: ${fmt(best.on, 0)} req/s with metrics and JSON logs, ${fmt(best.off, 0)} req/s without: ` +
        `overhead ${fmt((1 - best.on / best.off) * 100, 1)}% (goal < 5%)`,
    );
  } finally {
    await on.stop();
    await off.stop();
  }
}

// ---- (2) event stream fan-out during a fleet upgrade ----
const p = await plane('');
try {
  const t0 = performance.now();
  await createClusters(p, CLUSTERS, 'f');
  console.log(`created ${CLUSTERS} clusters (1 master each) in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  const url = new URL(p.cp.url);
  const latencies = [];
  let received = 0;
  const requests = [];
  await Promise.all(
    Array.from(
      { length: SUBSCRIBERS },
      () =>
        new Promise((ready, fail) => {
          const req = request(
            {
              host: url.hostname,
              port: url.port,
              path: '/v1/events',
              headers: { authorization: `Bearer ${p.token}`, accept: 'text/event-stream' },
              ca: p.ca,
              agent: false,
            },
            (res) => {
              if (res.statusCode !== 200) return fail(new Error(`subscriber refused: ${res.statusCode}`));
              ready();
              let buffer = '';
              res.setEncoding('utf8');
              res.on('data', (chunk) => {
                const now = Date.now();
                buffer += chunk;
                let cut;
                while ((cut = buffer.indexOf('\n\n')) >= 0) {
                  const data = buffer
                    .slice(0, cut)
                    .split('\n')
                    .find((l) => l.startsWith('data: '));
                  buffer = buffer.slice(cut + 2);
                  if (!data) continue;
                  received++;
                  latencies.push(now - Date.parse(JSON.parse(data.slice(6)).at));
                }
              });
            },
          );
          req.on('error', () => {});
          req.end();
          requests.push(req);
        }),
    ),
  );
  const start = performance.now();
  const job = await p.api.call('POST', '/v1/fleet-upgrades', {
    token: p.token,
    body: { all: true, canaries: 1, max_in_flight: 10, stemcell: 'ubuntu-jammy/1.601' },
  });
  if (job.status !== 202) throw new Error(`fleet upgrade refused: ${JSON.stringify(job.body)}`);
  let final;
  for (;;) {
    final = (await p.api.call('GET', `/v1/fleet-upgrades/${job.body.id}`, { token: p.token })).body;
    if (!['queued', 'in progress'].includes(final.state)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 500));
  for (const req of requests) req.destroy();
  console.log(
    `fleet upgrade of ${CLUSTERS} clusters: ${final.state} in ${fmt((performance.now() - start) / 1000, 1)} s; ` +
      `${SUBSCRIBERS} subscribers received ${received} events (${fmt(received / SUBSCRIBERS, 0)} each): ` +
      `latency from the engine's event to a subscriber p50 ${fmt(percentile(latencies, 50), 0)} ms, p99 ${fmt(percentile(latencies, 99), 0)} ms, max ${fmt(Math.max(...latencies), 0)} ms`,
  );
} finally {
  await p.stop();
}
