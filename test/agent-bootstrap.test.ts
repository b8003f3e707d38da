import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRequestListener } from '@hono/node-server';
import { Agent, createKeyAndRequest, MemoryCredentialStore } from '@slipway/agent';
import { createApp } from '@slipway/api';
import type { AgentSettings, Clock, Heartbeat } from '@slipway/contracts';
import { createCertificate } from '@slipway/pki';
import {
  AGENT_CA,
  BootstrapTokens,
  LineLogger,
  SystemClock,
  openEngine,
  parseConfigText,
  validateConfig,
  type Engine,
  type EngineServices,
  type InstanceRow,
  type Principal,
} from '@slipway/engine';
import { createQuietLogger, SimulatedProcessRunner } from '@slipway/testkit/simulation';

/**
 * Node bootstrap as a VM lives it, against the real API app on the control plane's TLS setup: tokens that
 * work once, certificates signed for keys made on the VM, refusals that say why in the log, certificates
 * refused once their VM is recreated, and renewal before expiry.
 */
const ADMIN: Principal = { name: 'admin', roles: ['clusters.admin'] };
const CONFIG = `
iaas:
  - name: sandbox
    plugin: "@slipway/iaas-sandbox"
    config: { boot_delay_ms: 20, latency_ms: { default: 1 } }
network:
  plugin: "@slipway/network-flat"
  config: { ranges: { sandbox: { cidr: 10.43.0.0/24 } } }
agents: { heartbeat_interval_seconds: 0.2, boot_timeout_seconds: 20 }
tasks: { retry_attempts: 3 }
health: { agent_timeout_seconds: 1, analyze_interval_seconds: 0.2, cloud_check_interval_seconds: 0.3 }
plans:
  - name: small
    iaas: sandbox
    master_instances: 1
    worker_instances: 1
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768 }
    kubernetes: { require_api: false }
`;

let home: string;
let engine: Engine;
let services: EngineServices;
let server: Server;
let url: string;
const lines: string[] = [];
let instances: InstanceRow[];
let tokens: BootstrapTokens;

interface Credentials {
  certPem: string;
  keyPem: string;
}

function post(path: string, body: unknown, credentials?: Credentials): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = typeof body === 'string' ? body : JSON.stringify(body);
    const req = request(
      new URL(path, url),
      {
        method: 'POST',
        ca: engine.tls.caPem,
        cert: credentials?.certPem,
        key: credentials?.keyPem,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** What an agent does on first boot: a key made here, a CSR, the token. */
async function bootstrap(
  agentId: string,
  token: string,
  csrFor = agentId,
): Promise<{ status: number; body: any; keyPem: string }> {
  const { keyPem, csrPem } = await createKeyAndRequest(csrFor);
  return { ...(await post('/agent/v1/bootstrap', { agentId, token, csr: csrPem })), keyPem };
}

const heartbeatOf = (instance: InstanceRow): Heartbeat => ({
  agentId: instance.agent_id,
  instanceId: instance.id,
  appliedGeneration: 0,
  jobs: [],
});
const sync = (
  instance: InstanceRow,
  credentials: Credentials,
  body: unknown = heartbeatOf(instance),
  query = 'wait=0&generation=0',
) => post(`/agent/v1/sync?${query}`, body, credentials);

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false | null>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false && value !== null) return value as T;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${lines.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const refusals = (agentId: string) => lines.filter((l) => l.includes('refused') && l.includes(`agentId=${agentId}`));

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'slipway-bootstrap-'));
  const configPath = join(home, 'slipway.yaml');
  writeFileSync(configPath, CONFIG);
  const { config, errors } = validateConfig(parseConfigText(CONFIG, configPath));
  if (!config) throw new Error(errors.join('\n'));
  engine = await openEngine({
    home,
    config,
    configPath,
    logger: new LineLogger((l) => lines.push(l), 'info'),
    version: 'test',
  });
  let listener: ReturnType<typeof getRequestListener> | undefined;
  server = createServer(
    {
      cert: engine.tls.cert,
      key: engine.tls.key,
      ca: [engine.tls.agentCaPem],
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => (listener ? listener(req, res) : res.writeHead(503).end()),
  );
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  services = await engine.start(url);
  listener = getRequestListener(createApp({ services, engine, version: 'test' }).fetch);
  tokens = new BootstrapTokens(engine.store, new SystemClock(), config);

  const view = await services.clusters.create(ADMIN, {
    name: 'boot',
    plan_name: 'small',
    parameters: { kubernetes_master_host: 'boot.example.test' },
  });
  const task = await waitFor(
    'the create task',
    async () => {
      const t = await engine.store.tasks.get(view.task_id!);
      return t && ['done', 'error', 'cancelled', 'timeout'].includes(t.state) ? t : undefined;
    },
    60_000,
  );
  expect(task.state, task.error ?? '').toBe('done');
  instances = await engine.store.instances.ofCluster(view.uuid);
}, 90_000);

