import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RunningControlPlane } from '@slipway/api';
import { CliError, EXIT } from '../errors.js';
import { loadApi, loadEngine } from '../control-plane-modules.js';
import { printJson } from '../output/json.js';
import { keyValues } from '../output/table.js';
import { controlPlanePaths } from '../paths.js';
import type { Command, CommandGroup, FlagSpec } from '../registry.js';
import { KEYS_FLAG } from './backup.js';

/** The line `slipway up` prints once the API answers; scripts and tests wait for it. */
export const READY_PREFIX = 'Slipway is ready at ';

const HOME_FLAG: FlagSpec = {
  type: 'string',
  valueName: 'DIR',
  env: 'SLIPWAY_HOME',
  description: 'state directory: database, CA, plugin data (default ./.slipway)',
};

const up: Command = {
  name: 'up',
  summary: 'Start the control plane and run it until interrupted',
  description: [
    'Starts the engine, its plugins and the HTTPS API. On the first start it writes a commented',
    'slipway.yaml into the home directory and creates the user "admin": with $SLIPWAY_ADMIN_PASSWORD,',
    'or with a generated password that is printed once. It prints the API URL, the CA file and the',
    `config file, then a line starting "${READY_PREFIX}" when the API answers.`,
    'SIGINT or SIGTERM stops it cleanly: running tasks pause and resume on the next start.',
    'One control plane per home: a second slipway up on the same home exits 1 naming the pid of the first.',
    "The credential store's default key is created in the keys directory, outside the home (--keys).",
    'A refused plugin or an invalid config exits 1 listing every problem.',
  ].join('\n'),
  flags: {
    home: HOME_FLAG,
    port: {
      type: 'string',
      valueName: 'N',
      env: 'SLIPWAY_PORT',
      description: 'port of the API (default api.port of the config, 9021; 0 picks a free one)',
    },
    config: {
      type: 'string',
      valueName: 'FILE',
      env: 'SLIPWAY_CONFIG',
      description: 'config file (default HOME/slipway.yaml, written on first start)',
    },
    keys: KEYS_FLAG,
  },
  examples: ['slipway up', 'SLIPWAY_ADMIN_PASSWORD=s3cret-pass slipway up --home /var/lib/slipway --port 9021'],
  async run({ io, flags }) {
    const port = flags.int('port', { min: 0, max: 65535 });
    const paths = controlPlanePaths(io, { home: flags.string('home'), config: flags.string('config') });
    // Loaded here, not at the top: the engine's graph (SQLite, DI, PKI) costs ~0.4 s that every other
    // command, which only talks HTTPS, should not pay.
    const { startControlPlane } = await loadApi('up');
    const running: RunningControlPlane = await startControlPlane({
      home: paths.home,
      ...(paths.explicitConfig ? { configPath: paths.configPath } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(flags.string('keys') ? { keysDir: resolve(io.cwd, flags.string('keys')!) } : {}),
      env: io.env,
      log: (line) => io.stderr.write(`${line}\n`),
      logIsTerminal: Boolean(io.stderr.isTTY),
    });
    const pairs: Array<[string, string]> = [
      ['API URL', running.url],
      ['CA certificate', running.caPath],
      ['Config', running.configPath],
      ['Home', running.home],
      ['Keys', `${running.keysDir}  (keep a copy apart from backups)`],
    ];
    if (running.advertiseUrl !== running.url) pairs.splice(1, 0, ['Agents dial', running.advertiseUrl]);
    if (running.adminPassword) {
      pairs.push(
        ['Admin user', 'admin'],
        [
          'Admin password',
          `${running.adminPassword}  (generated on this first start and shown only once: store it now)`,
        ],
      );
    } else if (running.firstStart) {
      pairs.push(['Admin user', 'admin'], ['Admin password', 'the one in $SLIPWAY_ADMIN_PASSWORD']);
    }
    io.stdout.write(`slipway ${running.version} control plane\n${keyValues(pairs)}\n`);
    io.stdout.write(
      `Log in with:\n  slipway login -a ${running.url} -u admin -p PASSWORD --ca-cert ${running.caPath}\n\n`,
    );
    io.stdout.write(`${READY_PREFIX}${running.url} (Ctrl-C stops it; running tasks resume on the next start)\n`);

    await new Promise<void>((resolve) => {
      if (!io.signal) return; // nothing can stop it but the process ending
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    io.stdout.write('Stopping: pausing running tasks...\n');
    await running.stop();
    io.stdout.write('Slipway stopped. Unfinished tasks resume on the next slipway up.\n');
    return EXIT.ok;
  },
};

const validate: Command = {
  name: 'validate',
  summary: 'Check a slipway.yaml and the configs of the plugins it names, without starting anything',
  description: [
    'Validates the file against the Slipway config schema, then resolves every plugin it names',
    "(installed? version in range? contract provided?) and validates each plugin's config against",
    "that plugin's schema. Every problem is printed with its path; nothing is created or started.",
    'Without FILE it checks the file slipway up would use: $SLIPWAY_CONFIG, else HOME/slipway.yaml.',
  ].join('\n'),
  args: [{ name: 'FILE', description: 'the config file to check', required: false }],
  flags: { home: HOME_FLAG },
  json: true,
  examples: ['slipway validate', 'slipway validate ./slipway.yaml --json'],
  async run({ io, args, flags }) {
    const paths = controlPlanePaths(io, { home: flags.string('home'), config: args.FILE });
    const file = paths.configPath;
    if (!existsSync(file)) {
      throw new CliError(
        `${file} does not exist`,
        paths.explicitConfig
          ? 'Pass the path of an existing slipway.yaml.'
          : 'slipway up writes a commented default there on its first start; or pass FILE.',
      );
    }
    const { loadConfigFile, pluginRefsOf, validateConfigFile } = await loadEngine('validate');
    const result = await validateConfigFile(file);
    if (flags.bool('json')) {
      printJson(io.stdout, { file, ok: result.ok, errors: result.errors });
      return result.ok ? EXIT.ok : EXIT.failed;
    }
    if (!result.ok) {
      io.stderr.write(
        `${file} has ${result.errors.length} problem${result.errors.length === 1 ? '' : 's'}:\n${result.errors.map((e) => `  ${e}\n`).join('')}`,
      );
      return EXIT.failed;
    }
    const config = await loadConfigFile(file);
    const plugins = pluginRefsOf(config)
      .map(
        ({ ref, path }) =>
          `  ${path}: ${ref.plugin} ${ref.version ?? '*'}${'name' in ref ? ` (target ${String(ref.name)})` : ''}\n`,
      )
      .join('');
    io.stdout.write(`${file} is valid.\nPlugins:\n${plugins}Plans: ${config.plans.map((p) => p.name).join(', ')}\n`);
    return EXIT.ok;
  },
};

export const controlPlaneCommands: CommandGroup = { title: 'Control plane', commands: [up, validate] };
