import type { EventPublisher, StreamEvent } from '../events/event-bus.js';
import type { Db } from './open.js';
import type { EventRow } from './schema.js';

export type EventSeverity = 'info' | 'warning' | 'critical';

/** An event to record: the row without its id, with `details` as an object. */
export type NewEvent = Omit<EventRow, 'id' | 'details' | 'task_id'> & {
  task_id?: number | null;
  details?: Record<string, unknown> | null;
};

/** Task progress kinds: streamed and kept, but not part of a cluster's own history. */
const TASK_KINDS = 'task.%';

export function streamEventOf(row: EventRow): StreamEvent {
  return {
    id: row.id,
    at: row.at,
    kind: row.kind,
    severity: row.severity,
    message: row.message,
    cluster_uuid: row.cluster_uuid,
    instance_id: row.instance_id,
    task_id: row.task_id ?? null,
    details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : null,
  };
}

export class EventLog {
  constructor(
    private readonly db: Db,
    private readonly publisher?: EventPublisher,
  ) {}

  /** Keeps the event, then publishes it to live subscribers with the id it was kept under. */
  async record(event: NewEvent): Promise<number> {
    const row = {
      ...event,
      task_id: event.task_id ?? null,
      details: event.details ? JSON.stringify(event.details) : null,
    };
    const { id } = await this.db.insertInto('events').values(row).returning('id').executeTakeFirstOrThrow();
    this.publisher?.publish(streamEventOf({ ...row, id }));
    return id;
  }

  /** Deletes the events recorded before `before` (ISO time); returns how many. */
  async pruneBefore(before: string): Promise<number> {
    const result = await this.db.deleteFrom('events').where('at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** A cluster's own history, newest first (task progress left out: the task's view has it). */
  async ofCluster(clusterUuid: string, limit = 100): Promise<EventRow[]> {
    return this.db
      .selectFrom('events')
      .selectAll()
      .where('cluster_uuid', '=', clusterUuid)
      .where('kind', 'not like', TASK_KINDS)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  /** Events after `afterId`, oldest first (a stream's replay, a page of the list). */
  async after(afterId: number, options: { limit: number; clusterUuid?: string; taskId?: number }): Promise<EventRow[]> {
    let q = this.db.selectFrom('events').selectAll().where('id', '>', afterId);
    if (options.clusterUuid) q = q.where('cluster_uuid', '=', options.clusterUuid);
    if (options.taskId !== undefined) q = q.where('task_id', '=', options.taskId);
    return q.orderBy('id').limit(options.limit).execute();
  }

  /** The newest `limit` events, newest first. */
  async latest(options: {
    limit: number;
    clusterUuid?: string;
    taskId?: number;
    beforeId?: number;
  }): Promise<EventRow[]> {
    let q = this.db.selectFrom('events').selectAll();
    if (options.beforeId !== undefined) q = q.where('id', '<', options.beforeId);
    if (options.clusterUuid) q = q.where('cluster_uuid', '=', options.clusterUuid);
    if (options.taskId !== undefined) q = q.where('task_id', '=', options.taskId);
    return q.orderBy('id', 'desc').limit(options.limit).execute();
  }
}
