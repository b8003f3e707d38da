import 'reflect-metadata';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { container as rootContainer } from 'tsyringe';
import type { Clock, IaasDriver, Logger } from '@slipway/contracts';
import { AgentBootstrap } from './agents/agent-bootstrap.js';
import { AgentRegistry } from './agents/agent-registry.js';
import { AuthService } from './auth/auth-service.js';
import { UserService } from './auth/user-service.js';
import { SystemClock } from './clock.js';
import { ClusterService } from './clusters/cluster-service.js';
import { NetworkProfileService } from './network-profiles/index.js';
import { QuotaService } from './quotas/index.js';
import { NetworkLeftovers } from './health/network-leftovers.js';
import type { SlipwayConfig } from './config/schema.js';
import { AGENT_CA, ensureControlPlaneTls, type ControlPlaneTls } from './control-plane-tls.js';
import { CertificateRotationSteps, rotateCertificatesTask } from './lifecycle/rotate-certificates.js';
import { ServingCertificate } from './certificates/serving-certificate.js';
import { CertificateService } from './certificates/certificate-service.js';
import { ClusterSteps, createClusterTask, deleteClusterTask, resizeClusterTask } from './lifecycle/cluster-tasks.js';
import { ClusterRegistrySteps } from './registry/cluster-registry.js';
import { PlanCatalog } from './plans.js';
import { PluginLoader } from './plugins/loader.js';
import { createPluginSet, type PluginSet } from './plugins/plugin-set.js';
import { createStore, describeStore, type Store } from './store/index.js';
import { storeLocationOf } from './store-location.js';
import { defaultKeysDir } from './keys-dir.js';
import { pluginDatabases } from './store/plugin-database.js';
import { ADVERTISE_URL_SETTING } from './advertise-url.js';
import { TaskRunner } from './tasks/task-runner.js';
import { EventStream } from './events/event-stream.js';
import { AuditTrail, auditSinkOf } from './audit/audit-trail.js';
import { ControlPlaneMetrics } from './metrics/control-plane-metrics.js';
import { clusterCertificates } from './certificates/certificate-inventory.js';
import {
  CHANGE_FEED,
  CLOCK,
  CONFIG,
  CONTROL_PLANE,
  LOGGER,
  PLUGINS,
  SERVING_CERTIFICATE,
  STORE,
  TASK_LEASES,
  type ControlPlaneIdentity,
} from './tokens.js';
import { LocalChangeFeed, type ChangeFeed } from './replicas/change-feed.js';
import { PostgresChangeFeed } from './replicas/postgres-change-feed.js';
import { newReplicaIdentity, type ReplicaIdentity } from './replicas/identity.js';
import { LeaderLease } from './replicas/leader-lease.js';
import { replicaSettingsOf, type ReplicaMode } from './replicas/settings.js';
import { TaskLeases } from './replicas/task-leases.js';
import {
  ALERT_SINKS,
  createAlertSinks,
  HealthMonitor,
  HealthService,
  healthSettingsOf,
  RepairSteps,
  repairTask,
  ResurrectionSteps,
  resurrectTask,
  type AlertSinks,
} from './health/index.js';
import { KEEPALIVE_SINGLETONS } from './health/keepalive.js';
import {
  ClusterApi,
  defaultApiAddress,
  KUBERNETES_API_ADDRESS,
  KubernetesApiSteps,
  type KubernetesApiAddress,
} from './kubernetes-api/index.js';
import {
  UpgradeService,
  UpgradeSteps,
  upgradeClusterTask,
  updateClusterTask,
  updateTaskVariants,
} from './upgrades/index.js';

/** How long one phase of a stop may take before the log says what it waits for. */
const SLOW_STOP_PHASE_MS = 5_000;

