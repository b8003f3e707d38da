import { inject, injectable } from 'tsyringe';
import { SlipwayError, withRetry, type Clock, type NetworkObject } from '@slipway/contracts';
import { requireRole, type Principal } from '../auth/roles.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import type { Store } from '../store/index.js';
import { CLOCK, PLUGINS, STORE } from '../tokens.js';

/** The network objects tagged with one cluster uuid that no live cluster has. */
export interface NetworkLeftover {
  cluster_uuid: string;
  /** The deleted cluster's name when the store still has its row; null for a uuid it never knew. */
  cluster_name: string | null;
  objects: NetworkObject[];
}

export interface NetworkLeftoverReport {
  /** False when the network driver cannot list what it made (no `leftovers` capability). */
  supported: boolean;
  leftovers: NetworkLeftover[];
}

/**
 * `slipway doctor --leftovers`: what the network driver still holds for clusters that are gone (a delete that
 * crashed between steps, a store restored from an older backup), by the cluster uuid every object is tagged
 * with, and their removal through the driver's own `teardownCluster`. Admins only: it spans every tenant.
 */
@injectable()
export class NetworkLeftovers {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
  ) {}

  async scan(principal: Principal, signal?: AbortSignal): Promise<NetworkLeftoverReport> {
    requireRole(principal, ['clusters.admin'], 'look for network leftovers');
    const network = this.plugins.network;
    if (!this.plugins.networkCapabilities.includes('leftovers') || !network.listClusterObjects)
      return { supported: false, leftovers: [] };
    const objects = await withRetry('listClusterObjects', () => network.listClusterObjects!({ signal }), {
      clock: this.clock,
      signal,
    });
    const uuids = [...new Set(objects.map((o) => o.clusterId))];
    if (!uuids.length) return { supported: true, leftovers: [] };
    const rows = await this.store.db
      .selectFrom('clusters')
      .select(['uuid', 'name', 'status'])
      .where('uuid', 'in', uuids)
      .execute();
    const byUuid = new Map(rows.map((r) => [r.uuid, r]));
    const leftovers = uuids
      .filter((u) => byUuid.get(u)?.status !== 'active')
      .map((uuid) => ({
        cluster_uuid: uuid,
        cluster_name: byUuid.get(uuid)?.name ?? null,
        objects: objects.filter((o) => o.clusterId === uuid),
      }));
    return { supported: true, leftovers };
  }

  /** Tears down what the network holds for a cluster that is gone; a live cluster's network is refused. */
  async remove(principal: Principal, clusterUuid: string, signal?: AbortSignal): Promise<void> {
    requireRole(principal, ['clusters.admin'], 'remove network leftovers');
    const row = await this.store.db
      .selectFrom('clusters')
      .select(['name', 'status'])
      .where('uuid', '=', clusterUuid)
      .executeTakeFirst();
    if (row?.status === 'active') {
      throw new SlipwayError(
        'Conflict',
        `cluster ${clusterUuid} (${row.name}) is live: its network objects are not leftovers`,
        {
          hint: `Delete the cluster instead: slipway delete-cluster ${row.name}`,
        },
      );
    }
    const network = this.plugins.network;
    await withRetry(
      `teardownCluster ${clusterUuid}`,
      () => network.teardownCluster({ clusterId: clusterUuid }, { signal }),
      { clock: this.clock, signal },
    );
  }
}
