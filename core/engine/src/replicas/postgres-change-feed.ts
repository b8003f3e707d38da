import pg from 'pg';
import type { Logger } from '@slipway/contracts';
import { LocalChangeFeed } from './change-feed.js';

/** The one channel every replica listens on; topics travel in the payload. */
export const CHANGE_CHANNEL = 'slipway_changes';
const RECONNECT_MS = [250, 500, 1000, 2000, 5000] as const;

/**
 * The change feed across replicas on one PostgreSQL: LISTEN/NOTIFY on a dedicated connection (a pooled one
 * would lose its LISTEN when returned). A change is delivered here at once and to the other replicas through
 * NOTIFY; a replica skips its own notifications. While the connection is down, notifications are lost: on
 * reconnecting every waiter here is woken once to read the store again, so nothing waits past a lost change.
 */
export class PostgresChangeFeed extends LocalChangeFeed {
  private client: pg.Client | undefined;
  private closed = false;
  private attempt = 0;
  private reconnecting: NodeJS.Timeout | undefined;
  /** Notifications go out one at a time on the one connection (pg queues them, but wants the caller to). */
  private sending: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly url: string,
    private readonly replicaId: string,
    private readonly logger: Logger,
  ) {
    super();
  }

  static async open(url: string, replicaId: string, logger: Logger): Promise<PostgresChangeFeed> {
    const feed = new PostgresChangeFeed(url, replicaId, logger.child({ component: 'change-feed' }));
    await feed.connect();
    return feed;
  }

  override publish(topic: string, value?: number): void {
    super.publish(topic, value);
    const client = this.client;
    if (!client) return;
    const payload = `${this.replicaId}\t${topic}\t${value ?? ''}`;
    this.sending = this.sending
      .then(() => client.query('SELECT pg_notify($1, $2)', [CHANGE_CHANNEL, payload]))
      .catch((e: Error) => {
        this.logger.warn('could not notify the other replicas of a change', { topic, error: e.message });
      });
  }

  override async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnecting);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
    await super.close();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 10_000, keepAlive: true });
    client.on('notification', (n) => this.deliver(n.payload));
    client.on('error', (e) => this.lost(client, e));
    client.on('end', () => this.lost(client));
    await client.connect();
    await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    this.client = client;
    this.attempt = 0;
  }

  private deliver(payload: string | undefined): void {
    const [from, topic, value] = (payload ?? '').split('\t');
    if (!topic || from === this.replicaId) return;
    this.emitter.emit(topic, value ? Number(value) : undefined);
  }

  private lost(client: pg.Client, error?: Error): void {
    if (this.client !== client || this.closed) return;
    this.client = undefined;
    this.logger.warn('the change feed lost its connection; reconnecting', { error: error?.message });
    void client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delay = RECONNECT_MS[Math.min(this.attempt++, RECONNECT_MS.length - 1)];
    this.reconnecting = setTimeout(() => {
      this.connect().then(
        () => {
          // Whatever changed while the connection was down was not heard: wake every waiter to look again.
          for (const topic of this.emitter.eventNames()) this.emitter.emit(topic, undefined);
        },
        (e: Error) => {
          this.logger.warn('the change feed could not reconnect', { error: e.message });
          this.scheduleReconnect();
        },
      );
    }, delay);
    this.reconnecting.unref?.();
  }
}
