import { describe, expect, it } from 'vitest';
import { INVALID_ACCESS } from '../src/access.js';
import { apiClient } from './http-helpers.js';
import { engine, openStore } from './helpers.js';

const ALICE_CLUSTER = '/slipway/clusters/11111111-aaaa-4aaa-8aaa-111111111111';
const BOB_CLUSTER = '/slipway/clusters/22222222-bbbb-4bbb-8bbb-222222222222';

/**
 * Two clusters issued by the engine, each owner granted what the engine grants: read on the cluster's CA
 * and on its own kubeconfig certificate (users/NAME), nothing else.
 */
async function twoClusters() {
  const { provider } = await openStore();
  for (const [path, owner] of [
    [ALICE_CLUSTER, 'alice'],
    [BOB_CLUSTER, 'bob'],
  ] as const) {
    await provider.generate(
      {
        name: `${path}/kubernetes-ca`,
        type: 'certificate',
        parameters: { common_name: 'kubernetes-ca', is_ca: true, key_algorithm: 'ecdsa-p256' },
      },
      engine,
    );
    await provider.generate(
      {
        name: `${path}/admin`,
        type: 'certificate',
        parameters: {
          common_name: 'admin',
          organization: 'system:masters',
          ca: `${path}/kubernetes-ca`,
          key_algorithm: 'ecdsa-p256',
        },
      },
      engine,
    );
    await provider.generate(
      {
        name: `${path}/users/${owner}`,
        type: 'certificate',
        parameters: { common_name: owner, ca: `${path}/kubernetes-ca`, key_algorithm: 'ecdsa-p256' },
      },
      engine,
    );
    for (const name of ['kubernetes-ca', `users/${owner}`])
      await provider.grant({ actor: `user:${owner}`, path: `${path}/${name}`, operations: ['read'] }, engine);
  }
  await provider.generate(
    {
      name: '/slipway/control-plane/ca',
      type: 'certificate',
      parameters: { common_name: 'cp', is_ca: true, key_algorithm: 'ecdsa-p256' },
    },
    engine,
  );
  return { provider, ...apiClient(provider) };
}

const refusedRead = { status: 404, body: { error: INVALID_ACCESS } };

