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
  /** Every API call on a cluster starts here: a tenant's own cluster by name, or every cluster of a name. */
  private readonly byName: (name: string) => Promise<unknown[]>;
  private readonly byOwnerAndName: (ownerId: number, name: string) => Promise<unknown[]>;

  constructor(private readonly db: Db) {
    this.byName = precompiled(db, (name: string) =>
      this.withLatestTask()
        .where('clusters.name', '=', name)
        .where('clusters.status', '=', 'active')
        .orderBy('clusters.created_at'),
    );
    this.byOwnerAndName = precompiled(db, (ownerId: number, name: string) =>
      this.withLatestTask()
        .where('clusters.owner_id', '=', ownerId)
        .where('clusters.name', '=', name)
        .where('clusters.status', '=', 'active'),
    );
  }

  /**
   * Inserts a cluster; false when its owner already has a live cluster of that name. The unique index on
   * (owner_id, name, live) decides, so two racing creates cannot both win.
   */
  async insert(row: NewCluster): Promise<boolean> {
    const result = await this.db
      .insertInto('clusters')
      .values(row)
      .onConflict((oc) => oc.columns(['owner_id', 'name', 'live']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** Moves every live cluster of one owner to another (a user deleted with --reassign-to); returns their uuids. */
  async reassign(fromOwnerId: number, to: { id: number; name: string }, now: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('clusters')
      .select(['uuid', 'name'])
      .where('owner_id', '=', fromOwnerId)
      .where('status', '=', 'active')
      .execute();
    if (!rows.length) return [];
    await this.db
      .updateTable('clusters')
      .set({ owner_id: to.id, owner: to.name, updated_at: now })
      .where('owner_id', '=', fromOwnerId)
      .where('status', '=', 'active')
      .execute();
    return rows.map((r) => r.uuid);
  }

  async update(uuid: string, patch: ClusterUpdate): Promise<void> {
    await this.db.updateTable('clusters').set(patch).where('uuid', '=', uuid).execute();
  }

  private withLatestTask() {
    return this.db
      .selectFrom('clusters')
      .leftJoin('tasks', (join) =>
        join.onRef('tasks.cluster_uuid', '=', 'clusters.uuid').on('tasks.id', '=', (eb) =>
          eb
            .selectFrom('tasks as t')
            .select((e) => e.fn.max('t.id').as('m'))
            .whereRef('t.cluster_uuid', '=', 'clusters.uuid'),
        ),
      )
      .selectAll('clusters')
      .select([
        'tasks.id as task_id',
        'tasks.type as task_type',
        'tasks.state as task_state',
        'tasks.description as task_description',
      ]);
  }

  /** Live clusters, optionally only one owner's (by user id); ordered by name. */
  async list(ownerId?: number): Promise<ClusterWithTask[]> {
    let q = this.withLatestTask().where('clusters.status', '=', 'active');
    if (ownerId !== undefined) q = q.where('clusters.owner_id', '=', ownerId);
    return (await q.orderBy('clusters.name').orderBy('clusters.owner').execute()) as ClusterWithTask[];
  }

  /**
   * The oldest live cluster of this name, whoever owns it. Names are unique per owner, so this is for callers
   * that already know the name is unique (tests, single-tenant tools); requests go through findCluster.
   */
  async findByName(name: string): Promise<ClusterWithTask | undefined> {
    return (await this.byName(name))[0] as ClusterWithTask | undefined;
  }

  /** Every live cluster of this name, one per owner at most. */
  async findAllByName(name: string): Promise<ClusterWithTask[]> {
    return (await this.byName(name)) as ClusterWithTask[];
  }

  /** One owner's live cluster of this name. */
  async findOwned(ownerId: number, name: string): Promise<ClusterWithTask | undefined> {
    return (await this.byOwnerAndName(ownerId, name))[0] as ClusterWithTask | undefined;
  }

  /** How many live clusters a user owns, with their names (first 10). */
  async ownedBy(ownerId: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('clusters')
      .select('name')
      .where('owner_id', '=', ownerId)
      .where('status', '=', 'active')
      .orderBy('name')
      .execute();
    return rows.map((r) => r.name);
  }

  async findByUuid(uuid: string): Promise<ClusterWithTask | undefined> {
    return (await this.withLatestTask().where('clusters.uuid', '=', uuid).executeTakeFirst()) as
      | ClusterWithTask
      | undefined;
  }

  async countLive(): Promise<number> {
    const row = await this.db
      .selectFrom('clusters')
      .select(sql<number>`count(*)`.as('n'))
      .where('status', '=', 'active')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