export interface EngineOptions {
  home: string;
  config: SlipwayConfig;
  /** Where slipway.yaml lives: plugin_dirs are relative to it. */
  configPath?: string;
  logger: Logger;
  clock?: Clock;
  version: string;
  /** Where plugins keep key material, outside the home (never in a backup); default `defaultKeysDir(home)`. */
  keysDir?: string;
  /** The environment `SLIPWAY_STORE_URL` is read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /**
   * Where the control plane dials each cluster's Kubernetes API; default the API endpoint on port 8443. A test
   * points it at its own TLS server on 127.0.0.1 (the certificate checks stay the same).
   */
  kubernetesApiAddress?: KubernetesApiAddress;
}

/** The running engine's services, for the API and the CLI's `up`. */
export interface EngineServices {
  clusters: ClusterService;
  auth: AuthService;
  users: UserService;
  agents: AgentRegistry;
  /** Agents' bootstrap, certificate renewal and the agent channel's certificate check. */
  agentBootstrap: AgentBootstrap;
  tasks: TaskRunner;
  health: HealthService;
  upgrades: UpgradeService;
  networkProfiles: NetworkProfileService;
  networkLeftovers: NetworkLeftovers;
  certificates: CertificateService;
  /** Per-owner quotas and usages (TKGI's /quotas, /usages). */
  quotas: QuotaService;
  /** The live event stream, as each caller may see it. */
  events: EventStream;
  /** The one audit trail. */
  audit: AuditTrail;
}

export interface Engine {
  config: SlipwayConfig;
  /** This process among the replicas sharing the store (`id` is what tasks' owner and the leader row hold). */
  replica: ReplicaIdentity;
  /** Whether this replica runs the singletons now (always, with the store to itself). */
  isLeader(): boolean;
  store: Store;
  plugins: PluginSet;
  tls: ControlPlaneTls;
  /** The API's serving certificate: the HTTPS server reloads it when the certificate watch renews it. */
  servingCertificate: ServingCertificate;
  caPath: string;
  /** The Prometheus metrics (GET /metrics); absent with metrics.enabled: false. */
  metrics?: ControlPlaneMetrics;
  /** Wires the services (agents will dial `agentUrl`), claims orphaned tasks and campaigns for leader. */
  start(agentUrl: string): Promise<EngineServices>;
  /** Pauses tasks (they resume on the next start), destroys plugins, closes the store. */
  close(): Promise<void>;
}

/** How long a scrape's certificate expiry figures are reused: each reading lists every cluster's certificates. */
const CERTIFICATE_EXPIRY_TTL_MS = 5 * 60_000;

/** Seconds until each live cluster's earliest certificate expires, read at most every five minutes. */
function certificateExpiryOf(store: Store, plugins: PluginSet, clock: Clock): () => Promise<Map<string, number>> {
  let cached: { at: number; value: Map<string, number> } | undefined;
  return async () => {
    const now = clock.now();
    if (cached && now - cached.at < CERTIFICATE_EXPIRY_TTL_MS) return cached.value;
    const value = new Map<string, number>();
    const clusters = await store.db
      .selectFrom('clusters')
      .select(['uuid', 'name'])
      .where('status', '=', 'active')
      .execute();
    for (const cluster of clusters) {
      try {
        const entries = await clusterCertificates(plugins.credentials, cluster.uuid, now);
        if (entries.length)
          value.set(cluster.name, Math.min(...entries.map((e) => (Date.parse(e.not_after) - now) / 1000)));
      } catch {
        /* a cluster whose credentials cannot be read now is left out of this reading */
      }
    }
    cached = { at: now, value };
    return value;
  };
}

/**
 * The engine's composition root: opens the store, loads and creates the plugins, ensures the control
 * plane's PKI. The only place in the engine that touches the DI container.
 */
