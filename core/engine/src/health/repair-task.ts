import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { isoNow } from '../clock.js';
import type { Store } from '../store/index.js';
import type { StepContext, TaskDefinition } from '../tasks/model.js';
import { CLOCK, STORE } from '../tokens.js';
import { ApiEndpoint } from '../upgrades/api-endpoint.js';
import { InstanceReplacer } from '../upgrades/instance-replacer.js';
import { InstanceSpecs } from '../upgrades/instance-specs.js';
import { Doctor, type Resolution } from './doctor.js';
import { HealthRecords } from './health-records.js';
import { progressOf } from './resurrect-task.js';

/** The fixes an operator chose in `slipway doctor`, by problem id. */
export interface RepairParams {
  resolutions: Array<{ problem_id: string; resolution: Resolution; description: string }>;
}

export const REPAIR_STEPS = ['rescan', 'apply', 'agents', 'api-endpoint'] as const;

/**
 * REPAIR: applies the chosen fixes to the problems a fresh scan still finds (a problem fixed meanwhile, by
 * the resurrector or by hand, is skipped), then waits for the agents of recreated or rebooted VMs.
 * Progress per problem is kept, so a resumed task does not apply a fix twice.
 */
@injectable()
export class RepairSteps {
  private readonly progress: InstanceSpecs;
  private readonly records: HealthRecords;

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(Doctor) private readonly doctor: Doctor,
    @inject(InstanceReplacer) private readonly replacer: InstanceReplacer,
    @inject(ApiEndpoint) private readonly endpoint: ApiEndpoint,
  ) {
    this.progress = new InstanceSpecs(store.db);
    this.records = new HealthRecords(store.db);
  }

  async rescan(ctx: StepContext<RepairParams>): Promise<void> {
    const report = await this.doctor.scan(ctx.cluster, ctx.signal);
    const present = new Set(report.problems.map((p) => p.id));
    const gone = ctx.params.resolutions.filter((r) => !present.has(r.problem_id));
    for (const r of gone) await ctx.log('info', `already fixed: ${r.description}`);
    await ctx.detail(
      `${ctx.params.resolutions.length - gone.length} of ${ctx.params.resolutions.length} problems still present`,
    );
  }

  async apply(ctx: StepContext<RepairParams>): Promise<void> {
    const key = `task:${ctx.task.id}:repair`;
    const done = await this.progress.progress(key);
    let applied = 0;
    for (const chosen of ctx.params.resolutions) {
      if (done.get(chosen.problem_id) === 'done' || chosen.resolution === 'ignore') continue;
      const report = await this.doctor.scan(ctx.cluster, ctx.signal);
      const problem = report.problems.find((p) => p.id === chosen.problem_id);
      if (!problem) {
        await this.progress.mark(key, chosen.problem_id, 'done', isoNow(this.clock));
        continue;
      }
      await ctx.waitingFor(`${chosen.resolution} for: ${problem.description}`);
      const waitFor = await this.doctor.apply(
        ctx.cluster,
        problem,
        chosen.resolution,
        ctx.signal,
        (m) => void ctx.log('info', m),
      );
      if (waitFor) await this.progress.mark(`${key}:agents`, waitFor, 'retired', isoNow(this.clock));
      await this.progress.mark(key, chosen.problem_id, 'done', isoNow(this.clock));
      applied++;
      await ctx.detail(`${applied} fix${applied === 1 ? '' : 'es'} applied`);
    }
    await ctx.waitingFor(null);
  }

  async agents(ctx: StepContext<RepairParams>): Promise<void> {
    const ids = [...(await this.progress.progress(`task:${ctx.task.id}:repair:agents`)).keys()];
    await this.replacer.waitHealthy(ctx.cluster.uuid, ids, { lowMs: 0, highMs: 0 }, progressOf(ctx));
    const at = isoNow(this.clock);
    for (const id of ids) await this.records.resolve(id, 'repaired', at);
    await ctx.detail(ids.length ? `${ids.length} VM${ids.length > 1 ? 's' : ''} running again` : 'no VM to wait for');
  }

  async apiEndpoint(ctx: StepContext<RepairParams>): Promise<void> {
    const address = await this.endpoint.repoint(ctx.cluster.uuid, ctx.signal);
    await ctx.detail(address ? `API endpoint → ${address}` : 'no masters');
  }
}

export function repairTask(steps: RepairSteps): TaskDefinition<RepairParams> {
  return {
    type: 'REPAIR',
    steps: () => [...REPAIR_STEPS],
    async run(step, ctx) {
      switch (step as (typeof REPAIR_STEPS)[number]) {
        case 'rescan':
          return steps.rescan(ctx);
        case 'apply':
          return steps.apply(ctx);
        case 'agents':
          return steps.agents(ctx);
        case 'api-endpoint':
          return steps.apiEndpoint(ctx);
        default:
          throw new SlipwayError('Internal', `unknown REPAIR step ${step}`);
      }
    },
  };
}
