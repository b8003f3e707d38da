import type { VmType } from '../config/schema.js';
import type { ClusterRow, Db, InstanceRow, InstanceSpecRow } from '../store/index.js';

/** What a VM runs: the rolling update replaces an instance whose spec differs from the target. */
export interface InstanceSpec {
  k8sVersion: string;
  /** `name/version` */
  stemcell: string;
  vmType: VmType;
}

/** JSON with sorted keys, so two equal VM types compare equal whatever order slipway.yaml wrote them in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sameSpec(a: InstanceSpec, b: InstanceSpec): boolean {
  return (
    a.k8sVersion === b.k8sVersion && a.stemcell === b.stemcell && canonicalJson(a.vmType) === canonicalJson(b.vmType)
  );
}

export function describeSpecChange(from: InstanceSpec, to: InstanceSpec): string {
  const parts: string[] = [];
  if (from.k8sVersion !== to.k8sVersion) parts.push(`Kubernetes ${from.k8sVersion} → ${to.k8sVersion}`);
  if (from.stemcell !== to.stemcell) parts.push(`stemcell ${from.stemcell} → ${to.stemcell}`);
  if (canonicalJson(from.vmType) !== canonicalJson(to.vmType)) parts.push('VM type');
  return parts.join(', ') || 'recreate';
}

/**
 * Per-instance specs and per-roll progress. An instance created before anything recorded its spec runs
 * what its cluster says (k8s_version, stemcell) on its plan's current VM type.
 */
export class InstanceSpecs {
  constructor(private readonly db: Db) {}

  async ofCluster(
    cluster: ClusterRow,
    fallbackVmType: (group: InstanceRow['group_name']) => VmType,
    instances: InstanceRow[],
  ): Promise<Map<string, InstanceSpec>> {
    const rows = await this.db
      .selectFrom('instance_specs')
      .selectAll()
      .where('cluster_uuid', '=', cluster.uuid)
      .execute();
    const byId = new Map(rows.map((r) => [r.instance_id, r]));
    return new Map(
      instances.map((i) => {
        const row = byId.get(i.id);
        return [
          i.id,
          row
            ? specOf(row)
            : { k8sVersion: cluster.k8s_version, stemcell: cluster.stemcell, vmType: fallbackVmType(i.group_name) },
        ];
      }),
    );
  }

  async record(instance: Pick<InstanceRow, 'id' | 'cluster_uuid'>, spec: InstanceSpec, at: string): Promise<void> {
    const values = {
      k8s_version: spec.k8sVersion,
      stemcell: spec.stemcell,
      vm_type: canonicalJson(spec.vmType),
      updated_at: at,
    };
    await this.db
      .insertInto('instance_specs')
      .values({ instance_id: instance.id, cluster_uuid: instance.cluster_uuid, ...values })
      .onConflict((oc) => oc.column('instance_id').doUpdateSet(values))
      .execute();
  }

  async forget(instanceIds: string[]): Promise<void> {
    if (instanceIds.length)
      await this.db.deleteFrom('instance_specs').where('instance_id', 'in', instanceIds).execute();
  }

  async progress(rollKey: string): Promise<Map<string, 'retired' | 'done'>> {
    const rows = await this.db
      .selectFrom('roll_progress')
      .select(['instance_id', 'state'])
      .where('roll_key', '=', rollKey)
      .execute();
    return new Map(rows.map((r) => [r.instance_id, r.state as 'retired' | 'done']));
  }

  async mark(rollKey: string, instanceId: string, state: 'retired' | 'done', at: string): Promise<void> {
    await this.db
      .insertInto('roll_progress')
      .values({ roll_key: rollKey, instance_id: instanceId, state, at })
      .onConflict((oc) => oc.columns(['roll_key', 'instance_id']).doUpdateSet({ state, at }))
      .execute();
  }
}

function specOf(row: InstanceSpecRow): InstanceSpec {
  return { k8sVersion: row.k8s_version, stemcell: row.stemcell, vmType: JSON.parse(row.vm_type) as VmType };
}
