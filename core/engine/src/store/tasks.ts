import type { Updateable } from 'kysely';
import type { Db } from './open.js';
import type { TaskLogRow, TaskRow, TaskStepRow, TasksTable } from './schema.js';

export const ACTIVE_TASK_STATES = ['queued', 'processing', 'cancelling'] as const;

export class TaskRepository {
  constructor(private readonly db: Db) {}

  /** Inserts a task with its planned steps in one transaction. */
  async create(
    task: Omit<TaskRow, 'id' | 'cancel_requested' | 'owner' | 'lease_expires_at'> &
      Partial<Pick<TaskRow, 'owner' | 'lease_expires_at'>>,
    steps: string[],
  ): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      const { id } = await tx.insertInto('tasks').values(task).returning('id').executeTakeFirstOrThrow();
      if (steps.length) {
        await tx
          .insertInto('task_steps')
          .values(
            steps.map((name, seq) => ({
              task_id: id,
              seq,
              name,
              state: 'pending',
              detail: null,
              started_at: null,
              finished_at: null,
            })),
          )
          .execute();
      }
      return id;
    });
  }

  async get(id: number): Promise<TaskRow | undefined> {
    return this.db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async update(id: number, patch: Updateable<TasksTable>): Promise<void> {
    await this.db.updateTable('tasks').set(patch).where('id', '=', id).execute();
  }

  /** Updates the task only while `owner` holds it; false when another replica has taken it. */
  async updateOwned(id: number, owner: string, patch: Updateable<TasksTable>): Promise<boolean> {
    const result = await this.db
      .updateTable('tasks')
      .set(patch)
      .where('id', '=', id)
      .where('owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async activeForCluster(clusterUuid: string): Promise<TaskRow | undefined> {
    return this.db
      .selectFrom('tasks')
      .selectAll()
      .where('cluster_uuid', '=', clusterUuid)
      .where('state', 'in', ACTIVE_TASK_STATES)
      .orderBy('id')
      .executeTakeFirst();
  }

  async unfinished(): Promise<TaskRow[]> {
    return this.db.selectFrom('tasks').selectAll().where('state', 'in', ACTIVE_TASK_STATES).orderBy('id').execute();
  }

  /** Newest first; with `ownerId`, only tasks of clusters that user owns (live or deleted). */
  async list(options: { limit: number; clusterName?: string; ownerId?: number }): Promise<TaskRow[]> {
    let q = this.db.selectFrom('tasks').selectAll().orderBy('id', 'desc').limit(options.limit);
    if (options.clusterName) q = q.where('cluster_name', '=', options.clusterName);
    if (options.ownerId !== undefined) {
      q = q.where(
        'cluster_uuid',
        'in',
        this.db.selectFrom('clusters').select('uuid').where('owner_id', '=', options.ownerId),
      );
    }
    return q.execute();
  }

  async steps(taskId: number): Promise<TaskStepRow[]> {
    return this.db.selectFrom('task_steps').selectAll().where('task_id', '=', taskId).orderBy('seq').execute();
  }

  async stepsOf(taskIds: number[]): Promise<TaskStepRow[]> {
    if (!taskIds.length) return [];
    return this.db
      .selectFrom('task_steps')
      .selectAll()
      .where('task_id', 'in', taskIds)
      .orderBy('task_id')
      .orderBy('seq')
      .execute();
  }

  async updateStep(
    taskId: number,
    seq: number,
    patch: Partial<Pick<TaskStepRow, 'state' | 'detail' | 'started_at' | 'finished_at'>>,
  ): Promise<void> {
    await this.db.updateTable('task_steps').set(patch).where('task_id', '=', taskId).where('seq', '=', seq).execute();
  }

  async log(taskId: number, at: string, level: string, message: string): Promise<void> {
    await this.db.insertInto('task_logs').values({ task_id: taskId, at, level, message }).execute();
  }

  async logs(taskId: number, limit = 500): Promise<TaskLogRow[]> {
    const rows = await this.db
      .selectFrom('task_logs')
      .selectAll()
      .where('task_id', '=', taskId)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.reverse();
  }
}
