import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { CliError, EXIT } from '../errors.js';
import { loadEngine } from '../control-plane-modules.js';
import { controlPlanePaths } from '../paths.js';
import type { Command, CommandGroup } from '../registry.js';

const importCommand: Command = {
  name: 'credentials import',
  summary: 'Write credentials from a file into the credential store of a Slipway home (before or beside slipway up)',
  description: [
    'For the secrets the control plane needs before it can start its IaaS drivers, such as cloud keys that',
    "iaas[].config.credentials_ref names. FILE uses CredHub's import format, YAML or JSON:",
    '  credentials:',
    '    - name: /slipway/iaas/aws',
    '      type: json',
    '      value: { access_key_id: AKIA..., secret_access_key: ... }',
    'Each entry becomes a new version, encrypted at rest like every other credential. The file is read',
    'once; delete it afterwards.',
  ].join('\n'),
  args: [{ name: 'FILE', description: 'credentials file (CredHub import format)', required: true }],
  flags: {
    home: {
      type: 'string',
      valueName: 'DIR',
      env: 'SLIPWAY_HOME',
      description: 'state directory of the control plane (default ./.slipway)',
    },
    config: {
      type: 'string',
      valueName: 'FILE',
      env: 'SLIPWAY_CONFIG',
      description: 'config naming the credential provider (default HOME/slipway.yaml)',
    },
  },
  examples: ['slipway credentials import ./aws-keys.yml --home /var/lib/slipway'],
  async run({ io, args, flags }) {
    const paths = controlPlanePaths(io, { home: flags.string('home'), config: flags.string('config') });
    if (!existsSync(paths.configPath)) {
      throw new CliError(
        `${paths.configPath} does not exist`,
        'Run slipway up once to write the default config, or pass --config FILE.',
      );
    }
    const { importCredentials, readCredentialImport, silentLogger } = await loadEngine('credentials import');
    const entries = await readCredentialImport(args.FILE!);
    // The same keys directory slipway up uses ($SLIPWAY_KEYS, else HOME-keys), or a second key would be made.
    const keysDir = io.env.SLIPWAY_KEYS ? resolve(io.cwd, io.env.SLIPWAY_KEYS) : undefined;
    const written = await importCredentials({
      home: paths.home,
      configPath: paths.configPath,
      entries,
      logger: silentLogger,
      ...(keysDir ? { keysDir } : {}),
    });
    io.stdout.write(
      `Imported ${written.length} credential${written.length === 1 ? '' : 's'} into ${paths.home}:\n${written.map((n) => `  ${n}\n`).join('')}`,
    );
    return EXIT.ok;
  },
};

export const credentialImportCommands: CommandGroup = {
  title: 'Credential store (offline)',
  commands: [importCommand],
};
