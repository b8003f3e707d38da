// Network figures on the flat driver (compiled JS; `npx tsc -b` first):
// - API VIP failover with HAProxy: master-0's TLS server killed, time until the VIP answers again (a fresh TLS
//   handshake through it) and until HAProxy's health check marks master-0 down; median and max over trials;
// - 20 clusters' network prepared at once (prepare, three master addresses, the API endpoint) and torn down:
//   wall time, without a load balancer and with a managed HAProxy per cluster.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const HAPROXY = '/usr/sbin/haproxy';
const TRIALS = Number(process.argv[2] ?? 7);
const INTERVAL_MS = 1000;
const PORT = 8443;
const dist = join(root, 'network-drivers/flat/dist/index.js');
if (!existsSync(dist)) {
  console.log('network-flat is not built: run npx tsc -b first');
  process.exit(1);
}
const { default: plugin } = await import(dist);

const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return quiet;
  },
};
const host = (dataDir) => ({
  logger: quiet,
  clock: { now: Date.now, sleep: async () => {} },
  dataDir,
  instanceName: 'bench',
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${Math.round(x)} ms`;

const SERVER = `
const tls = require('node:tls'); const fs = require('node:fs');
const [name, host, port, cert, key] = process.argv.slice(1);
tls.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (s) => { s.end(name + '\\n'); s.on('error', () => {}); })
  .listen(Number(port), host, () => process.stdout.write('up\\n'));`;

function startMaster(name, address, dir) {
  const child = spawn(
    process.execPath,
    ['-e', SERVER, name, address, String(PORT), join(dir, 'cert.pem'), join(dir, 'key.pem')],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${name} exited ${code}`)));
  });
}

function greet(address, ca) {
  return new Promise((resolve, reject) => {
    const s = connect({ host: address, port: PORT, ca, timeout: 2000 });
    s.once('data', (d) => {
      resolve(d.toString().trim());
      s.destroy();
    });
    s.once('timeout', () => s.destroy(new Error('timeout')));
    s.once('error', reject);
  });
}

async function failover() {
  if (!existsSync(HAPROXY)) {
    console.log(`VIP failover: skipped (${HAPROXY} is not installed)`);
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-vip-'));
  const config = {
    ranges: { local: { cidr: '127.79.0.0/24' } },
    load_balancer: {
      mode: 'haproxy',
      vip_range: '127.77.9.10-127.77.9.20',
      haproxy_binary: HAPROXY,
      health_check_interval_ms: INTERVAL_MS,
    },
  };
  const net = await plugin.create(config, host(dataDir));
  const clusterId = '00000000-0000-4000-8000-00000000be01';
  await net.prepareCluster({ clusterId, clusterName: 'bench', iaas: 'local' });
  const addresses = await Promise.all(
    [0, 1, 2].map(async (i) => (await net.allocateAddress({ clusterId, owner: `master-${i}`, iaas: 'local' })).ip),
  );
  const { address: vip } = await net.ensureApiEndpoint({ clusterId, port: PORT, masters: addresses });
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=kube-apiserver',
      '-addext',
      `subjectAltName=${[vip, ...addresses].map((a) => `IP:${a}`).join(',')}`,
      '-keyout',
      join(dataDir, 'key.pem'),
      '-out',
      join(dataDir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const ca = readFileSync(join(dataDir, 'cert.pem'), 'utf8');
  const masters = await Promise.all(addresses.map((a, i) => startMaster(`master-${i}`, a, dataDir)));
  const health = async () =>
    (await net.ensureApiEndpoint({ clusterId, port: PORT, masters: addresses })).members.find(
      (m) => m.address === addresses[0],
    )?.healthy;
  const answers = [];
  const detections = [];
  let failed = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    while ((await health()) !== true) await sleep(50);
    await new Promise((resolve) => {
      masters[0].once('exit', resolve);
      masters[0].kill('SIGKILL');
    });
    const t0 = performance.now();
    let answered;
    while (answered === undefined) {
      try {
        await greet(vip, ca);
        answered = performance.now() - t0;
      } catch {
        failed++;
      }
    }
    answers.push(answered);
    while ((await health()) !== false) await sleep(20);
    detections.push(performance.now() - t0);
    masters[0] = await startMaster('master-0', addresses[0], dataDir);
  }
  console.log(
    `VIP failover on flat with HAProxy (3 TLS masters, check inter ${INTERVAL_MS} ms fall 2, ${TRIALS} trials):`,
  );
  console.log(
    `  VIP answers again after master-0 dies: median ${ms(median(answers))}, max ${ms(Math.max(...answers))}; ${failed} client handshakes failed in all`,
  );
  console.log(
    `  HAProxy marks master-0 down:           median ${ms(median(detections))}, max ${ms(Math.max(...detections))}`,
  );
  for (const m of masters) m.kill('SIGKILL');
  await net.teardownCluster({ clusterId });
  await net.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}

async function prepareMany(label, loadBalancer) {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-net-'));
  const net = await plugin.create(
    { ranges: { bench: { cidr: '10.88.0.0/16' } }, ...(loadBalancer ? { load_balancer: loadBalancer } : {}) },
    host(dataDir),
  );
  const ids = Array.from({ length: 20 }, (_, i) => `00000000-0000-4000-8000-0000000c${String(i).padStart(4, '0')}`);
  const t0 = performance.now();
  await Promise.all(
    ids.map(async (clusterId, i) => {
      await net.prepareCluster({ clusterId, clusterName: `c${i}`, iaas: 'bench' });
      const masters = await Promise.all(
        [0, 1, 2].map(async (m) => (await net.allocateAddress({ clusterId, owner: `master-${m}`, iaas: 'bench' })).ip),
      );
      await net.ensureApiEndpoint({ clusterId, port: PORT, masters });
    }),
  );
  const prepared = performance.now() - t0;
  const t1 = performance.now();
  await Promise.all(ids.map((clusterId) => net.teardownCluster({ clusterId })));
  const torn = performance.now() - t1;
  console.log(
    `  ${label.padEnd(28)} prepare ${ms(prepared).padStart(8)} (${ms(prepared / 20)} a cluster)   teardown ${ms(torn).padStart(8)}`,
  );
  await net.destroy();
  rmSync(dataDir, { recursive: true, force: true });
}

await failover();
console.log("\n20 clusters' network at once on flat (prepare + 3 master addresses + API endpoint; then teardown):");
await prepareMany('no load balancer', undefined);
await prepareMany('external LB (config files)', { mode: 'external', vip_range: '192.0.2.0/24' });
if (existsSync(HAPROXY))
  await prepareMany('HAProxy per cluster', {
    mode: 'haproxy',
    vip_range: '127.77.8.10-127.77.8.60',
    haproxy_binary: HAPROXY,
  });
