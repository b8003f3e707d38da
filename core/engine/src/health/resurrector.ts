import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock, type Logger } from '@slipway/contracts';
import { isoNow } from '../clock.js';
import type { SlipwayConfig } from '../config/schema.js';
import { label } from '../lifecycle/provisioner.js';
import { ACTIVE_TASK_STATES, type Store } from '../store/index.js';
import { TaskRunner } from '../tasks/task-runner.js';
import { CLOCK, CONFIG, LOGGER, STORE } from '../tokens.js';
import { AlertDispatcher } from './alerts.js';
import { HealthRecords } from './health-records.js';
import { meltdownOf, type MeltdownState } from './meltdown-guard.js';
import { healthSettingsOf, type HealthSettings } from './settings.js';
import { recordEngineDecision } from '../audit/audit-trail.js';

/** Masters a cluster of `masters` may have recreated at once and keep etcd's majority: 1 of 3, 2 of 5 (at least 1). */
export function quorumSafeMasters(masters: number): number {
  return Math.max(1, Math.floor((masters - 1) / 2));
}

/** Who the health monitor's tasks run as, in task lists and logs. */
export const HEALTH_MONITOR_ACTOR = 'slipway:health-monitor';

/** What a RESURRECT task works on: the instances found down when it was submitted. */
export interface ResurrectParams {
  instances: Array<{ instance_id: string; incident_id: number; kind: string; vm_cid: string | null }>;
}

/** A cluster's resurrection setting and whether the meltdown guard holds it back now. */
export interface ResurrectionStatus {
  enabled: boolean;
  source: 'cluster' | 'default';
  set_by: string | null;
  meltdown: MeltdownState & { since: string | null };
}

/**
 * Decides, for each cluster with instances down, whether to resurrect them now, and submits a RESURRECT
 * task (persisted idempotent steps, so a crash mid-resurrection resumes) for all of them at once. It holds
 * back while the cluster has another task (which owns its instances meanwhile), while resurrection is off
 * for the cluster, during backoff after a failed attempt, and while the meltdown guard holds.
 */
