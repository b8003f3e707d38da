// Agent bootstrap figures (issue 11, node bootstrap without secrets in user data):
//  1. the bootstrap round trip, from a one-time token to a signed client certificate as an agent lives it: key and
//     CSR made on the "VM", POST /agent/v1/bootstrap over a fresh server-authenticated TLS connection, the control
//     plane's token check, CSR check, signature with the agent CA and the token burned with the serial recorded;
//     median and p90 over BENCH_TRIALS runs, and the server's share of it;
//  2. the user data a VM receives, before (settings with an engine-made client certificate and key, as Slipway
//     delivered them until now) and after (settings with a bootstrap token), JSON and base64 as drivers send it.
// Run with `npm run bench -- agent-bootstrap.mjs` (compiled JS; `npm run build` first). Prints figures, asserts nothing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { getRequestListener } from '@hono/node-server';
import { createKeyAndRequest } from '@slipway/agent';
import { createApp } from '@slipway/api';
import { encodeAgentSettings } from '@slipway/contracts';
import {
  AGENT_CA,
  BootstrapTokens,
  LineLogger,
  SystemClock,
  openEngine,
  parseConfigText,
  validateConfig,
} from '@slipway/engine';
import { createCertificate } from '@slipway/pki';
import { fmt, median, percentile } from './lib.mjs';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 25);
const CONFIG = `
iaas: [{ name: sandbox, plugin: "@slipway/iaas-sandbox", config: { boot_delay_ms: 10 } }]
network: { plugin: "@slipway/network-flat", config: { ranges: { sandbox: { cidr: 10.51.0.0/24 } } } }
agents: { heartbeat_interval_seconds: 1, boot_timeout_seconds: 60 }
plans:
  - name: bench
    iaas: sandbox
    master_instances: 1
    worker_instances: 1
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768 }
    kubernetes: { require_api: false }
`;

function post(url, ca, path, body) {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      new URL(path, url),
      {
        method: 'POST',
        ca,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const home = mkdtempSync(join(tmpdir(), 'slipway-bench-bootstrap-'));
const configPath = join(home, 'slipway.yaml');
writeFileSync(configPath, CONFIG);
const { config } = validateConfig(parseConfigText(CONFIG, configPath));
const engine = await openEngine({
  home,
  config,
  configPath,
  logger: new LineLogger(() => {}, 'error'),
  version: 'bench',
});
let listener;
const server = createServer(
  {
    cert: engine.tls.cert,
    key: engine.tls.key,
    ca: [engine.tls.agentCaPem],
    requestCert: true,
    rejectUnauthorized: false,
  },
  (req, res) => listener(req, res),
);
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const url = `https://127.0.0.1:${server.address().port}`;
const services = await engine.start(url);
listener = getRequestListener(createApp({ services, engine, version: 'bench' }).fetch);
try {
  const view = await services.clusters.create(
    { name: 'admin', roles: ['clusters.admin'] },
    { name: 'b', plan_name: 'bench', parameters: { kubernetes_master_host: 'b.example.test' } },
  );
  for (;;) {
    const task = await engine.store.tasks.get(view.task_id);
    if (task.state === 'done') break;
    if (['error', 'cancelled', 'timeout'].includes(task.state))
      throw new Error(`create ended ${task.state}: ${task.error}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const [instance] = await engine.store.instances.ofCluster(view.uuid);
  const tokens = new BootstrapTokens(engine.store, new SystemClock(), config);

  // ---------- 1. token to signed certificate ----------
  const total = [];
  const serverSide = [];
  for (let i = 0; i < TRIALS + 2; i++) {
    const { token } = await tokens.issue(instance);
    const started = performance.now();
    const { csrPem } = await createKeyAndRequest(instance.agent_id);
    const sent = performance.now();
    const res = await post(url, engine.tls.caPem, '/agent/v1/bootstrap', {
      agentId: instance.agent_id,
      token,
      csr: csrPem,
    });
    const ended = performance.now();
    if (res.status !== 200) throw new Error(`bootstrap answered ${res.status}: ${JSON.stringify(res.body)}`);
    // The first two warm up the JIT, the TLS stack and the credential store.
    if (i >= 2) {
      total.push(ended - started);
      serverSide.push(ended - sent);
    }
  }
  console.log(
    `bootstrap round trip (token -> signed certificate), ${TRIALS} runs: median ${fmt(median(total))} ms, p90 ${fmt(percentile(total, 90))} ms`,
  );
  console.log(
    `  of which POST /agent/v1/bootstrap (new TLS connection, checks, signature, token burned): median ${fmt(median(serverSide))} ms`,
  );

  // ---------- 2. user data before and after ----------
  const ca = await engine.plugins.credentials.get(AGENT_CA, { actor: 'slipway:engine' });
  const { token, expiresAt } = await tokens.issue(instance);
  const base = {
    agentId: instance.agent_id,
    clusterId: instance.cluster_uuid,
    instanceId: instance.id,
    group: instance.group_name,
    index: instance.idx,
    controlPlane: { url, caPem: engine.tls.caPem },
    network: { ip: instance.ip },
    heartbeatIntervalMs: 1000,
  };
  // What the engine put in user data until now: an ECDSA client certificate and its key, signed by the agent CA.
  const legacy = await createCertificate(
    {
      subject: { commonName: instance.agent_id, organization: 'slipway:agents' },
      extendedKeyUsage: ['client_auth'],
      keyAlgorithm: 'ecdsa-p256',
      days: 730,
    },
    { certificatePem: ca.value.certificate, privateKeyPem: ca.value.private_key },
  );
  const before = { ...base, tls: { certPem: legacy.certificatePem, keyPem: legacy.privateKeyPem } };
  const after = { ...base, bootstrap: { token, expiresAt } };
  const size = (s) => `${JSON.stringify(s).length} B JSON, ${encodeAgentSettings(s).length} B base64`;
  console.log(
    `user data before (client certificate + private key): ${size(before)}; contains PRIVATE KEY: ${JSON.stringify(before).includes('PRIVATE KEY')}`,
  );
  console.log(
    `user data after (one-time bootstrap token):          ${size(after)}; contains PRIVATE KEY: ${JSON.stringify(after).includes('PRIVATE KEY')}`,
  );
} finally {
  await new Promise((ok) => {
    server.close(() => ok());
    server.closeAllConnections();
  });
  await engine.close();
  rmSync(home, { recursive: true, force: true });
}
