import type { Clock, Logger } from '@slipway/contracts';
import type { PluginSet } from '../plugins/plugin-set.js';
import { withRetry } from '../retry.js';
import type { Store } from '../store/index.js';

/** A present instance whose VM the cloud says is gone. */
export interface VanishedVm {
  instanceId: string;
  clusterUuid: string;
  vmCid: string;
}

/**
 * The monitor's periodic look at the clouds: one `listResources` per IaaS target with the `inventory`
 * capability (not one call per VM), then `hasVm` only for the few VMs the list lacks, to rule out a VM
 * created while the list was being read. Targets without `inventory` rely on heartbeats alone.
 */
export class CloudSweep {
  constructor(
    private readonly store: Store,
    private readonly plugins: PluginSet,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async vanished(signal: AbortSignal): Promise<VanishedVm[]> {
    const out: VanishedVm[] = [];
    for (const target of this.plugins.iaas.values()) {
      if (!target.capabilities.includes('inventory') || !target.driver.listResources) continue;
      // Read the store first: a VM created after this read is not a suspect, one deleted after it is re-checked.
      const rows = await this.store.db
        .selectFrom('instances')
        .innerJoin('clusters', 'clusters.uuid', 'instances.cluster_uuid')
        .select(['instances.id', 'instances.cluster_uuid', 'instances.vm_cid'])
        .where('clusters.iaas', '=', target.name)
        .where('clusters.status', '=', 'active')
        .where('instances.desired', 'in', ['present', 'drain'])
        .where('instances.vm_cid', 'is not', null)
        .where('instances.state', 'not in', ['missing', 'stopped'])
        .execute();
      if (!rows.length) continue;
      let listed: Set<string>;
      try {
        const inventory = await target.driver.listResources({ tags: {} }, { signal });
        listed = new Set(inventory.vms.map((v) => v.vmId));
      } catch (e) {
        this.logger.warn('cloud check: listing VMs failed; trying again next interval', {
          iaas: target.name,
          error: (e as Error).message,
        });
        continue;
      }
      for (const row of rows) {
        if (listed.has(row.vm_cid!)) continue;
        try {
          const exists = await withRetry(
            `${target.name}: hasVm ${row.vm_cid}`,
            () => target.driver.hasVm({ vmId: row.vm_cid! }, { signal }),
            { clock: this.clock, signal, policy: { attempts: 3, baseMs: 100, maxMs: 1000 } },
          );
          if (!exists) out.push({ instanceId: row.id, clusterUuid: row.cluster_uuid, vmCid: row.vm_cid! });
        } catch (e) {
          this.logger.warn('cloud check: hasVm failed', {
            iaas: target.name,
            vm: row.vm_cid,
            error: (e as Error).message,
          });
        }
      }
    }
    return out;
  }

  /** Whether a VM exists, for an instance that went silent; undefined when the cloud could not say. */
  async hasVm(iaas: string, vmCid: string, signal: AbortSignal): Promise<boolean | undefined> {
    const target = this.plugins.iaas.get(iaas);
    if (!target) return undefined;
    try {
      return await withRetry(`${iaas}: hasVm ${vmCid}`, () => target.driver.hasVm({ vmId: vmCid }, { signal }), {
        clock: this.clock,
        signal,
        policy: { attempts: 3, baseMs: 100, maxMs: 1000 },
      });
    } catch (e) {
      this.logger.warn('hasVm failed for a silent instance', { iaas, vm: vmCid, error: (e as Error).message });
      return undefined;
    }
  }
}
