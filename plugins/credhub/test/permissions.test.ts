import { describe, expect, it } from 'vitest';
import { apiClient } from './http-helpers.js';
import { engine, openStore } from './helpers.js';

const ALICE_CLUSTER = '/slipway/clusters/11111111-aaaa-4aaa-8aaa-111111111111';
const BOB_CLUSTER = '/slipway/clusters/22222222-bbbb-4bbb-8bbb-222222222222';

/** Two clusters issued by the engine, each owner granted read on its cluster's path as the engine does. */
async function twoClusters() {
  const { provider } = await openStore();
  for (const path of [ALICE_CLUSTER, BOB_CLUSTER]) {
    await provider.generate({ name: `${path}/kubernetes-ca`, type: 'certificate', parameters: { common_name: 'kubernetes-ca', is_ca: true, key_algorithm: 'ecdsa-p256' } }, engine);
    await provider.generate({ name: `${path}/admin`, type: 'certificate', parameters: { common_name: 'admin', organization: 'system:masters', ca: `${path}/kubernetes-ca`, key_algorithm: 'ecdsa-p256' } }, engine);
  }
  await provider.grant({ actor: 'user:alice', path: `${ALICE_CLUSTER}/*`, operations: ['read'] }, engine);
  await provider.grant({ actor: 'user:bob', path: `${BOB_CLUSTER}/*`, operations: ['read'] }, engine);
  return { provider, ...apiClient(provider) };
}

