import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { requireRole, seesAllClusters, type Principal } from '../auth/roles.js';
import { isoNow } from '../clock.js';
import { PlanCatalog } from '../plans.js';
import type { PlanConfig } from '../config/schema.js';
import type { Store } from '../store/index.js';
import { CLOCK, STORE } from '../tokens.js';

/** TKGI's quota document: `limit.memory` in GB; 0 means no limit. */
export interface QuotaView {
  owner: string;
  limit: { cpu: number; memory: number; cluster: number };
}

/** TKGI's usage document. */
export interface UsageView {
  owner: string;
  totals: { cpu: number; memory: number; cluster: number };
  clusters: Array<{ name: string; cpu: number; memory: number }>;
}

/** What a cluster takes: CPUs and memory (GB) of its VMs, from its plan's VM types. */
export function footprint(plan: PlanConfig, masters: number, workers: number): { cpu: number; memory: number } {
  return {
    cpu: masters * plan.master_vm.cpu + workers * plan.worker_vm.cpu,
    memory: (masters * plan.master_vm.memory_mb + workers * plan.worker_vm.memory_mb) / 1024,
  };
}

/**
 * Quotas and usages (TKGI's /v1/quotas and /v1/usages). Admins set an owner's limits; a create, resize or
 * update that would take the owner past one is refused, naming the limit, what is in use and what the
 * request needs. Admins (clusters.admin) are exempt, as in TKGI.
 */
