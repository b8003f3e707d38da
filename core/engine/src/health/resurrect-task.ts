import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { isoNow } from '../clock.js';
import type { SlipwayConfig } from '../config/schema.js';
import { label } from '../lifecycle/provisioner.js';
import { PlanCatalog } from '../plans.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import { forEachLimit } from '../retry.js';
import type { InstanceRow, Store } from '../store/index.js';
import type { StepContext, TaskDefinition } from '../tasks/model.js';
import { CLOCK, CONFIG, PLUGINS, STORE } from '../tokens.js';
import { ApiEndpoint } from '../upgrades/api-endpoint.js';
import { InstanceReplacer, type ReplaceProgress } from '../upgrades/instance-replacer.js';
import { resolveStrategy } from '../upgrades/update-strategy.js';
import { HealthRecords } from './health-records.js';
import { Resurrector, type ResurrectParams } from './resurrector.js';

export const RESURRECT_STEPS = ['confirm', 'retire', 'recreate', 'agents', 'api-endpoint', 'close'] as const;

/** A step's view of the progress callbacks the replacer wants. */
export function progressOf(ctx: StepContext): ReplaceProgress {
  return { signal: ctx.signal, log: (m) => void ctx.log('info', m), waitingFor: (t) => void ctx.waitingFor(t) };
}

/**
 * The steps of a resurrection. Each works on the instances of the task whose incident is still open, so a
 * step re-run after a crash (or after an instance came back by itself) only does what is left:
 * confirm (still down? VM still there?), retire (delete what is left of the VM, keep the disk), recreate
 * (new VM, same address, same disk), agents (the new agents report running), api-endpoint, close.
 */
