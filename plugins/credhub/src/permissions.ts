import {
  SlipwayError,
  type CredentialContext,
  type CredentialPermission,
  type PermissionOperation,
} from '@slipway/contracts';
import { permissionNotFound, refusal, type AccessPolicy } from './access.js';
import type { AuditLog, AuditNote, AuditOperation } from './audit.js';
import { audited } from './audited.js';
import { normalizePermissionPath } from './names.js';

/**
 * Permission entries as CredHub's v2 API manages them: one entry per actor and path, created once
 * (Conflict after), read with read_acl, changed and deleted with write_acl on its path, never by the
 * actor it is about. `grant` and `revoke` are the engine's idempotent forms. Every call is audited.
 */
export class PermissionService {
  constructor(
    private readonly access: AccessPolicy,
    private readonly auditLog: AuditLog,
  ) {}

  /** Adds operations for an actor on a path, merged with what it has (the engine's grant on cluster creation). */
  async grant(
    input: { actor: string; path: string; operations: PermissionOperation[] },
    ctx: CredentialContext,
  ): Promise<CredentialPermission> {
    return this.run(ctx, 'add_permissions', async (note) => {
      const path = normalizePermissionPath(input.path);
      note.name = path;
      note.details = { actor: input.actor, operations: input.operations };
      await this.access.require(ctx, path, 'write_acl');
      return (await this.access.upsert({ ...input, path }, true)).permission;
    });
  }

  /** Entries on exactly a path (only an actor's, with `actor`); with `actor` alone, all of that actor's (the engine only). */
  async revoke(input: { path?: string; actor?: string }, ctx: CredentialContext): Promise<number> {
    return this.run(ctx, 'delete_permissions', async (note) => {
      note.details = input.actor ? { actor: input.actor } : {};
      if (input.path === undefined) {
        if (!this.access.isEngine(ctx)) throw refusal('write_acl');
        return this.access.removeByPath(undefined, input.actor);
      }
      const path = normalizePermissionPath(input.path);
      note.name = path;
      await this.access.require(ctx, path, 'write_acl');
      return this.access.removeByPath(path, input.actor);
    });
  }

  /** CredHub's POST /api/v2/permissions: a new entry; Conflict when the actor already has one on the path. */
  async create(
    input: { actor: string; path: string; operations: PermissionOperation[] },
    ctx: CredentialContext,
  ): Promise<CredentialPermission> {
    return this.run(ctx, 'add_permissions', async (note) => {
      const path = normalizePermissionPath(input.path);
      note.name = path;
      note.details = { actor: input.actor, operations: input.operations };
      await this.access.require(ctx, path, 'write_acl');
      this.refuseOwnEntry(ctx, input.actor);
      const { permission, existed } = await this.access.upsert({ ...input, path }, false);
      if (existed)
        throw new SlipwayError(
          'Conflict',
          'A permission entry for this actor and path already exists. Please use PUT to update the permission entry.',
          { details: { uuid: permission.uuid } },
        );
      return permission;
    });
  }

  async find(input: { actor: string; path: string }, ctx: CredentialContext): Promise<CredentialPermission> {
    return this.run(ctx, 'read_permissions', async (note) => {
      const path = normalizePermissionPath(input.path);
      note.name = path;
      note.details = { actor: input.actor };
      await this.access.require(ctx, path, 'read_acl');
      const found = await this.access.byActorAndPath(input.actor, path);
      if (!found) throw permissionNotFound();
      return found;
    });
  }

  async get(uuid: string, ctx: CredentialContext): Promise<CredentialPermission> {
    return this.run(ctx, 'read_permissions', async (note) => this.permissionFor(uuid, ctx, 'read_acl', note));
  }

  /** CredHub's PUT: the entry's operations replaced; its actor and path must be given unchanged. */
  async replace(
    uuid: string,
    input: { actor: string; path: string; operations: PermissionOperation[] },
    ctx: CredentialContext,
  ): Promise<CredentialPermission> {
    return this.run(ctx, 'update_permissions', async (note) => {
      const existing = await this.permissionFor(uuid, ctx, 'write_acl', note);
      if (existing.actor !== input.actor || existing.path !== normalizePermissionPath(input.path)) {
        throw new SlipwayError('InvalidInput', 'The permission guid does not match the provided actor and path.', {
          field: 'path',
        });
      }
      return this.access.replaceOperations(uuid, input.operations);
    });
  }

  async patch(uuid: string, operations: PermissionOperation[], ctx: CredentialContext): Promise<CredentialPermission> {
    return this.run(ctx, 'update_permissions', async (note) => {
      await this.permissionFor(uuid, ctx, 'write_acl', note);
      note.details = { ...note.details, operations };
      return this.access.replaceOperations(uuid, operations);
    });
  }

  async remove(uuid: string, ctx: CredentialContext): Promise<CredentialPermission> {
    return this.run(ctx, 'delete_permissions', async (note) => {
      await this.permissionFor(uuid, ctx, 'write_acl', note);
      return this.access.remove(uuid);
    });
  }

  private run<T>(ctx: CredentialContext, operation: AuditOperation, work: (note: AuditNote) => Promise<T>): Promise<T> {
    return audited(this.auditLog, ctx, operation, null, work);
  }

  private async permissionFor(
    uuid: string,
    ctx: CredentialContext,
    operation: PermissionOperation,
    note: AuditNote,
  ): Promise<CredentialPermission> {
    const existing = await this.access.byUuid(uuid);
    if (!existing) throw permissionNotFound();
    note.name = existing.path;
    note.details = { actor: existing.actor, uuid };
    // An entry the caller may not read is answered as a missing one; one it may read but not change, 403.
    if (!(await this.access.allows(ctx, existing.path, 'read_acl'))) throw permissionNotFound();
    if (!(await this.access.allows(ctx, existing.path, operation))) throw refusal(operation);
    if (operation === 'write_acl') this.refuseOwnEntry(ctx, existing.actor);
    return existing;
  }

  /** As CredHub: nobody changes their own access (an admin needs no entries). */
  private refuseOwnEntry(ctx: CredentialContext, actor: string): void {
    if (actor === ctx.actor && !this.access.isPrivileged(ctx)) {
      throw new SlipwayError(
        'InvalidInput',
        'Modification of access control for the authenticated user is not allowed. Please contact an administrator.',
        { field: 'actor' },
      );
    }
  }
}
