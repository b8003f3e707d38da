import { inject, injectable } from 'tsyringe';
import { SlipwayError } from '@slipway/contracts';
import { seesAllClusters, type Principal } from '../auth/roles.js';
import type { SlipwayConfig } from '../config/schema.js';
import { label } from '../lifecycle/provisioner.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import type { AlertRow, Store, TaskRow } from '../store/index.js';
import { TaskRunner } from '../tasks/task-runner.js';
import { CONFIG, PLUGINS, STORE } from '../tokens.js';
import { findCluster } from '../clusters/cluster-access.js';
import { Doctor, RESOLUTIONS, type DoctorReport, type Resolution } from './doctor.js';
import { HealthRecords } from './health-records.js';
import type { RepairParams } from './repair-task.js';
import { Resurrector, type ResurrectionStatus } from './resurrector.js';
import { detectionBounds, healthSettingsOf } from './settings.js';

/** POST /v1/clusters/{name}/doctor: `auto` applies each problem's default fix; `resolutions` picks per problem. */
export interface RepairRequest {
  auto?: boolean;
  resolutions?: Record<string, Resolution>;
}

export interface ClusterHealthView {
  cluster: string;
  states: Record<string, number>;
  resurrection: ResurrectionStatus;
  incidents: Array<{
    instance: string;
    kind: string;
    vm_cid: string | null;
    detected_at: string;
    resolved_at: string | null;
    resolution: string | null;
    task_id: number | null;
  }>;
  /** The documented detection bounds of this control plane, in ms. */
  detection_bounds_ms: { unresponsive: number; missing: number; failing: number };
}

/** What the API offers of the health monitor: per-cluster health, resurrection on/off, cloud check, alerts. */
@injectable()
export class HealthService {
  private readonly records: HealthRecords;

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CONFIG) private readonly config: SlipwayConfig,
    @inject(TaskRunner) private readonly tasks: TaskRunner,
    @inject(Resurrector) private readonly resurrector: Resurrector,
    @inject(Doctor) private readonly doctor: Doctor,
  ) {
    this.records = new HealthRecords(store.db);
  }

  async health(principal: Principal, name: string): Promise<ClusterHealthView> {
    const row = await findCluster(this.store, principal, name, 'read');
    const instances = await this.store.instances.ofCluster(row.uuid);
    const states: Record<string, number> = {};
    for (const i of instances) states[i.state] = (states[i.state] ?? 0) + 1;
    const byId = new Map(instances.map((i) => [i.id, i]));
    const incidents = await this.records.recentIncidents(row.uuid, 20);
    const target = this.plugins.iaas.get(row.iaas);
    return {
      cluster: row.name,
      states,
      resurrection: await this.resurrector.status(row.uuid),
      incidents: incidents.map((i) => ({
        instance: byId.get(i.instance_id) ? label(byId.get(i.instance_id)!) : i.instance_id,
        kind: i.kind,
        vm_cid: i.vm_cid,
        detected_at: i.detected_at,
        resolved_at: i.resolved_at,
        resolution: i.resolution,
        task_id: i.task_id,
      })),
      detection_bounds_ms: detectionBounds(
        healthSettingsOf(this.config),
        Boolean(target?.capabilities.includes('inventory')),
      ),
    };
  }

  async resurrection(principal: Principal, name: string): Promise<ResurrectionStatus & { cluster: string }> {
    const row = await findCluster(this.store, principal, name, 'read');
    return { cluster: row.name, ...(await this.resurrector.status(row.uuid)) };
  }

  async setResurrection(
    principal: Principal,
    name: string,
    enabled: boolean | null,
  ): Promise<ResurrectionStatus & { cluster: string }> {
    const row = await findCluster(this.store, principal, name, 'write');
    await this.resurrector.setEnabled(row.uuid, enabled, principal.name);
    return { cluster: row.name, ...(await this.resurrector.status(row.uuid)) };
  }

  async check(principal: Principal, name: string, signal?: AbortSignal): Promise<DoctorReport> {
    const row = await findCluster(this.store, principal, name, 'read');
    return this.doctor.scan(row, signal ?? new AbortController().signal);
  }

  /** Starts a REPAIR task with the chosen fixes; none to apply: no task. */
  async repair(
    principal: Principal,
    name: string,
    request: RepairRequest,
    signal?: AbortSignal,
  ): Promise<{ report: DoctorReport; task: TaskRow | null }> {
    const row = await findCluster(this.store, principal, name, 'write');
    const report = await this.doctor.scan(row, signal ?? new AbortController().signal);
    const chosen: RepairParams['resolutions'] = [];
    const given = request.resolutions ?? {};
    const unknown = Object.keys(given).filter((id) => !report.problems.some((p) => p.id === id));
    if (unknown.length) {
      throw new SlipwayError(
        'InvalidInput',
        `no current problem ${unknown.map((u) => `"${u}"`).join(', ')}; the cloud check finds: ${report.problems.map((p) => p.id).join(', ') || 'no problems'}`,
        { field: 'resolutions', hint: `Look again with: slipway doctor ${name}` },
      );
    }
    for (const problem of report.problems) {
      const resolution = given[problem.id] ?? (request.auto ? problem.default_resolution : undefined);
      if (!resolution) continue;
      if (!RESOLUTIONS.includes(resolution) || !problem.resolutions.includes(resolution)) {
        throw new SlipwayError(
          'InvalidInput',
          `${resolution} does not fix "${problem.id}" (${problem.type}); choose one of ${problem.resolutions.join(', ')}`,
          { field: `resolutions.${problem.id}` },
        );
      }
      if (resolution !== 'ignore')
        chosen.push({ problem_id: problem.id, resolution, description: problem.description });
    }
    if (!chosen.length) return { report, task: null };
    const task = await this.tasks.submit({
      type: 'REPAIR',
      cluster: row,
      user: principal.name,
      params: { resolutions: chosen } satisfies RepairParams,
      description: `repair cluster ${name}: ${chosen.map((c) => `${c.resolution} ${c.problem_id}`).join(', ')}`,
    });
    return { report, task };
  }

  async alerts(
    principal: Principal,
    options: { cluster?: string; limit?: number },
  ): Promise<Array<AlertRow & { cluster: string | null }>> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 1000);
    let uuids: string[] | undefined;
    if (options.cluster) uuids = [(await findCluster(this.store, principal, options.cluster, 'read')).uuid];
    else if (!seesAllClusters(principal))
      uuids = principal.roles.includes('clusters.manage')
        ? (await this.store.clusters.list(principal.id)).map((c) => c.uuid)
        : [];
    const rows = await this.records.alerts({ limit, clusterUuids: uuids });
    const referenced = [...new Set(rows.map((r) => r.cluster_uuid).filter((u): u is string => Boolean(u)))];
    const names = new Map(
      referenced.length
        ? (
            await this.store.db
              .selectFrom('clusters')
              .select(['uuid', 'name'])
              .where('uuid', 'in', referenced)
              .execute()
          ).map((c) => [c.uuid, c.name])
        : [],
    );
    return rows.map((r) => ({ ...r, cluster: r.cluster_uuid ? (names.get(r.cluster_uuid) ?? null) : null }));
  }
}
