import { sql } from 'kysely';
import type { Db } from './open.js';
import { precompiled } from './precompiled.js';
import type { ClusterRow, ClusterUpdate, NewCluster } from './schema.js';

/** Cluster rows joined with their latest task, which is where last_action and its state come from. */
export interface ClusterWithTask extends ClusterRow {
  task_id: number | null;
  task_type: string | null;
  task_state: string | null;
  task_description: string | null;
}

export class ClusterRepository {
  /** Every API call on a cluster starts here. */
  private readonly byName: (name: string) => Promise<unknown[]>;

  constructor(private readonly db: Db) {
    this.byName = precompiled(db, (name: string) => this.withLatestTask().where('clusters.name', '=', name).where('clusters.status', '=', 'active'));
  }

  async insert(row: NewCluster): Promise<void> {
    await this.db.insertInto('clusters').values(row).execute();
  }

  async update(uuid: string, patch: ClusterUpdate): Promise<void> {
    await this.db.updateTable('clusters').set(patch).where('uuid', '=', uuid).execute();
  }

  private withLatestTask() {
    return this.db.selectFrom('clusters')
      .leftJoin('tasks', (join) => join.onRef('tasks.cluster_uuid', '=', 'clusters.uuid').on('tasks.id', '=',
        (eb) => eb.selectFrom('tasks as t').select((e) => e.fn.max('t.id').as('m')).whereRef('t.cluster_uuid', '=', 'clusters.uuid')))
      .selectAll('clusters')
      .select(['tasks.id as task_id', 'tasks.type as task_type', 'tasks.state as task_state', 'tasks.description as task_description']);
  }

  /** Live clusters, optionally only one owner's; ordered by name. */
  async list(owner?: string): Promise<ClusterWithTask[]> {
    let q = this.withLatestTask().where('clusters.status', '=', 'active');
    if (owner !== undefined) q = q.where('clusters.owner', '=', owner);
    return (await q.orderBy('clusters.name').execute()) as ClusterWithTask[];
  }

  async findByName(name: string): Promise<ClusterWithTask | undefined> {
    return (await this.byName(name))[0] as ClusterWithTask | undefined;
  }

  async findByUuid(uuid: string): Promise<ClusterWithTask | undefined> {
    return (await this.withLatestTask().where('clusters.uuid', '=', uuid).executeTakeFirst()) as ClusterWithTask | undefined;
  }

  async countLive(): Promise<number> {
    const row = await this.db.selectFrom('clusters').select(sql<number>`count(*)`.as('n')).where('status', '=', 'active').executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
