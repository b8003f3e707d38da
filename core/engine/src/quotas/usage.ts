import type { PlanConfig } from '../config/schema.js';
import { ACTIVE_TASK_STATES, type Db } from '../store/index.js';

/** What one cluster holds: its VMs' CPUs and memory (masters + workers, from its plan's VM types). */
export interface Footprint {
  cpu: number;
  memory_mb: number;
}

export interface ClusterUsage extends Footprint {
  uuid: string;
  name: string;
}

/** The footprint of `masters` + `workers` VMs of a plan. */
export function footprintOf(
  plan: Pick<PlanConfig, 'master_vm' | 'worker_vm'>,
  masters: number,
  workers: number,
): Footprint {
  return {
    cpu: masters * plan.master_vm.cpu + workers * plan.worker_vm.cpu,
    memory_mb: masters * plan.master_vm.memory_mb + workers * plan.worker_vm.memory_mb,
  };
}

/** Plans by name: the operator's current ones, else the copy the store kept of a plan since removed. */
export type PlanLookup = (name: string) => Promise<PlanConfig | undefined>;

/**
 * The live clusters of an owner and what each holds. A cluster with a resize or plan change under way counts
 * at the larger of before and after, so a change in flight cannot be spent twice by a second request.
 */
export async function clusterUsages(
  db: Db,
  plans: PlanLookup,
  owner: { id: number } | { name: string },
): Promise<ClusterUsage[]> {
  let q = db
    .selectFrom('clusters')
    .select(['uuid', 'name', 'plan_name', 'master_instances', 'worker_instances'])
    .where('status', '=', 'active');
  q =
    'id' in owner
      ? q.where('owner_id', '=', owner.id)
      : q.where('owner_id', 'is', null).where('owner', '=', owner.name);
  const rows = await q.orderBy('name').execute();
  if (!rows.length) return [];
  const pending = await db
    .selectFrom('tasks')
    .select(['cluster_uuid', 'params'])
    .where('type', '=', 'UPDATE')
    .where('state', 'in', ACTIVE_TASK_STATES)
    .where(
      'cluster_uuid',
      'in',
      rows.map((r) => r.uuid),
    )
    .execute();
  const result: ClusterUsage[] = [];
  for (const row of rows) {
    const now = await footprintFor(plans, row.plan_name, row.master_instances, row.worker_instances);
    let cpu = now.cpu;
    let memory = now.memory_mb;
    for (const task of pending.filter((t) => t.cluster_uuid === row.uuid)) {
      const params = JSON.parse(task.params) as { workers?: number; plan_name?: string };
      const next = await footprintFor(
        plans,
        params.plan_name ?? row.plan_name,
        row.master_instances,
        params.workers ?? row.worker_instances,
      );
      cpu = Math.max(cpu, next.cpu);
      memory = Math.max(memory, next.memory_mb);
    }
    result.push({ uuid: row.uuid, name: row.name, cpu, memory_mb: memory });
  }
  return result;
}

async function footprintFor(plans: PlanLookup, planName: string, masters: number, workers: number): Promise<Footprint> {
  const plan = await plans(planName);
  // A plan gone from both the config and the store cannot be priced; it counts as a cluster with nothing.
  return plan ? footprintOf(plan, masters, workers) : { cpu: 0, memory_mb: 0 };
}
