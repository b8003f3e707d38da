import { describe, expect, it } from 'vitest';
import { apiClient } from './http-helpers.js';
import { engine, openStore } from './helpers.js';

describe('audit', () => {
  it('records every read, write, generate, regenerate, delete and permission change, with denials', async () => {
    const { provider } = await openStore();
    const { call } = apiClient(provider);
    const set = await call('PUT', '/api/v1/data', 'admin-token', {
      name: '/a/value',
      type: 'value',
      value: 'secret-value',
    });
    const generated = await call('POST', '/api/v1/data', 'admin-token', { name: '/a/password', type: 'password' });
    await call('POST', '/api/v1/data', 'admin-token', { name: '/a/password', type: 'password' });
    const regenerated = await call('POST', '/api/v1/regenerate', 'admin-token', { name: '/a/password' });
    await call('GET', '/api/v1/data?name=/a/value&current=true', 'admin-token');
    await call('GET', '/api/v1/data?name=/a/value', 'alice-token');
    const permission = await call('POST', '/api/v2/permissions', 'admin-token', {
      actor: 'user:alice',
      path: '/a/*',
      operations: ['read'],
    });
    await call('GET', '/api/v1/data?name=/a/value', 'alice-token');
    await call('DELETE', `/api/v2/permissions/${permission.body.uuid}`, 'admin-token');
    await call('DELETE', '/api/v1/data?name=/a/value', 'admin-token');
    await call('GET', '/api/v1/data?name=/a/value', 'admin-token');
    await provider.generate({ name: '/a/engine', type: 'password' }, { ...engine, sourceAddress: 'engine' });

    const res = await call('GET', '/api/v1/audit?limit=100', 'admin-token');
    const events = res.body.events
      .map((e: Record<string, unknown>) => [e.actor, e.operation, e.name, e.result])
      .reverse();
    expect(events).toEqual([
      ['user:admin', 'set', '/a/value', 'success'],
      ['user:admin', 'generate', '/a/password', 'success'],
      ['user:admin', 'generate', '/a/password', 'unchanged'],
      ['user:admin', 'regenerate', '/a/password', 'success'],
      ['user:admin', 'get', '/a/value', 'success'],
      ['user:alice', 'get', '/a/value', 'denied'],
      ['user:admin', 'add_permissions', '/a/*', 'success'],
      ['user:alice', 'get', '/a/value', 'success'],
      ['user:admin', 'delete_permissions', '/a/*', 'success'],
      ['user:admin', 'delete', '/a/value', 'success'],
      ['user:admin', 'get', '/a/value', 'not_found'],
      ['slipway:engine', 'generate', '/a/engine', 'success'],
    ]);
    const first = res.body.events.at(-1);
    expect(first).toMatchObject({ version_id: set.body.id, source_address: '127.0.0.9', details: { type: 'value' } });
    expect(Date.parse(first.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(res.body.events.find((e: { operation: string }) => e.operation === 'regenerate').version_id).toBe(
      regenerated.body.id,
    );
    expect(
      res.body.events.find(
        (e: { operation: string; result: string }) => e.operation === 'generate' && e.result === 'unchanged',
      ).version_id,
    ).toBe(generated.body.id);
    expect(JSON.stringify(res.body)).not.toContain('secret-value');

    // Filters: by actor, name, operation, result, time; paging with before.
    const denied = await call('GET', '/api/v1/audit?result=denied', 'admin-token');
    expect(denied.body.events).toMatchObject([
      { actor: 'user:alice', name: '/a/value', details: { error: 'user:alice may not read /a/value' } },
    ]);
    expect((await call('GET', '/api/v1/audit?actor=user:alice', 'admin-token')).body.events).toHaveLength(2);
    expect(
      (await call('GET', '/api/v1/audit?name=/a/password&operation=generate', 'admin-token')).body.events,
    ).toHaveLength(2);
    expect((await call('GET', '/api/v1/audit?path=/a', 'admin-token')).body.events.length).toBe(12);
    expect(
      (await call('GET', `/api/v1/audit?since=${new Date(Date.now() + 60_000).toISOString()}`, 'admin-token')).body
        .events,
    ).toEqual([]);
    const page = await call('GET', '/api/v1/audit?limit=2', 'admin-token');
    const next = await call('GET', `/api/v1/audit?limit=2&before=${page.body.events[1].seq}`, 'admin-token');
    expect(next.body.events[0].seq).toBe(page.body.events[1].seq - 1);
    expect((await call('GET', '/api/v1/audit?operation=peek', 'admin-token')).status).toBe(400);

    // A user sees only their own events.
    const own = await call('GET', '/api/v1/audit', 'alice-token');
    expect(new Set(own.body.events.map((e: { actor: string }) => e.actor))).toEqual(new Set(['user:alice']));
    expect((await call('GET', '/api/v1/audit?actor=user:admin', 'alice-token')).status).toBe(403);
  });
});
