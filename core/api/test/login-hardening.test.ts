import { randomBytes, scryptSync } from 'node:crypto';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_YAML } from '@slipway/engine';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';

// The suite hashes at a test rig's cost (vitest.config.ts); what is tested here is the product's: OWASP's 2^17.
process.env.SLIPWAY_PASSWORD_SCRYPT_COST = '17';

function withLimits(perUser: number, perAddress: number): string {
  return DEFAULT_CONFIG_YAML.replace(
    '  token_ttl_seconds: 43200\n',
    `  token_ttl_seconds: 43200\n  login_limits: { per_user: ${perUser}, per_address: ${perAddress}, window_seconds: 300 }\n`,
  );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function db(t: TestControlPlane): Sqlite.Database {
  return new Sqlite(join(t.home, 'slipway.db'));
}

describe('login', () => {
  let t: TestControlPlane;
  let admin: string;
  beforeAll(async () => {
    t = await startTestControlPlane({ configYaml: withLimits(1000, 1000), keepHome: true });
    admin = await t.login('admin', ADMIN_PASSWORD);
  }, 120_000);
  afterAll(async () => t?.stop());

  it('takes as long for an unknown user as for a wrong password (no enumeration by timing)', async () => {
    const unknown: number[] = [];
    const wrong: number[] = [];
    const form = (username: string) => ({ grant_type: 'password', username, password: 'not-the-password' });
    for (let i = 0; i < 7; i++) {
      let started = performance.now();
      expect((await t.call('POST', '/oauth/token', { form: form(`nobody-${i}`) })).status).toBe(401);
      unknown.push(performance.now() - started);
      started = performance.now();
      expect((await t.call('POST', '/oauth/token', { form: form('admin') })).status).toBe(401);
      wrong.push(performance.now() - started);
    }
    const [mu, mw] = [median(unknown), median(wrong)];
    console.log(`login medians: unknown user ${mu.toFixed(0)} ms, wrong password ${mw.toFixed(0)} ms`);
    // A password check costs a scrypt at N=2^17; skipping it for unknown users would make them several times faster.
    expect(Math.abs(mu - mw)).toBeLessThan(0.25 * mw);
  }, 120_000);

  it('stores new hashes with scrypt N=2^17, r=8, p=1, and upgrades an older hash at the next login', async () => {
    const sqlite = db(t);
    const hash = sqlite.prepare('SELECT password_hash FROM users WHERE name = ?').pluck();
    expect(hash.get('admin')).toMatch(/^scrypt\$131072\$8\$1\$/);
    expect(
      (
        await t.call('POST', '/v1/users', {
          token: admin,
          body: { name: 'old-timer', password: 'old-password-1', roles: ['clusters.manage'] },
        })
      ).status,
    ).toBe(201);
    const salt = randomBytes(16);
    const legacy = [
      'scrypt',
      16384,
      8,
      1,
      salt.toString('base64'),
      scryptSync('old-password-1', salt, 32, { N: 16384, r: 8, p: 1 }).toString('base64'),
    ].join('$');
    sqlite.prepare('UPDATE users SET password_hash = ? WHERE name = ?').run(legacy, 'old-timer');
    await t.login('old-timer', 'old-password-1');
    expect(hash.get('old-timer')).toMatch(/^scrypt\$131072\$8\$1\$/);
    await t.login('old-timer', 'old-password-1');
    sqlite.close();
  }, 60_000);

  it('revokes a token on the server (slipway logout)', async () => {
    const token = await t.login('admin', ADMIN_PASSWORD);
    expect((await t.call('GET', '/v1/clusters', { token })).status).toBe(200);
    expect((await t.call('POST', '/oauth/revoke', { form: { token } })).status).toBe(200);
    expect((await t.call('GET', '/v1/clusters', { token })).status).toBe(401);
    // An unknown token is the same 200: the endpoint tells nobody which tokens exist.
    expect((await t.call('POST', '/oauth/revoke', { form: { token: 'never-issued' } })).status).toBe(200);
  }, 60_000);

  it('deletes expired tokens when it starts', async () => {
    let sqlite = db(t);
    const userId = sqlite.prepare("SELECT id FROM users WHERE name = 'admin'").pluck().get();
    sqlite
      .prepare('INSERT INTO tokens (token_hash, user_id, expires_at, created_at) VALUES (?, ?, ?, ?)')
      .run('f'.repeat(64), userId, '2001-01-01T00:00:00.000Z', '2001-01-01T00:00:00.000Z');
    sqlite.close();
    const home = t.home;
    await t.stop();
    t = await startTestControlPlane({ home, configYaml: withLimits(1000, 1000) });
    sqlite = db(t);
    expect(sqlite.prepare("SELECT count(*) FROM tokens WHERE expires_at < '2002'").pluck().get()).toBe(0);
    sqlite.close();
  }, 60_000);
});

describe('failed logins', () => {
  let t: TestControlPlane;
  beforeAll(async () => {
    t = await startTestControlPlane({ configYaml: withLimits(3, 6) });
  }, 120_000);
  afterAll(async () => t?.stop());

  it('are limited per user and per address with 429 and Retry-After, and recorded as events', async () => {
    const attempt = (username: string, password = 'wrong-password') =>
      t.call('POST', '/oauth/token', { form: { grant_type: 'password', username, password } });
    for (let i = 0; i < 3; i++) expect((await attempt('admin')).status).toBe(401);
    const refused = await attempt('admin', ADMIN_PASSWORD);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body.code).toBe('RateLimited');
    // Other names from the same address: three more failures reach the address limit (6).
    for (let i = 0; i < 3; i++) expect((await attempt(`guess-${i}`)).status).toBe(401);
    expect((await attempt('guess-new')).status).toBe(429);

    const sqlite = new Sqlite(join(t.home, 'slipway.db'));
    const kinds = sqlite
      .prepare("SELECT kind, message FROM events WHERE kind LIKE 'auth.%' ORDER BY id")
      .all() as Array<{ kind: string; message: string }>;
    sqlite.close();
    expect(kinds.filter((e) => e.kind === 'auth.login_failed')).toHaveLength(6);
    expect(kinds.filter((e) => e.kind === 'auth.login_refused')).toHaveLength(2);
    expect(kinds[0].message).toMatch(/failed login of "admin" from 127\.0\.0\.1/);
    expect(JSON.stringify(kinds)).not.toContain('wrong-password');
  }, 60_000);
});