describe('permissions', () => {
  it("lets a clusters.manage user read only its own clusters' credentials, and admins everything", async () => {
    const { call } = await twoClusters();
    expect((await call('GET', `/api/v1/data?name=${ALICE_CLUSTER}/admin&current=true`, 'alice-token')).status).toBe(200);
    const found = await call('GET', '/api/v1/data?path=/slipway/clusters', 'alice-token');
    expect(found.body.credentials.map((c: { name: string }) => c.name).sort()).toEqual([`${ALICE_CLUSTER}/admin`, `${ALICE_CLUSTER}/kubernetes-ca`]);
    const certificates = await call('GET', '/api/v1/certificates', 'alice-token');
    expect(certificates.body.certificates.map((c: { name: string }) => c.name)).toEqual([`${ALICE_CLUSTER}/admin`, `${ALICE_CLUSTER}/kubernetes-ca`]);

    // Another's credential and a name that does not exist get the same answer: 403 naming the path asked.
    const other = await call('GET', `/api/v1/data?name=${BOB_CLUSTER}/admin`, 'alice-token');
    const missing = await call('GET', `/api/v1/data?name=${BOB_CLUSTER}/no-such-thing`, 'alice-token');
    expect(other).toMatchObject({ status: 403, body: { error: `user:alice may not read ${BOB_CLUSTER}/admin`, details: { path: `${BOB_CLUSTER}/admin` } } });
    expect(missing).toMatchObject({ status: 403, body: { error: `user:alice may not read ${BOB_CLUSTER}/no-such-thing` } });
    // By version id the name is not revealed.
    const bobAdmin = (await call('GET', `/api/v1/data?name=${BOB_CLUSTER}/admin&current=true`, 'bob-token')).body.data[0];
    const byId = await call('GET', `/api/v1/data/${bobAdmin.id}`, 'alice-token');
    expect(byId.status).toBe(403);
    expect(byId.body.error).not.toContain(BOB_CLUSTER);

    // Reading is not writing, and read-only admins get nothing by default.
    expect((await call('POST', '/api/v1/data', 'alice-token', { name: `${ALICE_CLUSTER}/admin`, regenerate: true })).status).toBe(403);
    expect((await call('DELETE', `/api/v1/data?name=${ALICE_CLUSTER}/admin`, 'alice-token')).status).toBe(403);
    expect((await call('PUT', '/api/v1/data', 'alice-token', { name: '/mine', type: 'value', value: 'v' })).status).toBe(403);
    expect((await call('GET', `/api/v1/data?name=${ALICE_CLUSTER}/admin`, 'reader-token')).status).toBe(403);
    expect((await call('GET', '/api/v1/data?path=/', 'reader-token')).body.credentials).toEqual([]);

    // An admin reads, writes and deletes anything; so does the engine.
    expect((await call('GET', `/api/v1/data?name=${BOB_CLUSTER}/admin`, 'admin-token')).status).toBe(200);
    expect((await call('GET', '/api/v1/data?path=/', 'admin-token')).body.credentials).toHaveLength(4);
    expect((await call('POST', '/api/v1/data', 'engine-token', { name: `${BOB_CLUSTER}/admin`, regenerate: true })).status).toBe(200);
  });

  it('signs with a CA only for a caller who may read that CA', async () => {
    const { provider, call } = await twoClusters();
    await provider.grant({ actor: 'user:alice', path: '/alice/*', operations: ['read', 'write'] }, engine);
    const signed = await call('POST', '/api/v1/data', 'alice-token', { name: '/alice/leaf', type: 'certificate', parameters: { common_name: 'x', ca: `${ALICE_CLUSTER}/kubernetes-ca`, key_algorithm: 'ecdsa-p256' } });
    expect(signed.status).toBe(200);
    const refused = await call('POST', '/api/v1/data', 'alice-token', { name: '/alice/leaf2', type: 'certificate', parameters: { common_name: 'x', ca: `${BOB_CLUSTER}/kubernetes-ca`, key_algorithm: 'ecdsa-p256' } });
    expect(refused).toMatchObject({ status: 403, body: { error: `user:alice may not read ${BOB_CLUSTER}/kubernetes-ca` } });
    // Bulk regeneration needs write on every certificate the CA signed: nothing happens otherwise.
    const before = (await call('GET', `/api/v1/data?name=${ALICE_CLUSTER}/admin&current=true`, 'alice-token')).body.data[0].id;
    await provider.grant({ actor: 'user:alice', path: `${ALICE_CLUSTER}/kubernetes-ca`, operations: ['write'] }, engine);
    const bulk = await call('POST', '/api/v1/bulk-regenerate', 'alice-token', { signed_by: `${ALICE_CLUSTER}/kubernetes-ca` });
    expect(bulk).toMatchObject({ status: 403, body: { error: `user:alice may not regenerate the certificates ${ALICE_CLUSTER}/kubernetes-ca signed: write is missing on 1 of them` } });
    expect((await call('GET', `/api/v1/data?name=${ALICE_CLUSTER}/admin&current=true`, 'alice-token')).body.data[0].id).toBe(before);
  });

  it('manages entries through /api/v2/permissions with CredHub status codes', async () => {
    const { provider, call } = await twoClusters();
    const created = await call('POST', '/api/v2/permissions', 'admin-token', { actor: 'user:carol', path: `${BOB_CLUSTER}/*`, operations: ['read', 'read_acl'] });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ uuid: expect.any(String), actor: 'user:carol', path: `${BOB_CLUSTER}/*`, operations: ['read', 'read_acl'] });
    expect((await call('POST', '/api/v2/permissions', 'admin-token', { actor: 'user:carol', path: `${BOB_CLUSTER}/*`, operations: ['read'] })).status).toBe(409);
    expect((await call('GET', `/api/v2/permissions?path=${BOB_CLUSTER}/*&actor=user:carol`)).body).toEqual(created.body);
    expect((await call('GET', `/api/v2/permissions/${created.body.uuid}`)).body).toEqual(created.body);
    expect((await call('GET', `/api/v2/permissions?path=${BOB_CLUSTER}/*&actor=user:nobody`)).status).toBe(404);
    expect((await call('GET', '/api/v2/permissions/7f9c3a51-0000-4000-8000-000000000000')).status).toBe(404);

    const put = await call('PUT', `/api/v2/permissions/${created.body.uuid}`, 'admin-token', { actor: 'user:carol', path: `${BOB_CLUSTER}/*`, operations: ['read', 'write'] });
    expect(put.body.operations).toEqual(['read', 'write']);
    const moved = await call('PUT', `/api/v2/permissions/${created.body.uuid}`, 'admin-token', { actor: 'user:carol', path: '/elsewhere/*', operations: ['read'] });
    expect(moved).toMatchObject({ status: 400, body: { error: 'The permission guid does not match the provided actor and path.' } });
    const patched = await call('PATCH', `/api/v2/permissions/${created.body.uuid}`, 'admin-token', { operations: ['read'] });
    expect(patched.body.operations).toEqual(['read']);
    expect((await call('POST', '/api/v2/permissions', 'admin-token', { actor: 'user:carol', path: '/x', operations: ['admin'] })).body.error).toMatch(/read, write, delete, read_acl, and write_acl/);
    expect((await call('POST', '/api/v2/permissions', 'admin-token', { actor: 'user:carol', path: '/x/*/y', operations: ['read'] })).status).toBe(400);

    // Reading and writing ACLs take read_acl and write_acl on the path; nobody changes their own entries.
    expect((await call('GET', `/api/v2/permissions?path=${ALICE_CLUSTER}/*&actor=user:alice`, 'alice-token')).status).toBe(403);
    expect((await call('POST', '/api/v2/permissions', 'alice-token', { actor: 'user:eve', path: `${ALICE_CLUSTER}/*`, operations: ['read'] })).status).toBe(403);
    await provider.grant({ actor: 'user:alice', path: `${ALICE_CLUSTER}/*`, operations: ['read_acl', 'write_acl'] }, engine);
    const shared = await call('POST', '/api/v2/permissions', 'alice-token', { actor: 'user:eve', path: `${ALICE_CLUSTER}/admin`, operations: ['read'] });
    expect(shared.status).toBe(201);
    expect((await call('GET', `/api/v1/data?name=${ALICE_CLUSTER}/admin`, 'admin-token')).status).toBe(200);
    const own = await call('PATCH', `/api/v2/permissions/${(await provider.permissions.find({ actor: 'user:alice', path: `${ALICE_CLUSTER}/*` }, engine)).uuid}`, 'alice-token', { operations: ['read', 'write', 'delete', 'read_acl', 'write_acl'] });
    expect(own).toMatchObject({ status: 400, body: { error: expect.stringMatching(/Modification of access control for the authenticated user is not allowed/) } });

    expect((await call('DELETE', `/api/v2/permissions/${created.body.uuid}`)).body).toMatchObject({ uuid: created.body.uuid, operations: ['read'] });
    expect((await call('DELETE', `/api/v2/permissions/${created.body.uuid}`)).status).toBe(404);
  });

  it('keeps the engine in full control and lets it revoke a deleted cluster\'s grants', async () => {
    const { provider, call } = await twoClusters();
    // No entry can take the engine's access away: it has no entry to remove.
    expect(await provider.revoke({ path: '/*' }, engine)).toBe(0);
    expect((await provider.get(`${BOB_CLUSTER}/admin`, engine)).name).toBe(`${BOB_CLUSTER}/admin`);
    expect(await provider.revoke({ path: `${BOB_CLUSTER}/*` }, engine)).toBe(1);
    expect((await call('GET', `/api/v1/data?name=${BOB_CLUSTER}/admin`, 'bob-token')).status).toBe(403);
    // Granting twice merges operations into one entry.
    await provider.grant({ actor: 'user:alice', path: `${ALICE_CLUSTER}/*`, operations: ['read'] }, engine);
    const merged = await provider.grant({ actor: 'user:alice', path: `${ALICE_CLUSTER}/*`, operations: ['delete'] }, engine);
    expect(merged.operations).toEqual(['read', 'delete']);
    expect((await call('DELETE', `/api/v1/data?name=${ALICE_CLUSTER}/admin`, 'alice-token')).status).toBe(204);
  });
});
