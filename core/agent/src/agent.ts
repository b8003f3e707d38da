import {
  SlipwayError,
  type AgentSettings,
  type Clock,
  type DesiredState,
  type Heartbeat,
  type JobStatus,
  type Logger,
  type MetadataSource,
} from '@slipway/contracts';
import { linkSignals } from './abort.js';
import { backoffDelay } from './backoff.js';
import { AgentChannel } from './channel-client.js';
import { DesiredStateApplier, type ApplierDeps } from './desired-state-applier.js';
import type { DesiredStateCache } from './desired-state-cache.js';
import { MemoryCredentialStore, type AgentCredentials, type AgentCredentialStore } from './identity/identity-store.js';
import { NodeIdentity } from './identity/node-identity.js';
import { defaultJobCatalog, defaultJobsFor, type JobCatalog } from './job-catalog.js';
import { createJsonLogger } from './logger.js';
import { PodRouteReconciler } from './network/pod-routes.js';
import type { CommandRunner } from './persistent-disk.js';
import type { ProcessRunner } from './process-runner.js';
import { DEFAULT_SUPERVISION, type SupervisionOptions } from './supervision.js';
import { sleepQuietly, systemClock } from './system-clock.js';

export interface AgentOptions {
  /** Where the agent reads its settings on boot (the cloud's user data). */
  metadata: MetadataSource;
  runner: ProcessRunner;
  /** Default: JSON lines on stderr. */
  logger?: Logger;
  clock?: Clock;
  /** Default: one process per name, with the name as its command. */
  jobCatalog?: JobCatalog;
  supervision?: Partial<SupervisionOptions>;
  /** Mounts the persistent disk named in the settings before jobs run; without it nothing is mounted. */
  disk?: DiskMounterFactory;
  /** Bound of one attempt of each job's drain hook; a longer one is a failed attempt. Default 60 000. */
  drainTimeoutMs?: number;
  /** Backoff between failed drain attempts: `baseMs` (default 1000) doubling up to `maxMs` (default 30 000). */
  drainBackoff?: { baseMs?: number; maxMs?: number };
  /** Backoff between failed syncs: `baseMs` (default 1000) doubling up to `maxMs` (default 30 000). */
  syncBackoff?: { baseMs?: number; maxMs?: number };
  /** How long a sync may take beyond the long-poll wait before it counts as failed. Default 10 000. */
  requestTimeoutMs?: number;
  /**
   * Where the agent keeps the key it makes and the certificate it gets for it, so a restarted agent needs
   * no new bootstrap token: a directory on the VM (`FileCredentialStore`). Default: memory only.
   */
  credentials?: AgentCredentialStore;
  /**
   * Programs host routes to the other nodes' pod CIDRs (flat networks) by running `ip route` through `run`,
   * every `intervalMs` (default: the heartbeat interval) and whenever the node list changes. Absent: the agent touches no route.
   */
  podRoutes?: { run: CommandRunner; intervalMs?: number };
  /**
   * Where the agent keeps its last applied desired state, signed, so that a reboot without a reachable
   * control plane starts the jobs from it. Default: none (jobs wait for the control plane).
   */
  desiredStateCache?: DesiredStateCache;
}

/** Builds the disk mounter once the settings are known (it needs the metadata source and a logger). */
export type DiskMounterFactory = (deps: {
  settings: AgentSettings;
  metadata: MetadataSource;
  logger: Logger;
  clock: Clock;
}) => NonNullable<ApplierDeps['disk']>;

const LIFECYCLE = ['created', 'booting', 'running', 'stopping', 'stopped', 'detached'] as const;
type Lifecycle = (typeof LIFECYCLE)[number];

/**
 * The node agent (agent-protocol.md): boots from its metadata source, syncs with the control plane over
 * mutual TLS, applies the desired state it gets back and supervises the processes it starts. It never exits
 * on its own: channel failures are retried with capped backoff until `stop()` or `detach()`.
 */