@injectable()
export class QuotaService {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PlanCatalog) private readonly plans: PlanCatalog,
    @inject(CLOCK) private readonly clock: Clock,
  ) {}

  async list(principal: Principal): Promise<QuotaView[]> {
    let q = this.store.db.selectFrom('quotas').selectAll().orderBy('owner');
    if (!seesAllClusters(principal)) q = q.where('owner_id', '=', principal.id);
    return (await q.execute()).map((r) => ({ owner: r.owner, limit: { cpu: r.cpu, memory: r.memory_gb, cluster: r.clusters } }));
  }

  async get(principal: Principal, owner: string): Promise<QuotaView> {
    const user = await this.owner(principal, owner);
    const row = await this.store.db.selectFrom('quotas').selectAll().where('owner_id', '=', user.id).executeTakeFirst();
    if (!row) throw new SlipwayError('NotFound', `user "${owner}" has no quota`, { hint: 'An admin sets one with: slipway set-quota OWNER --cpu N --memory GB --clusters N' });
    return { owner: row.owner, limit: { cpu: row.cpu, memory: row.memory_gb, cluster: row.clusters } };
  }

  /** Sets (creates or replaces) an owner's limits; admins only. */
  async set(principal: Principal, owner: string, limit: { cpu?: number; memory?: number; cluster?: number }, mode: 'create' | 'patch'): Promise<QuotaView> {
    requireRole(principal, ['clusters.admin'], 'set quotas');
    for (const [field, value] of Object.entries(limit)) {
      if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
        throw new SlipwayError('InvalidInput', `limit.${field} must be a whole number, 0 or more (0: no limit); got ${JSON.stringify(value)}`, { field: `limit.${field}` });
      }
    }
    const user = await this.owner(principal, owner);
    const existing = await this.store.db.selectFrom('quotas').selectAll().where('owner_id', '=', user.id).executeTakeFirst();
    if (mode === 'patch' && !existing) throw new SlipwayError('NotFound', `user "${owner}" has no quota to change`, { hint: 'Create it with POST /v1/quotas (slipway set-quota).' });
    const row = {
      owner_id: user.id, owner: user.name,
      cpu: limit.cpu ?? existing?.cpu ?? 0, memory_gb: limit.memory ?? existing?.memory_gb ?? 0, clusters: limit.cluster ?? existing?.clusters ?? 0,
      updated_by: principal.name, updated_at: isoNow(this.clock),
    };
    await this.store.db.insertInto('quotas').values(row)
      .onConflict((oc) => oc.column('owner_id').doUpdateSet({ owner: row.owner, cpu: row.cpu, memory_gb: row.memory_gb, clusters: row.clusters, updated_by: row.updated_by, updated_at: row.updated_at }))
      .execute();
    return { owner: user.name, limit: { cpu: row.cpu, memory: row.memory_gb, cluster: row.clusters } };
  }

  async remove(principal: Principal, owner: string): Promise<void> {
    requireRole(principal, ['clusters.admin'], 'delete quotas');
    const user = await this.owner(principal, owner);
    const result = await this.store.db.deleteFrom('quotas').where('owner_id', '=', user.id).executeTakeFirst();
    if (!Number(result.numDeletedRows)) throw new SlipwayError('NotFound', `user "${owner}" has no quota`);
  }

  /** Usages of every owner with clusters (admins), or the caller's own. */
  async usages(principal: Principal): Promise<UsageView[]> {
    let q = this.store.db.selectFrom('clusters').select(['owner_id']).distinct().where('status', '=', 'active').where('owner_id', 'is not', null);
    if (!seesAllClusters(principal)) q = q.where('owner_id', '=', principal.id);
    const ids = (await q.execute()).map((r) => r.owner_id!);
    if (!seesAllClusters(principal) && !ids.includes(principal.id)) ids.push(principal.id);
    const out: UsageView[] = [];
    for (const id of ids) {
      const user = await this.store.users.byId(id);
      if (user) out.push(await this.usageOf(user.id, user.name));
    }
    return out.sort((a, b) => a.owner.localeCompare(b.owner));
  }

  async usage(principal: Principal, owner: string): Promise<UsageView> {
    const user = await this.owner(principal, owner);
    return this.usageOf(user.id, user.name);
  }

  /**
   * Refuses a change that would take the owner past a limit. `cluster`: the cluster being changed (its own
   * current footprint is replaced by the new one), absent for a create.
   */
  async check(principal: Principal, ownerId: number | null, change: { plan: PlanConfig; masters: number; workers: number; clusterUuid?: string }): Promise<void> {
    if (principal.roles.includes('clusters.admin') || ownerId === null) return;
    const quota = await this.store.db.selectFrom('quotas').selectAll().where('owner_id', '=', ownerId).executeTakeFirst();
    if (!quota) return;
    const usage = await this.usageOf(ownerId, quota.owner, change.clusterUuid);
    const needs = footprint(change.plan, change.masters, change.workers);
    const checks: Array<[string, number, number, number, string]> = [
      ['cluster', quota.clusters, usage.totals.cluster, change.clusterUuid ? 0 : 1, 'clusters'],
      ['cpu', quota.cpu, usage.totals.cpu, needs.cpu, 'CPUs'],
      ['memory', quota.memory_gb, usage.totals.memory, needs.memory, 'GB of memory'],
    ];
    for (const [field, limit, used, need, unit] of checks) {
      if (limit > 0 && used + need > limit) {
        throw new SlipwayError('QuotaExceeded', `the quota of ${quota.owner} allows ${limit} ${unit}; ${round(used)} in use${change.clusterUuid ? ' by the other clusters' : ''} and this request needs ${round(need)} (${round(used + need)} in all)`, {
          field: `limit.${field}`, details: { limit: field, quota: limit, in_use: round(used), requested: round(need) },
          hint: 'Delete or shrink a cluster, choose a smaller plan, or ask an admin to raise the quota (slipway set-quota).',
        });
      }
    }
  }

  private async usageOf(ownerId: number, owner: string, excludeUuid?: string): Promise<UsageView> {
    let q = this.store.db.selectFrom('clusters').select(['uuid', 'name', 'plan_name', 'master_instances', 'worker_instances'])
      .where('owner_id', '=', ownerId).where('status', '=', 'active').orderBy('name');
    if (excludeUuid) q = q.where('uuid', '!=', excludeUuid);
    const clusters = [];
    for (const row of await q.execute()) {
      let plan: PlanConfig | undefined;
      try {
        plan = this.plans.get(row.plan_name);
      } catch {
        plan = undefined; // a plan removed from the config: its clusters count, their VMs cannot be sized
      }
      const f = plan ? footprint(plan, row.master_instances, row.worker_instances) : { cpu: 0, memory: 0 };
      clusters.push({ name: row.name, cpu: f.cpu, memory: round(f.memory) });
    }
    return {
      owner,
      totals: { cpu: clusters.reduce((n, c) => n + c.cpu, 0), memory: round(clusters.reduce((n, c) => n + c.memory, 0)), cluster: clusters.length },
      clusters,
    };
  }

  private async owner(principal: Principal, owner: string): Promise<{ id: number; name: string }> {
    const user = await this.store.users.byName(owner);
    if (!user || (!seesAllClusters(principal) && user.id !== principal.id)) {
      throw new SlipwayError('NotFound', `user "${owner}" does not exist`, { hint: 'List users with `slipway users` (admins).' });
    }
    return { id: user.id, name: user.name };
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
