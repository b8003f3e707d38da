import { describe, expect, it } from 'vitest';
import { isCredhubProvider } from '../src/http/index.js';
import { apiClient } from './http-helpers.js';
import { openStore } from './helpers.js';

async function api() {
  const { provider } = await openStore();
  return { provider, ...apiClient(provider) };
}

describe('CredHub HTTP API: /api/v1/data', () => {
  it('sets, generates and reads credentials with CredHub paths, fields and status codes', async () => {
    const { call } = await api();
    const set = await call('PUT', '/api/v1/data', 'admin-token', {
      name: '/app/db',
      type: 'json',
      value: { user: 'u', pass: 'p' },
      metadata: { team: 'data' },
    });
    expect(set.status).toBe(200);
    expect(Object.keys(set.body)).toEqual(['type', 'version_created_at', 'id', 'name', 'metadata', 'value']);
    expect(set.body).toMatchObject({
      type: 'json',
      name: '/app/db',
      metadata: { team: 'data' },
      value: { user: 'u', pass: 'p' },
    });

    const generated = await call('POST', '/api/v1/data', 'admin-token', {
      name: 'app/password',
      type: 'password',
      parameters: { length: 12, exclude_number: true },
    });
    expect(generated.status).toBe(200);
    expect(generated.body.value).toMatch(/^[A-Za-z]{12}$/);
    expect(generated.body.name).toBe('/app/password');
    // overwrite: false is no-overwrite, true is overwrite (CredHub's pre-mode flag).
    const kept = await call('POST', '/api/v1/data', 'admin-token', {
      name: '/app/password',
      type: 'password',
      parameters: { length: 20 },
      overwrite: false,
    });
    expect(kept.body.id).toBe(generated.body.id);
    const second = await call('POST', '/api/v1/data', 'admin-token', {
      name: '/app/password',
      type: 'password',
      parameters: { length: 12 },
      overwrite: true,
    });
    expect(second.body.id).not.toBe(generated.body.id);
    const third = await call('POST', '/api/v1/data', 'admin-token', { name: '/app/password', regenerate: true });
    const fourth = await call('POST', '/api/v1/regenerate', 'admin-token', { name: '/app/password' });
    expect(fourth.body.value).toHaveLength(12);

    const all = await call('GET', '/api/v1/data?name=/app/password');
    expect(all.status).toBe(200);
    expect(all.body.data.map((v: { id: string }) => v.id)).toEqual([
      fourth.body.id,
      third.body.id,
      second.body.id,
      generated.body.id,
    ]);
    const latestTwo = await call('GET', '/api/v1/data?name=app/password&versions=2');
    expect(latestTwo.body.data.map((v: { id: string }) => v.id)).toEqual([fourth.body.id, third.body.id]);
    const current = await call('GET', '/api/v1/data?name=/app/password&current=true');
    expect(current.body.data).toEqual([fourth.body]);
    const byId = await call('GET', `/api/v1/data/${generated.body.id}`);
    expect(byId.body).toEqual(generated.body);

    const found = await call('GET', '/api/v1/data?path=/app');
    expect(found.body).toEqual({
      credentials: [
        { name: '/app/password', version_created_at: fourth.body.version_created_at },
        { name: '/app/db', version_created_at: set.body.version_created_at },
      ],
    });
    expect(
      (await call('GET', '/api/v1/data?name-like=PASS')).body.credentials.map((c: { name: string }) => c.name),
    ).toEqual(['/app/password']);
    expect((await call('GET', '/api/v1/data?path=/ap')).body.credentials).toEqual([]);

    expect(await call('DELETE', '/api/v1/data?name=/app/password')).toMatchObject({ status: 204, body: null });
    expect((await call('GET', '/api/v1/data?name=/app/password')).status).toBe(404);
    expect((await call('DELETE', '/api/v1/data?name=/app/password')).status).toBe(404);
    expect((await call('GET', `/api/v1/data/${generated.body.id}`)).status).toBe(404);
  });

  it('answers bad requests with 400 and CredHub messages', async () => {
    const { call } = await api();
    await call('PUT', '/api/v1/data', 'admin-token', { name: '/x', type: 'value', value: 'v' });
    const cases: Array<[string, string, unknown, RegExp]> = [
      ['GET', '/api/v1/data', undefined, /The query parameter name is required/],
      [
        'GET',
        '/api/v1/data?name=/x&current=true&versions=1',
        undefined,
        /current and versions cannot be provided in the same request/,
      ],
      ['GET', '/api/v1/data?name=/x&versions=zero', undefined, /query parameter versions was not valid/],
      ['PUT', '/api/v1/data', { name: '/x', type: 'password', value: 'p' }, /type cannot be modified/],
      ['PUT', '/api/v1/data', { name: '/x', type: 'secret', value: 'p' }, /does not include a valid type/],
      [
        'PUT',
        '/api/v1/data',
        { name: '/x', type: 'value', value: 'v', colour: 'red' },
        /unrecognized parameter 'colour'/,
      ],
      ['POST', '/api/v1/data', { name: '/y', type: 'value' }, /cannot be generated/],
      [
        'POST',
        '/api/v1/data',
        { name: '/y', type: 'password', mode: 'converge', overwrite: true },
        /overwrite and mode cannot be combined/,
      ],
      ['POST', '/api/v1/data', { name: '/y', type: 'password', mode: 'sometimes' }, /does not include a valid mode/],
      ['POST', '/api/v1/data', '{not json', /did not meet expectation/],
      ['POST', '/api/v1/data', { name: '/y//z', type: 'password' }, /cannot end with "\/" or contain "\/\/"/],
      ['POST', '/api/v1/bulk-regenerate', {}, /You must specify a signing CA/],
    ];
    for (const [method, path, body, message] of cases) {
      const res = await call(method, path, 'admin-token', body);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.body.error).toMatch(message);
    }
  });

  it('refuses calls without a valid bearer token in the OAuth2 shape', async () => {
    const { call } = await api();
    const none = await call('GET', '/api/v1/data?path=/', null);
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('invalid_token');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    const expired = await call('GET', '/api/v1/data?path=/', 'stale-token');
    expect(expired).toMatchObject({
      status: 401,
      body: { error: 'invalid_token', error_description: 'the token is unknown or expired' },
    });
  });

  it('serves /info and /health at the root, or only under /api/v1 when mounted beside another app', async () => {
    const { provider, call } = await api();
    expect(isCredhubProvider(provider)).toBe(true);
    expect(
      isCredhubProvider({
        get: async () => {
          throw new Error();
        },
      } as never),
    ).toBe(false);
    expect((await call('GET', '/info', null)).body).toEqual({ 'auth-server': { url: '' }, app: { name: 'CredHub' } });
    expect((await call('GET', '/health', null)).body).toEqual({ status: 'UP' });
    const mounted = apiClient(provider, { rootEndpoints: false, authServerUrl: 'https://slipway.example.test:9021' });
    expect((await mounted.call('GET', '/info', null)).status).toBe(404);
    expect((await mounted.call('GET', '/api/v1/info', null)).body['auth-server']).toEqual({
      url: 'https://slipway.example.test:9021',
    });
    expect((await mounted.call('GET', '/api/v1/health', null)).body).toEqual({ status: 'UP' });
  });

  it('interpolates credhub-ref entries of VCAP_SERVICES with JSON credentials', async () => {
    const { call } = await api();
    await call('PUT', '/api/v1/data', 'admin-token', {
      name: '/svc/db',
      type: 'json',
      value: { uri: 'postgres://u:p@db/app' },
    });
    await call('PUT', '/api/v1/data', 'admin-token', { name: '/svc/plain', type: 'value', value: 'v' });
    const services = {
      'p-postgres': [
        { name: 'db', credentials: { 'credhub-ref': '((/svc/db))' } },
        { name: 'other', credentials: { host: 'h' } },
      ],
    };
    const res = await call('POST', '/api/v1/interpolate', 'admin-token', services);
    expect(res.body).toEqual({
      'p-postgres': [
        { name: 'db', credentials: { uri: 'postgres://u:p@db/app' } },
        { name: 'other', credentials: { host: 'h' } },
      ],
    });
    const wrongType = await call('POST', '/api/v1/interpolate', 'admin-token', {
      s: [{ credentials: { 'credhub-ref': '/svc/plain' } }],
    });
    expect(wrongType).toMatchObject({ status: 400, body: { error: expect.stringMatching(/must be of type 'JSON'/) } });
  });
});

