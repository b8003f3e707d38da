import { randomUUID } from 'node:crypto';
import {
  PERMISSION_OPERATIONS,
  SlipwayError,
  type CredentialContext,
  type CredentialPermission,
  type PermissionOperation,
} from '@slipway/contracts';
import { credentialScope } from '@slipway/pki';
import { ENGINE_ACTOR } from './config.js';
import { coveringPaths, normalizePermissionPath, pathCovers } from './names.js';
import type { CredentialDb, PermissionRow } from './store/schema.js';

export interface AccessOptions {
  fullAccessActors?: readonly string[];
  adminRoles?: readonly string[];
}

/** CredHub's one answer for a credential that does not exist and one the caller may not touch. */
export const INVALID_ACCESS =
  'The request could not be completed because the credential does not exist or you do not have sufficient authorization.';

/**
 * CredHub's access model: additive permission entries (actor, path, operations), default deny; users with an
 * admin role hold every permission without an entry. Above it sits Slipway's path-class table
 * (CREDENTIAL_SCOPES in @slipway/pki), which no entry or role can widen: `engine` credentials (CA keys'
 * owners, agent, component, node and admin certificates, the control plane's own) are reached by the
 * engine's actor and configured full-access actors only; a `certificate-authority` credential is readable
 * through the ACLs with its key withheld, and only the engine writes or signs with it.
 *
 * A refusal never tells whether the credential exists: reads and deletes answer as for a missing one (404),
 * writes 403, both with CredHub's one message and no name.
 */
export class AccessPolicy {
  private readonly fullAccess: Set<string>;
  private readonly adminRoles: Set<string>;
  /** Entries per actor; the store has one writer (this process), so the cache is invalidated on write. */
  private readonly cache = new Map<string, CredentialPermission[]>();

  constructor(
    private readonly db: CredentialDb,
    options: AccessOptions = {},
  ) {
    this.fullAccess = new Set([ENGINE_ACTOR, ...(options.fullAccessActors ?? [])]);
    this.adminRoles = new Set(options.adminRoles ?? ['clusters.admin']);
  }

  /** The engine, or a configured full-access service actor: reaches every credential, keys included. */
  isEngine(ctx: CredentialContext): boolean {
    return this.fullAccess.has(ctx.actor);
  }

  /** Whether the caller holds every permission on every `granted` path (the engine, or an admin role). */
  isPrivileged(ctx: CredentialContext): boolean {
    return this.isEngine(ctx) || (ctx.roles ?? []).some((r) => this.adminRoles.has(r));
  }

  async allows(ctx: CredentialContext, name: string, operation: PermissionOperation): Promise<boolean> {
    if (this.isEngine(ctx)) return true;
    const scope = credentialScope(name);
    if (scope === 'engine' || (scope === 'certificate-authority' && operation !== 'read')) return false;
    if (this.isPrivileged(ctx)) return true;
    const paths = new Set(coveringPaths(name));
    return (await this.entriesOf(ctx.actor)).some((e) => paths.has(e.path) && e.operations.includes(operation));
  }

  /** Whether the caller gets the private key of a credential it may read (not of a CA, unless it is the engine). */
  revealsKey(ctx: CredentialContext, name: string): boolean {
    return this.isEngine(ctx) || credentialScope(name) !== 'certificate-authority';
  }

  async require(ctx: CredentialContext, name: string, operation: PermissionOperation): Promise<void> {
    if (await this.allows(ctx, name, operation)) return;
    throw refusal(operation, `${ctx.actor} may not ${operation} ${name}`);
  }

  /** Signing with a CA needs its key: read access and a scope that reveals it. */
  async requireSigner(ctx: CredentialContext, name: string): Promise<void> {
    if ((await this.allows(ctx, name, 'read')) && this.revealsKey(ctx, name)) return;
    throw refusal('read', `${ctx.actor} may not sign with ${name}`);
  }

  /** A filter for find and listings: names the caller may read. */
  async readable(ctx: CredentialContext): Promise<(name: string) => boolean> {
    if (this.isEngine(ctx)) return () => true;
    const visible = (name: string) => credentialScope(name) !== 'engine';
    if (this.isPrivileged(ctx)) return visible;
    const paths = (await this.entriesOf(ctx.actor)).filter((e) => e.operations.includes('read')).map((e) => e.path);
    return (name) => visible(name) && paths.some((p) => pathCovers(p, name));
  }

  async entriesOf(actor: string): Promise<CredentialPermission[]> {
    const hit = this.cache.get(actor);
    if (hit) return hit;
    const rows = await this.db.selectFrom('permissions').selectAll().where('actor', '=', actor).execute();
    const entries = rows.map(toPermission);
    this.cache.set(actor, entries);
    return entries;
  }

  async byUuid(uuid: string): Promise<CredentialPermission | undefined> {
    const row = await this.db.selectFrom('permissions').selectAll().where('uuid', '=', uuid).executeTakeFirst();
    return row ? toPermission(row) : undefined;
  }

  async byActorAndPath(actor: string, path: string): Promise<CredentialPermission | undefined> {
    const row = await this.db
      .selectFrom('permissions')
      .selectAll()
      .where('actor', '=', actor)
      .where('path', '=', path)
      .executeTakeFirst();
    return row ? toPermission(row) : undefined;
  }

