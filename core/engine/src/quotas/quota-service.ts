import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { requireRole, seesAllClusters, type Principal } from '../auth/roles.js';
import { isoNow } from '../clock.js';
import type { PlanConfig } from '../config/schema.js';
import { PlanCatalog } from '../plans.js';
import type { Store } from '../store/index.js';
import type { QuotaRow } from '../store/schema.js';
import { CLOCK, STORE } from '../tokens.js';
import { checkOwner, readLimit, type LimitField, type QuotaLimit } from './quota-limits.js';
import { clusterUsages, footprintOf, type ClusterUsage, type Footprint } from './usage.js';

/** A quota as TKGI's `/quotas` shows it; a null limit is no limit. */
export interface QuotaView {
  owner: string;
  limit: QuotaLimit;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** TKGI's `/usages` shape: memory in GB. */
export interface UsageView {
  owner: string;
  totals: { cpu: number; memory: number; cluster: number };
  clusters: Array<{ name: string; cpu: number; memory: number }>;
}

/** What a create, resize or plan change asks of its owner's quota: the cluster's footprint after it. */
export interface QuotaDemand {
  action: 'create' | 'resize' | 'update';
  cluster: string;
  /** The existing cluster's uuid (resize, update): its current footprint is replaced, not added to. */
  uuid?: string;
  plan: PlanConfig;
  masters: number;
  workers: number;
}

const GB = 1024;
const gb = (mb: number) => Math.round((mb / GB) * 1000) / 1000;

/**
 * Per-owner limits on clusters, CPUs and memory (TKGI's quotas and usages). Admins set them and are exempt
 * from them; a tenant reads only its own. `admit` is the one gate creates and resizes pass through.
 */
@injectable()
export class QuotaService {
  /**
   * Per-owner admission lock: the usage check and the cluster/task insert that spends it run under it, so two
   * requests of one owner cannot both pass the last free slot. It serializes within this process; replicas
   * behind one database would need the database's own lock.
   */
  private readonly admitting = new Map<number, Promise<unknown>>();

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PlanCatalog) private readonly plans: PlanCatalog,
    @inject(CLOCK) private readonly clock: Clock,
  ) {}

  async list(principal: Principal): Promise<QuotaView[]> {
    this.requireQuotaReader(principal);
    const rows = await this.store.db.selectFrom('quotas').selectAll().orderBy('owner').execute();
    return rows.map(quotaView);
  }

  async get(principal: Principal, owner: string): Promise<QuotaView> {
    this.requireSelfOrReader(principal, owner, 'quota');
    const row = await this.find(owner);
    if (!row)
      throw new SlipwayError('NotFound', `${owner} has no quota (no limits apply)`, {
        hint: `Set one with: slipway set-quota ${owner} --clusters N --cpu N --memory GB`,
      });
    return quotaView(row);
  }

  async create(principal: Principal, body: unknown): Promise<QuotaView> {
    requireRole(principal, ['clusters.admin'], 'set quotas');
    const owner = checkOwner((body as { owner?: unknown } | null)?.owner, 'owner');
    const limit = readLimit(body, undefined);
    const now = isoNow(this.clock);
    const inserted = await this.store.db
      .insertInto('quotas')
      .values({ owner, ...columnsOf(limit), created_by: principal.name, created_at: now, updated_at: now })
      .onConflict((oc) => oc.column('owner').doNothing())
      .executeTakeFirst();
    if (!Number(inserted.numInsertedOrUpdatedRows ?? 0n)) {
      throw new SlipwayError('AlreadyExists', `${owner} already has a quota`, {
        field: 'owner',
        hint: `Change it with PATCH /v1/quotas/${owner} or: slipway set-quota ${owner} ...`,
      });
    }
    return quotaView((await this.find(owner))!);
  }

  async update(principal: Principal, owner: string, body: unknown): Promise<QuotaView> {
    requireRole(principal, ['clusters.admin'], 'change quotas');
    const row = await this.find(owner);
    if (!row)
      throw new SlipwayError('NotFound', `${owner} has no quota to change`, {
        hint: `Create one with POST /v1/quotas or: slipway set-quota ${owner} ...`,
      });
    const limit = readLimit(body, quotaView(row).limit);
    await this.store.db
      .updateTable('quotas')
      .set({ ...columnsOf(limit), updated_at: isoNow(this.clock) })
      .where('owner', '=', owner)
      .execute();
    return quotaView((await this.find(owner))!);
  }

  async delete(principal: Principal, owner: string): Promise<void> {
    requireRole(principal, ['clusters.admin'], 'delete quotas');
    const deleted = await this.store.db.deleteFrom('quotas').where('owner', '=', owner).executeTakeFirst();
    if (!Number(deleted.numDeletedRows))
      throw new SlipwayError('NotFound', `${owner} has no quota`, { hint: 'List quotas with: slipway quotas' });
  }

  /** Every owner with a live cluster or a quota (admins, read-only admins); a tenant gets its own only. */
  async usages(principal: Principal): Promise<UsageView[]> {
    if (!seesAllClusters(principal)) {
      requireRole(principal, ['clusters.manage'], 'read usages');
      return [await this.usageOf(principal.name, { id: principal.id })];
    }
    const owners = await this.store.db
      .selectFrom('clusters')
      .leftJoin('users', 'users.id', 'clusters.owner_id')
      .select(['clusters.owner', 'clusters.owner_id', 'users.name as user_name'])
      .where('clusters.status', '=', 'active')
      .distinct()
      .execute();
    const byName = new Map<string, { id: number } | { name: string }>();
    for (const o of owners)
      byName.set(o.user_name ?? o.owner, o.owner_id !== null && o.user_name ? { id: o.owner_id } : { name: o.owner });
    for (const q of await this.store.db.selectFrom('quotas').select('owner').execute()) {
      if (!byName.has(q.owner)) byName.set(q.owner, await this.ownerKey(q.owner));
    }
    const names = [...byName.keys()].sort();
    return Promise.all(names.map((name) => this.usageOf(name, byName.get(name)!)));
  }

  async usage(principal: Principal, owner: string): Promise<UsageView> {
    this.requireSelfOrReader(principal, owner, 'usage');
    const key = await this.ownerKey(owner);
    if ('name' in key && !(await this.find(owner))) {
      const any = await this.store.db
        .selectFrom('clusters')
        .select('uuid')
        .where('owner', '=', owner)
        .where('owner_id', 'is', null)
        .where('status', '=', 'active')
        .executeTakeFirst();
      if (!any)
        throw new SlipwayError('NotFound', `no user, cluster or quota named "${owner}"`, {
          hint: 'List owners with: slipway usages',
        });
    }
    return this.usageOf(owner, key);
  }

  /**
   * Runs `act` (the insert of a cluster or of its resize task) if the owner's quota allows what `demand`
   * makes of the cluster, under the owner's admission lock. Admins are exempt, as in TKGI.
   */
  async admit<T>(principal: Principal, demand: QuotaDemand, act: () => Promise<T>): Promise<T> {
    if (principal.roles.includes('clusters.admin')) return act();
    const previous = this.admitting.get(principal.id) ?? Promise.resolve();
    const attempt = previous
      .catch(() => {})
      .then(async () => {
        await this.check(principal, demand);
        return act();
      });
    this.admitting.set(principal.id, attempt);
    try {
      return await attempt;
    } finally {
      if (this.admitting.get(principal.id) === attempt) this.admitting.delete(principal.id);
    }
  }

  private async check(principal: Principal, demand: QuotaDemand): Promise<void> {
    const row = await this.find(principal.name);
    if (!row) return;
    const clusters = await clusterUsages(this.store.db, (n) => this.plan(n), { id: principal.id });
    const current = totalsOf(clusters);
    const others = totalsOf(clusters.filter((c) => c.uuid !== demand.uuid));
    const after: Footprint & { clusters: number } = {
      ...footprintOf(demand.plan, demand.masters, demand.workers),
      clusters: 1,
    };
    const wanted = {
      cluster: others.clusters + after.clusters,
      cpu: others.cpu + after.cpu,
      memory: others.memory_mb + after.memory_mb,
    };
    const limit = { cluster: row.clusters, cpu: row.cpu, memory: row.memory_mb };
    const have = { cluster: current.clusters, cpu: current.cpu, memory: current.memory_mb };
    const over = (['cluster', 'cpu', 'memory'] as const satisfies readonly LimitField[]).filter(
      (k) => limit[k] !== null && wanted[k] > limit[k]! && wanted[k] > have[k],
    );
    if (!over.length) return;
    const show = (k: LimitField, v: number) =>
      k === 'memory' ? `${gb(v)} GB` : k === 'cpu' ? `${v} CPUs` : `${v} cluster${v === 1 ? '' : 's'}`;
    const what =
      demand.action === 'create'
        ? `creating cluster "${demand.cluster}"`
        : `${demand.action === 'resize' ? 'resizing' : 'updating'} cluster "${demand.cluster}" to ${demand.workers} worker${demand.workers === 1 ? '' : 's'} on plan "${demand.plan.name}"`;
    const parts = over.map(
      (k) =>
        `${k} limit ${show(k, limit[k]!)}: ${show(k, have[k])} in use, ${what} needs ${show(k, wanted[k])} in total`,
    );
    const flags = over
      .map((k) => `--${k === 'cluster' ? 'clusters' : k} ${k === 'memory' ? Math.ceil(wanted[k] / GB) : wanted[k]}`)
      .join(' ');
    throw new SlipwayError('QuotaExceeded', `the quota of ${principal.name} would be exceeded: ${parts.join('; ')}`, {
      field: over[0] === 'cluster' ? 'quota.cluster' : `quota.${over[0]}`,
      hint: `Delete or shrink one of your clusters (slipway usages ${principal.name} lists them), pick a smaller plan, or ask an admin to raise the quota: slipway set-quota ${principal.name} ${flags}`,
      details: {
        exceeded: over,
        limit: { cluster: row.clusters, cpu: row.cpu, memory: row.memory_mb === null ? null : gb(row.memory_mb) },
        usage: { cluster: current.clusters, cpu: current.cpu, memory: gb(current.memory_mb) },
        requested: { cluster: wanted.cluster, cpu: wanted.cpu, memory: gb(wanted.memory) },
      },
    });
  }

  private async usageOf(owner: string, key: { id: number } | { name: string }): Promise<UsageView> {
    const clusters = await clusterUsages(this.store.db, (n) => this.plan(n), key);
    const totals = totalsOf(clusters);
    return {
      owner,
      totals: { cpu: totals.cpu, memory: gb(totals.memory_mb), cluster: totals.clusters },
      clusters: clusters.map((c) => ({ name: c.name, cpu: c.cpu, memory: gb(c.memory_mb) })),
    };
  }

  /** The user's id when a user of that name exists (ownership follows ids); else the name, for orphans. */
  private async ownerKey(owner: string): Promise<{ id: number } | { name: string }> {
    const user = await this.store.users.byName(owner);
    return user ? { id: user.id } : { name: owner };
  }

  private async plan(name: string): Promise<PlanConfig | undefined> {
    const configured = this.plans.list().find((p) => p.name === name);
    if (configured) return configured;
    const stored = await this.store.db.selectFrom('plans').select('spec').where('name', '=', name).executeTakeFirst();
    return stored ? (JSON.parse(stored.spec) as PlanConfig) : undefined;
  }

  private find(owner: string): Promise<QuotaRow | undefined> {
    return this.store.db.selectFrom('quotas').selectAll().where('owner', '=', owner).executeTakeFirst();
  }

  private requireQuotaReader(principal: Principal): void {
    requireRole(principal, ['clusters.admin', 'clusters.admin.read'], 'read every quota');
  }

  /**
   * Admins read anyone's; a tenant only its own. The refusal is the same whether or not the other owner
   * exists, so it tells a tenant nothing about who else is there.
   */
  private requireSelfOrReader(principal: Principal, owner: string, what: 'quota' | 'usage'): void {
    if (seesAllClusters(principal)) return;
    if (principal.roles.includes('clusters.manage') && principal.name === owner) return;
    throw new SlipwayError('Forbidden', `${principal.name} may read only its own ${what}`, {
      hint: `Run: slipway ${what === 'quota' ? 'quota' : 'usages'} ${principal.name}`,
    });
  }
}

function quotaView(row: QuotaRow): QuotaView {
  return {
    owner: row.owner,
    limit: { cpu: row.cpu, memory: row.memory_mb === null ? null : row.memory_mb / GB, cluster: row.clusters },
    created_by: row.created_by,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function columnsOf(limit: QuotaLimit) {
  return {
    cpu: limit.cpu,
    clusters: limit.cluster,
    memory_mb: limit.memory === null ? null : Math.round(limit.memory * GB),
  };
}

function totalsOf(clusters: ClusterUsage[]): Footprint & { clusters: number } {
  return clusters.reduce(
    (t, c) => ({ clusters: t.clusters + 1, cpu: t.cpu + c.cpu, memory_mb: t.memory_mb + c.memory_mb }),
    { clusters: 0, cpu: 0, memory_mb: 0 },
  );
}
