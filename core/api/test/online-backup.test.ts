import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeBackup } from '@slipway/engine';
import { ADMIN_PASSWORD, startTestControlPlane, type TestControlPlane } from './harness.js';

let t: TestControlPlane;
let out: string;
beforeAll(async () => {
  t = await startTestControlPlane();
  out = await mkdtemp(join(tmpdir(), 'slipway-online-backup-'));
});
afterAll(async () => {
  await t?.stop();
  await rm(out, { recursive: true, force: true });
});

describe('backup while the control plane writes', () => {
  it("copies one consistent state: the credentials written one after another are a gapless prefix, and the copies pass SQLite's check", async () => {
    const token = await t.login('admin', ADMIN_PASSWORD);
    let written = 0;
    let writing = true;
    // One writer, each write committed before the next starts: any consistent snapshot holds writes 0..k-1.
    const writer = (async () => {
      while (writing) {
        const res = await t.call('PUT', '/api/v1/data', {
          token,
          body: { name: `/load/c${written}`, type: 'value', value: `v${written}` },
        });
        if (res.status !== 200) throw new Error(`write ${written}: ${res.status} ${JSON.stringify(res.body)}`);
        written++;
      }
    })();
    while (written < 20) await new Promise((r) => setTimeout(r, 10));
    const to = join(out, 'during-writes');
    const writtenBefore = written;
    const manifest = await takeBackup({ home: t.home, configPath: join(t.home, 'slipway.yaml'), to, version: 'test' });
    const writtenWhenDone = written;
    await new Promise((r) => setTimeout(r, 200));
    writing = false;
    await writer;

    // The credential store lives in the control plane's database: its copy is the store's.
    const db = new Sqlite(join(to, 'slipway.db'), { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const names = (
        db.prepare("SELECT name FROM credhub_credential_versions WHERE name LIKE '/load/%'").all() as Array<{
          name: string;
        }>
      ).map((r) => Number(r.name.slice('/load/c'.length)));
      names.sort((a, b) => a - b);
      // Every write acknowledged before the backup began is in it; none acknowledged after it ended.
      expect(names.length).toBeGreaterThanOrEqual(writtenBefore);
      expect(names.length).toBeLessThanOrEqual(writtenWhenDone + 1);
      expect(names).toEqual(Array.from({ length: names.length }, (_, i) => i));
    } finally {
      db.close();
    }
    expect(manifest.files.map((f) => f.path)).toContain('slipway.db');
    await expect(
      takeBackup({
        home: t.home,
        configPath: join(t.home, 'slipway.yaml'),
        to: join(t.home, 'backups'),
        version: 'test',
      }),
    ).rejects.toThrow('is inside the home');
    await expect(
      takeBackup({ home: t.home, configPath: join(t.home, 'slipway.yaml'), to, version: 'test' }),
    ).rejects.toThrow('is not empty');
  });
});
