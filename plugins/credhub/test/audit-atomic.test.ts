import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { engine, openStore } from './helpers.js';

describe('audit and data commit together', () => {
  it('stores nothing when its audit event cannot be written, and leaves concurrent writes and their events alone', async () => {
    const { provider, dataDir } = await openStore();
    // The audit trail refuses one name, as a full disk or a bad row would: its write must not land without it.
    const side = new Sqlite(join(dataDir, 'credhub.db'));
    side.exec(
      "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events WHEN NEW.name = '/atomic/refused' AND NEW.operation = 'set' BEGIN SELECT RAISE(ABORT, 'audit refused'); END;",
    );
    side.close();

    const results = await Promise.allSettled([
      provider.set({ name: '/atomic/refused', type: 'value', value: 'v' }, engine),
      ...Array.from({ length: 20 }, (_, i) =>
        provider.set({ name: `/atomic/ok-${i}`, type: 'value', value: `v${i}` }, engine),
      ),
    ]);
    expect(results[0].status).toBe('rejected');
    expect(results.slice(1).every((r) => r.status === 'fulfilled')).toBe(true);
    await expect(provider.get('/atomic/refused', engine)).rejects.toMatchObject({ code: 'NotFound' });

    const events = await provider.auditLog.list({ path: '/atomic', operation: 'set', limit: 1000 });
    const versions = new Set(events.filter((e) => e.result === 'success').map((e) => e.version_id));
    for (const r of results.slice(1))
      expect(versions.has((r as PromiseFulfilledResult<{ id: string }>).value.id)).toBe(true);
    expect(events.filter((e) => e.name === '/atomic/refused')).toEqual([]);
  });
});
