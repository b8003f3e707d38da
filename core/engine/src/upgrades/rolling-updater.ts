import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { AgentRegistry } from '../agents/agent-registry.js';
import { isoNow } from '../clock.js';
import type { PlanConfig } from '../config/schema.js';
import { label } from '../lifecycle/provisioner.js';
import { PlanCatalog } from '../plans.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import type { ClusterRow, InstanceRow, Store } from '../store/index.js';
import type { StepContext } from '../tasks/model.js';
import { CLOCK, PLUGINS, STORE } from '../tokens.js';
import { ApiEndpoint } from './api-endpoint.js';
import { DiskGrowth } from './disk-growth.js';
import { InstanceReplacer, stopIfAborted, type ReplaceProgress } from './instance-replacer.js';
import { describeSpecChange, InstanceSpecs, sameSpec, type InstanceSpec } from './instance-specs.js';
import { nextBatch, resolveStrategy, type StrategyOverrides, type UpdateStrategy } from './update-strategy.js';
import { stemcellLabel, type Stemcell } from './version-catalog.js';

/** What instances should run when the roll is done. */
export interface RollTarget {
  k8sVersion: string;
  stemcell: Stemcell;
  /** The plan whose VM types the new VMs get (update-cluster changes it). */
  plan: PlanConfig;
}

export interface RollRequest {
  /** Identifies this roll's progress: a resumed step skips what its earlier run replaced. */
  key: string;
  /** Groups rolled by this call; both at once only when the Kubernetes version does not change. */
  groups: ReadonlyArray<'master' | 'worker'>;
  target: RollTarget;
  overrides?: StrategyOverrides;
  /** Replace every instance even when it already runs the target (certificate rotation, --recreate). */
  recreateAll?: boolean;
  /** For logs and events: `upgrade to 1.31.4`. */
  reason: string;
}

/**
 * Rolls a cluster's VMs to a target, as BOSH's update block says: masters one at a time so etcd keeps
 * quorum (never a second master down), workers canaries first then in batches of max_in_flight, counting
 * workers that are down for other reasons against the batch. Each worker is drained before its VM is
 * replaced; the persistent disk is detached and reattached (same disk id), the address kept, and the API
 * endpoint moved off a master before it goes down. Every wait names itself in the task (`slipway task ID`).
 *
 * This is also the hook for rolling a cluster after certificates were reissued: call `roll` from a step of
 * the rotation task with `recreateAll: true` and a key per rotation phase.
 */
