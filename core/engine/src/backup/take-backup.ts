import { chmod, copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { SlipwayError } from '@slipway/contracts';
import { loadConfigFile } from '../config/load.js';
import { PluginLoader, type ResolvedPlugin } from '../plugins/loader.js';
import { SqliteOnlineCopier, migrationLevelOf, type DatabaseCopier } from './database-copier.js';
import {
  BACKUP_FORMAT,
  CHECKSUMS_FILE,
  formatChecksums,
  MANIFEST_FILE,
  sha256Of,
  type BackedUpPlugin,
  type BackupFile,
  type BackupManifest,
} from './manifest.js';

import { STORE_FILE, storeLocationOf } from '../store-location.js';
import { dumpPostgres, PG_DUMP_FILE, postgresMigrationLevel } from './postgres-dump.js';
export { STORE_FILE };

export interface BackupOptions {
  home: string;
  configPath: string;
  /** A new or empty directory. */
  to: string;
  version: string;
  copier?: DatabaseCopier;
  now?: () => Date;
  /** Where SLIPWAY_STORE_URL and PATH (pg_dump) are read; default process.env. */
  env?: Record<string, string | undefined>;
}

/** Where a plugin instance keeps its data, relative to the home (as `slipway up` lays it out). */
export function dataDirOf(plugin: { kind: string; instanceName: string }): string {
  return `plugins/${plugin.kind}/${plugin.instanceName}`;
}

/**
 * `slipway backup`: a consistent online copy of the control plane's state, taken on the home while the
 * control plane runs (or not): the store, then each plugin's declared state (the credential store), each
 * database through the online backup API. The store goes first: every credential it names was written
 * before the store recorded it, so the later credential copy holds all of them (at worst a few newer
 * ones, which a converge or the next task reuses). No key is copied: the manifest names the key ids.
 */
export async function takeBackup(options: BackupOptions): Promise<BackupManifest> {
  const started = Date.now();
  const copier = options.copier ?? new SqliteOnlineCopier();
  const env = options.env ?? process.env;
  const config = await loadConfigFile(options.configPath).catch((e: unknown) => {
    // A home without its config cannot say where its store is: say the home is the problem when it has no store.
    if (!existsSync(join(options.home, STORE_FILE)))
      throw new SlipwayError('NotFound', `${options.home} holds no Slipway store (${STORE_FILE})`, {
        hint: 'Pass the home slipway up runs with: --home DIR or $SLIPWAY_HOME.',
      });
    throw e;
  });
  const location = storeLocationOf(options.home, config, env as NodeJS.ProcessEnv);
  if (location.dialect === 'sqlite' && !existsSync(location.file)) {
    throw new SlipwayError('NotFound', `${options.home} holds no Slipway store (${STORE_FILE})`, {
      hint: 'Pass the home slipway up runs with: --home DIR or $SLIPWAY_HOME.',
    });
  }
  const rel = relative(resolve(options.home), resolve(options.to));
  if (rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))) {
    throw new SlipwayError(
      'InvalidInput',
      `${options.to} is inside the home ${options.home}: a backup that goes with the home it protects is no backup`,
      { field: 'to', hint: 'Write it to another directory, ideally another disk or machine.' },
    );
  }
  await prepareTarget(options.to);
  const resolved = await new PluginLoader({ searchDirs: config.plugin_dirs, configDir: options.configPath }).resolveAll(
    config,
  );

  const files: string[] = [];
  let store: BackupManifest['store'];
  if (location.dialect === 'postgres') {
    // The database itself: the plugins' tables in it (credentials, addresses) come along in the same dump.
    const migration = await postgresMigrationLevel(location.url);
    await dumpPostgres(location.url, join(options.to, PG_DUMP_FILE), env);
    files.push(PG_DUMP_FILE);
    store = { engine: 'postgres', file: PG_DUMP_FILE, migration };
  } else {
    await copier.copy(location.file, join(options.to, STORE_FILE));
    files.push(STORE_FILE);
    store = { engine: 'sqlite', file: STORE_FILE, migration: migrationLevelOf(join(options.to, STORE_FILE)) };
  }
  const plugins: BackedUpPlugin[] = [];
  for (const plugin of resolved) {
    const spec = plugin.module.backup;
    if (!spec) continue;
    const dir = dataDirOf(plugin);
    const source = join(options.home, dir);
    if (!existsSync(source)) continue;
    await mkdir(join(options.to, dir), { recursive: true, mode: 0o700 });
    for (const db of spec.databases ?? []) {
      if (!existsSync(join(source, db))) continue;
      await copier.copy(join(source, db), join(options.to, dir, db));
      files.push(`${dir}/${db}`);
    }
    for (const file of spec.files ?? []) {
      if (!existsSync(join(source, file))) continue;
      await copyFile(join(source, file), join(options.to, dir, file));
      files.push(`${dir}/${file}`);
    }
    const keyIds = spec.keyIdsInUse
      ? await spec.keyIdsInUse(join(options.to, dir), { sqliteFile: join(options.to, STORE_FILE) })
      : undefined;
    plugins.push(describe(plugin, dir, keyIds));
  }
  await copyFile(options.configPath, join(options.to, 'slipway.yaml'));
  files.push('slipway.yaml');

  const entries: BackupFile[] = [];
  for (const path of files) {
    const full = join(options.to, path);
    await chmod(full, 0o600);
    entries.push({ path, bytes: (await stat(full)).size, sha256: await sha256Of(full) });
  }
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    created_at: (options.now?.() ?? new Date()).toISOString(),
    slipway_version: options.version,
    home: options.home,
    store,
    plugins,
    config: 'slipway.yaml',
    files: entries,
    duration_ms: Date.now() - started,
  };
  await writeFile(join(options.to, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  const sums = [...entries, { path: MANIFEST_FILE, sha256: await sha256Of(join(options.to, MANIFEST_FILE)) }];
  await writeFile(join(options.to, CHECKSUMS_FILE), formatChecksums(sums), { mode: 0o600 });
  return manifest;
}

function describe(plugin: ResolvedPlugin, dir: string, keyIds: string[] | undefined): BackedUpPlugin {
  return {
    kind: plugin.kind,
    instance: plugin.instanceName,
    plugin: plugin.name,
    version: plugin.version,
    data_dir: dir,
    ...(keyIds ? { key_ids: keyIds } : {}),
  };
}

async function prepareTarget(to: string): Promise<void> {
  if (existsSync(to)) {
    if (!(await stat(to)).isDirectory())
      throw new SlipwayError('InvalidInput', `${to} is not a directory`, {
        field: 'to',
        hint: 'Pass a new or empty directory.',
      });
    if ((await readdir(to)).length)
      throw new SlipwayError('AlreadyExists', `${to} is not empty`, {
        field: 'to',
        hint: 'Pass a new or empty directory: a backup never overwrites another.',
      });
  }
  await mkdir(dirname(to), { recursive: true });
  await mkdir(to, { recursive: true, mode: 0o700 });
  await chmod(to, 0o700);
}
