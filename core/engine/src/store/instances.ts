import type { Db } from './open.js';
import type { DiskRow, InstanceRow, InstancesTable } from './schema.js';
import type { Insertable, Updateable } from 'kysely';
import { precompiled } from './precompiled.js';

export class InstanceRepository {
  private readonly mastersOf: (clusterUuid: string) => Promise<Array<{ ip: string | null }>>;

  constructor(private readonly db: Db) {
    this.mastersOf = precompiled(db, (clusterUuid: string) =>
      db
        .selectFrom('instances')
        .select('ip')
        .where('cluster_uuid', '=', clusterUuid)
        .where('group_name', '=', 'master')
        .where('ip', 'is not', null)
        .orderBy('idx'),
    );
  }

  /** The masters' addresses of one cluster, in index order (every `GET /v1/clusters/{name}`). */
  async masterIps(clusterUuid: string): Promise<string[]> {
    return (await this.mastersOf(clusterUuid)).map((r) => r.ip!);
  }

  async insert(rows: Insertable<InstancesTable>[]): Promise<void> {
    if (rows.length) await this.db.insertInto('instances').values(rows).execute();
  }

  async update(id: string, patch: Updateable<InstancesTable>): Promise<void> {
    await this.db.updateTable('instances').set(patch).where('id', '=', id).execute();
  }

  async get(id: string): Promise<InstanceRow | undefined> {
    return this.db.selectFrom('instances').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async byAgentId(agentId: string): Promise<InstanceRow | undefined> {
    return this.db.selectFrom('instances').selectAll().where('agent_id', '=', agentId).executeTakeFirst();
  }

  async ofCluster(clusterUuid: string): Promise<InstanceRow[]> {
    return this.db
      .selectFrom('instances')
      .selectAll()
      .where('cluster_uuid', '=', clusterUuid)
      .orderBy('group_name')
      .orderBy('idx')
      .execute();
  }

  async remove(id: string): Promise<void> {
    await this.db.deleteFrom('instances').where('id', '=', id).execute();
  }

  async disksOfCluster(clusterUuid: string): Promise<DiskRow[]> {
    return this.db.selectFrom('disks').selectAll().where('cluster_uuid', '=', clusterUuid).execute();
  }

  async diskOf(instanceId: string): Promise<DiskRow | undefined> {
    return this.db
      .selectFrom('disks')
      .selectAll()
      .where('instance_id', '=', instanceId)
      .where('state', '!=', 'deleted')
      .executeTakeFirst();
  }

  async upsertDisk(row: DiskRow): Promise<void> {
    await this.db
      .insertInto('disks')
      .values(row)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          disk_cid: row.disk_cid,
          attached_vm_cid: row.attached_vm_cid,
          state: row.state,
          updated_at: row.updated_at,
        }),
      )
      .execute();
  }
}
