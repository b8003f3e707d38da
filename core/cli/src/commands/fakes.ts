import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SlipwayError } from '@slipway/contracts';
import { CliError, EXIT, UsageError } from '../errors.js';
import { loadEngine } from '../control-plane-modules.js';
import type { Command, CommandGroup } from '../registry.js';

interface StartedFake {
  config: Record<string, unknown>;
  credentials?: Array<{ name: string; type: string; value: unknown }>;
  stop(): Promise<void>;
}

const NAME = /^[a-z][a-z0-9-]{0,38}$/;

/** Fakes of drivers that are not IaaS drivers, by the short name `slipway fake` takes. */
const OTHER_FAKES: Readonly<Record<string, string>> = Object.freeze({
  harbor: '@slipway/registry-harbor',
  nsxt: '@slipway/network-nsxt',
});

/**
 * The fake of a driver package: `@slipway/iaas-NAME/fake` (or a network or registry driver's), a vendor's
 * `slipway-iaas-NAME`, or a full package name given as NAME; looked up first in the operator's plugin dirs
 * (where it gets the plugin API's packages from this installation, as the loader gives them), then here.
 */
async function loadFake(
  name: string,
  pluginDirs: string[],
): Promise<(options: { port?: number }) => Promise<StartedFake>> {
  const packages = name.includes('/') ? [name] : [OTHER_FAKES[name] ?? `@slipway/iaas-${name}`, `slipway-iaas-${name}`];
  let module: { startFake?: unknown } | undefined;
  let lastError: unknown;
  for (const dir of pluginDirs) {
    const require = createRequire(join(dir, 'slipway.yaml'));
    for (const pkg of packages) {
      let entry: string;
      try {
        entry = require.resolve(`${pkg}/fake`);
      } catch {
        continue;
      }
      const { providePluginPeers } = await loadEngine('fake');
      providePluginPeers(dir);
      module = (await import(pathToFileURL(entry).href).catch((e: unknown) => {
        lastError = e;
        return undefined;
      })) as { startFake?: unknown } | undefined;
      if (module) break;
    }
    if (module) break;
  }
  for (const pkg of packages) {
    if (module) break;
    module = (await import(`${pkg}/fake`).catch((e: unknown) => {
      lastError ??= e;
      return undefined;
    })) as { startFake?: unknown } | undefined;
  }
  const specifier = `${packages[0]}/fake`;
  if (!module) {
    const others = packages
      .slice(1)
      .map((p) => `, nor ${p}/fake`)
      .join('');
    throw new CliError(
      `no fake for "${name}": ${specifier} cannot be loaded (${(lastError as Error | undefined)?.message.split('\n')[0] ?? 'not installed'})${others}`,
      'Fakes ship in each driver package under ./fake; install the driver (npm install @slipway/iaas-NAME), name the package, or pass --plugin-dir DIR where it is installed.',
    );
  }
  if (typeof module.startFake !== 'function') throw new CliError(`${specifier} exports no startFake()`);
  return module.startFake as (options: { port?: number }) => Promise<StartedFake>;
}

const fake: Command = {
  name: 'fake',
  summary: 'Start the wire-level fake of a cloud and print its endpoint and credentials as JSON',
  description: [
    "For contributors: runs a driver's fake (the cloud API on 127.0.0.1, with its metadata service and",
    'simulated VMs) until interrupted, and prints one JSON document: the driver config pointing at it',
    'and the credentials that config references. Put them in slipway.yaml and the credential store to',
    "run Slipway against the fake, or point the cloud's own CLI or SDK at the endpoint.",
  ].join('\n'),
  args: [
    {
      name: 'NAME',
      description:
        'the driver: aws, gcp, azure, openstack, vsphere, sandbox, nsxt (network), harbor (registry), or a package name',
      required: true,
    },
  ],
  flags: {
    port: { type: 'string', valueName: 'N', description: 'port on 127.0.0.1 (default: one the OS picks)' },
    'plugin-dir': {
      type: 'string',
      valueName: 'DIR',
      description: 'a plugin dir (as under plugin_dirs in slipway.yaml) to look in first',
    },
  },
  examples: [
    'slipway fake openstack --port 8774',
    'slipway fake nsxt',
    'slipway fake harbor',
    'slipway fake @acme/slipway-iaas-foo',
    'slipway fake foo --plugin-dir /srv/slipway/plugins',
  ],
  async run({ io, args, flags }) {
    const name = args.NAME!;
    if (!name.includes('/') && !NAME.test(name))
      throw new UsageError(`NAME "${name}" is not a driver name; e.g. aws, openstack`, 'fake');
    const port = flags.int('port', { min: 0, max: 65535 });
    const pluginDir = flags.string('plugin-dir');
    const startFake = await loadFake(name, pluginDir ? [resolve(io.cwd, pluginDir)] : []);
    let started: StartedFake;
    try {
      started = await startFake(port !== undefined ? { port } : {});
    } catch (e) {
      const err = SlipwayError.from(e);
      throw new CliError(
        `the ${name} fake did not start: ${err.message}`,
        port !== undefined ? 'Is the port free? Try another --port, or omit it.' : undefined,
      );
    }
    io.stdout.write(
      `${JSON.stringify({ driver: name, config: started.config, credentials: started.credentials ?? [] }, null, 2)}\n`,
    );
    io.stderr.write(`The ${name} fake runs until Ctrl-C.\n`);
    await new Promise<void>((resolve) => {
      if (!io.signal) return;
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await started.stop();
    return EXIT.ok;
  },
};

export const fakeCommands: CommandGroup = { title: 'Contributors', commands: [fake] };
