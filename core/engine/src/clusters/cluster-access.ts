import { SlipwayError } from '@slipway/contracts';
import { mayAccessCluster, seesAllClusters, type Principal } from '../auth/roles.js';
import type { ClusterWithTask, Store } from '../store/index.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Finds a live cluster the principal may read (or change), by name or by uuid.
 *
 * Names are unique per owner, not globally: a tenant's name lookup only ever looks at its own clusters, so
 * another tenant's cluster of the same name is neither found nor reported, and a create never collides with
 * it. Admins and admin.read see every cluster; when two owners use one name, the name is ambiguous for them
 * and they name the cluster by its uuid (the answer lists the candidates, which they may see anyway).
 */
export async function findCluster(
  store: Store,
  principal: Principal,
  ref: string,
  access: 'read' | 'write',
): Promise<ClusterWithTask> {
  const row = await lookUp(store, principal, ref);
  if (!row || !mayAccessCluster(principal, row.owner_id, 'read')) throw clusterNotFound(ref);
  if (!mayAccessCluster(principal, row.owner_id, access)) {
    throw new SlipwayError(
      'Forbidden',
      `${principal.name} (${principal.roles.join(', ')}) may read but not change cluster "${row.name}": changing it needs clusters.admin, or clusters.manage as its owner`,
      { hint: 'Ask an admin for clusters.admin, or ask the owner to make the change.' },
    );
  }
  return row;
}

/** The one answer for a cluster that does not exist and one the caller may not see. */
export function clusterNotFound(ref: string): SlipwayError {
  return new SlipwayError('NotFound', `cluster "${ref}" does not exist`, {
    hint: 'List clusters with `slipway clusters`.',
  });
}

async function lookUp(store: Store, principal: Principal, ref: string): Promise<ClusterWithTask | undefined> {
  if (seesAllClusters(principal)) {
    const rows = await store.clusters.findAllByName(ref);
    if (rows.length > 1) {
      throw new SlipwayError(
        'Conflict',
        `${rows.length} clusters are named "${ref}": ${rows.map((r) => `${r.uuid} (owner ${r.owner})`).join(', ')}`,
        {
          field: 'name',
          hint: 'Name the cluster by its uuid instead.',
          details: { clusters: rows.map((r) => ({ uuid: r.uuid, owner: r.owner })) },
        },
      );
    }
    if (rows[0]) return rows[0];
  } else if (principal.roles.includes('clusters.manage')) {
    const own = await store.clusters.findOwned(principal.id, ref);
    if (own) return own;
  }
  if (!UUID.test(ref)) return undefined;
  const row = await store.clusters.findByUuid(ref.toLowerCase());
  return row?.status === 'active' ? row : undefined;
}
