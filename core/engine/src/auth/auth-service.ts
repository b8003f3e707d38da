import { createHash, randomBytes } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { isoNow } from '../clock.js';
import type { SlipwayConfig } from '../config/schema.js';
import type { Store } from '../store/index.js';
import { CLOCK, CONFIG, STORE } from '../tokens.js';
import { HashGate } from './hash-gate.js';
import { LoginLimiter } from './login-limiter.js';
import { generatePassword, hashPassword, needsRehash, verifyPassword } from './passwords.js';
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
  private readonly limiter: LoginLimiter;
  /** Hash of a random password, checked for unknown users so they cost what a wrong password costs. */
  private dummyHash: Promise<string> | undefined;
  private readonly hashing = new HashGate();

  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(CONFIG) private readonly config: SlipwayConfig,
  ) {
    this.limiter = new LoginLimiter(
      config.api.login_limits ?? { per_user: 5, per_address: 20, window_seconds: 300 },
      clock,
    );
  }

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
      throw new SlipwayError(
        'InvalidInput',
        `user name "${name}" is not valid: use letters, digits, dot, dash, underscore`,
        { field: 'name' },
      );
    }
    const unknown = roles.filter((r) => !ROLES.includes(r));
    if (unknown.length || roles.length === 0) {
      throw new SlipwayError('InvalidInput', `roles must be one or more of ${ROLES.join(', ')}`, { field: 'roles' });
    }
    if (password.length < 8)
      throw new SlipwayError('InvalidInput', 'password must have at least 8 characters', { field: 'password' });
    const taken = () => new SlipwayError('AlreadyExists', `user "${name}" already exists`, { field: 'name' });
    if (await this.store.users.byName(name)) throw taken();
    // Racing creates of one name: the unique constraint lets one in; the others are told it exists.
    if (
      !(await this.store.users.insert({
        name,
        password_hash: await this.hashing.run(() => hashPassword(password)),
        roles: JSON.stringify(roles),
        created_at: isoNow(this.clock),
      }))
    )
      throw taken();
  }

  /** Forgets cached principals: after a user is deleted or its roles change, its tokens stop carrying the old ones. */
  forgetPrincipals(): void {
    this.cache.clear();
  }

  /**
   * OAuth2 password grant. An unknown user is checked against a dummy hash, so it takes as long as a
   * wrong password (no user enumeration by timing). Failures count per user name and per source address;
   * past the limit the grant is refused with RateLimited (429, Retry-After) before any hash is computed.
   * A hash made with older parameters is replaced after a correct password.
   */
  async passwordGrant(username: string, password: string, sourceAddress?: string): Promise<IssuedToken> {
    const waitMs = this.limiter.retryAfterMs(username, sourceAddress);
    if (waitMs > 0) {
      await this.loginEvent(
        'auth.login_refused',
        'warning',
        `login of "${username}" from ${sourceAddress ?? 'unknown address'} refused: too many failed logins`,
      );
      throw new SlipwayError('RateLimited', 'too many failed logins; try again later', {
        retryAfterMs: waitMs,
        hint: `Wait ${Math.ceil(waitMs / 1000)} s, or ask an admin to check the events for auth.login_failed.`,
      });
    }
    const user = await this.store.users.byName(username);
    const valid = await this.hashing.run(async () => {
      this.dummyHash ??= hashPassword(generatePassword());
      return verifyPassword(password, user?.password_hash ?? (await this.dummyHash));
    });
    // Same error for an unknown user and a wrong password: no user enumeration.
    if (!user || !valid) {
      this.limiter.recordFailure(username, sourceAddress);
      await this.loginEvent(
        'auth.login_failed',
        'warning',
        `failed login of "${username}" from ${sourceAddress ?? 'unknown address'}`,
      );
      throw new SlipwayError('Unauthenticated', 'bad credentials: unknown user or wrong password', {
        hint: 'Check the user name and password.',
      });
    }
    this.limiter.recordSuccess(username);
    if (needsRehash(user.password_hash))
      await this.store.users.setPasswordHash(user.id, await this.hashing.run(() => hashPassword(password)));
    const token = randomBytes(32).toString('base64url');
    const ttl = this.config.api.token_ttl_seconds;
    const now = this.clock.now();
    await this.store.users.insertToken(
      hashToken(token),
      user.id,
      new Date(now + ttl * 1000).toISOString(),
      new Date(now).toISOString(),
    );
    const roles = JSON.parse(user.roles) as Role[];
    return { access_token: token, token_type: 'bearer', expires_in: ttl, scope: roles.join(' ') };
  }

  /** Deletes tokens past their expiry (at start and periodically); returns how many. */
  async pruneExpiredTokens(): Promise<number> {
    return this.store.users.deleteExpiredTokens(isoNow(this.clock));
  }

  private async loginEvent(kind: string, severity: 'info' | 'warning', message: string): Promise<void> {
    // User names come from the request: keep the event short whatever was sent.
    await this.store.events.record({
      at: isoNow(this.clock),
      cluster_uuid: null,
      instance_id: null,
      kind,
      severity,
      message: message.slice(0, 500),
    });
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
      throw new SlipwayError(
        'Unauthenticated',
        row ? 'your access token has expired' : 'the access token is not valid',
        { hint: 'Run `slipway login` again.' },
      );
    }
    const principal: Principal = Object.freeze({
      id: row.id,
      name: row.name,
      roles: Object.freeze(JSON.parse(row.roles) as Role[]),
    });
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
