import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import {
  SlipwayError,
  type AgentBootstrapRequest,
  type Clock,
  type FailureRehearsal,
  type Heartbeat,
} from '@slipway/contracts';
import {
  LineLogger,
  openEngine,
  parseConfigText,
  validateConfig,
  type ClusterRow,
  type Engine,
  type EngineServices,
  type InstanceRow,
  type KubernetesApiAddress,
  type Principal,
  type Store,
  type TaskRow,
} from '../src/index.js';

export const ADMIN: Principal = { id: 1, name: 'admin', roles: ['clusters.admin'] };

/**
 * The engine in this process with the agent channel of the real API on 127.0.0.1, so the sandbox's VMs run
 * the real node agent against it. Tests reach the store, the services and the sandbox's failure rehearsal.
 */
export interface Harness {
  home: string;
  engine: Engine;
  services: EngineServices;
  store: Store;
  rehearsal(iaas?: string): FailureRehearsal;
  /** Log lines of the control plane (alerts land here through the log sink). */
  lines: string[];
  /** The agent channel's URL (the control plane's TLS setup on 127.0.0.1). */
  url: string;
  createCluster(name: string, plan: string, workers?: number): Promise<ClusterRow>;
  cluster(name: string): Promise<ClusterRow>;
  instances(name: string): Promise<InstanceRow[]>;
  settle(taskId: number): Promise<TaskRow>;
  /** Polls `probe` every 20 ms until it returns a value (not undefined/false); throws naming `what`. */
  waitFor<T>(what: string, probe: () => Promise<T | undefined | false | null>, timeoutMs?: number): Promise<T>;
  /** Stops the engine (tasks pause and resume on the next start) without removing the home; `whileDown` runs in between. */
  restart(whileDown?: () => void | Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export async function startHarness(
  configYaml: string,
  options: { home?: string; clock?: Clock; kubernetesApiAddress?: KubernetesApiAddress } = {},
): Promise<Harness> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'slipway-keepalive-'));
  const configPath = join(home, 'slipway.yaml');
  writeFileSync(configPath, configYaml);
  const { config, errors } = validateConfig(parseConfigText(configYaml, configPath));
  if (!config) throw new Error(`bad test config:\n${errors.join('\n')}`);
  const lines: string[] = [];
  const logger = new LineLogger((l) => lines.push(l), 'info');
  let engine: Engine;
  let services: EngineServices;
  let server: Server;
  let port = 0;

  const boot = async () => {
    engine = await openEngine({
      home,
      config,
      configPath,
      logger,
      version: 'test',
      clock: options.clock,
      kubernetesApiAddress: options.kubernetesApiAddress,
    });
    // The same port after a restart: agents booted before it keep dialing the URL in their settings.
    server = await agentChannel(engine, () => services, port);
    port = (server.address() as AddressInfo).port;
    const url = `https://127.0.0.1:${port}`;
    services = await engine.start(url);
  };
  const shutdown = async () => {
    await new Promise<void>((ok) => {
      server.close(() => ok());
      server.closeAllConnections();
    });
    await engine.close();
  };
  await boot();

  const h: Harness = {
    home,
    lines,
    get url() {
      return `https://127.0.0.1:${port}`;
    },
    get engine() {
      return engine;
    },
    get services() {
      return services;
    },
    get store() {
      return engine.store;
    },
    rehearsal(iaas = 'sandbox') {
      const r = engine.plugins.iaasTarget(iaas).driver.rehearsal;
      if (!r) throw new Error(`${iaas} offers no rehearsal`);
      return r;
    },
    async createCluster(name, plan, workers) {
      const view = await services.clusters.create(ADMIN, {
        name,
        plan_name: plan,
        parameters: {
          kubernetes_master_host: `${name}.example.test`,
          ...(workers !== undefined ? { kubernetes_worker_instances: workers } : {}),
        },
      });
      const task = await h.settle(view.task_id!);
      if (task.state !== 'done') throw new Error(`create ${name} ended ${task.state}: ${task.error}`);
      return h.cluster(name);
    },
    async cluster(name) {
      const row = await engine.store.clusters.findByName(name);
      if (!row) throw new Error(`no cluster ${name}`);
      return row;
    },
    async instances(name) {
      return engine.store.instances.ofCluster((await h.cluster(name)).uuid);
    },
    async settle(taskId) {
      try {
        return await h.waitFor(
          `task ${taskId} to end`,
          async () => {
            const t = await engine.store.tasks.get(taskId);
            return t && ['done', 'error', 'cancelled', 'timeout'].includes(t.state) ? t : undefined;
          },
          60_000,
        );
      } catch (e) {
        // Say where it hung: the step, what it waits for, the last log lines and the instances.
        const t = await engine.store.tasks.get(taskId);
        const steps = (await engine.store.tasks.steps(taskId)).map((s) => `${s.name}:${s.state}:${s.detail ?? ''}`);
        const log = (await engine.store.tasks.logs(taskId, 15)).map((l) => l.message);
        const rows = t?.cluster_uuid
          ? (await engine.store.instances.ofCluster(t.cluster_uuid)).map(
              (i) => `${i.group_name}/${i.idx}:${i.state}:${i.desired}:${i.vm_cid}`,
            )
          : [];
        throw new Error(
          `${(e as Error).message}\nwaiting for: ${t?.waiting_for}\nsteps: ${steps.join(' | ')}\nlog:\n  ${log.join('\n  ')}\ninstances: ${rows.join(', ')}`,
        );
      }
    },
    async waitFor(what, probe, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await probe();
        if (value !== undefined && value !== false && value !== null) return value as never;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async restart(whileDown) {
      await shutdown();
      await whileDown?.();
      await boot();
    },
    async stop() {
      await shutdown();
      if (!options.home) for (const dir of [home, `${home}-keys`]) rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** The API's agent routes (core/api/src/routes/agent.ts: bootstrap, renew, sync) on the control plane's TLS setup, nothing else. */
async function agentChannel(engine: Engine, services: () => EngineServices | undefined, port: number): Promise<Server> {
  const server = createServer(
    {
      cert: engine.tls.cert,
      key: engine.tls.key,
      ca: [engine.tls.agentCaPem],
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const abort = new AbortController();
        res.on('close', () => abort.abort());
        try {
          const url = new URL(req.url ?? '/', 'https://localhost');
          const route =
            req.method === 'POST'
              ? ['/agent/v1/sync', '/agent/v1/bootstrap', '/agent/v1/renew'].find((p) => p === url.pathname)
              : undefined;
          if (!route) throw new SlipwayError('NotFound', `no route ${req.method} ${url.pathname}`);
          const live = services();
          if (!live) throw new SlipwayError('Retryable', 'starting');
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          const reply = (result: unknown) =>
            res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
          if (route === '/agent/v1/bootstrap')
            return reply(await live.agentBootstrap.bootstrap(body as AgentBootstrapRequest));
          const socket = req.socket as TLSSocket;
          const certificate = socket.authorized ? socket.getPeerCertificate() : undefined;
          const agentId = certificate?.subject?.CN;
          if (!certificate || !agentId || typeof agentId !== 'string')
            throw new SlipwayError('Unauthenticated', 'no agent certificate');
          const peer = {
            agentId,
            serial: certificate.serialNumber.toUpperCase(),
            validFrom: certificate.valid_from,
            validTo: certificate.valid_to,
          };
          if (route === '/agent/v1/renew')
            return reply(await live.agentBootstrap.renew(peer, (body as { csr: string }).csr));
          await live.agentBootstrap.authenticate(peer);
          const heartbeat = body as Heartbeat;
          const generation = url.searchParams.get('generation');
          reply(
            await live.agents.sync(
              agentId,
              heartbeat,
              Number(url.searchParams.get('wait') ?? 0),
              generation === null ? undefined : Number(generation),
              abort.signal,
            ),
          );
        } catch (e) {
          const err = SlipwayError.from(e);
          if (!res.headersSent)
            res
              .writeHead(err.status, { 'content-type': 'application/problem+json' })
              .end(JSON.stringify({ code: err.code, detail: err.message }));
        }
      });
    },
  );
  // As the control plane's server does: a renewed serving certificate is served to new connections.
  engine.servingCertificate.onRenewed(({ cert, key }) =>
    server.setSecureContext({ cert, key, ca: [engine.tls.agentCaPem] }),
  );
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  return server;
}

/** The config every health and upgrade test starts from: short intervals, a sandbox with small latencies. */
export function testConfig(
  extra: { health?: string; plans?: string; iaas?: string; network?: string; agents?: string; top?: string } = {},
): string {
  return `
${extra.top ?? ''}
iaas:
  - name: sandbox
    plugin: "@slipway/iaas-sandbox"
    config: { boot_delay_ms: 30, latency_ms: { default: 2 } }
${extra.iaas ?? ''}
network:
  plugin: "@slipway/network-flat"
  config:
    ranges:
      sandbox: { cidr: 10.41.0.0/24 }
${extra.network ?? ''}
agents: ${extra.agents ?? '{ heartbeat_interval_seconds: 0.2, boot_timeout_seconds: 20 }'}
tasks: { retry_attempts: 4 }
kubernetes:
  default_version: 1.31.4
  versions: [1.29.6, 1.30.8, 1.31.4]
  stemcell: { name: ubuntu-jammy, version: "1.600" }
  stemcells: [{ name: ubuntu-jammy, version: "1.601" }]
health: ${extra.health ?? '{ agent_timeout_seconds: 1, analyze_interval_seconds: 0.2, cloud_check_interval_seconds: 0.5 }'}
plans:
  - name: small
    iaas: sandbox
    master_instances: 1
    worker_instances: 2
    max_worker_instances: 10
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
${extra.plans ?? ''}
`;
}
