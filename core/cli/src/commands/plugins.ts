import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { CONTRACT_VERSIONS } from '@slipway/contracts';
import { CliError, EXIT, UsageError } from '../errors.js';
import { loadEngine } from '../control-plane-modules.js';
import { printJson } from '../output/json.js';
import { table } from '../output/table.js';
import { controlPlanePaths } from '../paths.js';
import type { Command, CommandGroup } from '../registry.js';
import { iaasScaffoldFiles } from '../scaffold/iaas-templates.js';
import { registryScaffoldFiles } from '../scaffold/registry-templates.js';

const NAME = /^[a-z][a-z0-9-]{0,38}$/;
const SCOPE = /^@[a-z0-9][a-z0-9-._]*$/;

/**
 * The version of a Slipway package next to this CLI (a new plugin is built against the same ones), or the
 * given one when that package is not installed here (a CLI installed on its own has no testkit).
 */
function installedVersion(name: string, fallback: string): string {
  try {
    const manifest = createRequire(import.meta.url).resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  } catch {
    return fallback;
  }
}

const init: Command = {
  name: 'plugin init',
  summary: 'Scaffold a new plugin package: driver, config schema, a fake, the conformance test wired',
  description: [
    "Writes a package a vendor can grow into a conformant driver. Its first `npm test` runs Slipway's",
    'conformance suite against the fake and lists exactly which contract verbs are still missing.',
    'Kinds: iaas (a cloud driver) and registry (an image registry driver). See docs/plugin-author-guide.md.',
  ].join('\n'),
  args: [
    { name: 'kind', description: 'plugin kind: iaas or registry', required: true },
    {
      name: 'name',
      description: "the cloud's or registry's short name, e.g. foo (lowercase letters, digits, dashes)",
      required: true,
    },
  ],
  flags: {
    scope: { type: 'string', valueName: 'SCOPE', description: 'npm scope of the package, e.g. @acme (default: none)' },
    dir: {
      type: 'string',
      valueName: 'DIR',
      description: 'where to create the package directory (default: the current directory)',
    },
  },
  examples: [
    'slipway plugin init iaas foo --scope @acme',
    'cd slipway-iaas-foo && npm install && npm test',
    'slipway plugin init registry quay --scope @acme',
  ],
  async run({ io, args, flags }) {
    const kind = args.kind!;
    const name = args.name!;
    if (kind !== 'iaas' && kind !== 'registry') {
      throw new UsageError(
        `plugin kind "${kind}" cannot be scaffolded yet; use: slipway plugin init iaas NAME, or slipway plugin init registry NAME`,
        'plugin init',
      );
    }
    if (!NAME.test(name))
      throw new UsageError(
        `NAME "${name}" must be 1-39 lowercase letters, digits and dashes, starting with a letter`,
        'plugin init',
      );
    const scope = flags.string('scope');
    if (scope !== undefined && !SCOPE.test(scope))
      throw new UsageError(`--scope "${scope}" must look like @acme`, 'plugin init');
    const dirName = `slipway-${kind}-${name}`;
    const packageName = `${scope ? `${scope}/` : ''}${dirName}`;
    const target = resolve(io.cwd, flags.string('dir') ?? '.', dirName);
    if (existsSync(target)) throw new UsageError(`${target} already exists; pick another --dir or NAME`, 'plugin init');
    const version = CONTRACT_VERSIONS[kind];
    const versions = {
      contract: `^${version.split('.')[0]}.0.0`,
      contractsVersion: installedVersion('@slipway/contracts', CONTRACT_VERSIONS.iaas),
      testkitVersion: installedVersion('@slipway/testkit', '0.1.0'),
      simulationVersion: installedVersion('@slipway/simulation', '0.1.0'),
    };
    const files =
      kind === 'iaas'
        ? iaasScaffoldFiles({ packageName, cloud: name, ...versions })
        : registryScaffoldFiles({ packageName, registry: name, ...versions });
    for (const [file, text] of Object.entries(files)) {
      await mkdir(dirname(join(target, file)), { recursive: true });
      await writeFile(join(target, file), text);
    }
    const where = relative(io.cwd, target) || '.';
    io.stdout.write(`Created ${packageName} in ${where}: ${Object.keys(files).length} files.\n`);
    io.stdout.write(`Next: cd ${where} && npm install && npm test   (the first run lists the verbs to write)\n`);
    return EXIT.ok;
  },
};

const list: Command = {
  name: 'plugins',
  summary: 'List the plugins slipway.yaml names: installed version, kind, contract and maturity',
  description: [
    'Resolves every plugin the config names, as slipway up would (installed? version in range? contract',
    'provided?), and shows how far each is proven: experimental, fake-verified (passes the conformance',
    'suite against a wire-level fake of its service, never run against the real one), or production.',
    'Without FILE it reads the file slipway up would use: $SLIPWAY_CONFIG, else HOME/slipway.yaml.',
  ].join('\n'),
  args: [{ name: 'FILE', description: 'the config file', required: false }],
  flags: {
    home: {
      type: 'string',
      valueName: 'DIR',
      env: 'SLIPWAY_HOME',
      description: 'state directory (default ./.slipway)',
    },
  },
  json: true,
  examples: ['slipway plugins', 'slipway plugins ./slipway.yaml --json'],
  async run({ io, args, flags }) {
    const paths = controlPlanePaths(io, { home: flags.string('home'), config: args.FILE });
    if (!existsSync(paths.configPath))
      throw new CliError(`${paths.configPath} does not exist`, 'Pass the path of an existing slipway.yaml.');
    const { loadConfigFile, PluginLoader, pluginRefsOf } = await loadEngine('plugins');
    const config = await loadConfigFile(paths.configPath);
    const loader = new PluginLoader({ searchDirs: config.plugin_dirs ?? [], configDir: paths.configPath });
    const rows = [];
    for (const { kind, ref, path } of pluginRefsOf(config)) {
      const resolved = await loader.resolve(kind, ref, path);
      rows.push({
        path,
        plugin: resolved.name,
        version: resolved.version,
        kind,
        contract: resolved.module.contract,
        maturity: resolved.maturity,
      });
    }
    if (flags.bool('json')) {
      printJson(io.stdout, rows);
      return EXIT.ok;
    }
    io.stdout.write(
      `${table(
        ['WHERE', 'PLUGIN', 'VERSION', 'KIND', 'CONTRACT', 'MATURITY'],
        rows.map((r) => [r.path, r.plugin, r.version, r.kind, r.contract, r.maturity]),
      )}\n`,
    );
    return EXIT.ok;
  },
};

export const pluginCommands: CommandGroup = { title: 'Plugin authors', commands: [list, init] };
