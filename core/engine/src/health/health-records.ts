import { sql } from 'kysely';
import type { AlertRow, ClusterHealthRow, Db, HealthIncidentRow } from '../store/index.js';

export const INCIDENT_KINDS = ['unresponsive', 'missing'] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];

export const INCIDENT_RESOLUTIONS = ['recovered', 'resurrected', 'repaired', 'removed'] as const;
export type IncidentResolution = (typeof INCIDENT_RESOLUTIONS)[number];

/**
 * The health monitor's memory in the store: incidents (an instance down, until it runs again), per-cluster
 * resurrection settings and backoff, and alerts. Everything the meltdown guard counts survives a restart.
 */
export class HealthRecords {
  constructor(private readonly db: Db) {}

  /** Opens an incident unless the instance has one open already; returns the open one. */
  async openIncident(input: {
    clusterUuid: string;
    instanceId: string;
    kind: IncidentKind;
    vmCid: string | null;
    at: string;
  }): Promise<{ incident: HealthIncidentRow; opened: boolean }> {
    const open = await this.openIncidentOf(input.instanceId);
    if (open) return { incident: open, opened: false };
    const { id } = await this.db
      .insertInto('health_incidents')
      .values({
        cluster_uuid: input.clusterUuid,
        instance_id: input.instanceId,
        kind: input.kind,
        vm_cid: input.vmCid,
        detected_at: input.at,
        resolved_at: null,
        resolution: null,
        task_id: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return {
      incident: await this.db.selectFrom('health_incidents').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
      opened: true,
    };
  }

  async escalate(incidentId: number, kind: IncidentKind): Promise<void> {
    await this.db.updateTable('health_incidents').set({ kind }).where('id', '=', incidentId).execute();
  }

  async openIncidentOf(instanceId: string): Promise<HealthIncidentRow | undefined> {
    return this.db
      .selectFrom('health_incidents')
      .selectAll()
      .where('instance_id', '=', instanceId)
      .where('resolved_at', 'is', null)
      .executeTakeFirst();
  }

  async openIncidents(clusterUuid?: string): Promise<HealthIncidentRow[]> {
    let q = this.db.selectFrom('health_incidents').selectAll().where('resolved_at', 'is', null);
    if (clusterUuid) q = q.where('cluster_uuid', '=', clusterUuid);
    return q.orderBy('id').execute();
  }

  async recentIncidents(clusterUuid: string, limit = 20): Promise<HealthIncidentRow[]> {
    return this.db
      .selectFrom('health_incidents')
      .selectAll()
      .where('cluster_uuid', '=', clusterUuid)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  async assignTask(incidentIds: number[], taskId: number): Promise<void> {
    if (incidentIds.length)
      await this.db.updateTable('health_incidents').set({ task_id: taskId }).where('id', 'in', incidentIds).execute();
  }

  /** Closes the instance's open incident; returns it, or undefined when none was open. */
  async resolve(
    instanceId: string,
    resolution: IncidentResolution,
    at: string,
  ): Promise<HealthIncidentRow | undefined> {
    const open = await this.openIncidentOf(instanceId);
    if (!open) return undefined;
    await this.db
      .updateTable('health_incidents')
      .set({ resolved_at: at, resolution })
      .where('id', '=', open.id)
      .execute();
    return { ...open, resolved_at: at, resolution };
  }

  /** Distinct instances of a cluster that went down at or after `since` (the meltdown guard's count). */
  async downSince(clusterUuid: string, since: string): Promise<number> {
    const row = await this.db
      .selectFrom('health_incidents')
      .select(sql<number>`count(distinct instance_id)`.as('n'))
      .where('cluster_uuid', '=', clusterUuid)
      .where('detected_at', '>=', since)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async clusterHealth(clusterUuid: string): Promise<ClusterHealthRow | undefined> {
    return this.db.selectFrom('cluster_health').selectAll().where('cluster_uuid', '=', clusterUuid).executeTakeFirst();
  }

  async clusterHealthOf(clusterUuids: string[]): Promise<Map<string, ClusterHealthRow>> {
    if (!clusterUuids.length) return new Map();
    const rows = await this.db
      .selectFrom('cluster_health')
      .selectAll()
      .where('cluster_uuid', 'in', clusterUuids)
      .execute();
    return new Map(rows.map((r) => [r.cluster_uuid, r]));
  }

  async updateClusterHealth(
    clusterUuid: string,
    patch: Partial<Omit<ClusterHealthRow, 'cluster_uuid'>>,
    at: string,
  ): Promise<void> {
    const values = {
      failures: 0,
      resurrection: null,
      resurrection_set_by: null,
      meltdown_since: null,
      retry_at: null,
      ...patch,
      updated_at: at,
    };
    await this.db
      .insertInto('cluster_health')
      .values({ cluster_uuid: clusterUuid, ...values })
      .onConflict((oc) => oc.column('cluster_uuid').doUpdateSet({ ...patch, updated_at: at }))
      .execute();
  }

  async insertAlert(alert: AlertRow): Promise<void> {
    await this.db.insertInto('alerts').values(alert).execute();
  }

  async alerts(options: { limit: number; clusterUuids?: string[] }): Promise<AlertRow[]> {
    let q = this.db.selectFrom('alerts').selectAll().orderBy('at', 'desc').limit(options.limit);
    if (options.clusterUuids) {
      if (!options.clusterUuids.length) return [];
      q = q.where('cluster_uuid', 'in', options.clusterUuids);
    }
    return q.execute();
  }
}
