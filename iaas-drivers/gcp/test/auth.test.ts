import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import plugin from '../src/index.js';
import { failure, startDriver, type DriverUnderTest } from './helpers.js';

const someVm = () => ({ vmId: `us-central1-a/slipway-vm-${randomUUID().slice(0, 8)}` });

describe('OAuth2 tokens from the service-account key', () => {
  let t: DriverUnderTest;
  beforeAll(async () => {
    t = await startDriver();
  });
  afterAll(() => t.stop());

  it('exchanges one signed JWT for a token that every call reuses', async () => {
    await Promise.all(Array.from({ length: 20 }, () => t.driver.hasVm(someVm())));
    await t.driver.hasDisk({ diskId: 'us-central1-a/slipway-disk-none' });
    // The stemcell created in startDriver exchanged it; 21 calls later there is still one.
    expect(t.fake.calls('token')).toBe(1);
    expect(t.fake.calls('instances.get')).toBeGreaterThanOrEqual(20);
    const tokens = [...t.fake.state.tokens.values()];
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatchObject({
      email: t.fake.serviceAccountKey.client_email,
      scopes: ['https://www.googleapis.com/auth/compute'],
    });
  });

  it('exchanges again, once, when the API refuses a revoked token', async () => {
    await t.driver.hasVm(someVm());
    const before = t.fake.calls('token');
    t.fake.revokeTokens();
    await Promise.all(Array.from({ length: 10 }, () => t.driver.hasVm(someVm())));
    expect(t.fake.calls('token')).toBe(before + 1);
  });

  it('gives up with Unauthenticated when the fresh token is refused too', async () => {
    const refusal = { status: 401, reason: 'authError', message: 'Request had invalid authentication credentials.' };
    t.fake.failNext('instances.get', refusal, 2);
    const error = await failure(t.driver.hasVm(someVm()));
    expect(error.code).toBe('Unauthenticated');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('Request had invalid authentication credentials.');
  });
});

describe('token expiry and refused keys', () => {
  it('exchanges a new token when the old one expires, without a refused call', async () => {
    const t = await startDriver({ tokenTtlSeconds: 1 });
    try {
      const tokensBefore = t.fake.calls('token');
      const getsBefore = t.fake.calls('instances.get');
      await t.driver.hasVm(someVm());
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await t.driver.hasVm(someVm());
      expect(t.fake.calls('token') - tokensBefore).toBe(1);
      // Each hasVm reached Compute once: no call was refused with a dead token and sent again.
      expect(t.fake.calls('instances.get') - getsBefore).toBe(2);
    } finally {
      await t.stop();
    }
  });

  it("turns a bad signature into Unauthenticated with Google's invalid_grant", async () => {
    const { privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const t = await startDriver({ key: { private_key: privateKey } });
    try {
      const error = await failure(t.driver.hasVm(someVm()));
      expect(error.code).toBe('Unauthenticated');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('invalid_grant: Invalid JWT Signature.');
      expect(t.fake.calls('instances.get')).toBe(0);
    } finally {
      await t.stop();
    }
  });

  it('says so when Google no longer knows the key', async () => {
    const t = await startDriver();
    try {
      t.fake.disableKey();
      t.fake.revokeTokens();
      const error = await failure(t.driver.hasVm(someVm()));
      expect(error.code).toBe('Unauthenticated');
      expect(error.message).toContain('Invalid grant: account not found');
      expect(error.hint).toContain('credentials_ref');
    } finally {
      await t.stop();
    }
  });

  it('refuses a credential that is not a service-account key, naming what is missing', async () => {
    const t = await startDriver();
    try {
      await t.host.credentials.set(
        { name: '/slipway/iaas/broken', type: 'json', value: { type: 'service_account', client_email: 'x@y' } },
        { actor: 'test' },
      );
      const error = await failure(plugin.create({ ...t.fake.config, credentials_ref: '/slipway/iaas/broken' }, t.host));
      expect(error.code).toBe('InvalidConfig');
      expect(error.message).toContain('project_id, private_key_id, private_key, token_uri');
    } finally {
      await t.stop();
    }
  });
});

describe('the fake answers unauthenticated calls as Google does', () => {
  let t: DriverUnderTest;
  beforeAll(async () => {
    t = await startDriver();
  });
  afterAll(() => t.stop());

  it("401 required without a token, 401 authError with a bad one, in Google's error body", async () => {
    const url = `${t.fake.url}/compute/v1/projects/${t.fake.project}/zones/us-central1-a/instances`;
    const missing = await fetch(url);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain('Bearer realm="https://accounts.google.com/"');
    expect(await missing.json()).toMatchObject({
      error: {
        code: 401,
        status: 'UNAUTHENTICATED',
        errors: [{ reason: 'required', domain: 'global', location: 'Authorization' }],
      },
    });
    const bad = await fetch(url, { headers: { authorization: 'Bearer ya29.not-a-token' } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({
      error: {
        code: 401,
        message: expect.stringContaining('invalid authentication credentials'),
        errors: [{ reason: 'authError' }],
      },
    });
  });

  it('refuses an assertion signed for another audience', async () => {
    const response = await fetch(`${t.fake.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: 'a.b.c',
      }).toString(),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });
});
