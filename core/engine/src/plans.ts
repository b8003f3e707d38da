import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { isoNow } from './clock.js';
import type { PlanConfig, SlipwayConfig } from './config/schema.js';
import type { Store } from './store/index.js';
import { CLOCK, CONFIG, STORE } from './tokens.js';

/** The operator's plans, from slipway.yaml, mirrored into the store so history outlives a config edit. */
@injectable()
export class PlanCatalog {
  private readonly byName: Map<string, PlanConfig>;

  constructor(
    @inject(CONFIG) private readonly config: SlipwayConfig,
    @inject(STORE) private readonly store: Store,
    @inject(CLOCK) private readonly clock: Clock,
  ) {
    this.byName = new Map(config.plans.map((p) => [p.name, p]));
  }

  list(): PlanConfig[] {
    return [...this.byName.values()];
  }

  get(name: string): PlanConfig {
    const plan = this.byName.get(name);
    if (!plan) {
      throw new SlipwayError(
        'NotFound',
        `plan "${name}" does not exist; plans: ${[...this.byName.keys()].join(', ')}`,
        {
          field: 'plan_name',
          hint: 'List plans with `slipway plans`.',
        },
      );
    }
    return plan;
  }

  kubernetesVersion(plan: PlanConfig): string {
    return plan.kubernetes_version ?? this.config.kubernetes.default_version;
  }

  async persist(): Promise<void> {
    const now = isoNow(this.clock);
    for (const plan of this.byName.values()) {
      const spec = JSON.stringify(plan);
      await this.store.db
        .insertInto('plans')
        .values({ name: plan.name, spec, updated_at: now })
        .onConflict((oc) => oc.column('name').doUpdateSet({ spec, updated_at: now }))
        .execute();
    }
  }
}
