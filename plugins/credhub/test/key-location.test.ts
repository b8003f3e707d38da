import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PluginHost } from '@slipway/contracts';
import plugin, { type CredhubCredentialProvider } from '../src/index.js';
import { engine, onCleanup, quiet, tempDir } from './helpers.js';

/** The plugin as the engine creates it, with a keys directory outside its data directory. */
async function open(dataDir: string, keysDir: string, warnings: string[] = []): Promise<CredhubCredentialProvider> {
  const logger = {
    ...quiet,
    warn: (message: string, fields?: Record<string, unknown>) => {
      warnings.push(`${message} ${JSON.stringify(fields ?? {})}`);
    },
  };
  const host: PluginHost = {
    logger,
    clock: { now: Date.now, sleep: async () => {} },
    dataDir,
    keysDir,
    instanceName: 'default',
  };
  const provider = (await plugin.create({}, host)) as CredhubCredentialProvider;
  onCleanup(() => provider.destroy());
  return provider;
}

describe('where the default encryption key lives', () => {
  it('creates it in the keys directory, outside the data directory, mode 0600, and keeps using it', async () => {
    const root = tempDir();
    const dataDir = join(root, 'home', 'plugins', 'credentials', 'default');
    mkdirSync(dataDir, { recursive: true });
    const keysDir = join(root, 'home-keys');
    const provider = await open(dataDir, keysDir);
    await provider.set({ name: '/k/secret', type: 'value', value: 'kept' }, engine);
    const keyFile = join(keysDir, 'credhub-encryption.key');
    expect((statSync(keyFile).mode & 0o777).toString(8)).toBe('600');
    expect(existsSync(join(dataDir, 'encryption.key'))).toBe(false);
    await provider.destroy();
    const again = await open(dataDir, keysDir);
    expect((await again.get('/k/secret', engine)).value).toBe('kept');
  });

  it('keeps using the key of an existing home at the old place inside the home, with a notice saying how to move it', async () => {
    const root = tempDir();
    const dataDir = join(root, 'data');
    mkdirSync(dataDir);
    // A home from before: no keys directory given, so the key is made in the data directory.
    const host: PluginHost = {
      logger: quiet,
      clock: { now: Date.now, sleep: async () => {} },
      dataDir,
      instanceName: 'default',
    };
    const old = (await plugin.create({}, host)) as CredhubCredentialProvider;
    await old.set({ name: '/k/old', type: 'value', value: 'from before' }, engine);
    await old.destroy();
    expect(existsSync(join(dataDir, 'encryption.key'))).toBe(true);

    const warnings: string[] = [];
    const keysDir = join(root, 'keys');
    const upgraded = await open(dataDir, keysDir, warnings);
    expect((await upgraded.get('/k/old', engine)).value).toBe('from before');
    expect(existsSync(join(keysDir, 'credhub-encryption.key')), 'no second key made').toBe(false);
    expect(warnings.join('\n')).toContain('inside the home');
    expect(warnings.join('\n')).toContain(join(keysDir, 'credhub-encryption.key'));
    await upgraded.destroy();

    // Moved as the notice says: found at the new place, no notice.
    mkdirSync(keysDir);
    renameSync(join(dataDir, 'encryption.key'), join(keysDir, 'credhub-encryption.key'));
    const moved: string[] = [];
    const after = await open(dataDir, keysDir, moved);
    expect((await after.get('/k/old', engine)).value).toBe('from before');
    expect(moved).toEqual([]);
  });

  it('tells a backup which keys seal the data, and a restore which keys it is given, without creating one', async () => {
    const root = tempDir();
    const dataDir = join(root, 'data');
    mkdirSync(dataDir);
    const keysDir = join(root, 'keys');
    const provider = await open(dataDir, keysDir);
    await provider.set({ name: '/k/a', type: 'value', value: 'a' }, engine);
    await provider.destroy();
    const spec = plugin.backup!;
    const inUse = await spec.keyIdsInUse!(dataDir);
    expect(inUse).toHaveLength(1);
    const configured = await spec.configuredKeys!({}, { dataDir, keysDir, env: {} });
    expect(configured).toEqual([{ id: inUse[0], source: `file ${join(keysDir, 'credhub-encryption.key')}` }]);
    expect(readFileSync(join(keysDir, 'credhub-encryption.key'), 'utf8')).not.toContain(inUse[0]);
    // Without the key file: an error naming where it was looked for, and no new key made.
    const empty = join(root, 'no-keys');
    await expect(
      spec.configuredKeys!({}, { dataDir: join(root, 'elsewhere'), keysDir: empty, env: {} }),
    ).rejects.toThrow(join(empty, 'credhub-encryption.key'));
    expect(existsSync(empty)).toBe(false);
  });
});
