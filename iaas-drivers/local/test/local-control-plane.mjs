// A Slipway control plane on the local driver, composed as `slipway up` composes it (openEngine, the API
// app, one HTTPS server for the API and the agent channel), for the end-to-end test and the benchmarks.
// Plain JavaScript on purpose: vitest runs it over the TypeScript sources, the benchmarks over the build.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomInt } from 'node:crypto';
import { getRequestListener } from '@hono/node-server';
import { createApp } from '@slipway/api';
// The driver package itself: its sources under vitest, its build under plain node (the benchmarks).
const { killVmTree, pidsUnderRoot, readInventory } = await import(
  process.env.VITEST ? '../src/index.ts' : '../dist/src/index.js'
);
import {
  AGENT_CA,
  AgentIdentity,
  BootstrapTokens,
  ENGINE_ACTOR,
  LineLogger,
  Provisioner,
  SystemClock,
  openEngine,
  validateConfig,
} from '@slipway/engine';

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ADMIN = { id: 1, name: 'admin', roles: ['clusters.admin'] };

/** A /24 of loopback addresses nobody else on this machine is likely to use at the same time. */
export function randomLoopbackRange() {
  return `127.${randomInt(100, 250)}.${randomInt(1, 250)}.0/24`;
}

/** A private /24 for VMs in network namespaces, unlikely to be another run's at the same time. */
export function randomNamespaceSubnet() {
  return `10.${randomInt(64, 127)}.${randomInt(0, 255)}.0/24`;
}

/**
 * Starts a control plane whose only IaaS target is the local driver. `masters`/`workers` shape its one plan.
 * Returns handles on the engine, its services, and helpers to create a cluster, recreate an instance's VM
 * through the engine's Provisioner, and stop everything (VM processes included).
 */