afterAll(async () => {
  await new Promise<void>((ok) => {
    server?.close(() => ok());
    server?.closeAllConnections();
  });
  await engine?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('node bootstrap', () => {
  it('every VM of a new cluster bootstrapped with its token: one certificate per agent, no key in its user data', async () => {
    for (const instance of instances) {
      const certificates = await engine.store.db
        .selectFrom('agent_certificates')
        .selectAll()
        .where('agent_id', '=', instance.agent_id)
        .execute();
      expect(certificates.map((c) => [c.origin, c.state])).toEqual([['bootstrap', 'active']]);
      const token = await engine.store.db
        .selectFrom('agent_bootstrap_tokens')
        .selectAll()
        .where('agent_id', '=', instance.agent_id)
        .executeTakeFirstOrThrow();
      expect(token.used_at).not.toBeNull();
      expect(token.token_hash).toMatch(/^[0-9a-f]{64}$/);
    }
    // No per-agent key in the credential store any more.
    const names = await engine.plugins.credentials.find(
      { path: `/slipway/clusters/${instances[0]!.cluster_uuid}/agents` },
      { actor: 'slipway:engine' },
    );
    expect(names).toEqual([]);
  });

  it('a token works once; a replayed, expired, foreign or unknown one is refused with a log line naming the agent and why, never the token', async () => {
    const [a, b] = instances as [InstanceRow, InstanceRow];
    const first = await tokens.issue(a);
    const granted = await bootstrap(a.agent_id, first.token);
    expect(granted.status, JSON.stringify(granted.body)).toBe(200);
    const certificate = new X509Certificate(granted.body.certificate);
    expect(certificate.subject).toContain(`CN=${a.agent_id}`);
    expect(
      certificate.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(granted.keyPem))),
    ).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'agent-ca-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), engine.tls.agentCaPem);
      writeFileSync(join(dir, 'agent.pem'), granted.body.certificate);
      expect(
        execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'agent.pem')], {
          encoding: 'utf8',
        }),
      ).toContain(': OK');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const days = (Date.parse(granted.body.notAfter) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThan(7.01);

    const replayed = await bootstrap(a.agent_id, first.token);
    expect(replayed.status).toBe(401);
    expect(replayed.body.detail).toContain(a.agent_id);
    expect(
      refusals(a.agent_id).some((l) => /agent bootstrap refused .*reason=bootstrap token already used/.test(l)),
    ).toBe(true);

    const forA = await tokens.issue(a);
    const foreign = await bootstrap(b.agent_id, forA.token);
    expect(foreign.status).toBe(401);
    expect(
      refusals(b.agent_id).some((l) =>
        l.includes(`reason=foreign bootstrap token: it was issued to agent ${a.agent_id}`),
      ),
    ).toBe(true);

    const expiring = await tokens.issue(b);
    await engine.store.db
      .updateTable('agent_bootstrap_tokens')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('agent_id', '=', b.agent_id)
      .where('used_at', 'is', null)
      .execute();
    const expired = await bootstrap(b.agent_id, expiring.token);
    expect(expired.status).toBe(401);
    expect(refusals(b.agent_id).some((l) => /reason=bootstrap token expired at /.test(l))).toBe(true);

    const unknown = await bootstrap(b.agent_id, `slipway-bootstrap.${randomBytes(32).toString('base64url')}`);
    expect(unknown.status).toBe(401);
    expect(refusals(b.agent_id).some((l) => l.includes('reason=unknown bootstrap token'))).toBe(true);

    // A CSR for another name is refused without spending the token.
    const fresh = await tokens.issue(b);
    const wrongName = await bootstrap(b.agent_id, fresh.token, 'someone-else');
    expect(wrongName.status).toBe(400);
    expect(wrongName.body.field).toBe('csr');
    expect((await bootstrap(b.agent_id, fresh.token)).status).toBe(200);

    for (const token of [first, forA, expiring, fresh]) expect(lines.join('\n')).not.toContain(token.token);
  });

  it('a create step re-run after a crash issues another token: the VM made with the first still bootstraps, the other is burned', async () => {
    const a = instances[0]!;
    // The first run issued a token and created the VM; the crash came before vm_cid was saved; the re-run issues another.
    const firstRun = await tokens.issue(a);
    const reRun = await tokens.issue(a);
    // The cloud's idempotent createVm returned the VM made with the first token: its agent bootstraps with it.
    expect((await bootstrap(a.agent_id, firstRun.token)).status).toBe(200);
    expect((await bootstrap(a.agent_id, reRun.token)).status, 'the sibling token is burned with the first use').toBe(
      401,
    );
    expect(refusals(a.agent_id).some((l) => l.includes('a sibling token of this agent was used'))).toBe(true);
  });

  it('an agent that died before keeping its certificate asks again with the same key and gets the same one; another key gets nothing', async () => {
    const a = instances[0]!;
    const { token } = await tokens.issue(a);
    const first = await bootstrap(a.agent_id, token);
    expect(first.status).toBe(200);
    // The agent kept its key before it asked (pending-key.pem), and died before it kept the answer.
    const again = await post('/agent/v1/bootstrap', {
      agentId: a.agent_id,
      token,
      csr: (await createKeyAndRequest(a.agent_id, first.keyPem)).csrPem,
    });
    expect(again.status).toBe(200);
    expect(again.body.serial).toBe(first.body.serial);
    expect(again.body.certificate).toBe(first.body.certificate);
    // Whoever replays the token with a key of their own is refused.
    expect((await bootstrap(a.agent_id, token)).status).toBe(401);
  });

  it('a certificate signed before bootstrap tokens is accepted once for its agent and recorded; another unknown serial is not', async () => {
    const worker = instances[1]!;
    const ca = (await engine.plugins.credentials.get(AGENT_CA, { actor: 'slipway:engine' })).value as {
      certificate: string;
      private_key: string;
    };
    const issuer = { certificatePem: ca.certificate, privateKeyPem: ca.private_key };
    const legacyId = `legacy-${randomBytes(4).toString('hex')}`;
    // An instance as an older Slipway left it: its agent id never had a token, its certificate came in user data.
    await engine.store.db
      .insertInto('instances')
      .values({
        ...worker,
        id: `${worker.id}-legacy`,
        idx: 99,
        agent_id: legacyId,
        vm_cid: null,
        ip: null,
        desired: 'absent',
        state: 'stopped',
        pod_cidr: null,
      })
      .execute();
    const legacy = { id: `${worker.id}-legacy`, agent_id: legacyId } as InstanceRow;
    try {
      const old = await createCertificate(
        { subject: { commonName: legacyId }, extendedKeyUsage: ['client_auth'], keyAlgorithm: 'ecdsa-p256', days: 730 },
        issuer,
      );
      const credentials = { certPem: old.certificatePem, keyPem: old.privateKeyPem };
      expect((await sync(legacy, credentials)).status).toBe(200);
      const row = await engine.store.agentTrust.certificate(
        new X509Certificate(old.certificatePem).serialNumber.toUpperCase(),
      );
      expect(row).toMatchObject({ origin: 'legacy', state: 'active', agent_id: legacyId });
      const another = await createCertificate(
        { subject: { commonName: legacyId }, extendedKeyUsage: ['client_auth'], keyAlgorithm: 'ecdsa-p256', days: 730 },
        issuer,
      );
      expect((await sync(legacy, { certPem: another.certificatePem, keyPem: another.privateKeyPem })).status).toBe(401);
      expect(
        refusals(legacyId).some((l) => l.includes('its serial was never issued to an agent by this control plane')),
      ).toBe(true);
    } finally {
      await engine.store.db.deleteFrom('instances').where('id', '=', `${worker.id}-legacy`).execute();
    }
  });

  it('validates heartbeats against their schema and limits the bodies of agent routes', async () => {
    const b = instances[1]!;
    const issued = await bootstrap(b.agent_id, (await tokens.issue(b)).token);
    const credentials = { certPem: issued.body.certificate, keyPem: issued.keyPem };
    expect((await sync(b, credentials)).status).toBe(200);

    const bad = await sync(b, credentials, {
      ...heartbeatOf(b),
      appliedGeneration: -1,
      jobs: [{ name: 'kubelet', processes: [{ name: 'kubelet', state: 'dancing', restarts: 0 }] }],
    });
    expect(bad.status, JSON.stringify(bad.body)).toBe(400);
    expect(bad.body.code).toBe('InvalidInput');
    expect(bad.body.detail).toMatch(/appliedGeneration/);
    expect(bad.body.detail).toMatch(/jobs\/0\/processes\/0\/state|jobs\[0\]\.processes\[0\]\.state/);
    expect((await sync(b, credentials, heartbeatOf(b), 'wait=soon&generation=0')).body.field).toBe('wait');

    const big = await post('/agent/v1/bootstrap', {
      agentId: b.agent_id,
      token: 'x'.repeat(64),
      csr: 'y'.repeat(20_000),
    });
    expect(big.status).toBe(400);
    expect(big.body.detail).toContain('larger than 16384 bytes');
    const hugeHeartbeat = await sync(b, credentials, { ...heartbeatOf(b), padding: 'z'.repeat(300_000) });
    expect(hugeHeartbeat.status).toBe(400);
    expect(hugeHeartbeat.body.detail).toContain('larger than');
  });

  it('an agent renews its certificate at two thirds of its life (clock moved forward); the old serial is refused after', async () => {
    const worker = instances[1]!;
    // This instance's sandbox agent goes quiet; the agent under test takes its place with its own key.
    await engine.plugins.iaasTarget('sandbox').driver.rehearsal!.hangAgent(worker.vm_cid!);
    const settings: AgentSettings = {
      agentId: worker.agent_id,
      clusterId: worker.cluster_uuid,
      instanceId: worker.id,
      group: 'worker',
      index: worker.idx,
      controlPlane: { url, caPem: engine.tls.caPem },
      bootstrap: await tokens.issue(worker),
      network: { ip: worker.ip! },
      heartbeatIntervalMs: 100,
    };
    let offsetMs = 0;
    const clock: Clock = {
      now: () => Date.now() + offsetMs,
      sleep: (ms, signal) =>
        new Promise((ok) => {
          const t = setTimeout(ok, ms);
          signal?.addEventListener(
            'abort',
            () => {
              clearTimeout(t);
              ok();
            },
            { once: true },
          );
        }),
    };
    const agent = new Agent({
      metadata: { kind: 'test', readSettings: async () => settings },
      runner: new SimulatedProcessRunner(),
      credentials: new MemoryCredentialStore(),
      clock,
      logger: createQuietLogger(),
      syncBackoff: { baseMs: 20, maxMs: 200 },
    });
    try {
      await agent.start();
      const first = await waitFor('the bootstrap', async () => agent.credentials);
      expect(first.notAfter - first.notBefore).toBeGreaterThan(7 * 86_400_000);
      expect(agent.credentials?.serial).toBe(first.serial);

      offsetMs = 5 * 86_400_000;
      const renewed = await waitFor(
        'the renewal',
        async () => (agent.credentials?.serial !== first.serial ? agent.credentials : undefined),
        10_000,
      );
      expect(renewed.notAfter).toBeGreaterThanOrEqual(first.notAfter);
      expect(renewed.keyPem).not.toBe(first.keyPem);
      expect(lines.some((l) => l.includes('agent certificate renewed') && l.includes(`previous=${first.serial}`))).toBe(
        true,
      );
      // Once the agent syncs with the new certificate, the old one is retired.
      await waitFor(
        'the old serial retired',
        async () => (await engine.store.agentTrust.certificate(first.serial))?.state === 'retired',
      );
      const refused = await sync(worker, first);
      expect(refused.status).toBe(401);
      expect(
        refusals(worker.agent_id).some((l) => l.includes('agent certificate refused') && l.includes('reason=retired')),
      ).toBe(true);
      expect((await sync(worker, renewed)).status).toBe(200);
      // One renewal: the clock stays ahead, but the next one is two thirds of a lifetime after this one.
      await new Promise((r) => setTimeout(r, 500));
      expect(agent.credentials?.serial).toBe(renewed.serial);
      expect(
        lines.filter((l) => l.includes('agent certificate renewed') && l.includes(`agentId=${worker.agent_id}`)),
      ).toHaveLength(1);
    } finally {
      await agent.stop();
    }
  });

  it('the certificate of a VM that was recreated cannot sync or renew: refused with a log line naming the agent', async () => {
    const master = instances[0]!;
    const issued = await bootstrap(master.agent_id, (await tokens.issue(master)).token);
    const oldCredentials = { certPem: issued.body.certificate, keyPem: issued.keyPem };
    expect((await sync(master, oldCredentials)).status).toBe(200);

    await engine.plugins.iaasTarget('sandbox').driver.rehearsal!.killVm(master.vm_cid!);
    const recreated = await waitFor(
      'the master recreated with a new agent id',
      async () => {
        const row = await engine.store.instances.get(master.id);
        return row && row.agent_id !== master.agent_id && row.vm_cid && row.state === 'running' ? row : undefined;
      },
      40_000,
    );
    expect(recreated.ip).toBe(master.ip);

    const refused = await sync(master, oldCredentials);
    expect(refused.status).toBe(401);
    expect(refused.body.detail).toContain('revoked');
    const { csrPem } = await createKeyAndRequest(master.agent_id);
    expect((await post('/agent/v1/renew', { csr: csrPem }, oldCredentials)).status).toBe(401);
    expect(
      refusals(master.agent_id).some((l) => l.includes('agent certificate refused') && l.includes('reason=revoked at')),
    ).toBe(true);
    const states = await engine.store.db
      .selectFrom('agent_certificates')
      .select('state')
      .where('agent_id', '=', master.agent_id)
      .execute();
    expect(states.length).toBeGreaterThan(0);
    expect(states.filter((s) => s.state === 'active')).toEqual([]);
  });
});