describe('permissions', () => {
  it("lets a cluster's owner read its CA certificate (without the key) and its own kubeconfig certificate, nothing else", async () => {
    const { call } = await twoClusters();
    const ca = await call('GET', `/api/v1/data?name=${ALICE_CLUSTER}/kubernetes-ca&current=true`, 'alice-token');
    expect(ca.status).toBe(200);
    expect(ca.body.data[0].value.certificate).toContain('BEGIN CERTIFICATE');
    expect(ca.body.data[0].value.private_key).toBeNull();
    const own = await call('GET', `/api/v1/data?name=${ALICE_CLUSTER}/users/alice&current=true`, 'alice-token');
    expect(own.body.data[0].value.private_key).toContain('PRIVATE KEY');
    const found = await call('GET', '/api/v1/data?path=/slipway', 'alice-token');
    expect(found.body.credentials.map((c: { name: string }) => c.name).sort()).toEqual([
      `${ALICE_CLUSTER}/kubernetes-ca`,
      `${ALICE_CLUSTER}/users/alice`,
    ]);
    const certificates = await call('GET', '/api/v1/certificates', 'alice-token');
    expect(certificates.body.certificates.map((c: { name: string }) => c.name)).toEqual([
      `${ALICE_CLUSTER}/kubernetes-ca`,
      `${ALICE_CLUSTER}/users/alice`,
    ]);
    const signs = await call('GET', `/api/v1/certificates?name=${ALICE_CLUSTER}/kubernetes-ca`, 'alice-token');
    expect(signs.body.certificates[0].signs).toEqual([`${ALICE_CLUSTER}/users/alice`]);

    // Its own admin certificate, another tenant's, a name nobody uses and the control plane's CA: one answer.
    const answers = await Promise.all(
      [
        `${ALICE_CLUSTER}/admin`,
        `${BOB_CLUSTER}/admin`,
        `${BOB_CLUSTER}/no-such-thing`,
        '/slipway/control-plane/ca',
      ].map((name) => call('GET', `/api/v1/data?name=${name}`, 'alice-token')),
    );
    for (const answer of answers) expect(answer).toMatchObject(refusedRead);
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    // By version id: another's version and an unknown id answer alike, without a name.
    const bobAdmin = (await call('GET', `/api/v1/data?name=${BOB_CLUSTER}/users/bob&current=true`, 'bob-token')).body
      .data[0];
    const byId = await call('GET', `/api/v1/data/${bobAdmin.id}`, 'alice-token');
    const noId = await call('GET', '/api/v1/data/7f9c3a51-0000-4000-8000-000000000000', 'alice-token');
    expect(byId).toEqual({ ...noId, headers: byId.headers });
    expect(JSON.stringify(byId.body)).not.toContain(BOB_CLUSTER);

    // Reading is not writing; read-only admins get nothing by default.
    expect(
      (await call('POST', '/api/v1/data', 'alice-token', { name: `${ALICE_CLUSTER}/users/alice`, regenerate: true }))
        .status,
    ).toBe(403);
    expect(await call('DELETE', `/api/v1/data?name=${ALICE_CLUSTER}/users/alice`, 'alice-token')).toMatchObject(
      refusedRead,
    );
    expect(
      await call('PUT', '/api/v1/data', 'alice-token', { name: '/mine', type: 'value', value: 'v' }),
    ).toMatchObject({ status: 403, body: { error: INVALID_ACCESS } });
    expect(await call('GET', `/api/v1/data?name=${ALICE_CLUSTER}/kubernetes-ca`, 'reader-token')).toMatchObject(
      refusedRead,
    );
    expect((await call('GET', '/api/v1/data?path=/', 'reader-token')).body.credentials).toEqual([]);
  });

  it('keeps CA keys, admin, node and control-plane credentials from admins too; the engine reaches everything', async () => {
    const { call } = await twoClusters();
    expect(await call('GET', `/api/v1/data?name=${BOB_CLUSTER}/admin`, 'admin-token')).toMatchObject(refusedRead);
    expect(await call('GET', '/api/v1/data?name=/slipway/control-plane/ca', 'admin-token')).toMatchObject(refusedRead);
    const ca = await call('GET', `/api/v1/data?name=${BOB_CLUSTER}/kubernetes-ca&current=true`, 'admin-token');
    expect(ca.body.data[0].value.private_key).toBeNull();
    expect((await call('GET', `/api/v1/data?name=${BOB_CLUSTER}/users/bob&current=true`, 'admin-token')).status).toBe(
      200,
    );
    // Admins may not write, regenerate, delete or re-permission what is the engine's.
    expect(
      (await call('POST', '/api/v1/regenerate', 'admin-token', { name: `${BOB_CLUSTER}/kubernetes-ca` })).status,
    ).toBe(403);
    expect(
      (await call('PUT', '/api/v1/data', 'admin-token', { name: `${BOB_CLUSTER}/admin`, type: 'value', value: 'x' }))
        .status,
    ).toBe(403);
    expect(await call('DELETE', `/api/v1/data?name=${BOB_CLUSTER}/kubernetes-ca`, 'admin-token')).toMatchObject(
      refusedRead,
    );
    expect(
      (
        await call('POST', '/api/v2/permissions', 'admin-token', {
          actor: 'user:admin',
          path: `${BOB_CLUSTER}/*`,
          operations: ['read'],
        })
      ).status,
    ).toBe(403);
    expect(
      (await call('POST', '/api/v1/bulk-regenerate', 'admin-token', { signed_by: `${BOB_CLUSTER}/kubernetes-ca` }))
        .status,
    ).toBe(403);
    const listed = (await call('GET', '/api/v1/data?path=/', 'admin-token')).body.credentials.map(
      (c: { name: string }) => c.name,
    );
    expect(listed.sort()).toEqual([
      `${ALICE_CLUSTER}/kubernetes-ca`,
      `${ALICE_CLUSTER}/users/alice`,
      `${BOB_CLUSTER}/kubernetes-ca`,
      `${BOB_CLUSTER}/users/bob`,
    ]);

    expect(
      (await call('GET', `/api/v1/data?name=${BOB_CLUSTER}/kubernetes-ca&current=true`, 'engine-token')).body.data[0]
        .value.private_key,
    ).toContain('PRIVATE KEY');
    expect(
      (await call('POST', '/api/v1/data', 'engine-token', { name: `${BOB_CLUSTER}/admin`, regenerate: true })).status,
    ).toBe(200);
  });

  it('signs with a CA only for a caller who may read its key: never a cluster CA for a tenant', async () => {
    const { provider, call } = await twoClusters();
    await provider.grant({ actor: 'user:alice', path: '/alice/*', operations: ['read', 'write'] }, engine);
    await provider.generate(
      {
        name: '/alice/ca',
        type: 'certificate',
        parameters: { common_name: 'alice-ca', is_ca: true, key_algorithm: 'ecdsa-p256' },
      },
      engine,
    );
    const signed = await call('POST', '/api/v1/data', 'alice-token', {
      name: '/alice/leaf',
      type: 'certificate',
      parameters: { common_name: 'x', ca: '/alice/ca', key_algorithm: 'ecdsa-p256' },
    });
    expect(signed.status).toBe(200);
    for (const ca of [`${ALICE_CLUSTER}/kubernetes-ca`, `${BOB_CLUSTER}/kubernetes-ca`, '/nowhere/ca']) {
      const refused = await call('POST', '/api/v1/data', 'alice-token', {
        name: '/alice/leaf2',
        type: 'certificate',
        parameters: { common_name: 'system:node:x', ca, key_algorithm: 'ecdsa-p256' },
      });
      expect(refused).toMatchObject(refusedRead);
    }
    // Bulk regeneration needs write on every certificate the CA signed: refused without naming or counting them.
    await provider.generate(
      {
        name: '/bob-only/leaf',
        type: 'certificate',
        parameters: { common_name: 'y', ca: '/alice/ca', key_algorithm: 'ecdsa-p256' },
      },
      engine,
    );
    const before = (await call('GET', '/api/v1/data?name=/alice/leaf&current=true', 'alice-token')).body.data[0].id;
    const bulk = await call('POST', '/api/v1/bulk-regenerate', 'alice-token', { signed_by: '/alice/ca' });
    expect(bulk).toMatchObject({ status: 403, body: { error: INVALID_ACCESS } });
    expect(JSON.stringify(bulk.body)).not.toContain('bob-only');
    expect((await call('GET', '/api/v1/data?name=/alice/leaf&current=true', 'alice-token')).body.data[0].id).toBe(
      before,
    );
  });

  it("answers a certificate id alike whether it is missing or not the caller's", async () => {
    const { call } = await twoClusters();
    const bobs = (await call('GET', `/api/v1/certificates?name=${BOB_CLUSTER}/users/bob`, 'bob-token')).body
      .certificates[0].id;
    for (const path of ['versions', 'regenerate']) {
      const method = path === 'versions' ? 'GET' : 'POST';
      const other = await call(
        method,
        `/api/v1/certificates/${bobs}/${path}`,
        'alice-token',
        method === 'POST' ? {} : undefined,
      );
      const none = await call(
        method,
        `/api/v1/certificates/7f9c3a51-0000-4000-8000-000000000000/${path}`,
        'alice-token',
        method === 'POST' ? {} : undefined,
      );
      expect(other.status).toBe(404);
      expect(other.body).toEqual(none.body);
    }
  });

  it('manages entries through /api/v2/permissions with CredHub status codes', async () => {
    const { provider, call } = await twoClusters();
    const created = await call('POST', '/api/v2/permissions', 'admin-token', {
      actor: 'user:carol',
      path: '/team/*',
      operations: ['read', 'read_acl'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      uuid: expect.any(String),
      actor: 'user:carol',
      path: '/team/*',
      operations: ['read', 'read_acl'],
    });
    expect(
      (
        await call('POST', '/api/v2/permissions', 'admin-token', {
          actor: 'user:carol',
          path: '/team/*',
          operations: ['read'],
        })
      ).status,
    ).toBe(409);
    expect((await call('GET', '/api/v2/permissions?path=/team/*&actor=user:carol')).body).toEqual(created.body);
    expect((await call('GET', `/api/v2/permissions/${created.body.uuid}`)).body).toEqual(created.body);
    expect((await call('GET', '/api/v2/permissions?path=/team/*&actor=user:nobody')).status).toBe(404);
    expect((await call('GET', '/api/v2/permissions/7f9c3a51-0000-4000-8000-000000000000')).status).toBe(404);

    const put = await call('PUT', `/api/v2/permissions/${created.body.uuid}`, 'admin-token', {
      actor: 'user:carol',
      path: '/team/*',
      operations: ['read', 'write'],
    });
    expect(put.body.operations).toEqual(['read', 'write']);
    const moved = await call('PUT', `/api/v2/permissions/${created.body.uuid}`, 'admin-token', {
      actor: 'user:carol',
      path: '/elsewhere/*',
      operations: ['read'],
    });
    expect(moved).toMatchObject({
      status: 400,
      body: { error: 'The permission guid does not match the provided actor and path.' },
    });
    const patched = await call('PATCH', `/api/v2/permissions/${created.body.uuid}`, 'admin-token', {
      operations: ['read'],
    });
    expect(patched.body.operations).toEqual(['read']);
    expect(
      (
        await call('POST', '/api/v2/permissions', 'admin-token', {
          actor: 'user:carol',
          path: '/x',
          operations: ['admin'],
        })
      ).body.error,
    ).toMatch(/read, write, delete, read_acl, and write_acl/);
    expect(
      (
        await call('POST', '/api/v2/permissions', 'admin-token', {
          actor: 'user:carol',
          path: '/x/*/y',
          operations: ['read'],
        })
      ).status,
    ).toBe(400);

    // Reading and writing ACLs take read_acl and write_acl on the path; an entry one may not read is "missing".
    expect((await call('GET', '/api/v2/permissions?path=/team/*&actor=user:carol', 'alice-token')).status).toBe(404);
    expect((await call('GET', `/api/v2/permissions/${created.body.uuid}`, 'alice-token')).status).toBe(404);
    expect(
      (
        await call('POST', '/api/v2/permissions', 'alice-token', {
          actor: 'user:eve',
          path: '/team/*',
          operations: ['read'],
        })
      ).status,
    ).toBe(403);
    await provider.grant({ actor: 'user:alice', path: '/team/*', operations: ['read_acl', 'write_acl'] }, engine);
    const shared = await call('POST', '/api/v2/permissions', 'alice-token', {
      actor: 'user:eve',
      path: '/team/app',
      operations: ['read'],
    });
    expect(shared.status).toBe(201);
    const own = await call(
      'PATCH',
      `/api/v2/permissions/${(await provider.permissions.find({ actor: 'user:alice', path: '/team/*' }, engine)).uuid}`,
      'alice-token',
      { operations: ['read', 'write', 'delete', 'read_acl', 'write_acl'] },
    );
    expect(own).toMatchObject({
      status: 400,
      body: {
        error: expect.stringMatching(/Modification of access control for the authenticated user is not allowed/),
      },
    });

    expect((await call('DELETE', `/api/v2/permissions/${created.body.uuid}`)).body).toMatchObject({
      uuid: created.body.uuid,
      operations: ['read'],
    });
    expect((await call('DELETE', `/api/v2/permissions/${created.body.uuid}`)).status).toBe(404);
  });

  it("lets the engine revoke a deleted cluster's grants and every entry of a deleted user", async () => {
    const { provider, call } = await twoClusters();
    expect(await provider.revoke({ path: '/*' }, engine)).toBe(0);
    expect(await provider.revoke({ path: `${BOB_CLUSTER}/users/bob` }, engine)).toBe(1);
    expect(await call('GET', `/api/v1/data?name=${BOB_CLUSTER}/users/bob`, 'bob-token')).toMatchObject(refusedRead);
    await provider.grant({ actor: 'user:alice', path: '/team/*', operations: ['read'] }, engine);
    const merged = await provider.grant({ actor: 'user:alice', path: '/team/*', operations: ['delete'] }, engine);
    expect(merged.operations).toEqual(['read', 'delete']);
    // A user's entries everywhere, by actor alone: only the engine may.
    await expect(
      provider.revoke({ actor: 'user:alice' }, { actor: 'user:admin', roles: ['clusters.admin'] }),
    ).rejects.toMatchObject({ code: 'Forbidden' });
    expect(await provider.revoke({ actor: 'user:alice' }, engine)).toBe(3);
    expect(await call('GET', `/api/v1/data?name=${ALICE_CLUSTER}/kubernetes-ca`, 'alice-token')).toMatchObject(
      refusedRead,
    );
  });
});