@injectable()
export class RollingUpdater {
  private readonly specs: InstanceSpecs;

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(InstanceReplacer) private readonly replacer: InstanceReplacer,
    @inject(ApiEndpoint) private readonly endpoint: ApiEndpoint,
    @inject(AgentRegistry) private readonly agents: AgentRegistry,
    @inject(PlanCatalog) private readonly plans: PlanCatalog,
    @inject(DiskGrowth) private readonly disks: DiskGrowth,
  ) {
    this.specs = new InstanceSpecs(store.db);
  }

  /** The spec a target means for an instance of `group`. */
  specFor(target: RollTarget, group: 'master' | 'worker'): InstanceSpec {
    return {
      k8sVersion: target.k8sVersion,
      stemcell: stemcellLabel(target.stemcell),
      vmType: group === 'master' ? target.plan.master_vm : target.plan.worker_vm,
    };
  }

  /** Instances of the cluster that the target would replace (for the preflight's summary). */
  async pending(
    cluster: ClusterRow,
    target: RollTarget,
    currentPlan: PlanConfig,
    recreateAll = false,
  ): Promise<InstanceRow[]> {
    const rows = (await this.store.instances.ofCluster(cluster.uuid)).filter((i) => i.desired !== 'absent');
    const specs = await this.specs.ofCluster(
      cluster,
      (g) => (g === 'master' ? currentPlan.master_vm : currentPlan.worker_vm),
      rows,
    );
    return rows.filter((r) => recreateAll || !sameSpec(specs.get(r.id)!, this.specFor(target, r.group_name)));
  }

  /** Records the spec of instances nothing recorded yet (created before specs were kept). */
  async recordCurrent(cluster: ClusterRow, plan: PlanConfig): Promise<void> {
    const rows = (await this.store.instances.ofCluster(cluster.uuid)).filter((i) => i.desired !== 'absent');
    const known = new Set(
      (
        await this.store.db
          .selectFrom('instance_specs')
          .select('instance_id')
          .where('cluster_uuid', '=', cluster.uuid)
          .execute()
      ).map((r) => r.instance_id),
    );
    const specs = await this.specs.ofCluster(cluster, (g) => (g === 'master' ? plan.master_vm : plan.worker_vm), rows);
    for (const row of rows)
      if (!known.has(row.id)) await this.specs.record(row, specs.get(row.id)!, isoNow(this.clock));
  }

  /**
   * The hook for certificate rotation: after a phase of a CA rotation reissued credentials (cluster-pki.ts),
   * a step of the rotation task calls this to replace every VM, masters first, one at a time, then workers in
   * batches, so each node's agent renders the new certificates, while versions, stemcell and VM types stay.
   * `phase` names the rotation phase: each phase rolls once, and a resumed step skips what it replaced.
   */
  async rollForCertificates(ctx: StepContext, phase: string): Promise<void> {
    const cluster = (await this.store.clusters.findByUuid(ctx.cluster.uuid))!;
    const slash = cluster.stemcell.lastIndexOf('/');
    const target: RollTarget = {
      k8sVersion: cluster.k8s_version,
      stemcell: { name: cluster.stemcell.slice(0, slash), version: cluster.stemcell.slice(slash + 1) },
      plan: this.plans.get(cluster.plan_name),
    };
    for (const group of ['master', 'worker'] as const) {
      await this.roll(ctx, {
        key: `task:${ctx.task.id}:certificates:${phase}`,
        groups: [group],
        target,
        recreateAll: true,
        reason: `certificate rotation (${phase})`,
      });
    }
  }

  /** Uploads the target's stemcell to the cluster's IaaS target (once per target); returns its cloud id. */
  async ensureStemcell(ctx: StepContext, stemcell: Stemcell): Promise<string> {
    return this.replacer.ensureStemcell(this.plugins.iaasTarget(ctx.cluster.iaas), stemcell, this.progress(ctx));
  }

  async roll(ctx: StepContext, request: RollRequest): Promise<void> {
    const cluster = (await this.store.clusters.findByUuid(ctx.cluster.uuid))!;
    await this.recordCurrent(cluster, this.plans.get(cluster.plan_name));
    const stemcellId = await this.ensureStemcell(ctx, request.target.stemcell);
    await Promise.all(request.groups.map((group) => this.rollGroup(ctx, request, group, stemcellId)));
  }

  private async rollGroup(
    ctx: StepContext,
    request: RollRequest,
    group: 'master' | 'worker',
    stemcellId: string,
  ): Promise<void> {
    const want = this.specFor(request.target, group);
    const progressKey = `${request.key}:${group}`;
    const members0 = await this.members(ctx.cluster, group);
    const strategy = resolveStrategy(request.target.plan.update, request.overrides ?? {}, members0.length);
    // Masters: one at a time, whatever max_in_flight says: a second master down loses etcd quorum.
    const cap = group === 'master' ? 1 : strategy.maxInFlight;
    const canaries = group === 'master' ? Math.min(1, strategy.canaries) : strategy.canaries;
    const plural = `${group}s`;
    for (;;) {
      if (ctx.signal.aborted) throw new SlipwayError('Cancelled', `task ${ctx.task.id} was cancelled`);
      const rows = await this.members(ctx.cluster, group);
      const done = await this.specs.progress(progressKey);
      const specs = await this.specs.ofCluster(ctx.cluster, () => want.vmType, rows);
      const isPending = (r: InstanceRow) =>
        done.get(r.id) !== 'done' &&
        (request.recreateAll || !sameSpec(specs.get(r.id)!, want) || done.get(r.id) === 'retired');
      const pending = rows.filter(isPending);
      const finished = rows.filter((r) => done.get(r.id) === 'done').length;
      if (!pending.length) {
        await ctx.detail(`${plural}: ${finished ? `${finished} replaced` : 'nothing to replace'} (${request.reason})`);
        return;
      }
      const inCanaryPhase = finished < canaries;
      const batchCap = inCanaryPhase ? Math.min(cap, canaries - finished) : cap;
      const members = rows.map((r) => ({
        id: r.id,
        pending: isPending(r),
        healthy: r.state === 'running' && r.desired === 'present',
      }));
      let ids = nextBatch(members, batchCap);
      let repair = false;
      if (!ids.length) {
        // Every slot is taken by members down for another reason. A replaced one that died is replaced again;
        // one still booting is waited for.
        const broken = rows.filter((r) => !isPending(r) && ['unresponsive', 'missing'].includes(r.state));
        if (broken.length) {
          ids = broken.slice(0, batchCap).map((r) => r.id);
          repair = true;
        } else {
          await this.waitForDown(
            ctx,
            rows.filter((r) => !(r.state === 'running' && r.desired === 'present')),
            strategy,
          );
          continue;
        }
      }
      const batch = rows.filter((r) => ids.includes(r.id));
      const watch = inCanaryPhase ? strategy.canaryWatch : strategy.updateWatch;
      const kind = repair ? 'repair' : inCanaryPhase ? `canary` : `batch of ${batch.length}`;
      await ctx.detail(
        `${plural}: ${finished} of ${rows.length} replaced; now ${batch.map(label).join(', ')} (${kind}, ${describeSpecChange(specs.get(batch[0]!.id)!, want)})`,
      );
      await ctx.log('info', `${plural}: replacing ${batch.map(label).join(', ')} (${kind}; ${request.reason})`);
      const results = await Promise.allSettled(
        batch.map((row) =>
          this.replaceOne(
            ctx,
            request,
            row,
            done.get(row.id) === 'retired',
            want,
            stemcellId,
            strategy,
            watch,
            progressKey,
            inCanaryPhase,
          ),
        ),
      );
      const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failure) {
        const error = SlipwayError.from(failure.reason);
        if (inCanaryPhase && error.code !== 'Cancelled') {
          throw new SlipwayError(
            error.code,
            `canary ${batch.map(label).join(', ')} failed, so the roll stopped before touching the rest: ${error.message}`,
            { cause: error, retryable: false, hint: error.hint, details: error.details },
          );
        }
        throw error;
      }
    }
  }

  /** Replaces one instance's VM with one of the target spec; `retired` resumes after the old VM was deleted. */
  private async replaceOne(
    ctx: StepContext,
    request: RollRequest,
    row: InstanceRow,
    retired: boolean,
    want: InstanceSpec,
    stemcellId: string,
    strategy: UpdateStrategy,
    watch: UpdateStrategy['canaryWatch'],
    progressKey: string,
    canary: boolean,
  ): Promise<void> {
    const progress = this.progress(ctx);
    const name = label(row);
    const oldVm = row.vm_cid;
    const cluster = (await this.store.clusters.findByUuid(ctx.cluster.uuid))!;
    if (!retired) {
      if (row.group_name === 'master') await this.endpoint.moveAway(cluster.uuid, row, ctx.signal, progress.log);
      if (row.group_name === 'worker' && row.state === 'running') {
        await this.replacer.drain(
          cluster,
          row,
          { timeoutMs: strategy.drainTimeoutMs, force: strategy.force },
          progress,
        );
      } else if (row.group_name === 'worker') {
        await ctx.log('warn', `${name}: not draining, its agent is ${row.state}`);
      }
      await this.replacer.retire(
        cluster,
        (await this.store.instances.get(row.id))!,
        { detachTimeoutMs: strategy.detachTimeoutMs, force: strategy.force },
        progress,
      );
      await this.specs.mark(progressKey, row.id, 'retired', isoNow(this.clock));
    }
    const plan = { ...request.target.plan };
    // The spec is what the instance is to run from here on: its new VM's agent is told this Kubernetes version,
    // and a resurrection meanwhile recreates it at this spec too.
    await this.specs.record(row, want, isoNow(this.clock));
    // A plan's larger persistent_disk_mb grows the disk while no VM holds it (in place, or by a copy the
    // new VM's agent makes before it mounts the new disk).
    await this.disks.grow(cluster, (await this.store.instances.get(row.id))!, want.vmType.persistent_disk_mb, progress);
    await this.replacer.recreate(cluster, (await this.store.instances.get(row.id))!, plan, stemcellId, progress);
    await this.replacer.waitHealthy(cluster.uuid, [row.id], watch, progress);
    await this.disks.finish(cluster, row, progress);
    progress.log(`${name}: healthy on its new VM through its watch time (${watch.lowMs}-${watch.highMs} ms)`);
    const at = isoNow(this.clock);
    await this.specs.mark(progressKey, row.id, 'done', at);
    const now = (await this.store.instances.get(row.id))!;
    const disk = await this.store.instances.diskOf(row.id);
    await this.store.events.record({
      at,
      cluster_uuid: row.cluster_uuid,
      instance_id: row.id,
      kind: 'instance.replaced',
      severity: 'info',
      message: `${name} replaced${canary ? ' (canary)' : ''} for ${request.reason}: VM ${oldVm ?? '(none)'} → ${now.vm_cid} at ${now.ip}${disk?.disk_cid ? `, disk ${disk.disk_cid} reattached` : ''} (task ${ctx.task.id})`,
    });
    if (row.group_name === 'master') await this.endpoint.repoint(cluster.uuid, ctx.signal);
  }

  /** All slots are taken by instances down for another reason: wait until one is back, naming them. */
  private async waitForDown(ctx: StepContext, down: InstanceRow[], strategy: UpdateStrategy): Promise<void> {
    const ids = new Set(down.map((d) => d.id));
    const names = down.map((d) => `${label(d)} (${d.state})`).join(', ');
    await ctx.log(
      'warn',
      `waiting for ${names} before taking more down: max_in_flight ${strategy.maxInFlight} is used up`,
    );
    try {
      await this.agents.waitForCluster(
        ctx.cluster.uuid,
        (rows) => {
          stopIfAborted(ctx.signal);
          const still = rows.filter(
            (r) =>
              ids.has(r.id) &&
              !(r.state === 'running' && r.desired === 'present') &&
              !['unresponsive', 'missing'].includes(r.state),
          );
          return still.length === ids.size
            ? `${names} to come back before more go down (max_in_flight ${strategy.maxInFlight})`
            : null;
        },
        { timeoutMs: 10 * 60_000, signal: ctx.signal, onWaiting: (w) => void ctx.waitingFor(w) },
      );
    } finally {
      await ctx.waitingFor(null);
    }
  }

  private async members(cluster: ClusterRow, group: 'master' | 'worker'): Promise<InstanceRow[]> {
    return (await this.store.instances.ofCluster(cluster.uuid)).filter(
      (i) => i.group_name === group && i.desired !== 'absent',
    );
  }

  private progress(ctx: StepContext): ReplaceProgress {
    return { signal: ctx.signal, log: (m) => void ctx.log('info', m), waitingFor: (t) => void ctx.waitingFor(t) };
  }
}
