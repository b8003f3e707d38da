import type { Kysely } from 'kysely';
import { SlipwayError, type PluginDatabase } from '@slipway/contracts';
import type { VipRecord } from './load-balancer.js';
import { emptyFlatState, type Allocation, type FlatState, type FlatStateStore } from './store.js';

/**
 * The flat network's state in the control plane's database (PluginHost.database), shared by every replica:
 * one row per address allocation, unique per owner and per (target, address), so two control planes can
 * never hand out one address; one row per API VIP, unique by address; the rest (released addresses,
 * cursors, clusters and their name servers) as small JSON entries. A save writes only what changed since
 * the state was loaded; a conflicting write fails with Retryable and the engine runs the call again.
 */
export class SqlFlatState implements FlatStateStore {
  readonly shared = true;
  private readonly db: Kysely<any>;
  private readonly t: { allocations: string; vips: string; entries: string };

  constructor(database: PluginDatabase) {
    this.db = database.kysely as Kysely<any>;
    const p = database.tablePrefix;
    this.t = { allocations: `${p}allocations`, vips: `${p}vips`, entries: `${p}entries` };
  }

  /** Creates the tables on first use (portable DDL through kysely's schema builder; idempotent). */
  async ensureSchema(): Promise<void> {
    const { allocations, vips, entries } = this.t;
    await this.db.schema
      .createTable(allocations)
      .ifNotExists()
      .addColumn('cluster_id', 'text', (c) => c.notNull())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('target', 'text', (c) => c.notNull())
      // An IPv4 address as its 32-bit number: above 2^31 for 128.0.0.0 and up, so bigint (PostgreSQL's integer is signed 32-bit).
      .addColumn('ip', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${allocations}_pk`, ['cluster_id', 'owner'])
      .addUniqueConstraint(`${allocations}_target_ip`, ['target', 'ip'])
      .execute();
    await this.db.schema
      .createTable(vips)
      .ifNotExists()
      .addColumn('cluster_id', 'text', (c) => c.primaryKey())
      .addColumn('address', 'text', (c) => c.notNull().unique())
      .addColumn('record', 'text', (c) => c.notNull())
      .execute();
    await this.db.schema
      .createTable(entries)
      .ifNotExists()
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
  }

  async isEmpty(): Promise<boolean> {
    const rows = await Promise.all(
      Object.values(this.t).map((table) => this.db.selectFrom(table).selectAll().limit(1).execute()),
    );
    return rows.every((r) => r.length === 0);
  }

  async load(): Promise<FlatState> {
    const state = emptyFlatState();
    const [allocations, vips, entries] = await Promise.all([
      this.db.selectFrom(this.t.allocations).selectAll().orderBy('target').orderBy('ip').execute(),
      this.db.selectFrom(this.t.vips).selectAll().orderBy('cluster_id').execute(),
      this.db.selectFrom(this.t.entries).selectAll().orderBy('key').execute(),
    ]);
    state.allocations = allocations.map((r) => ({
      clusterId: r.cluster_id,
      owner: r.owner,
      target: r.target,
      ip: Number(r.ip),
    }));
    if (vips.length)
      state.vips = Object.fromEntries(vips.map((r) => [r.cluster_id, JSON.parse(r.record) as VipRecord]));
    for (const { key, value } of entries as Array<{ key: string; value: string }>) {
      const [kind, name] = splitKey(key);
      const parsed = JSON.parse(value);
      if (kind === 'released') state.released[name] = parsed;
      else if (kind === 'cursor') state.cursors[name] = parsed;
      else if (kind === 'cluster') {
        state.clusters.push(name);
        if (parsed) (state.clusterDns ??= {})[name] = parsed;
      }
    }
    return state;
  }

  async save(state: FlatState, before: FlatState): Promise<void> {
    const id = (a: Allocation) => `${a.clusterId}\u0000${a.owner}`;
    const had = new Map(before.allocations.map((a) => [id(a), a]));
    const has = new Map(state.allocations.map((a) => [id(a), a]));
    const added = state.allocations.filter((a) => had.get(id(a))?.ip !== a.ip || had.get(id(a))?.target !== a.target);
    const removed = before.allocations.filter((a) => !has.has(id(a)) || has.get(id(a))!.ip !== a.ip);
    const entriesBefore = entriesOf(before);
    const entriesNow = entriesOf(state);
    const vipsBefore = before.vips ?? {};
    const vipsNow = state.vips ?? {};
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const a of removed) {
          await trx
            .deleteFrom(this.t.allocations)
            .where('cluster_id', '=', a.clusterId)
            .where('owner', '=', a.owner)
            .execute();
        }
        if (added.length) {
          await trx
            .insertInto(this.t.allocations)
            .values(added.map((a) => ({ cluster_id: a.clusterId, owner: a.owner, target: a.target, ip: a.ip })))
            .execute();
        }
        for (const key of Object.keys(vipsBefore)) {
          if (!vipsNow[key]) await trx.deleteFrom(this.t.vips).where('cluster_id', '=', key).execute();
        }
        for (const [clusterId, vip] of Object.entries(vipsNow)) {
          const record = JSON.stringify(vip);
          if (JSON.stringify(vipsBefore[clusterId]) === record) continue;
          await trx
            .insertInto(this.t.vips)
            .values({ cluster_id: clusterId, address: vip.address, record })
            .onConflict((oc) => oc.column('cluster_id').doUpdateSet({ address: vip.address, record }))
            .execute();
        }
        for (const key of entriesBefore.keys()) {
          if (!entriesNow.has(key)) await trx.deleteFrom(this.t.entries).where('key', '=', key).execute();
        }
        for (const [key, value] of entriesNow) {
          if (entriesBefore.get(key) === value) continue;
          await trx
            .insertInto(this.t.entries)
            .values({ key, value })
            .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
            .execute();
        }
      });
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
      throw new SlipwayError(
        'Retryable',
        'another control plane took the same address or VIP at the same moment; the call runs again on fresh state',
        { cause: e, retryAfterMs: 50 },
      );
    }
  }
}

function entriesOf(state: FlatState): Map<string, string> {
  const out = new Map<string, string>();
  for (const [target, ips] of Object.entries(state.released)) out.set(`released:${target}`, JSON.stringify(ips));
  for (const [target, cursor] of Object.entries(state.cursors)) out.set(`cursor:${target}`, JSON.stringify(cursor));
  for (const cluster of state.clusters)
    out.set(`cluster:${cluster}`, JSON.stringify(state.clusterDns?.[cluster] ?? null));
  return out;
}

function splitKey(key: string): [string, string] {
  const at = key.indexOf(':');
  return [key.slice(0, at), key.slice(at + 1)];
}

/** A unique constraint refused the write: the drivers' codes (PostgreSQL 23505, SQLite's constraint codes). */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
