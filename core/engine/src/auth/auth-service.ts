import { createHash, randomBytes } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { isoNow } from '../clock.js';
import type { SlipwayConfig } from '../config/schema.js';
import type { Store } from '../store/index.js';
import { CLOCK, CONFIG, STORE } from '../tokens.js';
import { generatePassword, hashPassword, verifyPassword } from './passwords.js';
import { ROLES, type Principal, type Role } from './roles.js';

export interface IssuedToken {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  scope: string;
}

/**
 * Users, password logins and bearer tokens. Tokens are random and stored only as SHA-256 hashes; a small
 * in-memory cache keeps the hot path (every API call) off the database.
 */
@injectable()
export class AuthService {
  private readonly cache = new Map<string, { principal: Principal; expiresAt: number }>();

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(CONFIG) private readonly config: SlipwayConfig,
  ) {}

  /** First start: creates `admin` with the given password or a generated one (returned once, never stored). */
  /**
   * Creates the admin user on the first start. Says whether it did, and returns the password only when it
   * generated one (to be printed once; only its hash is stored).
   */
  async ensureAdmin(password?: string): Promise<{ created: boolean; generatedPassword?: string }> {
    if (await this.store.users.byName('admin')) return { created: false };
    const chosen = password || generatePassword();
    await this.createUser('admin', chosen, ['clusters.admin']);
    return { created: true, generatedPassword: password ? undefined : chosen };
  }

  async createUser(name: string, password: string, roles: Role[]): Promise<void> {
    if (!/^[a-z0-9][a-z0-9._-]{0,62}$/i.test(name)) {
      throw new SlipwayError('InvalidInput', `user name "${name}" is not valid: use letters, digits, dot, dash, underscore`, { field: 'name' });
    }
    const unknown = roles.filter((r) => !ROLES.includes(r));
    if (unknown.length || roles.length === 0) {
      throw new SlipwayError('InvalidInput', `roles must be one or more of ${ROLES.join(', ')}`, { field: 'roles' });
    }
    if (password.length < 8) throw new SlipwayError('InvalidInput', 'password must have at least 8 characters', { field: 'password' });
    const taken = () => new SlipwayError('AlreadyExists', `user "${name}" already exists`, { field: 'name' });
    if (await this.store.users.byName(name)) throw taken();
    // Racing creates of one name: the unique constraint lets one in; the others are told it exists.
    if (!(await this.store.users.insert({ name, password_hash: await hashPassword(password), roles: JSON.stringify(roles), created_at: isoNow(this.clock) }))) throw taken();
  }

  /** Forgets cached principals: after a user is deleted or its roles change, its tokens stop carrying the old ones. */
  forgetPrincipals(): void {
    this.cache.clear();
  }

  /** OAuth2 password grant. */
  async passwordGrant(username: string, password: string): Promise<IssuedToken> {
    const user = await this.store.users.byName(username);
    // Same error for an unknown user and a wrong password: no user enumeration.
    if (!user || !(await verifyPassword(password, user.password_hash))) {
      throw new SlipwayError('Unauthenticated', 'bad credentials: unknown user or wrong password', { hint: 'Check the user name and password.' });
    }
    const token = randomBytes(32).toString('base64url');
    const ttl = this.config.api.token_ttl_seconds;
    const now = this.clock.now();
    await this.store.users.insertToken(hashToken(token), user.id, new Date(now + ttl * 1000).toISOString(), new Date(now).toISOString());
    const roles = JSON.parse(user.roles) as Role[];
    return { access_token: token, token_type: 'bearer', expires_in: ttl, scope: roles.join(' ') };
  }

  /** The principal behind a bearer token; throws Unauthenticated when it is unknown or expired. */
  async authenticate(token: string): Promise<Principal> {
    const hash = hashToken(token);
    const now = this.clock.now();
    const cached = this.cache.get(hash);
    if (cached && cached.expiresAt > now) return cached.principal;
    const row = await this.store.users.userByToken(hash);
    if (!row || Date.parse(row.expires_at) <= now) {
      this.cache.delete(hash);
      throw new SlipwayError('Unauthenticated', row ? 'your access token has expired' : 'the access token is not valid', { hint: 'Run `slipway login` again.' });
    }
    const principal: Principal = Object.freeze({ id: row.id, name: row.name, roles: Object.freeze(JSON.parse(row.roles) as Role[]) });
    // Cache briefly so a deleted user or revoked token stops working within seconds.
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { principal, expiresAt: Math.min(Date.parse(row.expires_at), now + 10_000) });
    return principal;
  }

  async revoke(token: string): Promise<void> {
    const hash = hashToken(token);
    this.cache.delete(hash);
    await this.store.users.deleteToken(hash);
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
