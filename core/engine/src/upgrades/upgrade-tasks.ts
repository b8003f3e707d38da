import { inject, injectable } from 'tsyringe';
import type { KubernetesApiSteps } from '../kubernetes-api/api-steps.js';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { isoNow } from '../clock.js';
import { label } from '../lifecycle/provisioner.js';
import { PlanCatalog } from '../plans.js';
import type { Store } from '../store/index.js';
import type { StepContext, TaskDefinition } from '../tasks/model.js';
import { CLOCK, STORE } from '../tokens.js';
import { ApiEndpoint } from './api-endpoint.js';
import { RollingUpdater, type RollTarget } from './rolling-updater.js';
import type { StrategyOverrides } from './update-strategy.js';
import { stemcellLabel, VersionCatalog, type Stemcell } from './version-catalog.js';

/** upgrade-cluster: a Kubernetes version and/or a stemcell. */
export interface UpgradeParams {
  kind: 'upgrade';
  k8s_version: string;
  stemcell: Stemcell;
  from: { k8s_version: string; stemcell: string };
  overrides: StrategyOverrides;
  /** Masters finish before workers start (always when the Kubernetes version changes). */
  serial: boolean;
}

/** update-cluster: a plan change (VM types), or --recreate of every VM. */
export interface UpdateParams {
  kind: 'update';
  plan_name: string;
  from_plan: string;
  recreate: boolean;
  overrides: StrategyOverrides;
  serial: boolean;
}

const SERIAL_STEPS = ['preflight', 'stemcell', 'masters', 'workers', 'api-endpoint', 'finalize'];
const PARALLEL_STEPS = ['preflight', 'stemcell', 'nodes', 'api-endpoint', 'finalize'];

/** The steps of upgrade-cluster and update-cluster; the VM work is the rolling updater's. */
@injectable()
export class UpgradeSteps {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(PlanCatalog) private readonly plans: PlanCatalog,
    @inject(VersionCatalog) private readonly catalog: VersionCatalog,
    @inject(RollingUpdater) readonly roller: RollingUpdater,
    @inject(ApiEndpoint) private readonly endpoint: ApiEndpoint,
  ) {}

  target(ctx: StepContext<UpgradeParams | UpdateParams>): RollTarget {
    const p = ctx.params;
    if (p.kind === 'upgrade')
      return { k8sVersion: p.k8s_version, stemcell: p.stemcell, plan: this.plans.get(ctx.cluster.plan_name) };
    const [name, version] = splitStemcell(ctx.cluster.stemcell);
    return { k8sVersion: ctx.cluster.k8s_version, stemcell: { name, version }, plan: this.plans.get(p.plan_name) };
  }

  reason(p: UpgradeParams | UpdateParams): string {
    if (p.kind === 'upgrade') {
      const parts = [
        p.from.k8s_version !== p.k8s_version ? `Kubernetes ${p.k8s_version}` : '',
        p.from.stemcell !== stemcellLabel(p.stemcell) ? `stemcell ${stemcellLabel(p.stemcell)}` : '',
      ].filter(Boolean);
      return `upgrade to ${parts.join(' and ') || 'the same versions'}`;
    }
    return p.plan_name !== p.from_plan ? `update to plan ${p.plan_name}` : 'recreate';
  }

  async preflight(ctx: StepContext<UpgradeParams | UpdateParams>): Promise<void> {
    const p = ctx.params;
    const cluster = (await this.store.clusters.findByUuid(ctx.cluster.uuid))!;
    if (p.kind === 'upgrade') {
      // Checked again on a resume: the catalog in slipway.yaml may have changed while the task waited.
      if (p.k8s_version !== cluster.k8s_version) this.catalog.checkUpgrade(cluster.k8s_version, p.k8s_version);
      if (!this.catalog.hasStemcell(p.stemcell))
        this.catalog.checkStemcell(splitStemcellObj(cluster.stemcell), p.stemcell);
    }
    const current = this.plans.get(cluster.plan_name);
    await this.roller.recordCurrent(cluster, current);
    const pending = await this.roller.pending(cluster, this.target(ctx), current, p.kind === 'update' && p.recreate);
    const rows = await this.store.instances.ofCluster(cluster.uuid);
    const down = rows.filter((r) => r.desired === 'present' && r.state !== 'running');
    if (down.length)
      await ctx.log(
        'warn',
        `${down.map((d) => `${label(d)} (${d.state})`).join(', ')} not running before the roll: replaced first, within max_in_flight`,
      );
    await ctx.detail(
      `${this.reason(p)}: ${pending.length} of ${rows.length} VMs to replace (${pending.map(label).join(', ') || 'none'})`,
    );
  }

  async stemcell(ctx: StepContext<UpgradeParams | UpdateParams>): Promise<void> {
    const target = this.target(ctx);
    const id = await this.roller.ensureStemcell(ctx, target.stemcell);
    await ctx.detail(`stemcell ${stemcellLabel(target.stemcell)} is ${id}`);
  }

  async roll(ctx: StepContext<UpgradeParams | UpdateParams>, groups: Array<'master' | 'worker'>): Promise<void> {
    const p = ctx.params;
    await this.roller.roll(ctx, {
      key: `task:${ctx.task.id}`,
      groups,
      target: this.target(ctx),
      overrides: p.overrides,
      recreateAll: p.kind === 'update' && p.recreate,
      reason: this.reason(p),
    });
  }

  async apiEndpoint(ctx: StepContext): Promise<void> {
    const address = await this.endpoint.repoint(ctx.cluster.uuid, ctx.signal);
    await ctx.detail(address ? `API endpoint → ${address}` : 'no masters');
  }

  async finalize(ctx: StepContext<UpgradeParams | UpdateParams>): Promise<void> {
    const p = ctx.params;
    const at = isoNow(this.clock);
    if (p.kind === 'upgrade') {
      await this.store.clusters.update(ctx.cluster.uuid, {
        k8s_version: p.k8s_version,
        stemcell: stemcellLabel(p.stemcell),
        updated_at: at,
      });
    } else {
      await this.store.clusters.update(ctx.cluster.uuid, { plan_name: p.plan_name, updated_at: at });
    }
    await this.store.events.record({
      at,
      cluster_uuid: ctx.cluster.uuid,
      instance_id: null,
      kind: p.kind === 'upgrade' ? 'cluster.upgraded' : 'cluster.updated',
      severity: 'info',
      message: `${this.reason(p)} done (task ${ctx.task.id})`,
    });
    await ctx.detail(this.reason(p));
  }

  async failed(ctx: StepContext<UpgradeParams | UpdateParams>): Promise<void> {
    const failed = (await this.store.tasks.steps(ctx.task.id)).find(
      (s) => s.state === 'failed' || s.state === 'skipped',
    );
    await this.store.events.record({
      at: isoNow(this.clock),
      cluster_uuid: ctx.cluster.uuid,
      instance_id: null,
      kind: `${ctx.params.kind}.failed`,
      severity: 'warning',
      message: `${this.reason(ctx.params)} stopped${failed ? ` in step ${failed.name}: ${failed.detail ?? ''}` : ''}; instances already replaced keep the new spec, the rest the old one; run it again to finish (task ${ctx.task.id})`,
    });
  }
}

