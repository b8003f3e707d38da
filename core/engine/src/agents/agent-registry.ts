import { inject, injectable } from 'tsyringe';
import {
  SlipwayError,
  throwIfAborted,
  type Clock,
  type DesiredState,
  type Heartbeat,
  type InstanceState,
  type JobStatus,
} from '@slipway/contracts';
import { isoNow } from '../clock.js';
import type { InstanceRow, Store } from '../store/index.js';
import { CHANGE_FEED, CLOCK, CONFIG, STORE } from '../tokens.js';
import type { ChangeFeed } from '../replicas/change-feed.js';
import type { SlipwayConfig } from '../config/schema.js';
import { JobPropertiesBuilder } from './job-properties-builder.js';
import { JOBS_BY_GROUP } from './jobs.js';

export interface SyncResult {
  desired: DesiredState;
  heartbeatIntervalMs: number;
}

/**
 * The control plane's end of the agent channel: records heartbeats, answers each agent with its desired
 * state, holds long polls until that state changes, and lets tasks wait for agents to converge.
 */
@injectable()
export class AgentRegistry {
  private readonly heartbeatIntervalMs: number;

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(CONFIG) config: SlipwayConfig,
    @inject(JobPropertiesBuilder) private readonly properties: JobPropertiesBuilder,
    /** Crosses replicas: the agent's long poll may be held by another one than the task that changes it. */
    @inject(CHANGE_FEED) private readonly changes: ChangeFeed,
  ) {
    this.heartbeatIntervalMs = Math.round(config.agents.heartbeat_interval_seconds * 1000);
  }

  /** Handles one sync (heartbeat + fetch of desired state), holding it up to `waitMs` if nothing changed. */
  async sync(
    agentId: string,
    heartbeat: Heartbeat,
    waitMs: number,
    knownGeneration: number | undefined,
    signal?: AbortSignal,
  ): Promise<SyncResult> {
    if (heartbeat.agentId !== agentId) {
      throw new SlipwayError(
        'Forbidden',
        `heartbeat for agent ${heartbeat.agentId} sent with the certificate of ${agentId}`,
      );
    }
    const instance = await this.store.instances.byAgentId(agentId);
    if (!instance) throw new SlipwayError('NotFound', `agent ${agentId} is not known (its VM may have been deleted)`);
    await this.record(instance, heartbeat);

    let desired = await this.desiredOf(instance);
    if (waitMs > 0 && knownGeneration === desired.generation) {
      await this.waitForGeneration(instance.id, knownGeneration, Math.min(waitMs, 5 * 60_000), signal);
      const fresh = await this.store.instances.get(instance.id);
      if (!fresh || fresh.agent_id !== agentId)
        throw new SlipwayError('NotFound', `agent ${agentId} was replaced while it waited`);
      desired = await this.desiredOf(fresh);
    }
    return { desired, heartbeatIntervalMs: this.heartbeatIntervalMs };
  }

  /** Bumps an instance's desired generation and wakes its held long poll. */
  async setDesired(instanceId: string, desired: InstanceRow['desired']): Promise<void> {
    const row = await this.store.instances.get(instanceId);
    if (!row) return;
    if (row.desired === desired) return;
    const generation = row.desired_generation + 1;
    await this.store.instances.update(instanceId, {
      desired,
      desired_generation: generation,
      drained: 0,
      drain_report: null,
      updated_at: isoNow(this.clock),
    });
    this.properties.forget(instanceId);
    this.changes.publish(`instance:${instanceId}`, generation);
  }

  /**
   * Waits until `check` over the cluster's instances returns null (satisfied); otherwise its string says
   * what is still awaited and is passed to `onWaiting`. Re-checked on each heartbeat of the cluster and
   * every second; throws Timeout naming what it waited for.
   */
  async waitForCluster(
    clusterUuid: string,
    check: (instances: InstanceRow[]) => string | null,
    options: { timeoutMs: number; signal?: AbortSignal; onWaiting?: (what: string) => void },
  ): Promise<void> {
    const deadline = this.clock.now() + options.timeoutMs;
    let lastWhat = '';
    for (;;) {
      throwIfAborted(options.signal);
      const what = check(await this.store.instances.ofCluster(clusterUuid));
      if (what === null) return;
      if (what !== lastWhat) options.onWaiting?.(what);
      lastWhat = what;
      const remaining = deadline - this.clock.now();
      if (remaining <= 0) {
        throw new SlipwayError(
          'Timeout',
          `gave up after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what}`,
          {
            hint: 'Check the VMs with `slipway cluster NAME --details`; raise agents.boot_timeout_seconds if VMs boot slowly.',
          },
        );
      }
      await this.nextChange(`cluster:${clusterUuid}`, Math.min(1000, remaining), options.signal);
    }
  }

  private async record(instance: InstanceRow, heartbeat: Heartbeat): Promise<void> {
    const at = isoNow(this.clock);
    // Only while this agent is the instance's: a sync in flight from a replaced VM must not overwrite
    // what the new VM reports.
    await this.store.db
      .updateTable('instances')
      .set({
        last_heartbeat_at: at,
        processes: JSON.stringify(heartbeat.jobs ?? []),
        applied_generation: heartbeat.appliedGeneration ?? 0,
        drained: heartbeat.drained ? 1 : 0,
        drain_report: heartbeat.drain ? JSON.stringify(heartbeat.drain) : null,
        mounted_disk_cid: heartbeat.persistentDiskId ?? null,
        state: instanceStateOf(heartbeat.jobs ?? []),
        updated_at: at,
      })
      .where('id', '=', instance.id)
      .where('agent_id', '=', heartbeat.agentId)
      .execute();
    this.changes.publish(`cluster:${instance.cluster_uuid}`);
  }

  /** What the instance's agent is told on its next sync: its jobs, their state and what they render from. */
  async desiredOf(instance: InstanceRow): Promise<DesiredState> {
    const group = instance.group_name;
    const state = instance.desired === 'present' ? 'running' : instance.desired === 'drain' ? 'drained' : 'stopped';
    const base: DesiredState = { generation: instance.desired_generation, state, jobs: JOBS_BY_GROUP[group] };
    // A VM that is being stopped needs nothing rendered; every other answer carries what its jobs render from.
    if (state === 'stopped') return base;
    let properties;
    try {
      properties = await this.properties.propertiesFor(instance);
    } catch (error) {
      const cause = SlipwayError.from(error);
      // The agent retries a failed sync with backoff; it must not apply a generation without its properties.
      throw new SlipwayError(
        'Retryable',
        `the desired state of ${instance.group_name}/${instance.idx} cannot be built yet: ${cause.message}`,
        { cause },
      );
    }
    return { ...base, properties };
  }

  private async waitForGeneration(
    instanceId: string,
    known: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.nextChange(`instance:${instanceId}`, waitMs, signal, (generation) => generation !== known);
  }

  private nextChange(
    event: string,
    timeoutMs: number,
    signal?: AbortSignal,
    accept: (value: unknown) => boolean = () => true,
  ): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const onChange = (value: unknown) => {
        if (accept(value)) done();
      };
      const timer = setTimeout(done, timeoutMs);
      const unsubscribe = this.changes.subscribe(event, onChange);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * An instance's state from its agent's report. The rule for `unavailable` (a job whose binary is not
 * installed on this VM, as on the local driver without kube-* binaries): it is an install fact, not a
 * health failure, so it does not count either way. Then:
 * - failing when any available process fails;
 * - running when every available process runs, and stopped when every one is stopped;
 * - running too when nothing at all is available (the agent is up and reports why each job cannot run);
 * - starting otherwise, and before the agent has reported any job.
 * Unavailable jobs stay visible with their reason in the instance's processes (`slipway cluster NAME --details`).
 */
export function instanceStateOf(jobs: JobStatus[]): InstanceState {
  const processes = jobs.flatMap((j) => j.processes);
  if (processes.length === 0) return jobs.length > 0 && jobs.every((j) => j.unavailable) ? 'running' : 'starting';
  const available = processes.filter((p) => p.state !== 'unavailable');
  if (available.length === 0) return 'running';
  if (available.some((p) => p.state === 'failing')) return 'failing';
  if (available.every((p) => p.state === 'running')) return 'running';
  if (available.every((p) => p.state === 'stopped')) return 'stopped';
  return 'starting';
}
