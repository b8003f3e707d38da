import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock, type CredentialProvider } from '@slipway/contracts';
import { ENGINE_ACTOR } from '../agents/agent-identity.js';
import { isoNow } from '../clock.js';
import { clusterCredentialPath, grantClusterAccess, revokeClusterAccess, userActor } from '../cluster-pki.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import type { Store, UserRow } from '../store/index.js';
import { CLOCK, PLUGINS, STORE } from '../tokens.js';
import { AuthService } from './auth-service.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { requireRole, ROLES, type Principal, type Role } from './roles.js';

export interface UserView {
  id: number;
  name: string;
  roles: Role[];
  /** The user's actor in the credential API (`user:{id}`), for permission entries. */
  actor: string;
  /** Names of the live clusters it owns. */
  clusters: string[];
  created_at: string;
}

/** Settings key: the owner grants of every live cluster follow the current layout (one pass after an upgrade). */
const GRANTS_LAYOUT = 'credential_grants_layout';
const GRANTS_LAYOUT_VERSION = '2';

/**
 * Users as an admin manages them (`slipway users`): create, list, show, delete, set roles and passwords.
 * A user is known by its immutable id: clusters and credential grants follow the id, so deleting a user and
 * creating another of the same name gives the newcomer nothing of the old one's.
 */
