import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { CONTRACT_VERSIONS } from '@slipway/contracts';
import { EXIT, UsageError } from '../errors.js';
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
    'Writes a package a vendor can grow into a conformant driver. Its first `npm test` runs Slipway\'s',
    'conformance suite against the fake and lists exactly which contract verbs are still missing.',
    'Kinds: iaas (a cloud driver) and registry (an image registry driver). See docs/plugin-author-guide.md.',
  ].join('\n'),
  args: [
    { name: 'kind', description: 'plugin kind: iaas or registry', required: true },
    { name: 'name', description: 'the cloud\'s or registry\'s short name, e.g. foo (lowercase letters, digits, dashes)', required: true },
  ],
  flags: {
    scope: { type: 'string', valueName: 'SCOPE', description: 'npm scope of the package, e.g. @acme (default: none)' },
    dir: { type: 'string', valueName: 'DIR', description: 'where to create the package directory (default: the current directory)' },
  },
  examples: ['slipway plugin init iaas foo --scope @acme', 'cd slipway-iaas-foo && npm install && npm test', 'slipway plugin init registry quay --scope @acme'],
  async run({ io, args, flags }) {
    const kind = args.kind!;
    const name = args.name!;
    if (kind !== 'iaas' && kind !== 'registry') {
      throw new UsageError(`plugin kind "${kind}" cannot be scaffolded yet; use: slipway plugin init iaas NAME, or slipway plugin init registry NAME`, 'plugin init');
    }
    if (!NAME.test(name)) throw new UsageError(`NAME "${name}" must be 1-39 lowercase letters, digits and dashes, starting with a letter`, 'plugin init');
    const scope = flags.string('scope');
    if (scope !== undefined && !SCOPE.test(scope)) throw new UsageError(`--scope "${scope}" must look like @acme`, 'plugin init');
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
    const files = kind === 'iaas'
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

export const pluginCommands: CommandGroup = { title: 'Plugin authors', commands: [init] };
