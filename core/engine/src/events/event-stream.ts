import { inject, injectable } from 'tsyringe';
import { SlipwayError } from '@slipway/contracts';
import { mayAccessCluster, seesAllClusters, type Principal } from '../auth/roles.js';
import { findCluster } from '../clusters/cluster-access.js';
import type { EventsConfig, SlipwayConfig } from '../config/schema.js';
import { streamEventOf } from '../store/events.js';
import type { Store } from '../store/index.js';
import { CONFIG, STORE } from '../tokens.js';
import type { StreamEvent } from './event-bus.js';

export const EVENTS_DEFAULTS: EventsConfig = { heartbeat_seconds: 15, max_subscribers_per_user: 16, max_queued: 1000 };

/** What a subscriber asked for: a cluster (name or uuid), kinds (exact, or a prefix ending in `*`), a task. */
export interface EventQuery {
  cluster?: string;
  kinds?: string[];
  task?: number;
}

/** An event as the API shows it: with the cluster's name, so a reader needs no second lookup. */
export type EventView = StreamEvent & { cluster: string | null };

/** A subscription's end: the client went away, or it fell too far behind (`overflow`). */
export type StreamEnd = 'closed' | 'overflow';

export interface Subscription {
  close(): void;
}

interface ClusterFacts {
  name: string;
  owner_id: number | null;
  at: number;
}

/** How long a cluster's name and owner are trusted from memory (an owner can be reassigned). */
const CLUSTER_FACTS_TTL_MS = 10_000;
/** Events replayed to a subscriber that reconnects, at most (older ones: GET /v1/events?after=). */
const MAX_REPLAY = 5000;

/**
 * The event stream as each caller may see it: admins and admin.read every event; a cluster manager only
 * the events of clusters they own (never another tenant's, never the control plane's own). A subscriber
 * that reconnects with the last id it saw gets what it missed from the store, then the live events, in order
 * and without duplicates.
 */
