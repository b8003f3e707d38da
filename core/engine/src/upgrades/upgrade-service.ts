import { inject, injectable } from 'tsyringe';
import { SlipwayError } from '@slipway/contracts';
import { requireRole, type Principal } from '../auth/roles.js';
import { ClusterService } from '../clusters/cluster-service.js';
import type { ClusterView } from '../clusters/views.js';
import { findCluster } from '../clusters/cluster-access.js';
import type { PlanConfig } from '../config/schema.js';
import { PlanCatalog } from '../plans.js';
import type { ClusterRow, Store, TaskRow } from '../store/index.js';
import { QuotaService } from '../quotas/index.js';
import { TaskRunner } from '../tasks/task-runner.js';
import { STORE } from '../tokens.js';
import { FleetUpgrader, type FleetParams, type FleetUpgradeRequest, type FleetUpgradeView } from './fleet-upgrader.js';
import type { UpdateParams, UpgradeParams } from './upgrade-tasks.js';
import { resolveStrategy, type StrategyOverrides } from './update-strategy.js';
import {
  compareStemcellVersions,
  parseStemcell,
  stemcellLabel,
  VersionCatalog,
  type Stemcell,
} from './version-catalog.js';

/** An upgrade-cluster request (POST /v1/clusters/{name}/upgrade). */
export interface UpgradeRequest {
  kubernetes_version?: string;
  /** `name/version`; default the catalog's default stemcell. */
  stemcell?: string;
  max_in_flight?: number | string;
  canaries?: number | string;
  force_drain?: boolean;
}

/** An update-cluster request (POST /v1/clusters/{name}/update). */
export interface UpdateRequest {
  plan_name?: string;
  /** Replace every VM even if its spec does not change (BOSH --recreate). */
  recreate?: boolean;
  max_in_flight?: number | string;
  canaries?: number | string;
  force_drain?: boolean;
}

/** What a cluster is at and what it may move to (GET /v1/clusters/{name}/upgrades; PKS `available_upgrades`). */
export interface AvailableUpgrades {
  cluster: string;
  k8s_version: string;
  stemcell: string;
  plan_default_version: string;
  kubernetes_versions: string[];
  stemcells: string[];
  /** What `upgrade-cluster NAME` without flags would do now, or null when it is up to date. */
  default_target: { kubernetes_version: string; stemcell: string } | null;
}

/**
 * upgrade-cluster, update-cluster and the fleet upgrade, with the catalog's rules and the access rules of
 * PKS's scopes. The work itself is a task (UPGRADE, UPDATE) run by the rolling updater.
 */
