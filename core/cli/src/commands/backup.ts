import { resolve } from 'node:path';
import { EXIT } from '../errors.js';
import { loadEngine } from '../control-plane-modules.js';
import { printJson } from '../output/json.js';
import { keyValues } from '../output/table.js';
import { controlPlanePaths } from '../paths.js';
import type { Command, CommandGroup, FlagSpec } from '../registry.js';
import { cliVersion } from '../version.js';

const HOME_FLAG: FlagSpec = {
  type: 'string',
  valueName: 'DIR',
  env: 'SLIPWAY_HOME',
  description: 'state directory of the control plane (default ./.slipway)',
};
export const KEYS_FLAG: FlagSpec = {
  type: 'string',
  valueName: 'DIR',
  env: 'SLIPWAY_KEYS',
  description: 'directory of the encryption keys, outside the home (default HOME-keys)',
};

function bytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}

const backup: Command = {
  name: 'backup',
  summary: "Copy the control plane's state (store and credential store) to a directory, online",
  description: [
    "Takes a consistent copy of the store and of the plugins' state (the credential store, the network",
    "allocations) with SQLite's online backup API, while the control plane runs on this home (or not).",
    'DIR must be new or empty; it receives the databases, the config, manifest.json (versions, schema',
    'migration, time, the ids of the keys the credentials are sealed under) and SHA256SUMS.',
    'The encryption key is never copied: keep it apart from the backups (see the operator guide).',
    "An IaaS driver's own directory is its cloud, not the control plane's state, and is not copied.",
    'With the store on PostgreSQL (store.url), the database is dumped with pg_dump --format=custom when it is',
    "on PATH; otherwise the command refuses and says to use PostgreSQL's own tools.",
  ].join('\n'),
  flags: {
    to: {
      type: 'string',
      valueName: 'DIR',
      required: true,
      description: 'new or empty directory to write the backup to',
    },
    home: HOME_FLAG,
    config: {
      type: 'string',
      valueName: 'FILE',
      env: 'SLIPWAY_CONFIG',
      description: 'config file the control plane runs with (default HOME/slipway.yaml)',
    },
  },
  json: true,
  examples: [
    'slipway backup --to /backups/slipway-$(date +%F)',
    'slipway backup --home /var/lib/slipway --to /backups/today --json',
  ],
  async run({ io, flags }) {
    const paths = controlPlanePaths(io, { home: flags.string('home'), config: flags.string('config') });
    const to = resolve(io.cwd, flags.string('to')!);
    const { takeBackup } = await loadEngine('backup');
    const manifest = await takeBackup({ home: paths.home, configPath: paths.configPath, to, version: cliVersion() });
    if (flags.bool('json')) {
      printJson(io.stdout, { to, ...manifest });
      return EXIT.ok;
    }
    const total = manifest.files.reduce((n, f) => n + f.bytes, 0);
    const keys = manifest.plugins.flatMap((p) => (p.key_ids ?? []).map((id) => `${id} (${p.plugin})`));
    io.stdout.write(
      `Backup written to ${to}\n${keyValues([
        ['Files', manifest.files.map((f) => `${f.path} (${bytes(f.bytes)})`).join(', ')],
        ['Size', bytes(total)],
        ['Schema', manifest.store.migration ?? 'none'],
        ['Sealed under keys', keys.join(', ') || 'none'],
        ['Took', `${manifest.duration_ms} ms`],
      ])}\nThe backup holds no key: keep the key file (${KEYS_FLAG.env} or HOME-keys) apart from it; a restore needs both.\n`,
    );
    return EXIT.ok;
  },
};

const restore: Command = {
  name: 'restore',
  summary: 'Bring a control plane back from a backup (the control plane stopped)',
  description: [
    'Checks every file of the backup against its SHA256SUMS, checks that the configured encryption key',
    'opens the backed-up credentials (it refuses a different key, naming both ids), and only then writes',
    'the state into HOME. Refused while a control plane runs on HOME, and on a home that already has',
    'a store unless --force. Then start it (slipway up) and run slipway doctor CLUSTER for each cluster',
    'to reconcile the store with the clouds.',
  ].join('\n'),
  flags: {
    from: { type: 'string', valueName: 'DIR', required: true, description: 'the directory slipway backup wrote' },
    home: HOME_FLAG,
    keys: KEYS_FLAG,
    config: {
      type: 'string',
      valueName: 'FILE',
      env: 'SLIPWAY_CONFIG',
      description: "config to restore with (default: the backup's own, written to HOME/slipway.yaml)",
    },
    force: { type: 'boolean', description: 'replace the state of a home that already has one' },
  },
  json: true,
  examples: [
    'slipway restore --from /backups/slipway-2026-12-01 --home /var/lib/slipway',
    'slipway restore --from /backups/today --keys /etc/slipway/keys',
  ],
  async run({ io, flags }) {
    const paths = controlPlanePaths(io, { home: flags.string('home'), config: flags.string('config') });
    const { defaultKeysDir, restoreBackup } = await loadEngine('restore');
    const keysDir = resolve(io.cwd, flags.string('keys') || io.env.SLIPWAY_KEYS || defaultKeysDir(paths.home));
    const result = await restoreBackup({
      from: resolve(io.cwd, flags.string('from')!),
      home: paths.home,
      keysDir,
      env: io.env,
      force: flags.bool('force'),
      ...(paths.explicitConfig ? { configPath: paths.configPath } : {}),
    });
    if (flags.bool('json')) {
      printJson(io.stdout, {
        home: paths.home,
        restored: result.restored,
        config: result.configPath,
        duration_ms: result.duration_ms,
        backup: result.manifest,
      });
      return EXIT.ok;
    }
    io.stdout.write(
      `Restored ${result.restored.length} files into ${paths.home} from the backup of ${result.manifest.created_at} (schema ${result.manifest.store.migration ?? 'none'}) in ${result.duration_ms} ms.\n`,
    );
    io.stdout.write(
      `Next:\n  slipway up --home ${paths.home}${flags.string('keys') ? ` --keys ${keysDir}` : ''}\n  slipway doctor CLUSTER   (for each cluster: reconciles the store with the clouds)\n`,
    );
    return EXIT.ok;
  },
};

export const backupCommands: CommandGroup = { title: 'Backup and restore', commands: [backup, restore] };
