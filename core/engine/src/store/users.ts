import type { Db } from './open.js';
import type { UserRow } from './schema.js';

export class UserRepository {
  constructor(private readonly db: Db) {}

  async byName(name: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async list(): Promise<UserRow[]> {
    return this.db.selectFrom('users').selectAll().orderBy('name').execute();
  }

  async byId(id: number): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Inserts a user; false when the name is taken. The unique constraint decides, so racing creates cannot both win. */
  async insert(user: Omit<UserRow, 'id'>): Promise<boolean> {
    const r = await this.db
      .insertInto('users')
      .values(user)
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async remove(name: string): Promise<number> {
    const r = await this.db.deleteFrom('users').where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async removeById(id: number): Promise<number> {
    const r = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async setRoles(id: number, roles: string): Promise<void> {
    await this.db.updateTable('users').set({ roles }).where('id', '=', id).execute();
  }

  async setPasswordHash(id: number, passwordHash: string): Promise<void> {
    await this.db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).execute();
  }

  async deleteTokensOf(userId: number): Promise<void> {
    await this.db.deleteFrom('tokens').where('user_id', '=', userId).execute();
  }

  async insertToken(tokenHash: string, userId: number, expiresAt: string, createdAt: string): Promise<void> {
    await this.db
      .insertInto('tokens')
      .values({ token_hash: tokenHash, user_id: userId, expires_at: expiresAt, created_at: createdAt })
      .execute();
  }

  async userByToken(tokenHash: string): Promise<(UserRow & { expires_at: string }) | undefined> {
    return this.db
      .selectFrom('tokens')
      .innerJoin('users', 'users.id', 'tokens.user_id')
      .selectAll('users')
      .select('tokens.expires_at')
      .where('tokens.token_hash', '=', tokenHash)
      .executeTakeFirst();
  }

  async deleteToken(tokenHash: string): Promise<void> {
    await this.db.deleteFrom('tokens').where('token_hash', '=', tokenHash).execute();
  }

  /** Deletes tokens that expired before `now`; returns how many. */
  async deleteExpiredTokens(now: string): Promise<number> {
    const r = await this.db.deleteFrom('tokens').where('expires_at', '<', now).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
