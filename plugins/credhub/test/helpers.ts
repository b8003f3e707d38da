import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { CredentialContext, PluginHost } from '@slipway/contracts';
import plugin, { type CredhubConfig, type CredhubCredentialProvider } from '../src/index.js';

export const engine: CredentialContext = { actor: 'slipway:engine' };
export const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return quiet;
  },
};

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Runs `fn` after the current test. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** A temp directory removed after the test. */
export function tempDir(prefix = 'credhub-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The plugin as the engine creates it, in a temp data directory; destroyed after the test. */
export async function openStore(
  options: { dataDir?: string; config?: CredhubConfig; logger?: PluginHost['logger'] } = {},
): Promise<{ provider: CredhubCredentialProvider; dataDir: string }> {
  const dataDir = options.dataDir ?? tempDir();
  const host: PluginHost = {
    logger: options.logger ?? quiet,
    clock: { now: Date.now, sleep: async () => {} },
    dataDir,
    instanceName: 'default',
  };
  const provider = (await plugin.create(options.config ?? {}, host)) as CredhubCredentialProvider;
  let destroyed = false;
  const destroy = provider.destroy.bind(provider);
  provider.destroy = async () => {
    if (!destroyed) {
      destroyed = true;
      await destroy();
    }
  };
  // Registered before the data dir's removal runs (cleanups run last-in first-out).
  onCleanup(() => provider.destroy());
  return { provider, dataDir };
}
