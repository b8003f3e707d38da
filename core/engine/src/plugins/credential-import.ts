import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CREDENTIAL_TYPES,
  SlipwayError,
  type CredentialProvider,
  type CredentialType,
  type Logger,
} from '@slipway/contracts';
import { ENGINE_ACTOR } from '../agents/agent-identity.js';
import { SystemClock } from '../clock.js';
import { loadConfigFile, parseConfigText } from '../config/load.js';
import { PluginLoader } from './loader.js';
import { createPluginInstance } from './plugin-set.js';
import { defaultKeysDir } from '../keys-dir.js';
import { createStore } from '../store/index.js';
import { pluginDatabases } from '../store/plugin-database.js';
import { storeLocationOf } from '../store-location.js';

/**
 * Who an import acts as. Whoever can read the Slipway home (its key file) holds every secret anyway, so the
 * import writes as the engine; the audit trail tells it apart by its source.
 */
const IMPORT_CONTEXT = { ...ENGINE_ACTOR, sourceAddress: 'local:slipway credentials import' };

export interface ImportEntry {
  name: string;
  type: CredentialType;
  value: unknown;
}

/**
 * Reads a credentials file in CredHub's import format (`credentials: [{ name, type, value }]`, YAML or JSON)
 * and checks every entry, reporting every problem with its path.
 */
export async function readCredentialImport(file: string): Promise<ImportEntry[]> {
  const doc = parseConfigText(await readFile(file, 'utf8'), file) as { credentials?: unknown } | null;
  const list = doc?.credentials;
  if (!Array.isArray(list)) {
    throw new SlipwayError('InvalidInput', `${file}: credentials: must be a list of { name, type, value }`, {
      field: 'credentials',
    });
  }
  const errors: string[] = [];
  list.forEach((entry: Record<string, unknown>, i) => {
    if (typeof entry?.name !== 'string' || !entry.name.startsWith('/'))
      errors.push(`credentials[${i}].name: must be a path such as /slipway/iaas/aws`);
    if (!CREDENTIAL_TYPES.includes(entry?.type as CredentialType))
      errors.push(`credentials[${i}].type: must be one of ${CREDENTIAL_TYPES.join(', ')}`);
    if (entry?.value === undefined) errors.push(`credentials[${i}].value: is required`);
  });
  if (errors.length)
    throw new SlipwayError('InvalidInput', `${file} has ${errors.length} problem(s):\n  ${errors.join('\n  ')}`, {
      details: { errors },
    });
  return list as ImportEntry[];
}

/**
 * Writes credentials straight into the configured credential provider of a Slipway home, as the control
 * plane will find them: for the secrets IaaS drivers need at start (cloud keys), which must be in the store
 * before `slipway up` can create the drivers. Each entry becomes a new version.
 */
export async function importCredentials(options: {
  home: string;
  configPath: string;
  entries: ImportEntry[];
  logger: Logger;
  keysDir?: string;
}): Promise<string[]> {
  const config = await loadConfigFile(options.configPath);
  const loader = new PluginLoader({ searchDirs: config.plugin_dirs, configDir: options.configPath });
  const credentialsPlugin = await loader.resolve('credentials', config.credentials, 'credentials');
  // The same data directory layout and database as `slipway up`: the store the running control plane opens.
  const store = await createStore(storeLocationOf(options.home, config));
  let credentials: CredentialProvider;
  try {
    credentials = await createPluginInstance<CredentialProvider>(credentialsPlugin, 'default', {
      dataDir: join(options.home, 'plugins'),
      keysDir: options.keysDir ?? defaultKeysDir(options.home),
      logger: options.logger,
      clock: new SystemClock(),
      database: pluginDatabases(store.db),
    });
  } catch (e) {
    await store.db.destroy();
    throw e;
  }
  try {
    const written: string[] = [];
    for (const entry of options.entries) {
      await credentials.set({ name: entry.name, type: entry.type, value: entry.value as never }, IMPORT_CONTEXT);
      written.push(entry.name);
    }
    return written;
  } finally {
    await credentials.destroy();
    await store.db.destroy();
  }
}
