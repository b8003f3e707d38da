import { SlipwayError } from '@slipway/contracts';
import { mayAccessCluster, type Principal } from '../auth/roles.js';
import type { ClusterWithTask, Store } from '../store/index.js';

/**
 * Finds a live cluster the principal may read (or change), with the same answers as the cluster routes:
 * another tenant's cluster is reported missing, so its name does not leak.
 */
export async function findCluster(store: Store, principal: Principal, name: string, access: 'read' | 'write'): Promise<ClusterWithTask> {
  const row = await store.clusters.findByName(name);
  if (!row || !mayAccessCluster(principal, row.owner, 'read')) {
    throw new SlipwayError('NotFound', `cluster "${name}" does not exist`, { hint: 'List clusters with `slipway clusters`.' });
  }
  if (!mayAccessCluster(principal, row.owner, access)) {
    throw new SlipwayError('Forbidden', `${principal.name} (${principal.roles.join(', ')}) may read but not change cluster "${name}": changing it needs clusters.admin, or clusters.manage as its owner`, { hint: 'Ask an admin for clusters.admin, or ask the owner to make the change.' });
  }
  return row;
}