export class Agent {
  private lifecycle: Lifecycle = 'created';
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly supervision: SupervisionOptions;
  private readonly halt = new AbortController();
  private currentSettings: AgentSettings | undefined;
  private channel: AgentChannel | undefined;
  private identity: NodeIdentity | undefined;
  /** Earliest time of the next renewal attempt after one failed. */
  private renewRetryAt = 0;
  private renewFailures = 0;
  private applier: DesiredStateApplier | undefined;
  private podRoutes: PodRouteReconciler | undefined;
  private loopDone: Promise<void> | undefined;
  private ending: Promise<void> | undefined;
  private startedAt = 0;
  private heartbeatIntervalMs = 0;
  private receivedGeneration = 0;
  private syncNow = true;
  /** The kept desired state was looked at (once per boot, on the first failed sync). */
  private cacheConsulted = false;
  /** The last desired state applied, to sign again with a renewed key. */
  private lastApplied: DesiredState | undefined;
  /** Aborts the long poll in flight so a process change is reported at once. */
  private longPollWake: AbortController | undefined;

  constructor(private readonly options: AgentOptions) {
    this.logger = options.logger ?? createJsonLogger({ fields: { component: 'agent' } });
    this.clock = options.clock ?? systemClock;
    this.supervision = { ...DEFAULT_SUPERVISION, ...options.supervision };
  }

  /** The settings read on boot; undefined before `start()` has read them. */
  get settings(): AgentSettings | undefined {
    return this.currentSettings;
  }

  get agentId(): string | undefined {
    return this.currentSettings?.agentId;
  }

  /** The client certificate (and its key) the agent uses now; undefined before its bootstrap. */
  get credentials(): AgentCredentials | undefined {
    return this.identity?.credentials;
  }