export async function openEngine(options: EngineOptions): Promise<Engine> {
  const { home, config, logger } = options;
  const clock = options.clock ?? new SystemClock();
  await mkdir(home, { recursive: true, mode: 0o700 });
  const resolved = await new PluginLoader({
    searchDirs: config.plugin_dirs,
    configDir: options.configPath ?? join(home, 'slipway.yaml'),
  }).resolveAll(config);
  const location = storeLocationOf(home, config, options.env);
  const metered = config.metrics?.enabled !== false;
  const metrics = metered ? new ControlPlaneMetrics() : undefined;
  const store = await createStore(location, metrics ? { onQuery: (seconds) => metrics.storeQuery(seconds) } : {});
  if (metrics) store.bus.subscribe((event) => metrics.onEvent(event));
  // Which database this control plane runs on, the password masked.
  logger.info('store open', { store: describeStore(location) });
  // SQLite: this process holds the home lock and so the whole store. PostgreSQL: replicas share it.
  const mode: ReplicaMode = store.dialect === 'postgres' ? 'shared' : 'exclusive';
  const replica = newReplicaIdentity();
  logger.info('replica', { id: replica.id, mode });
  let plugins: PluginSet | undefined;
  const auditSink = auditSinkOf(store, logger);
  let changes: ChangeFeed | undefined;
  try {
    plugins = await createPluginSet(resolved, {
      dataDir: join(home, 'plugins'),
      keysDir: options.keysDir ?? defaultKeysDir(home),
      logger,
      clock,
      database: pluginDatabases(store.db),
      audit: metrics ? metrics.countingAudit(auditSink) : auditSink,
      ...(metrics
        ? {
            meterIaas: (target: string, plugin: string, driver: IaasDriver) =>
              metrics.meteredDriver(target, plugin.replace(/^@slipway\/iaas-/, ''), driver),
          }
        : {}),
    });
    metrics?.attachStore(store.db, clock, certificateExpiryOf(store, plugins, clock));
    const caPath = join(home, 'ca.pem');
    const advertisedBefore = await store.settings.get(ADVERTISE_URL_SETTING);
    const tls = await ensureControlPlaneTls(plugins.credentials, config, caPath, advertisedBefore);
    const container = rootContainer.createChildContainer();
    container.register(CONFIG, { useValue: config });
    container.register(STORE, { useValue: store });
    container.register(PLUGINS, { useValue: plugins });
    container.register(CLOCK, { useValue: clock });
    container.register(LOGGER, { useValue: logger });
    container.register(KUBERNETES_API_ADDRESS, { useValue: options.kubernetesApiAddress ?? defaultApiAddress });
    const replicas = replicaSettingsOf(config, mode);
    container.register(TASK_LEASES, { useValue: new TaskLeases(store.db, replicas, replica, clock) });
    changes =
      store.location.dialect === 'postgres'
        ? await PostgresChangeFeed.open(store.location.url, replica.id, logger)
        : new LocalChangeFeed();
    container.register(CHANGE_FEED, { useValue: changes });
    const servingCertificate = new ServingCertificate(tls, plugins.credentials, config, advertisedBefore);
    container.register(SERVING_CERTIFICATE, { useValue: servingCertificate });
    let services: EngineServices | undefined;
    let monitor: HealthMonitor | undefined;
    let fleetPoll: NodeJS.Timeout | undefined;
    let leader: LeaderLease | undefined;
    let alertSinks: AlertSinks | undefined;
    const livePlugins = plugins;
    const liveChanges = changes;
    return {
      config,
      store,
      plugins,
      tls,
      caPath,
      servingCertificate,
      metrics,
      replica,
      isLeader: () => leader?.isLeader ?? false,
      async start(agentUrl: string) {
        if (services) return services;
        const identity: ControlPlaneIdentity = {
          agentUrl,
          caPem: tls.caPem,
          agentCaName: AGENT_CA,
          version: options.version,
        };
        container.register(CONTROL_PLANE, { useValue: identity });
        alertSinks = await createAlertSinks(healthSettingsOf(config).alerts, {
          configPath: options.configPath ?? join(home, 'slipway.yaml'),
          searchDirs: config.plugin_dirs,
          dataDir: join(home, 'plugins'),
          logger,
          clock,
          credentials: livePlugins.credentials,
        });
        container.register(ALERT_SINKS, { useValue: alertSinks });
        for (const cls of [
          AgentRegistry,
          AgentBootstrap,
          TaskRunner,
          EventStream,
          AuditTrail,
          QuotaService,
          PlanCatalog,
          AuthService,
          ClusterService,
          ClusterSteps,
          ClusterApi,
          ...KEEPALIVE_SINGLETONS,
        ])
          container.registerSingleton(cls as never);
        const tasks = container.resolve(TaskRunner);
        const steps = container.resolve(ClusterSteps);
        const upgradeSteps = container.resolve(UpgradeSteps);
        const registrySteps = container.resolve(ClusterRegistrySteps);
        const kubernetesSteps = container.resolve(KubernetesApiSteps);
        tasks.register(createClusterTask(steps, registrySteps, kubernetesSteps));
        tasks.register(
          updateTaskVariants(
            resizeClusterTask(steps, kubernetesSteps),
            updateClusterTask(upgradeSteps, kubernetesSteps),
          ),
        );
        tasks.register(deleteClusterTask(steps, registrySteps));
        tasks.register(upgradeClusterTask(upgradeSteps, kubernetesSteps));
        tasks.register(resurrectTask(container.resolve(ResurrectionSteps)));
        tasks.register(repairTask(container.resolve(RepairSteps)));
        tasks.register(rotateCertificatesTask(container.resolve(CertificateRotationSteps), registrySteps));
        await container.resolve(PlanCatalog).persist();
        services = {
          clusters: container.resolve(ClusterService),
          auth: container.resolve(AuthService),
          users: container.resolve(UserService),
          agents: container.resolve(AgentRegistry),
          tasks,
          agentBootstrap: container.resolve(AgentBootstrap),
          health: container.resolve(HealthService),
          upgrades: container.resolve(UpgradeService),
          networkProfiles: container.resolve(NetworkProfileService),
          quotas: container.resolve(QuotaService),
          networkLeftovers: container.resolve(NetworkLeftovers),
          certificates: container.resolve(CertificateService),
          events: container.resolve(EventStream),
          audit: container.resolve(AuditTrail),
        };
        await services.users.reconcileGrants();
        const resumed = await tasks.resumeAll();
        if (resumed) logger.info(`resumed ${resumed} unfinished task(s)`, { replica: replica.id });
        tasks.startLeases();
        // Fleet jobs wait for the leader: a job requested here while another replica leads is run there.
        await services.upgrades.stopFleets();
        const upgrades = services.upgrades;
        leader = new LeaderLease(store.db, replicas, replica, clock, logger, {
          // The singletons. The health monitor is made anew for each term: one that stopped does not restart.
          async start() {
            const term = container.createChildContainer();
            term.registerSingleton(HealthMonitor);
            monitor = term.resolve(HealthMonitor);
            await monitor.start();
            await upgrades.resumeFleets();
            fleetPoll = setInterval(() => {
              upgrades
                .resumeFleets()
                .catch((e) => logger.warn('could not look for fleet upgrades', { error: (e as Error).message }));
            }, replicas.claimMs);
            fleetPoll.unref?.();
          },
          async stop() {
            clearInterval(fleetPoll);
            await monitor?.stop();
            monitor = undefined;
            await upgrades.stopFleets();
          },
        });
        await leader.start();
        return services;
      },
      async close() {
        // Each phase says so when it is slow, so a stop that hangs names what it waits for.
        const phase = async (what: string, work: () => Promise<unknown> | undefined) => {
          const slow = setTimeout(() => logger.warn(`stopping: still waiting for ${what}`), SLOW_STOP_PHASE_MS);
          try {
            await work();
          } finally {
            clearTimeout(slow);
          }
        };
        await phase('the singletons to stop and the leader lease to be let go', () => leader?.stop());
        await phase('fleet upgrades to pause', () => services?.upgrades.stopFleets());
        await phase('running tasks to pause', () => services?.tasks.shutdown());
        await phase('the change feed to close', () => liveChanges.close());
        await phase('alert sinks', () => alertSinks?.destroy());
        await phase('the plugins to stop', () => livePlugins.destroy());
        await phase("the audit trail's writes", () => auditSink.drain());
        await store.db.destroy();
      },
    };
  } catch (e) {
    await changes?.close();
    await plugins?.destroy();
    await store.db.destroy();
    throw e;
  }
}
