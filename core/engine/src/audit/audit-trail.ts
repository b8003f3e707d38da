import { inject, injectable } from 'tsyringe';
import { SlipwayError, type AuditRecord, type AuditSink, type Clock, type Logger } from '@slipway/contracts';
import { seesAllClusters, type Principal } from '../auth/roles.js';
import { findCluster } from '../clusters/cluster-access.js';
import type { SlipwayConfig } from '../config/schema.js';
import type { AuditEntry, AuditQuery, Store } from '../store/index.js';
import type { AuditRow } from '../store/schema.js';
import { CLOCK, CONFIG, LOGGER, STORE } from '../tokens.js';

/** The actor of what the engine decides on its own (resurrection, meltdown hold, certificate renewal). */
export const ENGINE_AUDIT_ACTOR = 'engine';

export const AUDIT_DEFAULTS = { retention_days: 365 };

/** An audit entry as the API shows it. */
export interface AuditView {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  cluster_uuid: string | null;
  result: string;
  source: string | null;
  request_id: string | null;
  details: Record<string, unknown> | null;
}

export interface AuditFilters {
  actor?: string;
  action?: string;
  cluster?: string;
  target?: string;
  result?: 'success' | 'failure' | 'denied';
  since?: string;
  until?: string;
  before?: number;
  limit?: number;
}

function viewOf(row: AuditRow): AuditView {
  return { ...row, details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : null };
}

/** A write to the trail failed: the change it records has happened; say so in the log and go on. */
function reportLost(logger: Logger, entry: Pick<AuditEntry, 'action' | 'target'>, e: unknown): void {
  logger.error('audit entry not written', { action: entry.action, target: entry.target, error: (e as Error).message });
}

/**
 * The one audit trail: every mutating API call, every login, every credential operation (written through by
 * the credential provider) and what the engine decides on its own. Admins and admin.read read all of it;
 * anyone else reads only their own actions. Old entries are pruned after audit.retention_days.
 */
@injectable()
export class AuditTrail {
  readonly retentionMs: number;

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(CONFIG) config: SlipwayConfig,
  ) {
    this.retentionMs = (config.audit?.retention_days ?? AUDIT_DEFAULTS.retention_days) * 86_400_000;
  }

  /** Records an engine decision (actor `engine`). */
  async engineDecision(
    action: string,
    target: string,
    clusterUuid: string | null,
    details?: Record<string, unknown>,
  ): Promise<void> {
    await this.store.audit
      .append({
        at: new Date(this.clock.now()).toISOString(),
        actor: ENGINE_AUDIT_ACTOR,
        action,
        target,
        cluster_uuid: clusterUuid,
        result: 'success',
        details,
      })
      .catch((e) => reportLost(this.logger, { action, target }, e));
  }

  async query(principal: Principal, filters: AuditFilters): Promise<AuditView[]> {
    const q: AuditQuery = { limit: Math.min(Math.max(filters.limit ?? 100, 1), 1000) };
    if (filters.actor !== undefined) q.actor = filters.actor;
    if (filters.action !== undefined) q.action = filters.action;
    if (filters.target !== undefined) q.target = filters.target;
    if (filters.result !== undefined) q.result = filters.result;
    if (filters.since !== undefined) q.since = filters.since;
    if (filters.until !== undefined) q.until = filters.until;
    if (filters.before !== undefined) q.beforeId = filters.before;
    if (filters.cluster !== undefined)
      q.clusterUuid = (await findCluster(this.store, principal, filters.cluster, 'read')).uuid;
    // Everyone but an admin reads only what they did themselves.
    if (!seesAllClusters(principal)) {
      if (filters.actor !== undefined && filters.actor !== principal.name) {
        throw new SlipwayError(
          'Forbidden',
          `${principal.name} may read only their own audit entries, not ${filters.actor}'s`,
          { field: 'actor', hint: 'Leave out actor, or ask an admin.' },
        );
      }
      q.actorId = principal.id;
    }
    return (await this.store.audit.query(q)).map(viewOf);
  }

  async prune(): Promise<number> {
    return this.store.audit.pruneBefore(new Date(this.clock.now() - this.retentionMs).toISOString());
  }
}

/** Records what the engine decided on its own (actor `engine`), for code that has the store but not the trail. */
export async function recordEngineDecision(
  store: Store,
  at: string,
  action: string,
  target: string,
  clusterUuid: string | null,
  details?: Record<string, unknown>,
): Promise<void> {
  await store.audit.append({
    at,
    actor: ENGINE_AUDIT_ACTOR,
    action,
    target,
    cluster_uuid: clusterUuid,
    result: 'success',
    details,
  });
}

/**
 * The sink a plugin writes its own audit through (the credential provider's operations). Writes are not
 * awaited by the plugin: a failure is logged, never thrown into the plugin's call.
 */
export function auditSinkOf(store: Store, logger: Logger): AuditSink & { drain(): Promise<void> } {
  const pending = new Set<Promise<void>>();
  return {
    /** Waits for the writes under way (before the store closes). */
    async drain() {
      while (pending.size) await Promise.allSettled([...pending]);
    },
    record(entry: AuditRecord) {
      const at = new Date().toISOString();
      const write = (async () => {
        // The engine hands the credential provider `user:ID` for a user: the trail names them, and keeps the id.
        const id = /^user:(\d+)$/.exec(entry.actor)?.[1];
        const user = id
          ? await store.db.selectFrom('users').select(['id', 'name']).where('id', '=', Number(id)).executeTakeFirst()
          : undefined;
        const actor = (user?.name ?? entry.actor).slice(0, 200);
        await store.audit.append({
          at,
          actor,
          actor_id: user?.id ?? null,
          action: entry.action,
          target: entry.target ?? null,
          result: entry.result,
          source: entry.source ?? null,
          details: entry.details ?? null,
        });
      })().catch((e) => reportLost(logger, entry, e));
      pending.add(write);
      void write.finally(() => pending.delete(write));
    },
  };
}
