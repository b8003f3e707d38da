import type { Db } from './open.js';
import type { EventRow } from './schema.js';

export type EventSeverity = 'info' | 'warning' | 'critical';

export class EventLog {
  constructor(private readonly db: Db) {}

  async record(event: Omit<EventRow, 'id'>): Promise<void> {
    await this.db.insertInto('events').values(event).execute();
  }

  async ofCluster(clusterUuid: string, limit = 100): Promise<EventRow[]> {
    return this.db.selectFrom('events').selectAll().where('cluster_uuid', '=', clusterUuid).orderBy('id', 'desc').limit(limit).execute();
  }
}