@injectable()
export class UpgradeService {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(TaskRunner) private readonly tasks: TaskRunner,
    @inject(PlanCatalog) private readonly plans: PlanCatalog,
    @inject(VersionCatalog) private readonly catalog: VersionCatalog,
    @inject(ClusterService) private readonly clusters: ClusterService,
    @inject(FleetUpgrader) private readonly fleet: FleetUpgrader,
    @inject(QuotaService) private readonly quotas: QuotaService,
  ) {
    this.fleet.use((row, user, params) => this.submitFleetMember(row, user, params));
  }

  /** One fleet member: toward the wanted versions one minor at a time, from wherever the cluster is. */
  private submitFleetMember(row: ClusterRow, user: string, params: FleetParams): Promise<TaskRow> {
    const target = this.defaultTarget(row, {
      kubernetes_version: params.kubernetes_version ?? undefined,
      stemcell: params.stemcell ?? undefined,
    });
    return this.submitUpgrade(row, user, {
      kubernetes_version: target?.k8s,
      stemcell: target ? stemcellLabel(target.stemcell) : undefined,
      force_drain: params.force_drain,
    });
  }

  /** GET /v1/versions: the catalog. */
  versions() {
    return {
      kubernetes_versions: [...this.catalog.versions],
      default_kubernetes_version: this.catalog.defaultVersion,
      stemcells: this.catalog.stemcells.map(stemcellLabel),
      default_stemcell: stemcellLabel(this.catalog.defaultStemcell),
      plans: this.plans.list().map((p) => ({ name: p.name, kubernetes_version: this.catalog.planVersion(p) })),
      rules: ['no downgrade', 'no skipped minor version', 'masters before workers'],
    };
  }

  async available(principal: Principal, name: string): Promise<AvailableUpgrades> {
    const row = await findCluster(this.store, principal, name, 'read');
    const target = this.defaultTarget(row);
    return {
      cluster: row.name,
      k8s_version: row.k8s_version,
      stemcell: row.stemcell,
      plan_default_version: this.catalog.planVersion(this.plans.get(row.plan_name)),
      kubernetes_versions: this.catalog.upgradesFrom(row.k8s_version),
      stemcells: this.catalog.stemcellUpgradesFrom(parseStemcell(row.stemcell)).map(stemcellLabel),
      default_target:
        target && (target.k8s !== row.k8s_version || stemcellLabel(target.stemcell) !== row.stemcell)
          ? { kubernetes_version: target.k8s, stemcell: stemcellLabel(target.stemcell) }
          : null,
    };
  }

  async upgrade(principal: Principal, name: string, request: UpgradeRequest): Promise<ClusterView> {
    const row = await findCluster(this.store, principal, name, 'write');
    await this.submitUpgrade(row, principal.name, request);
    return this.clusters.get(principal, name);
  }

  /** Validates and submits one cluster's upgrade; used by upgrade-cluster and by each fleet member. */
  async submitUpgrade(row: ClusterRow, user: string, request: UpgradeRequest): Promise<TaskRow> {
    const fallback = this.defaultTarget(row);
    const k8s = request.kubernetes_version ?? fallback?.k8s ?? row.k8s_version;
    // Without --stemcell: a Kubernetes upgrade keeps the cluster's stemcell (the catalog's default may be
    // older than a stemcell the cluster was patched to); a bare upgrade moves toward the defaults.
    const stemcell: Stemcell = request.stemcell
      ? parseStemcell(request.stemcell)
      : request.kubernetes_version !== undefined
        ? parseStemcell(row.stemcell)
        : (fallback?.stemcell ?? parseStemcell(row.stemcell));
    if (k8s !== row.k8s_version) this.catalog.checkUpgrade(row.k8s_version, k8s);
    if (stemcellLabel(stemcell) !== row.stemcell) this.catalog.checkStemcell(parseStemcell(row.stemcell), stemcell);
    if (k8s === row.k8s_version && stemcellLabel(stemcell) === row.stemcell) {
      throw new SlipwayError(
        'InvalidInput',
        `cluster "${row.name}" already runs Kubernetes ${k8s} on ${row.stemcell}; nothing to upgrade`,
        {
          hint: `See what it may upgrade to: slipway upgrades ${row.name}; the catalog: slipway versions.`,
          details: { up_to_date: true },
        },
      );
    }
    const overrides = this.overrides(request, row);
    const params: UpgradeParams = {
      kind: 'upgrade',
      k8s_version: k8s,
      stemcell,
      from: { k8s_version: row.k8s_version, stemcell: row.stemcell },
      overrides,
      serial: k8s !== row.k8s_version || (this.plans.get(row.plan_name).update?.serial ?? true),
    };
    const what = [
      k8s !== row.k8s_version ? `Kubernetes ${row.k8s_version} → ${k8s}` : '',
      stemcellLabel(stemcell) !== row.stemcell ? `stemcell ${row.stemcell} → ${stemcellLabel(stemcell)}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return this.tasks.submit({
      type: 'UPGRADE',
      cluster: row,
      user,
      description: `upgrade cluster ${row.name}: ${what}`,
      params,
    });
  }

  async update(principal: Principal, name: string, request: UpdateRequest): Promise<ClusterView> {
    const row = await findCluster(this.store, principal, name, 'write');
    const current = this.plans.get(row.plan_name);
    const plan = this.plans.get(request.plan_name ?? row.plan_name);
    if (plan.iaas !== current.iaas) {
      throw new SlipwayError(
        'InvalidInput',
        `plan "${plan.name}" places clusters on ${plan.iaas}, cluster "${name}" runs on ${current.iaas}; a cluster cannot move between IaaS targets`,
        { field: 'plan_name' },
      );
    }
    if (plan.master_instances !== row.master_instances) {
      throw new SlipwayError(
        'InvalidInput',
        `plan "${plan.name}" has ${plan.master_instances} masters and cluster "${name}" ${row.master_instances}; the number of masters (etcd members) is fixed once a cluster exists`,
        { field: 'plan_name' },
      );
    }
    if (row.worker_instances > plan.max_worker_instances) {
      throw new SlipwayError(
        'InvalidInput',
        `cluster "${name}" has ${row.worker_instances} workers, more than plan "${plan.name}" allows (${plan.max_worker_instances}); resize it first`,
        { field: 'plan_name' },
      );
    }
    this.checkDisks(name, current, plan);
    if (plan.name === row.plan_name && !request.recreate) {
      throw new SlipwayError(
        'InvalidInput',
        `cluster "${name}" already uses plan "${plan.name}"; nothing to update (pass recreate to replace every VM anyway)`,
        { field: 'plan_name' },
      );
    }
    const params: UpdateParams = {
      kind: 'update',
      plan_name: plan.name,
      from_plan: row.plan_name,
      recreate: Boolean(request.recreate),
      overrides: this.overrides(request, row),
      serial: plan.update?.serial ?? true,
    };
    // A plan with bigger VM types spends more of the owner's quota: checked under the owner's admission lock.
    await this.quotas.admit(
      principal,
      {
        action: 'update',
        cluster: row.name,
        uuid: row.uuid,
        plan,
        masters: row.master_instances,
        workers: row.worker_instances,
      },
      () =>
        this.tasks.submit({
          type: 'UPDATE',
          cluster: row,
          user: principal.name,
          params,
          description:
            plan.name !== row.plan_name
              ? `update cluster ${name}: plan ${row.plan_name} → ${plan.name}`
              : `update cluster ${name}: recreate every VM`,
        }),
    );
    return this.clusters.get(principal, name);
  }

  async startFleet(principal: Principal, request: FleetUpgradeRequest): Promise<FleetUpgradeView> {
    requireRole(principal, ['clusters.admin'], 'upgrade clusters in bulk');
    if (request.kubernetes_version && !this.catalog.has(request.kubernetes_version))
      this.catalog.checkUpgrade(this.catalog.versions[0] ?? request.kubernetes_version, request.kubernetes_version);
    if (request.stemcell) {
      const wanted = parseStemcell(request.stemcell);
      if (!this.catalog.hasStemcell(wanted)) this.catalog.checkStemcell(wanted, wanted);
    }
    return this.fleet.start(principal.name, request);
  }

  /** After a restart of the control plane. */
  resumeFleets(): Promise<number> {
    return this.fleet.resumeAll();
  }

  settledFleet(id: number): Promise<FleetUpgradeView> {
    return this.fleet.settled(id);
  }

  stopFleets(): Promise<void> {
    return this.fleet.stop();
  }

  listFleets(principal: Principal): Promise<FleetUpgradeView[]> {
    requireRole(principal, ['clusters.admin', 'clusters.admin.read'], 'see fleet upgrades');
    return this.fleet.list();
  }

  getFleet(principal: Principal, id: number): Promise<FleetUpgradeView> {
    requireRole(principal, ['clusters.admin', 'clusters.admin.read'], 'see fleet upgrades');
    return this.fleet.get(id);
  }

  cancelFleet(principal: Principal, id: number): Promise<FleetUpgradeView> {
    requireRole(principal, ['clusters.admin'], 'cancel fleet upgrades');
    return this.fleet.cancel(id);
  }

  /** What an upgrade without explicit versions moves a cluster to: toward its plan's version, one minor at a time. */
  defaultTarget(
    row: ClusterRow,
    wanted: { kubernetes_version?: string; stemcell?: string } = {},
  ): { k8s: string; stemcell: Stemcell } | undefined {
    let plan;
    try {
      plan = this.plans.get(row.plan_name);
    } catch {
      return undefined;
    }
    const goal = wanted.kubernetes_version ?? this.catalog.planVersion(plan);
    return {
      k8s: this.catalog.stepToward(row.k8s_version, goal),
      stemcell: wanted.stemcell ? parseStemcell(wanted.stemcell) : this.newerStemcell(parseStemcell(row.stemcell)),
    };
  }

  /** The catalog's default stemcell, unless the cluster already runs a newer one of that name (never a downgrade). */
  private newerStemcell(current: Stemcell): Stemcell {
    const fallback = this.catalog.defaultStemcell;
    return current.name === fallback.name && compareStemcellVersions(current.version, fallback.version) > 0
      ? current
      : fallback;
  }

  /** Persistent disks only grow: a smaller (or no) disk would lose data that is on the bigger one. */
  private checkDisks(cluster: string, current: PlanConfig, next: PlanConfig): void {
    for (const group of ['master', 'worker'] as const) {
      const from = (group === 'master' ? current.master_vm : current.worker_vm).persistent_disk_mb;
      const to = (group === 'master' ? next.master_vm : next.worker_vm).persistent_disk_mb;
      if (from !== undefined && (to === undefined || to < from)) {
        throw new SlipwayError(
          'InvalidInput',
          `plan "${next.name}" gives ${group}s ${to === undefined ? 'no persistent disk' : `a ${to} MiB persistent disk`}, smaller than the ${from} MiB ${group}s of cluster "${cluster}" have; persistent disks only grow (shrinking would lose their data)`,
          {
            field: 'plan_name',
            hint: `Pick a plan whose ${group}_vm.persistent_disk_mb is at least ${from}, or back up the data and create a new cluster.`,
          },
        );
      }
    }
  }

  private overrides(
    request: { max_in_flight?: number | string; canaries?: number | string; force_drain?: boolean },
    row: ClusterRow,
  ): StrategyOverrides {
    const overrides: StrategyOverrides = {
      ...(request.max_in_flight !== undefined ? { max_in_flight: request.max_in_flight } : {}),
      ...(request.canaries !== undefined ? { canaries: request.canaries } : {}),
      ...(request.force_drain !== undefined ? { force: request.force_drain } : {}),
    };
    // Fails now, with the field named, rather than in the middle of the roll.
    resolveStrategy(this.plans.get(row.plan_name).update, overrides, row.worker_instances || 1);
    return overrides;
  }
}
