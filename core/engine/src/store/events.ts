import type { Db } from './open.js';
import type { EventRow } from './schema.js';

export type EventSeverity = 'info' | 'warning' | 'critical';

export class EventLog {
  constructor(private readonly db: Db) {}

  async record(event: Omit<EventRow, 'id'>): Promise<void> {
    await this.db.insertInto('events').values(event).execute();
  }

  /** Deletes the events recorded before `before` (ISO time); returns how many. */
  async pruneBefore(before: string): Promise<number> {
    const result = await this.db.deleteFrom('events').where('at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async ofCluster(clusterUuid: string, limit = 100): Promise<EventRow[]> {
    return this.db.selectFrom('events').selectAll().where('cluster_uuid', '=', clusterUuid).orderBy('id', 'desc').limit(limit).execute();
  }
}