@injectable()
export class UserService {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(AuthService) private readonly auth: AuthService,
  ) {}

  async list(principal: Principal): Promise<UserView[]> {
    requireRole(principal, ['clusters.admin'], 'manage users');
    return Promise.all((await this.store.users.list()).map((u) => this.view(u)));
  }

  async create(principal: Principal, input: { name: string; password: string; roles: Role[] }): Promise<UserView> {
    requireRole(principal, ['clusters.admin'], 'manage users');
    await this.auth.createUser(input.name, input.password, input.roles);
    return this.view((await this.store.users.byName(input.name))!);
  }

  /** An admin sees any user; anyone sees itself. Others are refused before any lookup, whether the name exists or not. */
  async show(principal: Principal, name: string): Promise<UserView> {
    if (principal.name !== name) requireRole(principal, ['clusters.admin'], 'see other users');
    return this.view(await this.existing(name));
  }

  async setRoles(principal: Principal, name: string, roles: Role[]): Promise<UserView> {
    requireRole(principal, ['clusters.admin'], 'manage users');
    checkRoles(roles);
    const user = await this.existing(name);
    const wasAdmin = rolesOf(user).includes('clusters.admin');
    if (wasAdmin && !roles.includes('clusters.admin') && (await this.adminCount()) <= 1) {
      throw new SlipwayError(
        'Conflict',
        `"${name}" is the last user with clusters.admin; removing the role would leave nobody to manage users`,
        { field: 'roles', hint: 'Give another user clusters.admin first.' },
      );
    }
    await this.store.users.setRoles(user.id, JSON.stringify(roles));
    this.auth.forgetPrincipals();
    return this.view((await this.store.users.byId(user.id))!);
  }

  /**
   * An admin sets anyone's password (and the user's tokens are revoked: a reset is what follows a leak); a
   * user changes its own with its current password, keeping its sessions.
   */
  async setPassword(
    principal: Principal,
    name: string,
    input: { password: string; old_password?: string },
  ): Promise<void> {
    const self = principal.name === name;
    const admin = principal.roles.includes('clusters.admin');
    if (!self) requireRole(principal, ['clusters.admin'], "set another user's password");
    if (input.password.length < 8)
      throw new SlipwayError('InvalidInput', 'password must have at least 8 characters', { field: 'password' });
    const user = await this.existing(name);
    if (self && !admin) {
      if (input.old_password === undefined)
        throw new SlipwayError('InvalidInput', 'changing your own password needs your current one (old_password)', {
          field: 'old_password',
        });
      if (!(await verifyPassword(input.old_password, user.password_hash))) {
        throw new SlipwayError('Forbidden', 'the current password (old_password) is wrong', { field: 'old_password' });
      }
    }
    await this.store.users.setPasswordHash(user.id, await hashPassword(input.password));
    if (!self) {
      await this.store.users.deleteTokensOf(user.id);
      this.auth.forgetPrincipals();
    }
  }

  /**
   * Deletes a user: refused while it owns live clusters, unless they are reassigned to another user who
   * may manage them. Its credential grants and kubeconfig certificates go with it, and its tokens stop working.
   */
  async delete(
    principal: Principal,
    name: string,
    options: { reassignTo?: string } = {},
  ): Promise<{ reassigned: string[] }> {
    requireRole(principal, ['clusters.admin'], 'manage users');
    if (name === 'admin') throw new SlipwayError('Conflict', 'the admin user cannot be deleted');
    const user = await this.existing(name);
    if (name === principal.name)
      throw new SlipwayError('Conflict', 'you cannot delete yourself', { hint: 'Ask another admin.' });
    const owned = await this.store.clusters.ownedBy(user.id);
    let target: UserRow | undefined;
    if (options.reassignTo !== undefined) {
      target = await this.store.users.byName(options.reassignTo);
      if (!target)
        throw new SlipwayError('NotFound', `user "${options.reassignTo}" does not exist`, { field: 'reassign_to' });
      if (target.id === user.id)
        throw new SlipwayError('InvalidInput', 'a user cannot take over its own clusters', { field: 'reassign_to' });
      if (!rolesOf(target).some((r) => r === 'clusters.manage' || r === 'clusters.admin')) {
        throw new SlipwayError(
          'InvalidInput',
          `user "${target.name}" has neither clusters.manage nor clusters.admin, so it could not manage the clusters`,
          { field: 'reassign_to' },
        );
      }
    } else if (owned.length) {
      throw new SlipwayError(
        'Conflict',
        `user "${name}" owns ${owned.length} cluster${owned.length > 1 ? 's' : ''} (${owned.slice(0, 10).join(', ')}${owned.length > 10 ? ', ...' : ''})`,
        {
          hint: `Delete them first, or hand them over: slipway users delete ${name} --reassign-to USER`,
        },
      );
    }
    const to = target ? { id: target.id, name: target.name } : undefined;
    const reassigned = to ? await this.store.clusters.reassign(user.id, to, isoNow(this.clock)) : [];
    await this.store.users.removeById(user.id);
    this.auth.forgetPrincipals();
    // A create that slipped in between (a token cached a few seconds) is handed over too.
    if (to) reassigned.push(...(await this.store.clusters.reassign(user.id, to, isoNow(this.clock))));
    await this.releaseCredentials(user, reassigned, target);
    const names = reassigned.length
      ? (await Promise.all(reassigned.map((u) => this.store.clusters.findByUuid(u)))).map((c) => c!.name)
      : [];
    return { reassigned: names };
  }

  /**
   * One pass after an upgrade to the per-path owner grants: every live cluster's owner gets them, and the
   * whole-cluster entries earlier versions granted (to name-based actors) are removed.
   */
  async reconcileGrants(): Promise<number> {
    if ((await this.store.settings.get(GRANTS_LAYOUT)) === GRANTS_LAYOUT_VERSION) return 0;
    const clusters = await this.store.clusters.list();
    for (const cluster of clusters) {
      await this.credentials.revoke?.({ path: `${clusterCredentialPath(cluster.uuid)}/*` }, ENGINE_ACTOR);
      if (cluster.owner_id !== null)
        await grantClusterAccess(this.credentials, ENGINE_ACTOR, cluster.uuid, { id: cluster.owner_id });
    }
    await this.store.settings.set(GRANTS_LAYOUT, GRANTS_LAYOUT_VERSION);
    return clusters.length;
  }

  private get credentials(): CredentialProvider {
    return this.plugins.credentials;
  }

  private async releaseCredentials(user: UserRow, reassigned: string[], target: UserRow | undefined): Promise<void> {
    for (const uuid of reassigned) {
      await revokeClusterAccess(this.credentials, ENGINE_ACTOR, uuid, user);
      await grantClusterAccess(this.credentials, ENGINE_ACTOR, uuid, target!);
    }
    // Entries an admin made for this user anywhere, then its kubeconfig certificates in every cluster.
    await this.credentials.revoke?.({ actor: userActor(user) }, ENGINE_ACTOR);
    const suffix = `/users/${user.id}`;
    const certificates = (await this.credentials.find({ path: '/slipway/clusters' }, ENGINE_ACTOR)).filter((c) =>
      c.name.endsWith(suffix),
    );
    for (const { name } of certificates) await this.credentials.delete(name, ENGINE_ACTOR);
  }

  private async existing(name: string): Promise<UserRow> {
    const user = await this.store.users.byName(name);
    if (!user)
      throw new SlipwayError('NotFound', `user "${name}" does not exist`, {
        hint: 'List users with `slipway users list`.',
      });
    return user;
  }

  private async adminCount(): Promise<number> {
    return (await this.store.users.list()).filter((u) => rolesOf(u).includes('clusters.admin')).length;
  }

  private async view(user: UserRow): Promise<UserView> {
    return {
      id: user.id,
      name: user.name,
      roles: rolesOf(user),
      actor: userActor(user),
      clusters: await this.store.clusters.ownedBy(user.id),
      created_at: user.created_at,
    };
  }
}

function rolesOf(user: UserRow): Role[] {
  return JSON.parse(user.roles) as Role[];
}

function checkRoles(roles: Role[]): void {
  const unknown = roles.filter((r) => !ROLES.includes(r));
  if (unknown.length || roles.length === 0)
    throw new SlipwayError('InvalidInput', `roles must be one or more of ${ROLES.join(', ')}`, { field: 'roles' });
}
