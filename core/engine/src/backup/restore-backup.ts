import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SlipwayError } from '@slipway/contracts';
import { loadConfigFile } from '../config/load.js';
import { HomeLock } from '../home-lock.js';
import { PluginLoader } from '../plugins/loader.js';
import {
  BACKUP_FORMAT,
  CHECKSUMS_FILE,
  MANIFEST_FILE,
  parseChecksums,
  sha256Of,
  type BackupManifest,
} from './manifest.js';
import { STORE_FILE } from './take-backup.js';
import { storeLocationOf } from '../store-location.js';
import { describeStore } from '../store/dialect.js';
import { postgresMigrationLevel, restorePostgres } from './postgres-dump.js';

export interface RestoreOptions {
  from: string;
  home: string;
  /** The config to restore with; default the backup's own slipway.yaml, restored into the home. */
  configPath?: string;
  /** Where the keys are (the operator kept them there); `slipway up` must be given the same. */
  keysDir: string;
  env: Record<string, string | undefined>;
  /** Replace the state of a home that has one (its control plane stopped). */
  force?: boolean;
}

export interface RestoreResult {
  manifest: BackupManifest;
  /** Files written into the home. */
  restored: string[];
  configPath: string;
  duration_ms: number;
}

/**
 * `slipway restore`: checks the backup (every checksum), checks that the configured keys open what the
 * backup's credentials are sealed under, and only then, holding the home's lock (so never under a running
 * control plane), puts the files in place. A refused restore leaves the home as it was.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const manifest = await verifyBackup(options.from);
  const configPath = options.configPath ?? join(options.from, manifest.config ?? 'slipway.yaml');
  await checkKeys(manifest, options, configPath);

  // A PostgreSQL backup goes back into the database the config names (or SLIPWAY_STORE_URL), never a file.
  const pgTarget =
    manifest.store.engine === 'postgres' ? await postgresTargetOf(manifest, options, configPath) : undefined;

  await mkdir(options.home, { recursive: true, mode: 0o700 });
  const lock = HomeLock.acquire(options.home, 'slipway restore');
  try {
    const holdsStore = pgTarget
      ? (await postgresMigrationLevel(pgTarget)) !== null
      : existsSync(join(options.home, STORE_FILE));
    if (holdsStore && !options.force) {
      throw new SlipwayError(
        'AlreadyExists',
        `${pgTarget ? 'the store database' : options.home} already holds a Slipway store`,
        {
          hint: "Restore into a new or empty home, or pass --force to replace this one's state (its control plane stopped).",
        },
      );
    }
    const restored: string[] = [];
    if (pgTarget) {
      await restorePostgres(pgTarget, join(options.from, manifest.store.file), options.env);
      restored.push(manifest.store.file);
    }
    for (const file of manifest.files) {
      if (file.path === 'slipway.yaml' && options.configPath) continue; // the operator's own config stays
      if (pgTarget && file.path === manifest.store.file) continue;
      const target = join(options.home, file.path);
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      // A WAL left by the replaced database would be replayed onto the restored one.
      await Promise.all([`${target}-wal`, `${target}-shm`, `${target}-journal`].map((f) => rm(f, { force: true })));
      const staged = `${target}.restoring`;
      await copyFile(join(options.from, file.path), staged);
      await chmod(staged, 0o600);
      await rename(staged, target);
      restored.push(file.path);
    }
    return {
      manifest,
      restored,
      configPath: options.configPath ?? join(options.home, 'slipway.yaml'),
      duration_ms: Date.now() - started,
    };
  } finally {
    lock.release();
  }
}

/** The PostgreSQL database a PostgreSQL backup is restored into; refuses when the config names a SQLite store. */
async function postgresTargetOf(
  manifest: BackupManifest,
  options: RestoreOptions,
  configPath: string,
): Promise<string> {
  const config = await loadConfigFile(configPath);
  const location = storeLocationOf(options.home, config, options.env as NodeJS.ProcessEnv);
  if (location.dialect !== 'postgres') {
    throw new SlipwayError(
      'InvalidConfig',
      `restore refused: this backup holds a PostgreSQL store (${manifest.store.file}), but the config's store is ${describeStore(location)}`,
      {
        hint: 'Set store.url (or SLIPWAY_STORE_URL) to the PostgreSQL database to restore into, then restore again. Nothing was restored.',
      },
    );
  }
  return location.url;
}