@injectable()
export class Resurrector {
  private readonly settings: HealthSettings;
  private readonly records: HealthRecords;
  private readonly logger: Logger;

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(TaskRunner) private readonly tasks: TaskRunner,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(LOGGER) logger: Logger,
    @inject(CONFIG) config: SlipwayConfig,
    @inject(AlertDispatcher) private readonly alerts: AlertDispatcher,
  ) {
    this.settings = healthSettingsOf(config);
    this.records = new HealthRecords(store.db);
    this.logger = logger.child({ component: 'resurrector' });
  }

  async status(clusterUuid: string): Promise<ResurrectionStatus> {
    const row = await this.records.clusterHealth(clusterUuid);
    const meltdown = await this.meltdown(clusterUuid);
    return {
      enabled: row?.resurrection ? row.resurrection === 'on' : this.settings.resurrector.enabled,
      source: row?.resurrection ? 'cluster' : 'default',
      set_by: row?.resurrection_set_by ?? null,
      meltdown: { ...meltdown, since: row?.meltdown_since ?? null },
    };
  }

  /** `slipway resurrection NAME on|off`; null goes back to the config's default. */
  async setEnabled(clusterUuid: string, enabled: boolean | null, by: string): Promise<void> {
    const at = isoNow(this.clock);
    await this.records.updateClusterHealth(
      clusterUuid,
      {
        resurrection: enabled === null ? null : enabled ? 'on' : 'off',
        resurrection_set_by: enabled === null ? null : by,
        failures: 0,
        retry_at: null,
      },
      at,
    );
    if (enabled) this.alerts.clear(`resurrection-off:${clusterUuid}`);
    await this.store.events.record({
      at,
      cluster_uuid: clusterUuid,
      instance_id: null,
      kind: 'resurrection.setting',
      severity: 'info',
      message:
        enabled === null
          ? `resurrection follows the default again (${this.settings.resurrector.enabled ? 'on' : 'off'}), set by ${by}`
          : `resurrection turned ${enabled ? 'on' : 'off'} by ${by}`,
    });
  }

  async meltdown(clusterUuid: string): Promise<MeltdownState> {
    const since = new Date(this.clock.now() - this.settings.resurrector.timeWindowMs).toISOString();
    const down = await this.records.downSince(clusterUuid, since);
    const total = await this.store.db
      .selectFrom('instances')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('cluster_uuid', '=', clusterUuid)
      .where('desired', '=', 'present')
      .executeTakeFirstOrThrow();
    return meltdownOf(down, Number(total.n), this.settings.resurrector);
  }

  /** Looks at each cluster with instances down and resurrects where it may. Called by the monitor each pass. */
  async consider(clusterUuids: string[]): Promise<void> {
    const busy = new Set(
      (
        await this.store.db
          .selectFrom('tasks')
          .select('cluster_uuid')
          .where('state', 'in', ACTIVE_TASK_STATES)
          .where('cluster_uuid', 'in', clusterUuids)
          .execute()
      ).map((r) => r.cluster_uuid),
    );
    for (const uuid of clusterUuids) {
      if (busy.has(uuid)) continue;
      try {
        await this.considerCluster(uuid);
      } catch (e) {
        this.logger.error('resurrection decision failed', { cluster: uuid, error: (e as Error).message });
      }
    }
  }

  private async considerCluster(uuid: string): Promise<void> {
    const now = this.clock.now();
    const at = new Date(now).toISOString();
    const cluster = await this.store.clusters.findByUuid(uuid);
    const incidents = await this.records.openIncidents(uuid);
    if (!incidents.length) return;
    const instances = new Map((await this.store.instances.ofCluster(uuid)).map((i) => [i.id, i]));
    // Instances deleted meanwhile, or a cluster being deleted, need no resurrection.
    for (const incident of incidents) {
      const instance = instances.get(incident.instance_id);
      if (cluster?.status !== 'active' || !instance || instance.desired !== 'present')
        await this.records.resolve(incident.instance_id, 'removed', at);
    }
    if (cluster?.status !== 'active' || cluster.task_type === 'DELETE') return;
    const down = incidents.filter(
      (i) =>
        instances.get(i.instance_id)?.desired === 'present' &&
        ['unresponsive', 'missing'].includes(instances.get(i.instance_id)!.state),
    );
    if (!down.length) return;
    const names = down.map((i) => label(instances.get(i.instance_id)!)).join(', ');

    const health = await this.records.clusterHealth(uuid);
    const enabled = health?.resurrection ? health.resurrection === 'on' : this.settings.resurrector.enabled;
    if (!enabled) {
      await this.alerts.raise({
        severity: 'warning',
        kind: 'resurrection.off',
        key: `resurrection-off:${uuid}`,
        clusterUuid: uuid,
        title: `${names} of cluster ${cluster.name} ${down.length > 1 ? 'are' : 'is'} down and resurrection is off`,
        summary: `nothing will recreate ${down.length > 1 ? 'them' : 'it'}; turn resurrection on (slipway resurrection ${cluster.name} on) or repair by hand (slipway doctor ${cluster.name})`,
      });
      return;
    }
    if (health?.retry_at && health.retry_at > at) return;

    const meltdown = await this.meltdown(uuid);
    if (meltdown.active) {
      if (!health?.meltdown_since) {
        await this.records.updateClusterHealth(uuid, { meltdown_since: at }, at);
        await recordEngineDecision(this.store, at, 'meltdown.hold', `cluster:${cluster.name}`, uuid, {
          reason: meltdown.reason,
          down: down.length,
        });
        await this.alerts.raise({
          severity: 'critical',
          kind: 'meltdown',
          key: `meltdown:${uuid}`,
          clusterUuid: uuid,
          title: `Resurrection paused on cluster ${cluster.name}: meltdown guard`,
          summary: `${meltdown.reason}. That many VMs failing at once looks like a cloud or network failure, which recreating VMs would not fix and could make worse. Resurrection resumes when fewer have gone down within the window; fix the cause, then check with: slipway doctor ${cluster.name}`,
        });
      }
      return;
    }
    if (health?.meltdown_since) {
      await this.records.updateClusterHealth(uuid, { meltdown_since: null }, at);
      await recordEngineDecision(this.store, at, 'meltdown.release', `cluster:${cluster.name}`, uuid, {
        reason: meltdown.reason,
      });
      this.alerts.clear(`meltdown:${uuid}`);
      await this.store.events.record({
        at,
        cluster_uuid: uuid,
        instance_id: null,
        kind: 'meltdown.over',
        severity: 'info',
        message: `meltdown guard released (${meltdown.reason}); resurrection resumes`,
      });
    }

    // etcd quorum: a master whose VM is being recreated is down (and a recreated member catching up is not a
    // voter yet), so at most as many masters at once as the cluster can lose and keep a majority; the rest
    // wait for the next task. With 1 master there is no quorum to keep: it is recreated alone.
    const cap = quorumSafeMasters(cluster.master_instances);
    const masters = down.filter((i) => instances.get(i.instance_id)!.group_name === 'master');
    const waiting = masters.slice(cap);
    if (waiting.length) {
      const held = waiting.map((i) => label(instances.get(i.instance_id)!)).join(', ');
      await this.store.events.record({
        at,
        cluster_uuid: uuid,
        instance_id: null,
        kind: 'resurrection.held',
        severity: 'warning',
        message: `${held} wait${waiting.length > 1 ? '' : 's'}: at most ${cap} of ${cluster.master_instances} masters are recreated at once, so etcd keeps (or regains) its quorum`,
      });
    }
    const chosen = down.filter((i) => !waiting.includes(i));
    const chosenNames = chosen.map((i) => label(instances.get(i.instance_id)!)).join(', ');
    const params: ResurrectParams = {
      instances: chosen.map((i) => ({
        instance_id: i.instance_id,
        incident_id: i.id,
        kind: instances.get(i.instance_id)!.state,
        vm_cid: instances.get(i.instance_id)!.vm_cid,
      })),
    };
    let task;
    try {
      task = await this.tasks.submit({
        type: 'RESURRECT',
        cluster: { uuid, name: cluster.name },
        user: HEALTH_MONITOR_ACTOR,
        description: `resurrect ${chosenNames} of cluster ${cluster.name}`,
        params,
      });
    } catch (e) {
      if (SlipwayError.is(e, 'Conflict')) return; // another task started meanwhile: it owns the cluster; next pass
      throw e;
    }
    await this.records.assignTask(
      chosen.map((i) => i.id),
      task.id,
    );
    await recordEngineDecision(this.store, at, 'resurrection.start', `cluster:${cluster.name}`, uuid, {
      task_id: task.id,
      instances: chosen.map((i) => i.instance_id),
    });
    await this.store.events.record({
      at,
      cluster_uuid: uuid,
      instance_id: null,
      kind: 'resurrection.started',
      severity: 'info',
      message: `resurrecting ${chosenNames} (task ${task.id})`,
    });
    this.logger.info('resurrecting', {
      cluster: cluster.name,
      instances: chosenNames,
      task: task.id,
      ...(waiting.length ? { waiting: waiting.length } : {}),
    });
  }

  /** After a failed RESURRECT task: back off (doubling, capped at the meltdown window) and alert. */
  async recordFailure(clusterUuid: string, clusterName: string, taskId: number, message: string): Promise<void> {
    const at = isoNow(this.clock);
    const failures = ((await this.records.clusterHealth(clusterUuid))?.failures ?? 0) + 1;
    const backoffMs = Math.min(this.settings.resurrector.timeWindowMs, this.settings.analyzeIntervalMs * 2 ** failures);
    await this.records.updateClusterHealth(
      clusterUuid,
      { failures, retry_at: new Date(this.clock.now() + backoffMs).toISOString() },
      at,
    );
    await this.alerts.raise({
      severity: 'critical',
      kind: 'resurrection.failed',
      clusterUuid,
      title: `Resurrection of cluster ${clusterName} failed (task ${taskId})`,
      summary: `${message}; next attempt in ${Math.round(backoffMs / 1000)} s (attempt ${failures + 1}). The task's log: slipway task ${taskId}`,
    });
  }

  async recordSuccess(clusterUuid: string): Promise<void> {
    await this.records.updateClusterHealth(clusterUuid, { failures: 0, retry_at: null }, isoNow(this.clock));
  }
}