function splitStemcell(label: string): [string, string] {
  const i = label.lastIndexOf('/');
  return [label.slice(0, i), label.slice(i + 1)];
}

function splitStemcellObj(label: string): Stemcell {
  const [name, version] = splitStemcell(label);
  return { name, version };
}

function stepsOf(serial: boolean): string[] {
  return serial ? [...SERIAL_STEPS] : [...PARALLEL_STEPS];
}

async function runStep(
  steps: UpgradeSteps,
  step: string,
  ctx: StepContext<UpgradeParams | UpdateParams>,
): Promise<void> {
  switch (step) {
    case 'preflight':
      return steps.preflight(ctx);
    case 'stemcell':
      return steps.stemcell(ctx);
    case 'masters':
      return steps.roll(ctx, ['master']);
    case 'workers':
      return steps.roll(ctx, ['worker']);
    case 'nodes':
      return steps.roll(ctx, ['master', 'worker']);
    case 'api-endpoint':
      return steps.apiEndpoint(ctx);
    case 'finalize':
      return steps.finalize(ctx);
    default:
      throw new SlipwayError('Internal', `unknown ${ctx.params.kind} step ${step}`);
  }
}

/**
 * The last step of a roll, after the cluster records its new version: the API must answer /readyz again
 * (unless the plan says kubernetes.require_api: false), or the roll ends failed with why.
 */
const API_STEP = 'kubernetes-api';

export function upgradeClusterTask(
  steps: UpgradeSteps,
  kubernetes?: KubernetesApiSteps,
): TaskDefinition<UpgradeParams> {
  return {
    type: 'UPGRADE',
    steps: (p) => [...stepsOf(p.serial), ...(kubernetes ? [API_STEP] : [])],
    run: (step, ctx) => (step === API_STEP ? kubernetes!.awaitApi(ctx) : runStep(steps, step, ctx)),
    onFailure: (ctx) => steps.failed(ctx),
  };
}

/** The rolling half of UPDATE (update-cluster); resize keeps its own definition. */
export function updateClusterTask(steps: UpgradeSteps, kubernetes?: KubernetesApiSteps): TaskDefinition<UpdateParams> {
  return {
    type: 'UPDATE',
    steps: (p) => [...stepsOf(p.serial), ...(kubernetes ? [API_STEP] : [])],
    run: (step, ctx) => (step === API_STEP ? kubernetes!.awaitApi(ctx) : runStep(steps, step, ctx)),
    onFailure: (ctx) => steps.failed(ctx),
  };
}

/**
 * PKS calls both a resize and an update-cluster UPDATE; the task runner keeps one definition per type.
 * This one dispatches on the task's params: `{ kind: 'update' }` rolls, anything else is a resize.
 */
export function updateTaskVariants(
  resize: TaskDefinition<any>,
  update: TaskDefinition<UpdateParams>,
): TaskDefinition<any> {
  const pick = (params: unknown) => ((params as { kind?: string } | null)?.kind === 'update' ? update : resize);
  return {
    type: 'UPDATE',
    steps: (params) => pick(params).steps(params),
    run: (step, ctx) => pick(ctx.params).run(step, ctx),
    onFailure: async (ctx) => pick(ctx.params).onFailure?.(ctx),
    onDone: async (ctx) => pick(ctx.params).onDone?.(ctx),
  };
}