@injectable()
export class ResurrectionSteps {
  private readonly records: HealthRecords;

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(CONFIG) private readonly config: SlipwayConfig,
    @inject(PlanCatalog) private readonly plans: PlanCatalog,
    @inject(InstanceReplacer) private readonly replacer: InstanceReplacer,
    @inject(ApiEndpoint) private readonly endpoint: ApiEndpoint,
    @inject(Resurrector) readonly resurrector: Resurrector,
  ) {
    this.records = new HealthRecords(store.db);
  }

  /** The task's instances whose incident is still open. */
  private async working(ctx: StepContext<ResurrectParams>): Promise<InstanceRow[]> {
    const open = new Set((await this.records.openIncidents(ctx.cluster.uuid)).map((i) => i.id));
    const rows = new Map((await this.store.instances.ofCluster(ctx.cluster.uuid)).map((r) => [r.id, r]));
    return ctx.params.instances
      .filter((p) => open.has(p.incident_id) && rows.has(p.instance_id))
      .map((p) => rows.get(p.instance_id)!);
  }

  async confirm(ctx: StepContext<ResurrectParams>): Promise<void> {
    const at = isoNow(this.clock);
    const incidents = new Map((await this.records.openIncidents(ctx.cluster.uuid)).map((i) => [i.instance_id, i]));
    const target = this.plugins.iaasTarget(ctx.cluster.iaas);
    const left: string[] = [];
    for (const p of ctx.params.instances) {
      const row = await this.store.instances.get(p.instance_id);
      const incident = incidents.get(p.instance_id);
      if (!incident) continue;
      if (row?.desired !== 'present') {
        await this.records.resolve(p.instance_id, 'removed', at);
        await ctx.log('info', `${row ? label(row) : p.instance_id}: left the cluster meanwhile; nothing to resurrect`);
        continue;
      }
      if (
        (row.state === 'running' || row.state === 'failing') &&
        row.last_heartbeat_at &&
        row.last_heartbeat_at > incident.detected_at
      ) {
        await this.records.resolve(row.id, 'recovered', at);
        await ctx.log('info', `${label(row)}: its agent reports again (${row.state}); nothing to resurrect`);
        continue;
      }
      const exists = row.vm_cid ? await this.replacer.hasVm(target, row.vm_cid, ctx.signal) : false;
      await ctx.log(
        'info',
        `${label(row)} (${row.ip}): ${exists ? `VM ${row.vm_cid} exists but its agent is silent; it will be replaced` : `VM ${row.vm_cid ?? '(none)'} is gone; it will be recreated`}`,
      );
      left.push(`${label(row)} (${exists ? 'unresponsive' : 'missing'})`);
    }
    await ctx.detail(left.length ? `to resurrect: ${left.join(', ')}` : 'nothing left to resurrect');
  }

  async retire(ctx: StepContext<ResurrectParams>): Promise<void> {
    const rows = await this.working(ctx);
    const plan = this.plans.get(ctx.cluster.plan_name);
    const strategy = resolveStrategy(plan.update, {}, rows.length || 1);
    const target = this.plugins.iaasTarget(ctx.cluster.iaas);
    await forEachLimit(rows, this.config.tasks.max_concurrent_vm_calls, async (row) => {
      if (row.vm_cid && (await this.replacer.hasVm(target, row.vm_cid, ctx.signal))) {
        // A dead VM's disk may never detach cleanly: the VM is deleted regardless (which detaches it).
        await this.replacer.retire(
          ctx.cluster,
          row,
          { detachTimeoutMs: strategy.detachTimeoutMs, force: true },
          progressOf(ctx),
        );
      } else {
        await ctx.log(
          'info',
          `${label(row)}: VM ${row.vm_cid ?? '(none)'} is already gone; its disk is free to reattach`,
        );
      }
      const disk = await this.store.instances.diskOf(row.id);
      if (disk?.attached_vm_cid)
        await this.store.instances.upsertDisk({
          ...disk,
          attached_vm_cid: null,
          state: 'detached',
          updated_at: isoNow(this.clock),
        });
    });
    await ctx.detail(rows.length ? `retired ${rows.map(label).join(', ')}` : 'nothing to retire');
  }

  async recreate(ctx: StepContext<ResurrectParams>): Promise<void> {
    const rows = await this.working(ctx);
    const cluster = (await this.store.clusters.findByUuid(ctx.cluster.uuid))!;
    let done = 0;
    await ctx.detail(`0 of ${rows.length} VMs recreated`);
    await forEachLimit(rows, this.config.tasks.max_concurrent_vm_calls, async (row) => {
      const { plan, stemcellId } = await this.replacer.currentSpec(cluster, row, progressOf(ctx));
      await this.replacer.recreate(cluster, row, plan, stemcellId, progressOf(ctx));
      done++;
      await ctx.detail(`${done} of ${rows.length} VMs recreated`);
    });
  }

  async agents(ctx: StepContext<ResurrectParams>): Promise<void> {
    const rows = await this.working(ctx);
    await this.replacer.waitHealthy(
      ctx.cluster.uuid,
      rows.map((r) => r.id),
      { lowMs: 0, highMs: 0 },
      progressOf(ctx),
    );
    await ctx.detail(rows.length ? `${rows.map(label).join(', ')} running` : 'no agents to wait for');
  }

  async apiEndpoint(ctx: StepContext<ResurrectParams>): Promise<void> {
    const address = await this.endpoint.repoint(ctx.cluster.uuid, ctx.signal);
    await ctx.detail(address ? `API endpoint → ${address}` : 'no master address yet');
  }

  async close(ctx: StepContext<ResurrectParams>): Promise<void> {
    const rows = await this.working(ctx);
    const at = isoNow(this.clock);
    for (const row of rows) {
      const before = ctx.params.instances.find((p) => p.instance_id === row.id)!;
      const disk = await this.store.instances.diskOf(row.id);
      await this.records.resolve(row.id, 'resurrected', at);
      await this.store.events.record({
        at,
        cluster_uuid: row.cluster_uuid,
        instance_id: row.id,
        kind: 'resurrection.done',
        severity: 'info',
        message: `${label(row)} resurrected: VM ${before.vm_cid ?? '(none)'} → ${row.vm_cid} at ${row.ip}${disk?.disk_cid ? `, persistent disk ${disk.disk_cid} reattached` : ''} (task ${ctx.task.id})`,
      });
    }
    await this.resurrector.recordSuccess(ctx.cluster.uuid);
    await ctx.detail(rows.length ? `resurrected ${rows.map(label).join(', ')}` : 'nothing was left to resurrect');
  }

  /** The failed step and its error, for the alert (the task's own error is written after onFailure). */
  async failureOf(ctx: StepContext): Promise<string> {
    const failed = (await this.store.tasks.steps(ctx.task.id)).find((s) => s.state === 'failed');
    return failed ? `step ${failed.name}: ${failed.detail ?? 'failed'}` : 'the task failed';
  }
}

export function resurrectTask(steps: ResurrectionSteps): TaskDefinition<ResurrectParams> {
  return {
    type: 'RESURRECT',
    steps: () => [...RESURRECT_STEPS],
    async run(step, ctx) {
      switch (step as (typeof RESURRECT_STEPS)[number]) {
        case 'confirm':
          return steps.confirm(ctx);
        case 'retire':
          return steps.retire(ctx);
        case 'recreate':
          return steps.recreate(ctx);
        case 'agents':
          return steps.agents(ctx);
        case 'api-endpoint':
          return steps.apiEndpoint(ctx);
        case 'close':
          return steps.close(ctx);
        default:
          throw new SlipwayError('Internal', `unknown RESURRECT step ${step}`);
      }
    },
    async onFailure(ctx) {
      await ctx.log('error', 'resurrection failed; the resurrector tries again after a backoff');
      await steps.resurrector.recordFailure(
        ctx.cluster.uuid,
        ctx.cluster.name,
        ctx.task.id,
        await steps.failureOf(ctx),
      );
    },
  };
}