describe('CredHub HTTP API: /api/v1/certificates', () => {
  it('lists certificates with signer and signed names, and rotates a CA through its id', async () => {
    const { call } = await api();
    const ca = await call('POST', '/api/v1/data', 'admin-token', {
      name: '/c/ca',
      type: 'certificate',
      parameters: { common_name: 'ca', is_ca: true, key_algorithm: 'ecdsa-p256' },
    });
    expect(ca.body).toMatchObject({
      certificate_authority: true,
      self_signed: true,
      generated: true,
      transitional: false,
      duration_used: 365,
    });
    expect(Object.keys(ca.body.value)).toEqual(['ca', 'certificate', 'private_key']);
    await call('POST', '/api/v1/data', 'admin-token', {
      name: '/c/leaf',
      type: 'certificate',
      parameters: { common_name: 'leaf', ca: '/c/ca', key_algorithm: 'ecdsa-p256' },
    });

    const list = await call('GET', '/api/v1/certificates');
    const caEntry = list.body.certificates.find((c: { name: string }) => c.name === '/c/ca');
    expect(caEntry).toMatchObject({
      signed_by: '/c/ca',
      signs: ['/c/leaf'],
      versions: [
        { id: ca.body.id, transitional: false, certificate_authority: true, self_signed: true, generated: true },
      ],
    });
    expect(caEntry.versions[0].expiry_date).toBe(ca.body.expiry_date);
    expect((await call('GET', '/api/v1/certificates?name=/c/leaf')).body.certificates[0]).toMatchObject({
      name: '/c/leaf',
      signed_by: '/c/ca',
      signs: [],
    });

    const fresh = await call('POST', `/api/v1/certificates/${caEntry.id}/regenerate`, 'admin-token', {
      set_as_transitional: true,
    });
    expect(fresh).toMatchObject({ status: 200, body: { transitional: true, name: '/c/ca' } });
    const currentVersions = await call('GET', `/api/v1/certificates/${caEntry.id}/versions?current=true`);
    expect(currentVersions.body.map((v: { id: string }) => v.id)).toEqual([ca.body.id, fresh.body.id]);
    const leafDuring = await call('GET', '/api/v1/data?name=/c/leaf&current=true');
    expect(leafDuring.body.data[0].value.ca).toBe(ca.body.value.certificate + fresh.body.value.certificate);

    const flipped = await call('PUT', `/api/v1/certificates/${caEntry.id}/update_transitional_version`, 'admin-token', {
      version: ca.body.id,
    });
    expect(flipped.body.map((v: { id: string; transitional: boolean }) => [v.id, v.transitional])).toEqual([
      [fresh.body.id, false],
      [ca.body.id, true],
    ]);
    expect((await call('POST', '/api/v1/bulk-regenerate', 'admin-token', { signed_by: '/c/ca' })).body).toEqual({
      regenerated_credentials: ['/c/leaf'],
    });
    const cleared = await call('PUT', `/api/v1/certificates/${caEntry.id}/update_transitional_version`, 'admin-token', {
      version: null,
    });
    expect(cleared.body.map((v: { id: string }) => v.id)).toEqual([fresh.body.id]);
    expect((await call('GET', `/api/v1/certificates/${caEntry.id}/versions`)).body).toHaveLength(2);

    const bad = await call('PUT', `/api/v1/certificates/${caEntry.id}/update_transitional_version`, 'admin-token', {
      version: '00000000-0000-0000-0000-000000000000',
    });
    expect(bad).toMatchObject({
      status: 400,
      body: { error: expect.stringMatching(/does not exist or does not belong/) },
    });
    expect(
      (await call('POST', '/api/v1/certificates/00000000-0000-0000-0000-000000000000/regenerate', 'admin-token', {}))
        .status,
    ).toBe(404);
    const onlyVersion = (await call('GET', '/api/v1/certificates?name=/c/leaf')).body.certificates[0];
    expect(
      (await call('DELETE', `/api/v1/certificates/${onlyVersion.id}/versions/${onlyVersion.versions[1].id}`)).status,
    ).toBe(200);
    const last = await call('DELETE', `/api/v1/certificates/${onlyVersion.id}/versions/${onlyVersion.versions[0].id}`);
    expect(last).toMatchObject({
      status: 400,
      body: { error: 'The minimum number of versions for a Certificate is 1.' },
    });
  });
});
