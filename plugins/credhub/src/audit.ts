import { refusalReason } from './access.js';
import { SlipwayError, type CredentialContext } from '@slipway/contracts';
import type { Insertable } from 'kysely';
import type { AuditRow, AuditTable, CredentialDb } from './store/schema.js';

/** Rows per INSERT statement: a few fixed statement shapes, well under SQLite's variable limit. */
const AUDIT_BATCH = 32;

/** What is audited, as CredHub's CEF operations name them (lower case). */
export const AUDIT_OPERATIONS = [
  'get', 'find', 'list_certificates', 'set', 'generate', 'regenerate', 'bulk_regenerate', 'delete', 'delete_version',
  'update_transitional_version', 'interpolate', 'read_permissions', 'add_permissions', 'update_permissions',
  'delete_permissions', 'rotate_encryption_keys',
] as const;
export type AuditOperation = (typeof AUDIT_OPERATIONS)[number];

/** `unchanged`: a converge or no-overwrite generate that kept the current version. */
export const AUDIT_RESULTS = ['success', 'unchanged', 'denied', 'not_found', 'invalid', 'error'] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

export interface AuditEvent {
  seq: number;
  at: string;
  actor: string;
  operation: AuditOperation;
  name: string | null;
  version_id: string | null;
  result: AuditResult;
  source_address: string | null;
  details: Record<string, unknown> | null;
}

export interface AuditFilter {
  actor?: string;
  /** Exact credential name. */
  name?: string;
  /** Names under a path prefix (`/slipway/clusters/abc`). */
  path?: string;
  operation?: AuditOperation;
  result?: AuditResult;
  /** ISO times, inclusive. */
  since?: string;
  until?: string;
  /** Newest first; default 100, at most 1000. */
  limit?: number;
  /** Events older (lower seq) than this one: paging. */
  before?: number;
}

/** What an audited call fills in as it learns it. */
export interface AuditNote {
  name?: string | null;
  versionId?: string | null;
  result?: AuditResult;
  details?: Record<string, unknown>;
}

/**
 * The audit trail: one row per operation, with who asked, from where, on what name and version, and
 * how it ended (denials and failures included). Values never enter it.
 */
export class AuditLog {
  private readonly queue: Array<{ row: Insertable<AuditTable>; resolve: () => void; reject: (e: unknown) => void }> = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly db: CredentialDb) {}

  /** Runs `work` and records it, whether it succeeds or throws (the error is rethrown). */
  async around<T>(ctx: CredentialContext, operation: AuditOperation, note: AuditNote, work: (note: AuditNote) => Promise<T>): Promise<T> {
    try {
      const result = await work(note);
      await this.record(ctx, operation, note, note.result ?? 'success');
      return result;
    } catch (error) {
      // A refusal answers like a missing credential; the audit records what it was.
      const reason = refusalReason(error);
      const details = { ...note.details, error: reason ?? (error instanceof Error ? error.message : String(error)) };
      await this.record(ctx, operation, { ...note, details }, reason ? 'denied' : resultOf(error));
      throw error;
    }
  }

  /**
   * Records an event; resolves once it is committed. Events of concurrent calls are committed together
   * (group commit: one transaction per event-loop turn), so an audited read costs one insert's share of
   * a commit, and no call answers before its event is on disk.
   */
  record(ctx: CredentialContext, operation: AuditOperation, note: AuditNote, result: AuditResult): Promise<void> {
    const row = {
      at: new Date().toISOString(), actor: ctx.actor, operation, name: note.name ?? null, version_id: note.versionId ?? null,
      result, source_address: ctx.sourceAddress ?? null, details: note.details && Object.keys(note.details).length ? JSON.stringify(note.details) : null,
    };
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      if (!this.flushing) this.flushing = new Promise<void>((done) => setImmediate(() => this.flush().finally(done)));
    });
  }

  /** Waits until every recorded event is committed (before the store closes). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0);
    try {
      await this.db.transaction().execute(async (trx) => {
        for (let i = 0; i < batch.length; i += AUDIT_BATCH) {
          await trx.insertInto('audit_events').values(batch.slice(i, i + AUDIT_BATCH).map((e) => e.row)).execute();
        }
      });
      for (const e of batch) e.resolve();
    } catch (error) {
      for (const e of batch) e.reject(error);
    } finally {
      this.flushing = this.queue.length ? new Promise<void>((done) => setImmediate(() => this.flush().finally(done))) : undefined;
    }
  }

  async list(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    let q = this.db.selectFrom('audit_events').selectAll().orderBy('seq', 'desc').limit(limit);
    if (filter.actor) q = q.where('actor', '=', filter.actor);
    if (filter.name) q = q.where('name', '=', filter.name);
    if (filter.path) {
      const prefix = filter.path.endsWith('/') ? filter.path : `${filter.path}/`;
      q = q.where((eb) => eb.or([eb('name', '=', prefix.slice(0, -1)), eb(eb.fn('substr', ['name', eb.val(1), eb.val(prefix.length)]), '=', prefix)]));
    }
    if (filter.operation) q = q.where('operation', '=', filter.operation);
    if (filter.result) q = q.where('result', '=', filter.result);
    if (filter.since) q = q.where('at', '>=', filter.since);
    if (filter.until) q = q.where('at', '<=', filter.until);
    if (filter.before !== undefined) q = q.where('seq', '<', filter.before);
    return (await q.execute()).map(toEvent);
  }

  /** Deletes events older than `days`; returns how many. */
  async prune(days: number): Promise<number> {
    const cutoff = new Date(Date.now() - days * 86_400_000).toISOString();
    const result = await this.db.deleteFrom('audit_events').where('at', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function resultOf(error: unknown): AuditResult {
  if (!SlipwayError.is(error)) return 'error';
  switch (error.code) {
    case 'Forbidden': case 'Unauthenticated': return 'denied';
    case 'NotFound': return 'not_found';
    case 'InvalidInput': case 'Conflict': case 'AlreadyExists': return 'invalid';
    default: return 'error';
  }
}

function toEvent(row: AuditRow): AuditEvent {
  return {
    seq: row.seq, at: row.at, actor: row.actor, operation: row.operation as AuditOperation, name: row.name, version_id: row.version_id,
    result: row.result as AuditResult, source_address: row.source_address, details: row.details ? JSON.parse(row.details) : null,
  };
}