  /** Creates an entry, or with `merge` adds operations to an existing one; `exists` says which happened. */
  async upsert(
    input: { actor: string; path: string; operations: PermissionOperation[] },
    merge: boolean,
  ): Promise<{ permission: CredentialPermission; existed: boolean }> {
    const path = normalizePermissionPath(input.path);
    const actor = checkActor(input.actor);
    const operations = checkOperations(input.operations);
    const now = new Date().toISOString();
    const existing = await this.byActorAndPath(actor, path);
    if (existing && !merge) return { permission: existing, existed: true };
    const merged = sortOperations([...(existing?.operations ?? []), ...operations]);
    if (existing) {
      await this.db
        .updateTable('permissions')
        .set({ operations: JSON.stringify(merged), updated_at: now })
        .where('uuid', '=', existing.uuid)
        .execute();
    } else {
      // Two control plane replicas may grant the same path at once: the loser merges into the winner's row.
      const inserted = await this.db
        .insertInto('permissions')
        .values({
          uuid: randomUUID(),
          actor,
          path,
          operations: JSON.stringify(merged),
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) => oc.columns(['actor', 'path']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
        this.cache.delete(actor);
        return this.upsert(input, true);
      }
    }
    this.cache.delete(actor);
    return { permission: (await this.byActorAndPath(actor, path))!, existed: Boolean(existing) };
  }

  async replaceOperations(uuid: string, operations: PermissionOperation[]): Promise<CredentialPermission> {
    const ops = sortOperations(checkOperations(operations));
    const existing = await this.byUuid(uuid);
    if (!existing) throw permissionNotFound();
    await this.db
      .updateTable('permissions')
      .set({ operations: JSON.stringify(ops), updated_at: new Date().toISOString() })
      .where('uuid', '=', uuid)
      .execute();
    this.cache.delete(existing.actor);
    return { ...existing, operations: ops };
  }

  async remove(uuid: string): Promise<CredentialPermission> {
    const existing = await this.byUuid(uuid);
    if (!existing) throw permissionNotFound();
    await this.db.deleteFrom('permissions').where('uuid', '=', uuid).execute();
    this.cache.delete(existing.actor);
    return existing;
  }

  /** Entries on exactly `path` (only `actor`'s, when given), or with no path every entry of `actor`. */
  async removeByPath(path: string | undefined, actor?: string): Promise<number> {
    if (path === undefined && !actor)
      throw new SlipwayError('InvalidInput', 'revoking needs a path, an actor or both', { field: 'path' });
    let q = this.db.deleteFrom('permissions');
    if (path !== undefined) q = q.where('path', '=', normalizePermissionPath(path));
    if (actor) q = q.where('actor', '=', actor);
    const result = await q.executeTakeFirst();
    this.cache.clear();
    return Number(result.numDeletedRows);
  }
}

export function permissionNotFound(): SlipwayError {
  return new SlipwayError('NotFound', 'The request includes a permission that does not exist.', {
    hint: 'List permissions with GET /api/v2/permissions?path=&actor=.',
  });
}

/** The answer to a credential that does not exist, and to one the caller may not read or delete. */
export function credentialNotFound(): SlipwayError {
  return new SlipwayError('NotFound', INVALID_ACCESS, {
    hint: 'Find the names you may read with `slipway credentials find --path /`.',
  });
}

/**
 * A refusal: as a missing credential for reads, deletes and ACL reads (so it tells nothing), 403 for writes
 * (checked before any lookup, so it cannot depend on existence either). Neither names the credential.
 */
export function refusal(operation: PermissionOperation, reason?: string): SlipwayError {
  const error =
    operation === 'read' || operation === 'delete'
      ? credentialNotFound()
      : operation === 'read_acl'
        ? permissionNotFound()
        : new SlipwayError('Forbidden', INVALID_ACCESS, {
            hint: 'Ask an admin for the permission (POST /api/v2/permissions), or use a name you own.',
            details: { operation },
          });
  REASONS.set(error, reason ?? `refused: ${operation}`);
  return error;
}

/** Why a request was refused, for the audit trail only (the caller's answer does not say). */
const REASONS = new WeakMap<object, string>();

export function refusalReason(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? REASONS.get(error) : undefined;
}

function toPermission(row: PermissionRow): CredentialPermission {
  return {
    uuid: row.uuid,
    actor: row.actor,
    path: row.path,
    operations: JSON.parse(row.operations) as PermissionOperation[],
  };
}

function checkActor(actor: unknown): string {
  if (typeof actor !== 'string' || !actor.trim()) {
    throw new SlipwayError(
      'InvalidInput',
      'You must specify an actor. Please validate your input and retry your request.',
      { field: 'actor' },
    );
  }
  return actor;
}

export function checkOperations(operations: unknown): PermissionOperation[] {
  if (!Array.isArray(operations) || operations.length === 0) {
    throw new SlipwayError(
      'InvalidInput',
      'At least one operation must be provided. Please validate your input and retry your request.',
      { field: 'operations' },
    );
  }
  for (const op of operations) {
    if (!PERMISSION_OPERATIONS.includes(op as PermissionOperation)) {
      throw new SlipwayError(
        'InvalidInput',
        'The provided operation is not supported. Valid values include read, write, delete, read_acl, and write_acl.',
        { field: 'operations' },
      );
    }
  }
  return operations as PermissionOperation[];
}

function sortOperations(ops: PermissionOperation[]): PermissionOperation[] {
  return PERMISSION_OPERATIONS.filter((op) => ops.includes(op));
}
