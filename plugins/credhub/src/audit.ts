import { refusalReason } from './access.js';
import { SlipwayError, type AuditSink, type CredentialContext } from '@slipway/contracts';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Insertable, Transaction } from 'kysely';
import type { AuditRow, AuditTable, CredentialDb, CredhubSchema } from './store/schema.js';

/** What is audited, as CredHub's CEF operations name them (lower case). */
export const AUDIT_OPERATIONS = [
  'get',
  'find',
  'list_certificates',
  'set',
  'generate',
  'regenerate',
  'bulk_regenerate',
  'delete',
  'delete_version',
  'update_transitional_version',
  'interpolate',
  'read_permissions',
  'add_permissions',
  'update_permissions',
  'delete_permissions',
  'rotate_encryption_keys',
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

/** The audited call the current async context belongs to, so a write can commit its event with its data. */
interface AuditScope {
  ctx: CredentialContext;
  operation: AuditOperation;
  note: AuditNote;
  /** Its success event was committed in the transaction of its write. */
  committed: boolean;
}

/** Longest credential name an event keeps: a hostile name must not bloat the trail. */
const MAX_EVENT_NAME = 1100;

/**
 * The audit trail: one row per operation, with who asked, from where, on what name and version, and
 * how it ended (denials and failures included). Values never enter it.
 *
 * A write commits its event in the same transaction as its data (`commitWith`), so a credential is never
 * stored without its event, nor an event without its credential. Every other event is its own statement:
 * no request's event shares a transaction with another's, so one bad request cannot fail its neighbours.
 */
export class AuditLog {
  private readonly scopes = new AsyncLocalStorage<AuditScope>();
  private readonly pending = new Set<Promise<unknown>>();

  /**
   * `sink`: the control plane's one audit trail. This store keeps its own trail (the CredHub API's
   * /api/v1/audit reads it, and a write commits its event in the same transaction as its value, which the
   * host's database cannot share); every event it commits is also written through to the host's trail.
   */
  constructor(
    private readonly db: CredentialDb,
    private readonly sink?: AuditSink,
  ) {}

  /** Runs `work` and records it, whether it succeeds or throws (the error is rethrown). */
  async around<T>(
    ctx: CredentialContext,
    operation: AuditOperation,
    note: AuditNote,
    work: (note: AuditNote) => Promise<T>,
  ): Promise<T> {
    const scope: AuditScope = { ctx, operation, note, committed: false };
    let result: T;
    try {
      result = await this.scopes.run(scope, () => work(note));
    } catch (error) {
      // A refusal answers like a missing credential; the audit records what it was.
      const reason = refusalReason(error);
      const details = { ...note.details, error: reason ?? (error instanceof Error ? error.message : String(error)) };
      await this.record(ctx, operation, { ...note, details }, reason ? 'denied' : resultOf(error));
      throw error;
    }
    if (!scope.committed) await this.record(ctx, operation, note, note.result ?? 'success');
    else this.forward(ctx, operation, note, note.result ?? 'success');
    return result;
  }

  /**
   * Inside a write's transaction: adds the current call's success event to it. Outside an audited call
   * (key rotation, backfill) it does nothing; that call records its own event.
   */
  async commitWith(trx: Transaction<CredhubSchema>, learned: { versionId?: string } = {}): Promise<void> {
    const scope = this.scopes.getStore();
    if (!scope || scope.committed) return;
    if (learned.versionId) scope.note.versionId = learned.versionId;
    await trx
      .insertInto('audit_events')
      .values(rowOf(scope.ctx, scope.operation, scope.note, scope.note.result ?? 'success'))
      .execute();
    scope.committed = true;
  }

  /** Records an event in its own transaction; resolves once it is committed. */
  record(ctx: CredentialContext, operation: AuditOperation, note: AuditNote, result: AuditResult): Promise<void> {
    const done = this.db
      .insertInto('audit_events')
      .values(rowOf(ctx, operation, note, result))
      .execute()
      .then(() => this.forward(ctx, operation, note, result));
    this.pending.add(done);
    return done.finally(() => this.pending.delete(done));
  }

  /** Writes a committed event through to the host's trail: `credential.OPERATION` on `credential:NAME`. */
  private forward(ctx: CredentialContext, operation: AuditOperation, note: AuditNote, result: AuditResult): void {
    if (!this.sink) return;
    const row = rowOf(ctx, operation, note, result);
    try {
      this.sink.record({
        actor: row.actor,
        action: `credential.${operation}`,
        target: row.name ? `credential:${row.name}` : null,
        result: result === 'denied' ? 'denied' : ['success', 'unchanged'].includes(result) ? 'success' : 'failure',
        source: row.source_address ?? null,
        details: {
          result,
          ...(row.version_id ? { version_id: row.version_id } : {}),
          ...(note.details && Object.keys(note.details).length ? note.details : {}),
        },
      });
    } catch {
      /* the host's trail never fails this store's call */
    }
  }

  /** Waits until every recorded event is committed (before the store closes). */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  async list(filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
    let q = this.db.selectFrom('audit_events').selectAll().orderBy('seq', 'desc').limit(limit);
    if (filter.actor) q = q.where('actor', '=', filter.actor);
    if (filter.name) q = q.where('name', '=', filter.name);
    if (filter.path) {
      const prefix = filter.path.endsWith('/') ? filter.path : `${filter.path}/`;
      q = q.where((eb) =>
        eb.or([
          eb('name', '=', prefix.slice(0, -1)),
          eb(eb.fn('substr', ['name', eb.val(1), eb.val(prefix.length)]), '=', prefix),
        ]),
      );
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

function rowOf(
  ctx: CredentialContext,
  operation: AuditOperation,
  note: AuditNote,
  result: AuditResult,
): Insertable<AuditTable> {
  // Whatever a caller sent as a name is kept as text: an event must always be writable.
  const name =
    note.name === null || note.name === undefined
      ? null
      : typeof note.name === 'string'
        ? note.name
        : (JSON.stringify(note.name) ?? String(note.name));
  return {
    at: new Date().toISOString(),
    actor: String(ctx.actor),
    operation,
    name: name === null ? null : name.slice(0, MAX_EVENT_NAME),
    version_id: typeof note.versionId === 'string' ? note.versionId : null,
    result,
    source_address: typeof ctx.sourceAddress === 'string' ? ctx.sourceAddress : null,
    details: note.details && Object.keys(note.details).length ? JSON.stringify(note.details) : null,
  };
}

function resultOf(error: unknown): AuditResult {
  if (!SlipwayError.is(error)) return 'error';
  switch (error.code) {
    case 'Forbidden':
    case 'Unauthenticated':
      return 'denied';
    case 'NotFound':
      return 'not_found';
    case 'InvalidInput':
    case 'Conflict':
    case 'AlreadyExists':
      return 'invalid';
    default:
      return 'error';
  }
}

function toEvent(row: AuditRow): AuditEvent {
  return {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    operation: row.operation as AuditOperation,
    name: row.name,
    version_id: row.version_id,
    result: row.result as AuditResult,
    source_address: row.source_address,
    details: row.details ? JSON.parse(row.details) : null,
  };
}
