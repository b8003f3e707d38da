import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock, type NetworkProfile } from '@slipway/contracts';
import { requireRole, seesAllClusters, type Principal } from '../auth/roles.js';
import { isoNow } from '../clock.js';
import type { Store } from '../store/index.js';
import { CLOCK, STORE } from '../tokens.js';
import { validateNetworkProfile } from './profile-schema.js';
import { clustersUsing, profileOf, requireNetworkProfile } from './profile-store.js';

/** A profile as the API shows it (TKGI's fields), with who made it and when. */
export interface NetworkProfileView extends NetworkProfile {
  created_by: string;
  created_at: string;
}

/**
 * TKGI's network profiles: an admin defines them (`create-network-profile`), anyone who creates clusters
 * reads them to choose one (`network-profiles`; a name and its network settings hold no secret), and a profile
 * a live cluster uses cannot be deleted.
 */
@injectable()
export class NetworkProfileService {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(CLOCK) private readonly clock: Clock,
  ) {}

  async list(principal: Principal): Promise<NetworkProfileView[]> {
    this.requireReader(principal);
    const rows = await this.store.db.selectFrom('network_profiles').selectAll().orderBy('name').execute();
    return rows.map((r) => ({ ...profileOf(r), created_by: r.created_by, created_at: r.created_at }));
  }

  async get(principal: Principal, name: string): Promise<NetworkProfileView> {
    this.requireReader(principal);
    const row = await this.store.db
      .selectFrom('network_profiles')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    if (!row)
      throw new SlipwayError('NotFound', `network profile "${name}" does not exist`, {
        hint: 'List them with: slipway network-profiles',
      });
    return { ...profileOf(row), created_by: row.created_by, created_at: row.created_at };
  }

  async create(principal: Principal, document: unknown): Promise<NetworkProfileView> {
    requireRole(principal, ['clusters.admin'], 'create network profiles');
    const profile = validateNetworkProfile(document);
    const now = isoNow(this.clock);
    const inserted = await this.store.db
      .insertInto('network_profiles')
      .values({
        name: profile.name,
        description: profile.description ?? null,
        parameters: JSON.stringify(profile.parameters),
        created_by: principal.name,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    if (!Number(inserted.numInsertedOrUpdatedRows ?? 0n)) {
      throw new SlipwayError('AlreadyExists', `network profile "${profile.name}" already exists`, {
        field: 'name',
        hint: 'Profiles are immutable: create one under another name, or delete this one first (when no cluster uses it).',
      });
    }
    return this.get(principal, profile.name);
  }

  async delete(principal: Principal, name: string): Promise<void> {
    requireRole(principal, ['clusters.admin'], 'delete network profiles');
    await requireNetworkProfile(this.store.db, name, 'name');
    const users = await clustersUsing(this.store.db, name);
    if (users.length > 0) {
      // Only the count for whoever does not see every cluster: other tenants' cluster names do not leak.
      const names = seesAllClusters(principal) ? `: ${users.map((u) => u.name).join(', ')}` : '';
      throw new SlipwayError(
        'Conflict',
        `network profile "${name}" is used by ${users.length} cluster${users.length > 1 ? 's' : ''}${names}`,
        {
          details: { clusters: users.length },
          hint: 'Delete those clusters, or move them to another profile with: slipway update-cluster NAME --network-profile OTHER',
        },
      );
    }
    await this.store.db.deleteFrom('network_profiles').where('name', '=', name).execute();
  }

  private requireReader(principal: Principal): void {
    requireRole(principal, ['clusters.admin', 'clusters.admin.read', 'clusters.manage'], 'read network profiles');
  }
}
