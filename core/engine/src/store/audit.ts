import type { Kysely } from 'kysely';
import type { Db } from './open.js';
import type { AuditRow, Database } from './schema.js';

export type AuditResult = 'success' | 'failure' | 'denied';

/** One entry of the audit trail, as callers give it (`at` defaults to now). */
export interface AuditEntry {
  at: string;
  actor: string;
  actor_id?: number | null;
  action: string;
  target?: string | null;
  cluster_uuid?: string | null;
  result: AuditResult;
  source?: string | null;
  request_id?: string | null;
  details?: Record<string, unknown> | null;
}

export interface AuditQuery {
  actor?: string;
  actorId?: number;
  /** Exact, or a prefix when it ends with `*` (`cluster.*`). */
  action?: string;
  target?: string;
  clusterUuid?: string;
  result?: AuditResult;
  since?: string;
  until?: string;
  /** Entries with an id below this (the next page of a newest-first listing). */
  beforeId?: number;
  limit: number;
}

/** The audit table: appends, filtered reads newest first, and pruning by age. */
export class AuditLog {
  constructor(private readonly db: Db) {}

  /** Appends an entry; `tx` writes it in the caller's transaction, so the change and its record commit together. */
  async append(entry: AuditEntry, tx: Kysely<Database> = this.db): Promise<number> {
    const { id } = await tx
      .insertInto('audit')
      .values({
        at: entry.at,
        actor: entry.actor,
        actor_id: entry.actor_id ?? null,
        action: entry.action,
        target: entry.target ?? null,
        cluster_uuid: entry.cluster_uuid ?? null,
        result: entry.result,
        source: entry.source ?? null,
        request_id: entry.request_id ?? null,
        details: entry.details ? JSON.stringify(entry.details) : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return id;
  }

  async query(q: AuditQuery): Promise<AuditRow[]> {
    let s = this.db.selectFrom('audit').selectAll();
    if (q.actor !== undefined) s = s.where('actor', '=', q.actor);
    if (q.actorId !== undefined) s = s.where('actor_id', '=', q.actorId);
    if (q.action !== undefined)
      s = q.action.endsWith('*')
        ? s.where('action', 'like', `${q.action.slice(0, -1).replace(/[%_]/g, '')}%`)
        : s.where('action', '=', q.action);
    if (q.target !== undefined) s = s.where('target', '=', q.target);
    if (q.clusterUuid !== undefined) s = s.where('cluster_uuid', '=', q.clusterUuid);
    if (q.result !== undefined) s = s.where('result', '=', q.result);
    if (q.since !== undefined) s = s.where('at', '>=', q.since);
    if (q.until !== undefined) s = s.where('at', '<', q.until);
    if (q.beforeId !== undefined) s = s.where('id', '<', q.beforeId);
    return s.orderBy('id', 'desc').limit(q.limit).execute();
  }

  /** Deletes entries older than `before` (ISO time); returns how many. */
  async pruneBefore(before: string): Promise<number> {
    const result = await this.db.deleteFrom('audit').where('at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
