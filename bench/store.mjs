// Store figures (issue 15): GET /v1/clusters/{name} throughput with the store on PostgreSQL and on SQLite,
// next to a bare hono handler on the same TLS setup, as ratios measured in one run. The goal: at least 0.5
// of bare hono on SQLite. PostgreSQL comes from BENCH_PG_URL or SLIPWAY_TEST_PG_URL (a role that may create
// databases; a database is made for the run and dropped after); without one, only SQLite is measured.
// Run with `node bench/store.mjs` after a build (compiled JS); prints figures, asserts nothing.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { startControlPlane } from '@slipway/api';
import { createCertificate } from '@slipway/pki';
import { client, fmt, hasWrk, wrk } from './lib.mjs';

const PASSWORD = 'bench-password-1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONFIG = `
iaas: [{ name: sandbox, plugin: "@slipway/iaas-sandbox", config: { boot_delay_ms: 0 } }]
network: { plugin: "@slipway/network-flat", config: { ranges: { sandbox: { cidr: 10.0.0.0/12 } } } }
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

/** A control plane on its own home with the given store, one cluster created; the point read measured by wrk. */
async function measure(label, storeUrl) {
  const home = mkdtempSync(join(tmpdir(), `slipway-bench-store-${label}-`));
  writeFileSync(join(home, 'slipway.yaml'), CONFIG);
  const env = { ...(storeUrl ? { SLIPWAY_STORE_URL: storeUrl } : {}), SLIPWAY_PASSWORD_SCRYPT_COST: '14' };
  const cp = await startControlPlane({ home, port: 0, adminPassword: PASSWORD, log: () => {}, env });
  const api = client(cp.url, readFileSync(cp.caPath, 'utf8'));
  try {
    const token = await api.login('admin', PASSWORD);
    const created = await api.call('POST', '/v1/clusters', {
      token,
      body: { name: 'c0', plan_name: 'bench', parameters: { kubernetes_master_host: 'c0.example.test' } },
    });
    const task = await api.waitTask(token, created.body.task_id);
    if (task.state !== 'done') throw new Error(`${label}: create-cluster ended ${task.state}`);
    const sample = JSON.stringify((await api.call('GET', '/v1/clusters/c0', { token })).body);
    const headers = { authorization: `Bearer ${token}` };
    await wrk(`${cp.url}/v1/clusters/c0`, { seconds: 2, headers }); // warm-up
    const result = await wrk(`${cp.url}/v1/clusters/c0`, { seconds: SECONDS, headers });
    return { ...result, sample };
  } finally {
    api.close();
    await cp.stop();
    rmSync(home, { recursive: true, force: true });
    rmSync(`${home}-keys`, { recursive: true, force: true });
  }
}

async function bareHono(sample) {
  const app = new Hono();
  app.get('/v1/clusters/:name', (c) => c.body(sample, 200, { 'content-type': 'application/json' }));
  // The same TLS shape as the control plane's listener: an RSA 2048 serving certificate.
  const pair = await createCertificate({ subject: { commonName: 'bare' }, altNames: ['127.0.0.1'] });
  const server = createServer({ cert: pair.certificatePem, key: pair.privateKeyPem }, getRequestListener(app.fetch));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${server.address().port}/v1/clusters/c0`;
  try {
    await wrk(url, { seconds: 2 });
    return await wrk(url, { seconds: SECONDS });
  } finally {
    server.close();
  }
}

/** A database of its own for the run, on the server the admin URL names; dropped by the returned function. */
async function postgresDatabase(adminUrl) {
  const name = `slipway_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

if (!hasWrk()) {
  console.log('GET /v1/clusters/{name} by store: skipped (install wrk: apt-get install wrk)');
} else {
  const sqlite = await measure('sqlite');
  const adminUrl = process.env.BENCH_PG_URL ?? process.env.SLIPWAY_TEST_PG_URL;
  let postgres;
  if (adminUrl) {
    const db = await postgresDatabase(adminUrl);
    try {
      postgres = await measure('postgres', db.url);
    } finally {
      await db.drop();
    }
  }
  const base = await bareHono(sqlite.sample);
  const line = (label, r) =>
    `${label}: ${fmt(r.rps, 0)} req/s (p99 ${r.p99}, ${r.non2xx} non-2xx), ratio to bare hono ${fmt(r.rps / base.rps, 2)}`;
  console.log(
    `GET /v1/clusters/{name}, ${SECONDS} s each, 16 connections; bare hono ${fmt(base.rps, 0)} req/s (p99 ${base.p99})`,
  );
  console.log(line('  SQLite store    ', sqlite));
  console.log(
    postgres
      ? line('  PostgreSQL store', postgres)
      : '  PostgreSQL store: skipped (set BENCH_PG_URL or SLIPWAY_TEST_PG_URL)',
  );
  if (postgres) console.log(`  PostgreSQL / SQLite: ${fmt(postgres.rps / sqlite.rps, 2)}`);
}