/** Reads the manifest and checks every file against SHA256SUMS; throws naming the first damaged file. */
export async function verifyBackup(from: string): Promise<BackupManifest> {
  const manifestPath = join(from, MANIFEST_FILE);
  if (!existsSync(manifestPath) || !existsSync(join(from, CHECKSUMS_FILE))) {
    throw new SlipwayError('NotFound', `${from} is not a Slipway backup (no ${MANIFEST_FILE} and ${CHECKSUMS_FILE})`, {
      field: 'from',
      hint: 'Pass the directory slipway backup --to wrote.',
    });
  }
  const sums = parseChecksums(await readFile(join(from, CHECKSUMS_FILE), 'utf8'));
  const damaged = async (path: string, expected: string | undefined): Promise<string | undefined> => {
    if (!expected) return `${path} has no checksum in ${CHECKSUMS_FILE}`;
    if (!existsSync(join(from, path))) return `${path} is missing`;
    const actual = await sha256Of(join(from, path));
    return actual === expected ? undefined : `${path} has sha256 ${actual}, ${CHECKSUMS_FILE} says ${expected}`;
  };
  const refuse = (problem: string) =>
    new SlipwayError('InvalidInput', `backup ${from} is damaged: ${problem}`, {
      field: 'from',
      hint: 'Nothing was restored. Use another copy of the backup, or take a new one.',
    });
  const manifestProblem = await damaged(MANIFEST_FILE, sums.get(MANIFEST_FILE));
  if (manifestProblem) throw refuse(manifestProblem);
  const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as BackupManifest;
  if (manifest.format !== BACKUP_FORMAT) {
    throw new SlipwayError(
      'Unsupported',
      `backup ${from} has format ${String(manifest.format)}; this Slipway reads ${BACKUP_FORMAT}`,
      { hint: 'Restore it with the Slipway version that took it (manifest.json names it).' },
    );
  }
  for (const file of manifest.files) {
    if (file.path.split('/').includes('..')) throw refuse(`${file.path} points outside the home`);
    const problem = await damaged(file.path, sums.get(file.path));
    if (problem) throw refuse(problem);
    if (file.sha256 !== sums.get(file.path)) throw refuse(`${file.path}: manifest and ${CHECKSUMS_FILE} disagree`);
  }
  return manifest;
}

/**
 * Every key id the backup's data is sealed under must be one the config gives on this host. The ids come
 * from the data itself (not only the manifest), so a hand-edited manifest cannot pass a wrong key.
 */
async function checkKeys(manifest: BackupManifest, options: RestoreOptions, configPath: string): Promise<void> {
  const config = await loadConfigFile(configPath);
  const resolved = await new PluginLoader({ searchDirs: config.plugin_dirs, configDir: configPath }).resolveAll(config);
  for (const entry of manifest.plugins) {
    const plugin = resolved.find((p) => p.kind === entry.kind && p.instanceName === entry.instance);
    const spec = plugin?.module.backup;
    if (!plugin || !spec?.keyIdsInUse || !spec.configuredKeys) continue;
    const inUse = await spec.keyIdsInUse(join(options.from, entry.data_dir), {
      sqliteFile: join(options.from, STORE_FILE),
    });
    let configured: Array<{ id: string; source: string }>;
    try {
      configured = await spec.configuredKeys(plugin.config, {
        dataDir: join(options.from, entry.data_dir),
        keysDir: options.keysDir,
        env: options.env,
      });
    } catch (e) {
      throw new SlipwayError(
        'InvalidConfig',
        `restore refused: ${entry.plugin}'s data is sealed under key ${inUse.join(', ')}, and its key cannot be read: ${(e as Error).message}`,
        {
          cause: e,
          hint: `Put the key you kept for this home where the config says (default ${join(options.keysDir, '…')}), or pass --keys DIR. Nothing was restored; the home is unchanged.`,
        },
      );
    }
    const missing = inUse.filter((id) => !configured.some((k) => k.id === id));
    if (missing.length) {
      throw new SlipwayError(
        'InvalidConfig',
        `restore refused: ${entry.plugin}'s data in this backup is sealed under key ${missing.join(', ')}, but the configured key is ${configured.map((k) => `${k.id} (${k.source})`).join(', ')}`,
        {
          details: { needed: missing, configured: configured.map((k) => k.id) },
          hint: 'This is not the key the backup was taken with. Put the key file you kept with that home in place of the one named (or pass --keys DIR, or list it in credentials.config.encryption.keys), then restore again. Nothing was restored; the home is unchanged.',
        },
      );
    }
  }
}