  /**
   * Reads the settings through the metadata source, adopts processes an earlier agent left running, and
   * starts the sync loop. Resolves once the loop runs (not when the first sync succeeds). Rejects when the
   * settings cannot be read: the VM's service manager restarts the agent.
   */
  async start(): Promise<AgentSettings> {
    if (this.lifecycle !== 'created') {
      throw new SlipwayError('Conflict', `the agent was already started (it is ${this.lifecycle}); create a new Agent`);
    }
    this.lifecycle = 'booting';
    let settings: AgentSettings;
    try {
      settings = await this.options.metadata.readSettings(this.halt.signal);
    } catch (error) {
      this.lifecycle = 'stopped';
      throw new SlipwayError(
        SlipwayError.is(error) ? error.code : 'Internal',
        `the agent could not read its settings from ${this.options.metadata.kind}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    if (this.halt.signal.aborted) {
      this.lifecycle = 'stopped';
      throw new SlipwayError('Cancelled', 'the agent was stopped while it booted');
    }
    this.currentSettings = settings;
    this.startedAt = this.clock.now();
    this.heartbeatIntervalMs = settings.heartbeatIntervalMs;
    const logger = this.logger.child({ agentId: settings.agentId });
    this.applier = new DesiredStateApplier({
      settings,
      catalog: this.options.jobCatalog ?? defaultJobCatalog,
      logger,
      supervisor: {
        runner: this.options.runner,
        clock: this.clock,
        logger,
        options: this.supervision,
        onChange: () => this.requestSync(),
      },
      stopGraceMs: this.supervision.stopGraceMs,
      drainTimeoutMs: this.options.drainTimeoutMs ?? 60_000,
      ...(this.options.drainBackoff ? { drainBackoff: this.options.drainBackoff } : {}),
      onDrainReport: () => this.requestSync(),
      disk: this.options.disk?.({ settings, metadata: this.options.metadata, logger, clock: this.clock }),
      onApplied: (_generation, desired) => {
        this.requestSync();
        void this.keep(desired, logger);
      },
    });
    const adopted = (await this.options.runner.list?.()) ?? [];
    if (this.halt.signal.aborted) {
      this.lifecycle = 'stopped';
      throw new SlipwayError('Cancelled', 'the agent was stopped while it booted');
    }
    if (adopted.length > 0) {
      this.applier.adopt(adopted);
      logger.info('adopted running processes', { processes: adopted.map((p) => p.spec.name) });
    }
    this.identity = new NodeIdentity(
      settings,
      this.options.credentials ?? new MemoryCredentialStore(),
      this.clock,
      logger,
      this.options.requestTimeoutMs ?? 10_000,
    );
    if (this.options.podRoutes) {
      // Checked every heartbeat by default: a route deleted behind the agent's back is back within one.
      this.podRoutes = new PodRouteReconciler({
        run: this.options.podRoutes.run,
        intervalMs: this.options.podRoutes.intervalMs ?? settings.heartbeatIntervalMs,
        logger: logger.child({ component: 'pod-routes' }),
        clock: this.clock,
      });
      this.podRoutes.start();
    }
    this.lifecycle = 'running';
    this.loopDone = this.loop(logger);
    logger.info('agent started', { controlPlane: settings.controlPlane.url, metadata: this.options.metadata.kind });
    return settings;
  }

  /** Ends the sync loop (aborting a held long poll at once) and stops every process in reverse start order. */
  stop(): Promise<void> {
    this.ending ??= this.end(true);
    return this.ending;
  }

  /**
   * Ends the sync loop but leaves processes running, for an agent upgrade or restart: the next Agent on this
   * VM adopts them through the runner's `list()`.
   */
  detach(): Promise<void> {
    this.ending ??= this.end(false);
    return this.ending;
  }

  /** The heartbeat the agent would send now. */
  heartbeat(): Heartbeat {
    const settings = this.currentSettings;
    if (!settings) throw new SlipwayError('Conflict', 'the agent has not read its settings yet; call start() first');
    const applier = this.applier;
    return {
      agentId: settings.agentId,
      instanceId: settings.instanceId,
      appliedGeneration: applier?.appliedGeneration ?? 0,
      jobs: applier?.hasJobs ? applier.status() : bootJobs(settings),
      persistentDiskId: applier?.mountedDiskId ?? null,
      drained: applier?.drained ?? false,
      ...(applier?.drainStatus ? { drain: applier.drainStatus } : {}),
      uptimeMs: this.clock.now() - this.startedAt,
    };
  }

  private async end(stopProcesses: boolean): Promise<void> {
    const wasRunning = this.lifecycle === 'running' || this.lifecycle === 'booting';
    this.lifecycle = 'stopping';
    this.halt.abort();
    if (wasRunning) {
      await this.loopDone;
      // Routes stay as they are (pods keep their network while the agent is away); only the loop ends.
      await this.podRoutes?.stop();
      await this.applier?.halt();
      if (stopProcesses) await this.applier?.stopAll();
      else this.applier?.detach();
      this.channel?.close();
      this.options.runner.close?.();
    }
    this.lifecycle = stopProcesses ? 'stopped' : 'detached';
  }

  /** Syncs at once: after a process changed state or a desired state was applied. */
  private requestSync(): void {
    this.syncNow = true;
    this.longPollWake?.abort();
  }

  /** The channel with the current certificate, bootstrapping first when the VM has none; renews when due. */
  private async connect(logger: Logger, signal: AbortSignal): Promise<AgentChannel> {
    const identity = this.identity!;
    if (!this.channel) {
      const credentials = await identity.ensure(signal);
      this.channel = new AgentChannel(this.currentSettings!, credentials, {
        requestTimeoutMs: this.options.requestTimeoutMs ?? 10_000,
      });
    }
    const now = this.clock.now();
    if (now >= (identity.renewAt() ?? Infinity) && now >= this.renewRetryAt) {
      try {
        const renewed = await identity.renew(this.channel, signal);
        this.channel.close();
        this.channel = new AgentChannel(this.currentSettings!, renewed, {
          requestTimeoutMs: this.options.requestTimeoutMs ?? 10_000,
        });
        this.renewFailures = 0;
        // The kept desired state is signed with the agent's key: sign it again with the new one.
        if (this.lastApplied) void this.keep(this.lastApplied, logger);
      } catch (error) {
        if (signal.aborted) throw error;
        // The current certificate is still valid: keep syncing with it and try again later.
        this.renewFailures += 1;
        const delay = backoffDelay(this.renewFailures, 1_000, 5 * 60_000);
        this.renewRetryAt = now + delay;
        const err = SlipwayError.from(error);
        logger.warn('certificate renewal failed; syncing with the current one and retrying', {
          code: err.code,
          error: err.message,
          retryInMs: delay,
        });
      }
    }
    return this.channel;
  }

  private async loop(logger: Logger): Promise<void> {
    const backoff = {
      baseMs: this.options.syncBackoff?.baseMs ?? 1_000,
      maxMs: this.options.syncBackoff?.maxMs ?? 30_000,
    };
    let failures = 0;
    while (!this.halt.signal.aborted) {
      const waitMs = this.syncNow ? 0 : this.heartbeatIntervalMs;
      this.syncNow = false;
      const wake = new AbortController();
      this.longPollWake = waitMs > 0 ? wake : undefined;
      const link = linkSignals(this.halt.signal, wake.signal);
      try {
        const channel = await this.connect(logger, link.signal);
        const sentAt = this.clock.now();
        const generation = this.receivedGeneration;
        const reply = await channel.sync({ heartbeat: this.heartbeat(), waitMs, generation, signal: link.signal });
        if (failures > 0) logger.info('control plane reachable again', { failedSyncs: failures });
        failures = 0;
        this.receive(reply.desired, reply.heartbeatIntervalMs);
        // A server that does not hold long polls must not turn the heartbeat into a busy loop.
        const early = waitMs - (this.clock.now() - sentAt);
        if (waitMs > 0 && early > 0 && reply.desired.generation === generation && !this.syncNow) {
          await sleepQuietly(this.clock, early, link.signal);
        }
      } catch (error) {
        if (this.halt.signal.aborted) break;
        if (wake.signal.aborted) continue;
        failures += 1;
        this.syncNow = true;
        if (!this.cacheConsulted) await this.startFromKeptState(logger);
        const delay = backoffDelay(failures, backoff.baseMs, backoff.maxMs);
        const err = SlipwayError.from(error);
        const what = this.identity?.credentials ? 'sync failed; retrying' : 'bootstrap failed; retrying';
        logger.warn(what, { code: err.code, error: err.message, retryInMs: delay, failures });
        await sleepQuietly(this.clock, delay, this.halt.signal);
      } finally {
        link.dispose();
        this.longPollWake = undefined;
      }
    }
  }

  /** Keeps an applied desired state on the VM's disk, signed; a failure is logged, never fatal. */
  private async keep(desired: DesiredState, logger: Logger): Promise<void> {
    this.lastApplied = desired;
    const cache = this.options.desiredStateCache;
    const credentials = this.identity?.credentials;
    if (!cache || !credentials || this.halt.signal.aborted) return;
    try {
      await cache.save(desired, credentials, this.clock.now());
    } catch (error) {
      logger.warn('could not keep the desired state on disk', {
        file: cache.path,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /**
   * The control plane did not answer the first sync after boot and nothing is applied yet: start the jobs
   * from the kept desired state (a reboot while the control plane is away), if it verifies. The sync loop
   * goes on; the control plane's desired state, once it answers, is applied over it (nothing restarts when
   * it is the same).
   */
  private async startFromKeptState(logger: Logger): Promise<void> {
    this.cacheConsulted = true;
    const cache = this.options.desiredStateCache;
    const settings = this.currentSettings;
    if (!cache || !settings || this.applier?.appliedGeneration !== undefined || this.receivedGeneration > 0) return;
    let kept: Awaited<ReturnType<DesiredStateCache['load']>>;
    try {
      kept = await cache.load(
        settings.agentId,
        await (this.options.credentials ?? new MemoryCredentialStore()).load().catch(() => undefined),
      );
    } catch (error) {
      // Whatever is wrong with the copy, the agent goes on waiting for the control plane as it would without one.
      logger.warn('could not read the kept desired state', {
        file: cache.path,
        error: error instanceof Error ? error.message : String(error),
      });
      return;
    }
    if ('refused' in kept) {
      if (kept.refused !== 'none')
        logger.warn('not starting jobs from the kept desired state', { reason: kept.refused });
      return;
    }
    if (kept.desired.state !== 'running') return;
    logger.info('control plane unreachable at boot: starting jobs from the kept desired state', {
      generation: kept.desired.generation,
      savedAt: kept.savedAt,
      jobs: kept.desired.jobs.map((j) => j.name),
    });
    this.applier?.converge(kept.desired);
  }

  private receive(desired: DesiredState, heartbeatIntervalMs: number): void {
    this.receivedGeneration = desired.generation;
    if (Number.isFinite(heartbeatIntervalMs) && heartbeatIntervalMs > 0) this.heartbeatIntervalMs = heartbeatIntervalMs;
    this.applier!.converge(desired);
    this.podRoutes?.update(desired.properties);
  }
}

/** What the agent reports before it knows its jobs: its group's default jobs, every process starting. */
function bootJobs(settings: AgentSettings): JobStatus[] {
  return defaultJobsFor(settings.group).map((job) => ({
    name: job.name,
    processes: job.processes.map((name) => ({ name, state: 'starting' as const, restarts: 0 })),
  }));
}
