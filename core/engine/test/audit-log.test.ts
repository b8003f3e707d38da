import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore, type Store } from '../src/store/index.js';

let dir: string;
let store: Store;

afterAll(async () => {
  await store?.db.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the audit log', () => {
  it("keeps entries in the caller's transaction, filters by prefix and time, and prunes by age", async () => {
    dir = await mkdtemp(join(tmpdir(), 'slipway-audit-'));
    store = await createStore(join(dir, 'slipway.db'));
    const entry = (at: string, action: string) => ({
      at,
      actor: 'ann',
      action,
      result: 'success' as const,
      target: 'cluster:web',
    });
    await store.audit.append(entry('2020-01-01T00:00:00.000Z', 'cluster.create'));
    await store.audit.append(entry('2026-01-01T00:00:00.000Z', 'cluster.delete'));
    await store.audit.append(entry('2026-01-02T00:00:00.000Z', 'login'));
    // A transaction that rolls back takes its audit entry with it.
    await expect(
      store.db.transaction().execute(async (tx) => {
        await store.audit.append(entry('2026-01-03T00:00:00.000Z', 'cluster.update'), tx);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect((await store.audit.query({ limit: 10 })).map((e) => e.action)).toEqual([
      'login',
      'cluster.delete',
      'cluster.create',
    ]);
    expect((await store.audit.query({ limit: 10, action: 'cluster.*' })).map((e) => e.action)).toEqual([
      'cluster.delete',
      'cluster.create',
    ]);
    expect(
      (
        await store.audit.query({ limit: 10, since: '2025-12-31T00:00:00.000Z', until: '2026-01-02T00:00:00.000Z' })
      ).map((e) => e.action),
    ).toEqual(['cluster.delete']);
    expect(await store.audit.pruneBefore('2025-01-01T00:00:00.000Z')).toBe(1);
    expect((await store.audit.query({ limit: 10 })).map((e) => e.action)).toEqual(['login', 'cluster.delete']);
  });
});
