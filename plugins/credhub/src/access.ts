import { randomUUID } from 'node:crypto';
import { PERMISSION_OPERATIONS, SlipwayError, type CredentialContext, type CredentialPermission, type PermissionOperation } from '@slipway/contracts';
import { ENGINE_ACTOR } from './config.js';
import { coveringPaths, normalizePermissionPath, pathCovers } from './names.js';
import type { CredentialDb, PermissionRow } from './store/schema.js';

export interface AccessOptions {
  fullAccessActors?: readonly string[];
  adminRoles?: readonly string[];
}

/**
 * CredHub's access model: additive permission entries (actor, path, operations), default deny. Some
 * callers hold every permission without an entry: the engine's actor and configured ones, and users
 * with an admin role. A denial is `Forbidden` naming the path asked for, whether or not it exists, so
 * it tells nothing of other people's credentials.
 */
export class AccessPolicy {
  private readonly fullAccess: Set<string>;
  private readonly adminRoles: Set<string>;
  /** Entries per actor; the store has one writer (this process), so the cache is invalidated on write. */
  private readonly cache = new Map<string, CredentialPermission[]>();

  constructor(private readonly db: CredentialDb, options: AccessOptions = {}) {
    this.fullAccess = new Set([ENGINE_ACTOR, ...(options.fullAccessActors ?? [])]);
    this.adminRoles = new Set(options.adminRoles ?? ['clusters.admin']);
  }

  /** Whether the caller holds every permission everywhere. */
  isPrivileged(ctx: CredentialContext): boolean {
    return this.fullAccess.has(ctx.actor) || (ctx.roles ?? []).some((r) => this.adminRoles.has(r));
  }

  async allows(ctx: CredentialContext, name: string, operation: PermissionOperation): Promise<boolean> {
    if (this.isPrivileged(ctx)) return true;
    const paths = new Set(coveringPaths(name));
    return (await this.entriesOf(ctx.actor)).some((e) => paths.has(e.path) && e.operations.includes(operation));
  }

  async require(ctx: CredentialContext, name: string, operation: PermissionOperation): Promise<void> {
    if (await this.allows(ctx, name, operation)) return;
    throw new SlipwayError('Forbidden', `${ctx.actor} may not ${operation} ${name}`, {
      hint: `Ask an admin to grant ${operation} on ${name} (POST /api/v2/permissions), or use a name you own.`,
      details: { path: name, operation },
    });
  }

  /** A filter for find and listings: names the caller may read. */
  async readable(ctx: CredentialContext): Promise<(name: string) => boolean> {
    if (this.isPrivileged(ctx)) return () => true;
    const paths = (await this.entriesOf(ctx.actor)).filter((e) => e.operations.includes('read')).map((e) => e.path);
    return (name) => paths.some((p) => pathCovers(p, name));
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
    const row = await this.db.selectFrom('permissions').selectAll().where('actor', '=', actor).where('path', '=', path).executeTakeFirst();
    return row ? toPermission(row) : undefined;
  }

  /** Creates an entry, or with `merge` adds operations to an existing one; `exists` says which happened. */
  async upsert(input: { actor: string; path: string; operations: PermissionOperation[] }, merge: boolean): Promise<{ permission: CredentialPermission; existed: boolean }> {
    const path = normalizePermissionPath(input.path);
    const actor = checkActor(input.actor);
    const operations = checkOperations(input.operations);
    const now = new Date().toISOString();
    const existing = await this.byActorAndPath(actor, path);
    if (existing && !merge) return { permission: existing, existed: true };
    const merged = sortOperations([...(existing?.operations ?? []), ...operations]);
    if (existing) {
      await this.db.updateTable('permissions').set({ operations: JSON.stringify(merged), updated_at: now }).where('uuid', '=', existing.uuid).execute();
    } else {
      await this.db.insertInto('permissions').values({ uuid: randomUUID(), actor, path, operations: JSON.stringify(merged), created_at: now, updated_at: now }).execute();
    }
    this.cache.delete(actor);
    return { permission: (await this.byActorAndPath(actor, path))!, existed: Boolean(existing) };
  }

  async replaceOperations(uuid: string, operations: PermissionOperation[]): Promise<CredentialPermission> {
    const ops = sortOperations(checkOperations(operations));
    const existing = await this.byUuid(uuid);
    if (!existing) throw permissionNotFound();
    await this.db.updateTable('permissions').set({ operations: JSON.stringify(ops), updated_at: new Date().toISOString() }).where('uuid', '=', uuid).execute();
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

  async removeByPath(path: string, actor?: string): Promise<number> {
    const normalized = normalizePermissionPath(path);
    let q = this.db.deleteFrom('permissions').where('path', '=', normalized);
    if (actor) q = q.where('actor', '=', actor);
    const result = await q.executeTakeFirst();
    this.cache.clear();
    return Number(result.numDeletedRows);
  }
}

export function permissionNotFound(): SlipwayError {
  return new SlipwayError('NotFound', 'The request includes a permission that does not exist.', { hint: 'List permissions with GET /api/v2/permissions?path=&actor=.' });
}

function toPermission(row: PermissionRow): CredentialPermission {
  return { uuid: row.uuid, actor: row.actor, path: row.path, operations: JSON.parse(row.operations) as PermissionOperation[] };
}

function checkActor(actor: unknown): string {
  if (typeof actor !== 'string' || !actor.trim()) {
    throw new SlipwayError('InvalidInput', 'You must specify an actor. Please validate your input and retry your request.', { field: 'actor' });
  }
  return actor;
}

export function checkOperations(operations: unknown): PermissionOperation[] {
  if (!Array.isArray(operations) || operations.length === 0) {
    throw new SlipwayError('InvalidInput', 'At least one operation must be provided. Please validate your input and retry your request.', { field: 'operations' });
  }
  for (const op of operations) {
    if (!PERMISSION_OPERATIONS.includes(op as PermissionOperation)) {
      throw new SlipwayError('InvalidInput', 'The provided operation is not supported. Valid values include read, write, delete, read_acl, and write_acl.', { field: 'operations' });
    }
  }
  return operations as PermissionOperation[];
}

function sortOperations(ops: PermissionOperation[]): PermissionOperation[] {
  return PERMISSION_OPERATIONS.filter((op) => ops.includes(op));
}