export async function startLocalControlPlane(options = {}) {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'slipway-e2e-'));
  const root = join(home, 'local');
  // SLIPWAY_E2E_NAMESPACES=1 runs every scenario with its VMs in network namespaces (root only): a subnet of
  // this run for both the local driver and the flat network's range.
  const namespaced = !options.local && !options.cidr && process.env.SLIPWAY_E2E_NAMESPACES === '1';
  const cidr = options.cidr ?? (namespaced ? randomNamespaceSubnet() : randomLoopbackRange());
  if (namespaced) options = { ...options, cidr, local: { network_namespaces: 'on', network_subnet: cidr } };
  const raw = {
    api: { bind: '127.0.0.1', port: 0 },
    credentials: { plugin: '@slipway/credentials-credhub' },
    iaas: [
      {
        name: 'local',
        plugin: '@slipway/iaas-local',
        config: {
          root,
          bin_dirs: options.binDirs ?? [],
          ...(options.agentMain ? { agent_main: options.agentMain } : {}),
          ...(options.local ?? {}),
        },
      },
    ],
    network: { plugin: '@slipway/network-flat', config: { ranges: { local: { cidr } }, ...(options.network ?? {}) } },
    plugin_dirs: [PACKAGE_DIR],
    agents: {
      heartbeat_interval_seconds: options.heartbeatSeconds ?? 2,
      boot_timeout_seconds: options.bootTimeoutSeconds ?? Number(process.env.SLIPWAY_E2E_BOOT_TIMEOUT ?? 180),
    },
    tasks: { retry_attempts: 3 },
    ...(options.health ? { health: options.health } : {}),
    plans: [
      {
        name: 'local',
        iaas: 'local',
        master_instances: options.masters ?? 3,
        worker_instances: options.workers ?? 1,
        max_worker_instances: 10,
        master_vm: { cpu: 1, memory_mb: 512, ephemeral_disk_mb: 1024, persistent_disk_mb: 1024 },
        worker_vm: { cpu: 1, memory_mb: 512, ephemeral_disk_mb: 1024 },
        // No kube-* binaries here: etcd-only rehearsals, whose creates succeed without a Kubernetes API.
        kubernetes: { require_api: options.requireApi ?? false },
        ...(options.update ? { update: options.update } : {}),
      },
      ...(options.extraPlans ?? []),
    ],
  };
  const { config, errors } = validateConfig(raw);
  if (!config) throw new Error(`invalid config: ${errors.join('; ')}`);
  const configPath = join(home, 'slipway.yaml');
  writeFileSync(configPath, JSON.stringify(raw, null, 2));
  const lines = [];
  const logger = new LineLogger((line) => {
    lines.push(line);
    if (process.env.DEBUG?.includes('slipway')) process.stderr.write(`${line}\n`);
  }, 'info');
  const engine = await openEngine({ home, config, configPath, logger, version: '0.0.0-e2e' });
  let listener = (_req, res) => {
    res.writeHead(503);
    res.end();
  };
  const server = createServer(
    {
      cert: engine.tls.cert,
      key: engine.tls.key,
      ca: [engine.tls.agentCaPem],
      requestCert: true,
      rejectUnauthorized: false,
      keepAliveTimeout: 65_000,
    },
    (req, res) => listener(req, res),
  );
  server.requestTimeout = 0;
  await new Promise((ok, fail) => server.once('error', fail).listen(options.port ?? 0, '127.0.0.1', ok));
  const url = `https://127.0.0.1:${server.address().port}`;
  const services = await engine.start(url);
  listener = getRequestListener(createApp({ services, engine, version: '0.0.0-e2e' }).fetch);
  const clock = new SystemClock();
  const identity = new AgentIdentity(
    engine.plugins,
    { agentUrl: url, caPem: engine.tls.caPem, agentCaName: AGENT_CA, version: '0.0.0-e2e' },
    config,
    engine.store,
    clock,
    new BootstrapTokens(engine.store, clock, config),
  );
  const provisioner = new Provisioner(engine.store, engine.plugins, clock, config, identity);
  const driver = engine.plugins.iaasTarget('local').driver;

  let stopped;
  return {
    home,
    root,
    cidr,
    url,
    port: server.address().port,
    options,
    engine,
    services,
    driver,
    provisioner,
    logger,
    lines,
    admin: ADMIN,
    credentials: engine.plugins.credentials,
    /** Submits a CREATE and resolves with the cluster's uuid and task id once it is done (rejects on failure). */
    async createCluster(name, { workers = 1, timeoutMs = 300_000, plan = 'local' } = {}) {
      const started = Date.now();
      const view = await services.clusters.create(ADMIN, {
        name,
        plan_name: plan,
        parameters: { kubernetes_master_host: `${name}.local.test`, kubernetes_worker_instances: workers },
      });
      const task = await waitForTask(services, view.task_id, timeoutMs);
      return { uuid: view.uuid, taskId: view.task_id, task, wallMs: Date.now() - started };
    },
    instances: (uuid) => engine.store.instances.ofCluster(uuid),
    /** Recreates an instance's VM through the engine's Provisioner (what the resurrector will do): new VM, same disk. */
    async recreate(instanceId) {
      const instance = await engine.store.instances.get(instanceId);
      const cluster = await engine.store.clusters.findByUuid(instance.cluster_uuid);
      const plan = config.plans.find((p) => p.name === cluster.plan_name);
      const stemcell = await engine.store.db
        .selectFrom('stemcells')
        .select('stemcell_cid')
        .where('iaas', '=', 'local')
        .executeTakeFirstOrThrow();
      return provisioner.ensureVm(cluster, instance, plan, stemcell.stemcell_cid, new AbortController().signal);
    },
    async credential(uuid, name) {
      return (await engine.plugins.credentials.get(`/slipway/clusters/${uuid}/${name}`, ENGINE_ACTOR)).value;
    },
    /**
     * Ends this control plane as a crash would: its server and store go, no plugin is destroyed, so the local
     * driver's VMs are left running exactly as after a kill -9 of Slipway.
     */
    /** Ends every process of every VM under this root, whatever state the control planes are in (test cleanup). */
    async killAll() {
      const state = readInventory(join(root, 'state.json'));
      await Promise.all(Object.values(state.vms).map((vm) => killVmTree(root, vm, 0)));
      for (const pid of pidsUnderRoot(root))
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
    },
    crash() {
      stopped ??= (async () => {
        await new Promise((ok) => {
          server.close(() => ok());
          server.closeAllConnections();
        });
        await engine.store.db.destroy();
      })();
      return stopped;
    },
    stop() {
      stopped ??= (async () => {
        await new Promise((ok) => {
          server.close(() => ok());
          server.closeAllConnections();
        });
        await engine.close();
        if (!options.keepHome && !process.env.SLIPWAY_E2E_KEEP) {
          rmSync(home, { recursive: true, force: true, maxRetries: 5 });
          rmSync(`${home}-keys`, { recursive: true, force: true });
        } else process.stderr.write(`kept ${home}\n`);
      })();
      return stopped;
    },
  };
}

async function waitForTask(services, taskId, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await services.clusters.getTask(ADMIN, taskId);
    if (task.state === 'done') return task;
    if (['error', 'cancelled', 'timeout'].includes(task.state))
      throw new Error(`task ${taskId} ended ${task.state}: ${JSON.stringify(task.error ?? task.steps)}`);
    if (Date.now() > deadline)
      throw new Error(
        `task ${taskId} not done within ${timeoutMs} ms: ${JSON.stringify(task.steps?.map((s) => `${s.name}:${s.state}`))}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}
