import { SlipwayError, type NetworkProfile } from '@slipway/contracts';
import type { Db } from '../store/index.js';
import type { NetworkProfileRow } from '../store/schema.js';

export function profileOf(row: NetworkProfileRow): NetworkProfile {
  const parameters = JSON.parse(row.parameters) as NetworkProfile['parameters'];
  return { name: row.name, ...(row.description ? { description: row.description } : {}), parameters };
}

export async function findNetworkProfile(db: Db, name: string): Promise<NetworkProfile | undefined> {
  const row = await db.selectFrom('network_profiles').selectAll().where('name', '=', name).executeTakeFirst();
  return row ? profileOf(row) : undefined;
}

/** The profile a request names, or NotFound naming the field and how to list what exists. */
export async function requireNetworkProfile(db: Db, name: string, field: string): Promise<NetworkProfile> {
  const profile = await findNetworkProfile(db, name);
  if (!profile) {
    throw new SlipwayError('NotFound', `network profile "${name}" does not exist`, {
      field,
      hint: 'List them with: slipway network-profiles',
    });
  }
  return profile;
}

/** Live clusters using a profile: owners and names, for the in-use check. */
export async function clustersUsing(db: Db, name: string): Promise<Array<{ name: string; owner: string }>> {
  return db
    .selectFrom('clusters')
    .select(['name', 'owner'])
    .where('network_profile', '=', name)
    .where('status', '=', 'active')
    .execute();
}
