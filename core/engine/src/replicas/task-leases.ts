import { PostgresAdapter } from 'kysely';
import type { Clock } from '@slipway/contracts';
import type { Db } from '../store/index.js';
import { ACTIVE_TASK_STATES } from '../store/tasks.js';
import type { ReplicaIdentity } from './identity.js';
import type { ReplicaSettings } from './settings.js';

/** A task this replica has just claimed, and who held it before (null: nobody had started it). */
export interface ClaimedTask {
  id: number;
  previousOwner: string | null;
  /** The previous owner let go on a clean stop, rather than dying with the lease held. */
  released: boolean;
}

export interface RenewResult {
  /** Tasks whose lease this replica still holds, with the lease now extended. */
  kept: Set<number>;
  /** Of those, the ones a user asked to cancel (possibly through another replica). */
  cancelRequested: Set<number>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The tasks' leases in the store: claim, renew, release; the one place where the dialect or the replica mode
 * changes a query. On PostgreSQL a claim locks the rows it picks with `FOR UPDATE SKIP LOCKED`, so replicas
 * claiming at once split the lapsed tasks instead of queueing on each other; SQLite serializes writers
 * itself, so the same query runs there without the locking clause. Either way the update re-checks what it
 * read, so a row cannot be claimed twice. Exclusive mode (SQLite under the home lock: no other process):
 * a task owned by anyone else is the previous process's and is taken at once, without waiting for its
 * lease to lapse.
 */
export class TaskLeases {
  /** How many tasks one claim takes at most; a replica claims again at once when it got that many. */
  static readonly CLAIM_BATCH = 20;

  constructor(
    private readonly db: Db,
    private readonly settings: ReplicaSettings,
    private readonly replica: ReplicaIdentity,
    private readonly clock: Clock,
  ) {}

  get owner(): string {
    return this.replica.id;
  }

  get mode(): ReplicaSettings['mode'] {
    return this.settings.mode;
  }

  get timings(): Pick<ReplicaSettings, 'leaseMs' | 'renewMs' | 'claimMs'> {
    return this.settings;
  }

  /** The owner and lease a task gets when this replica creates it. */
  initialLease(): { owner: string; lease_expires_at: string } {
    return { owner: this.replica.id, lease_expires_at: iso(this.clock.now() + this.settings.leaseMs) };
  }

  /** Claims up to `limit` active tasks nobody holds a live lease on, oldest first. */
  async claim(limit = TaskLeases.CLAIM_BATCH): Promise<ClaimedTask[]> {
    const now = this.clock.now();
    const nowIso = iso(now);
    const me = this.replica.id;
    const exclusive = this.settings.mode === 'exclusive';
    const lockRows = this.db.getExecutor().adapter instanceof PostgresAdapter;
    return this.db.transaction().execute(async (tx) => {
      let query = tx
        .selectFrom('tasks')
        .select(['id', 'owner', 'lease_expires_at'])
        .where('state', 'in', ACTIVE_TASK_STATES)
        .where((eb) =>
          exclusive
            ? eb.or([eb('owner', 'is', null), eb('owner', '!=', me)])
            : eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', nowIso)]),
        )
        .orderBy('id')
        .limit(limit);
      if (lockRows) query = query.forUpdate().skipLocked();
      const rows = await query.execute();
      const claimed: ClaimedTask[] = [];
      for (const row of rows) {
        // Conditional on what was read: a row another claimer renewed or took meanwhile is left alone.
        // The lease runs from now, not from when the claim began: a slow claim must not hand out a short lease.
        let update = tx
          .updateTable('tasks')
          .set({ owner: me, lease_expires_at: iso(this.clock.now() + this.settings.leaseMs) })
          .where('id', '=', row.id);
        update = row.owner === null ? update.where('owner', 'is', null) : update.where('owner', '=', row.owner);
        update =
          row.lease_expires_at === null
            ? update.where('lease_expires_at', 'is', null)
            : update.where('lease_expires_at', '=', row.lease_expires_at);
        const result = await update.executeTakeFirst();
        if (Number(result.numUpdatedRows) === 1)
          claimed.push({
            id: row.id,
            previousOwner: row.owner,
            released: row.owner !== null && row.lease_expires_at === null,
          });
      }
      return claimed;
    });
  }

  /** Extends the leases of the tasks this replica runs; a task missing from `kept` was taken by another. */
  async renew(ids: number[]): Promise<RenewResult> {
    const kept = new Set<number>();
    const cancelRequested = new Set<number>();
    if (!ids.length) return { kept, cancelRequested };
    const rows = await this.db
      .updateTable('tasks')
      .set({ lease_expires_at: iso(this.clock.now() + this.settings.leaseMs) })
      .where('id', 'in', ids)
      .where('owner', '=', this.replica.id)
      .where('state', 'in', ACTIVE_TASK_STATES)
      .returning(['id', 'cancel_requested'])
      .execute();
    for (const row of rows) {
      kept.add(row.id);
      if (row.cancel_requested) cancelRequested.add(row.id);
    }
    return { kept, cancelRequested };
  }

  /** Lets go of paused tasks on a clean stop, so another replica resumes them at once. */
  async release(ids: number[]): Promise<void> {
    if (!ids.length) return;
    await this.db
      .updateTable('tasks')
      .set({ lease_expires_at: null })
      .where('id', 'in', ids)
      .where('owner', '=', this.replica.id)
      .execute();
  }

  /** Whether this replica still owns the task (a step's safe point asks before it starts). */
  async holds(taskId: number): Promise<boolean> {
    const row = await this.db.selectFrom('tasks').select('owner').where('id', '=', taskId).executeTakeFirst();
    return row?.owner === this.replica.id;
  }
}