@injectable()
export class EventStream {
  private readonly clusters = new Map<string, ClusterFacts>();
  private readonly open = new Map<number, number>();
  readonly settings: EventsConfig;

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(CONFIG) config: SlipwayConfig,
  ) {
    this.settings = { ...EVENTS_DEFAULTS, ...config.events };
  }

  /** Recent events the principal may see, oldest first: after `after`, or the newest `limit`. */
  async list(principal: Principal, query: EventQuery, page: { limit: number; after?: number }): Promise<EventView[]> {
    const filter = await this.filterFor(principal, query);
    const out: EventView[] = [];
    // Visibility is decided per row, so read in batches until the page is full or the log is exhausted.
    let cursor = page.after;
    let before: number | undefined;
    for (let round = 0; round < 20 && out.length < page.limit; round++) {
      const rows =
        cursor !== undefined
          ? await this.store.events.after(cursor, {
              limit: page.limit * 2,
              clusterUuid: filter.clusterUuid,
              taskId: query.task,
            })
          : await this.store.events.latest({
              limit: page.limit * 2,
              clusterUuid: filter.clusterUuid,
              taskId: query.task,
              beforeId: before,
            });
      if (!rows.length) break;
      for (const row of rows) {
        const view = await this.visible(principal, filter, streamEventOf(row));
        if (view) out.push(view);
      }
      if (cursor !== undefined) cursor = rows[rows.length - 1].id;
      else before = rows[rows.length - 1].id;
    }
    if (cursor === undefined) out.sort((a, b) => a.id - b.id);
    return cursor === undefined ? out.slice(-page.limit) : out.slice(0, page.limit);
  }

  /**
   * Subscribes `send` to the events the principal may see that match `query`, starting after
   * `lastEventId` when given. `end` is called once when the subscription ends on its own (overflow).
   */
  async subscribe(
    principal: Principal,
    query: EventQuery,
    lastEventId: number | undefined,
    send: (event: EventView) => void,
    end: (why: StreamEnd) => void,
  ): Promise<Subscription> {
    const filter = await this.filterFor(principal, query);
    const held = this.open.get(principal.id) ?? 0;
    if (held >= this.settings.max_subscribers_per_user) {
      throw new SlipwayError(
        'RateLimited',
        `${principal.name} already has ${held} event streams open (events.max_subscribers_per_user is ${this.settings.max_subscribers_per_user})`,
        {
          hint: 'Close another `slipway events --follow` or dashboard tab, or ask the operator to raise events.max_subscribers_per_user.',
        },
      );
    }
    this.open.set(principal.id, held + 1);
    let closed = false;
    let lastSent = lastEventId ?? 0;
    // Live events queue while the replay is read, and while an access check is in flight, so order holds.
    const queue: StreamEvent[] = [];
    let draining = false;
    let replaying = lastEventId !== undefined;
    const close = () => {
      if (closed) return;
      closed = true;
      unsubscribe();
      this.open.set(principal.id, (this.open.get(principal.id) ?? 1) - 1);
    };
    const drain = async () => {
      if (draining || replaying) return;
      draining = true;
      try {
        while (queue.length && !closed) {
          const event = queue.shift()!;
          if (event.id <= lastSent) continue;
          const view = await this.visible(principal, filter, event, query.task);
          lastSent = event.id;
          if (view && !closed) send(view);
        }
      } finally {
        draining = false;
      }
    };
    const unsubscribe = this.store.bus.subscribe((event) => {
      if (closed) return;
      if (queue.length >= this.settings.max_queued) {
        close();
        end('overflow');
        return;
      }
      queue.push(event);
      void drain();
    });
    if (lastEventId !== undefined) {
      try {
        const rows = await this.store.events.after(lastEventId, {
          limit: MAX_REPLAY,
          clusterUuid: filter.clusterUuid,
          taskId: query.task,
        });
        for (const row of rows) {
          if (closed) break;
          const view = await this.visible(principal, filter, streamEventOf(row), query.task);
          lastSent = row.id;
          if (view) send(view);
        }
      } finally {
        replaying = false;
      }
      void drain();
    }
    return { close };
  }

  /** Open streams, for metrics and tests. */
  get subscribers(): number {
    let n = 0;
    for (const count of this.open.values()) n += count;
    return n;
  }

  private async filterFor(
    principal: Principal,
    query: EventQuery,
  ): Promise<{ clusterUuid?: string; kinds?: string[] }> {
    const clusterUuid = query.cluster
      ? (await findCluster(this.store, principal, query.cluster, 'read')).uuid
      : undefined;
    return { clusterUuid, kinds: query.kinds?.length ? query.kinds : undefined };
  }

  private async visible(
    principal: Principal,
    filter: { clusterUuid?: string; kinds?: string[] },
    event: StreamEvent,
    task?: number,
  ): Promise<EventView | undefined> {
    if (filter.clusterUuid && event.cluster_uuid !== filter.clusterUuid) return undefined;
    if (task !== undefined && event.task_id !== task) return undefined;
    if (
      filter.kinds &&
      !filter.kinds.some((k) => (k.endsWith('*') ? event.kind.startsWith(k.slice(0, -1)) : event.kind === k))
    )
      return undefined;
    if (!event.cluster_uuid) return seesAllClusters(principal) ? { ...event, cluster: null } : undefined;
    const facts = await this.clusterFacts(event.cluster_uuid);
    if (!facts || !mayAccessCluster(principal, facts.owner_id, 'read')) return undefined;
    return { ...event, cluster: facts.name };
  }

  private async clusterFacts(uuid: string): Promise<ClusterFacts | undefined> {
    const now = Date.now();
    const known = this.clusters.get(uuid);
    if (known && now - known.at < CLUSTER_FACTS_TTL_MS) return known;
    const row = await this.store.db
      .selectFrom('clusters')
      .select(['name', 'owner_id'])
      .where('uuid', '=', uuid)
      .executeTakeFirst();
    if (!row) return undefined;
    const facts = { name: row.name, owner_id: row.owner_id, at: now };
    if (this.clusters.size > 10_000) this.clusters.clear();
    this.clusters.set(uuid, facts);
    return facts;
  }
}
