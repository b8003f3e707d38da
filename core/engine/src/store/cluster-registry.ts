import type { Db } from './open.js';
import type { ClusterRegistryRow } from './schema.js';

/** Which registry project and robots each cluster has. */
export class ClusterRegistryRepository {
  constructor(private readonly db: Db) {}

  async find(clusterUuid: string): Promise<ClusterRegistryRow | undefined> {
    return this.db
      .selectFrom('cluster_registry')
      .selectAll()
      .where('cluster_uuid', '=', clusterUuid)
      .executeTakeFirst();
  }

  async upsert(row: ClusterRegistryRow): Promise<void> {
    const { cluster_uuid: _, ...rest } = row;
    await this.db
      .insertInto('cluster_registry')
      .values(row)
      .onConflict((oc) => oc.column('cluster_uuid').doUpdateSet(rest))
      .execute();
  }

  async update(clusterUuid: string, patch: Partial<Omit<ClusterRegistryRow, 'cluster_uuid'>>): Promise<void> {
    await this.db.updateTable('cluster_registry').set(patch).where('cluster_uuid', '=', clusterUuid).execute();
  }

  /** Other clusters sharing a project (a team project). */
  async sharing(project: string, exceptCluster: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('cluster_registry')
      .select('cluster_uuid')
      .where('project', '=', project)
      .where('cluster_uuid', '!=', exceptCluster)
      .execute();
    return rows.map((r) => r.cluster_uuid);
  }

  async remove(clusterUuid: string): Promise<void> {
    await this.db.deleteFrom('cluster_registry').where('cluster_uuid', '=', clusterUuid).execute();
  }
}
