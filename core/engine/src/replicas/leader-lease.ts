import type { Clock, Logger } from '@slipway/contracts';
import type { Db } from '../store/index.js';
import type { ReplicaIdentity } from './identity.js';
import type { ReplicaSettings } from './settings.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** What runs only on the leader: started when this replica becomes it, stopped when it stops being it. */
export interface LeaderDuties {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * One named lease row (`leader` table) that a replica holds by renewing it and that another takes over by a
 * conditional update once it has expired: no advisory lock, so it reads the same on SQLite and PostgreSQL
 * and `SELECT * FROM leader` shows who leads. In exclusive mode (SQLite, one process) the row is taken at
 * once whoever held it last.
 */
export class LeaderLease {
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  /** When the lease this replica holds runs out, by its own clock at the time it asked. */
  private heldUntil = 0;
  private transition: Promise<void> = Promise.resolve();
  private tick: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly settings: ReplicaSettings,
    private readonly replica: ReplicaIdentity,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly duties: LeaderDuties,
    private readonly name = 'singletons',
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** Tries at once, then every renewal period while leading and every claim period while not. */
  async start(): Promise<void> {
    await this.attempt();
    this.schedule();
  }

  /** Stops the duties and lets the lease go, so another replica leads without waiting for it to lapse. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.tick;
    if (this.leading) {
      await this.step(false);
      await this.db
        .deleteFrom('leader')
        .where('name', '=', this.name)
        .where('holder', '=', this.replica.id)
        .execute()
        .catch(() => {});
    }
    await this.transition;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(
      () => {
        this.tick = this.attempt().finally(() => this.schedule());
      },
      this.leading ? this.settings.renewMs : this.settings.claimMs,
    );
    this.timer.unref?.();
  }

  private async attempt(): Promise<void> {
    const asked = this.clock.now();
    let held: boolean;
    try {
      held = await this.acquire(asked);
      if (held) this.heldUntil = asked + this.settings.leaseMs;
    } catch (e) {
      // The store is unreachable: the lease is still ours until it runs out; step down a renewal before.
      this.logger.warn('leader lease: the store did not answer', { error: (e as Error).message });
      held = this.leading && this.clock.now() + this.settings.renewMs < this.heldUntil;
    }
    await this.step(held);
  }

  /** Takes or renews the row: a conditional update, or the first insert when there is none yet. */
  private async acquire(now: number): Promise<boolean> {
    const me = this.replica.id;
    const until = iso(now + this.settings.leaseMs);
    let update = this.db.updateTable('leader').set({ holder: me, expires_at: until }).where('name', '=', this.name);
    if (this.settings.mode === 'shared')
      update = update.where((eb) => eb.or([eb('holder', '=', me), eb('expires_at', '<', iso(now))]));
    const result = await update.executeTakeFirst();
    if (Number(result.numUpdatedRows) === 1) return true;
    const inserted = await this.db
      .insertInto('leader')
      .values({ name: this.name, holder: me, expires_at: until })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  private step(lead: boolean): Promise<void> {
    if (lead === this.leading) return this.transition;
    this.leading = lead;
    this.transition = this.transition
      .then(async () => {
        if (lead) {
          this.logger.info('this replica leads: starting the singletons', { replica: this.replica.id });
          await this.duties.start();
        } else {
          this.logger.warn('this replica no longer leads: stopping the singletons', { replica: this.replica.id });
          await this.duties.stop();
        }
      })
      .catch((e) => this.logger.error('leader duties failed to change', { error: (e as Error).message }));
    return this.transition;
  }
}
