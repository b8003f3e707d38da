/**
 * The agent program's command line: options, the metadata source a `--metadata` value names, and starting
 * the agent with real child processes and the Kubernetes job catalog. `main.ts` (the package's bin) and the
 * bundled single-file agent (`bundle/entry.ts`, which adds every cloud's metadata reader by name) both run it.
 */
import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import type { MetadataSource } from '@slipway/contracts';
import { Agent } from './agent.js';
import { ChildProcessRunner } from './child-process-runner.js';
import { FileMetadataSource } from './file-metadata.js';
import { FileCredentialStore } from './identity/identity-store.js';
import { DesiredStateCache } from './desired-state-cache.js';
import { agentVersion } from './version.js';
import { KubernetesJobCatalog } from './kubernetes/catalog.js';
import { createJsonLogger } from './logger.js';
import { agentPaths } from './paths.js';
import { execCommand, PersistentDisk } from './persistent-disk.js';
import { systemClock } from './system-clock.js';

/** A metadata source the program knows by name: `--metadata NAME` or `--metadata NAME:ARGUMENT`. */
export interface NamedMetadataSource {
  /** One line for the usage text: where this source reads the settings. */
  describe: string;
  /** What `:ARGUMENT` means for this source, for the usage text; absent when it takes none. */
  argument?: string;
  /** The argument must be given (`create` throws without it). */
  argumentRequired?: boolean;
  /** Builds the source; `argument` is what follows `NAME:`. Throws a usage error when a required one is missing. */
  create(argument: string | undefined): MetadataSource;
}

export type NamedMetadataSources = Readonly<Record<string, NamedMetadataSource>>;

/** Names the bundled agent knows; the unbundled program says so when it is given one of them. */
const BUNDLED_NAMES: Record<string, string> = {
  aws: '@slipway/iaas-aws/metadata#Ec2InstanceMetadataService',
  gcp: '@slipway/iaas-gcp/metadata#GceMetadataServer',
  azure: '@slipway/iaas-azure/metadata#AzureImdsMetadata',
  openstack: '@slipway/iaas-openstack/metadata#OpenStackMetadataService',
  vsphere: '@slipway/iaas-vsphere/metadata#VsphereGuestInfo',
};

/** The usage text, listing the named sources this build of the program has. */
export function usage(named: NamedMetadataSources = {}): string {
  const rows: Array<[string, string]> = [
    ['file:USER_DATA[,META_DATA]', 'settings from a file (the local driver, a config drive mounted by the image)'],
    ...Object.entries(named).map(([name, source]): [string, string] => [
      !source.argument ? name : source.argumentRequired ? `${name}:${source.argument}` : `${name}[:${source.argument}]`,
      source.describe,
    ]),
    ['module:SPECIFIER#EXPORT', 'a reader from a module: a class or function giving a MetadataSource, e.g.'],
    ['', 'module:@slipway/iaas-openstack/metadata#OpenStackMetadataService'],
  ];
  const width = Math.max(...rows.map(([left]) => left.length));
  // A row without a left side continues the one above it.
  const lines = rows.map(
    ([left, right]) => `${left ? `  --metadata ${left.padEnd(width)}` : ' '.repeat(width + 13)}   ${right}`,
  );
  return `usage: slipway-agent --metadata SOURCE [--root DIR] [--bin-dir DIR]... [--log-max-bytes N] [--log-level debug|info]

${lines.join('\n')}
  --root DIR        prefix of every path the agent writes (default /; the local driver gives each VM its own)
  --bin-dir DIR     where job binaries are, searched before the image's packages and PATH (repeatable)
  --no-pod-routes   program no routes to other nodes' pods (the VM shares its host's network stack)
  --help            this text
  --version         print the agent's version
`;
}

/** The usage text of the unbundled program (no named cloud sources). */
export const USAGE = usage();

export interface AgentCommandLine {
  metadata: string;
  root: string;
  binDirs: string[];
  logMaxBytes?: number;
  logLevel: 'debug' | 'info';
  /** False with `--no-pod-routes`: the VM's network stack is not its own (the local driver without namespaces). */
  podRoutes: boolean;
  /** `--help` was given: print the usage and start nothing. */
  help: boolean;
  /** `--version` was given: print the version and start nothing. */
  version: boolean;
}

export function parseCommandLine(argv: string[], usageText: string = USAGE): AgentCommandLine {
  const parsed: AgentCommandLine = {
    metadata: '',
    root: '/',
    binDirs: [],
    logLevel: 'info',
    podRoutes: true,
    help: false,
    version: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${usageText}`);
      return v;
    };
    switch (flag) {
      case '--metadata':
        parsed.metadata = value();
        break;
      case '--root':
        parsed.root = resolve(value());
        break;
      case '--bin-dir':
        parsed.binDirs.push(resolve(value()));
        break;
      case '--log-max-bytes':
        parsed.logMaxBytes = Number(value());
        break;
      case '--log-level':
        parsed.logLevel = value() === 'debug' ? 'debug' : 'info';
        break;
      case '--no-pod-routes':
        parsed.podRoutes = false;
        break;
      case '--help':
      case '-h':
        parsed.help = true;
        break;
      case '--version':
        parsed.version = true;
        break;
      default:
        throw new Error(`unknown option ${flag}\n${usageText}`);
    }
  }
  if (!parsed.metadata && !parsed.help && !parsed.version) throw new Error(`--metadata is required\n${usageText}`);
  return parsed;
}

/** The metadata source a `--metadata` value names: `file:`, `module:`, or one of `named`. */
export async function metadataSourceOf(spec: string, named: NamedMetadataSources = {}): Promise<MetadataSource> {
  if (spec.startsWith('file:')) {
    const [userData, metaData] = spec.slice('file:'.length).split(',');
    return new FileMetadataSource(resolve(userData!), metaData ? resolve(metaData) : undefined);
  }
  if (spec.startsWith('module:')) return importedSource(spec.slice('module:'.length));
  const colon = spec.indexOf(':');
  const name = colon < 0 ? spec : spec.slice(0, colon);
  const argument = colon < 0 ? undefined : spec.slice(colon + 1);
  // An own property only: `--metadata constructor` must not find Object.prototype's.
  const source = Object.hasOwn(named, name) ? named[name] : undefined;
  if (source) return source.create(argument || undefined);
  const known = ['file:PATH', ...Object.keys(named), 'module:SPECIFIER#EXPORT'].join(', ');
  const bundled = BUNDLED_NAMES[name];
  if (bundled && Object.keys(named).length === 0) {
    throw new Error(
      `--metadata ${spec}: the named cloud sources are built into the bundled agent (slipway-agent.mjs, npm run bundle -w @slipway/agent); this program takes module:${bundled}`,
    );
  }
  throw new Error(`--metadata ${spec}: expected one of ${known}`);
}

async function importedSource(reference: string): Promise<MetadataSource> {
  const [specifier, exportName = 'default'] = reference.split('#');
  const target = isAbsolute(specifier!) ? pathToFileURL(specifier!).href : specifier!;
  const module = (await import(target)) as Record<string, unknown>;
  const factory = module[exportName];
  if (typeof factory !== 'function')
    throw new Error(`${specifier} has no export ${exportName} to build a metadata source with`);
  const isClass = /^class[\s{]/.test(Function.prototype.toString.call(factory));
  return isClass ? new (factory as new () => MetadataSource)() : (factory as () => MetadataSource)();
}

export interface AgentProgramOptions {
  /** Metadata sources known by name, beyond `file:` and `module:`. */
  metadataSources?: NamedMetadataSources;
}

/** Starts the agent the command line describes; on SIGTERM or SIGINT it detaches (leaves its jobs running) and exits. */
export async function main(argv: string[], options: AgentProgramOptions = {}): Promise<Agent> {
  const named = options.metadataSources ?? {};
  const commandLine = parseCommandLine(argv, usage(named));
  if (commandLine.help) throw new Error(usage(named));
  const logger = createJsonLogger({ minLevel: commandLine.logLevel, fields: { component: 'agent' } });
  const paths = agentPaths(commandLine.root);
  const metadata = await metadataSourceOf(commandLine.metadata, named);
  const runner = new ChildProcessRunner({
    runDir: paths.runDir,
    logDir: paths.logDir,
    logMaxBytes: commandLine.logMaxBytes,
  });
  const agent = new Agent({
    metadata,
    runner,
    logger,
    jobCatalog: new KubernetesJobCatalog({ paths, binDirs: commandLine.binDirs, logger }),
    disk: ({ metadata: source, logger: diskLogger, clock }) =>
      new PersistentDisk({ metadata: source, storeDir: paths.storeDir, logger: diskLogger, clock }),
    credentials: new FileCredentialStore(paths.identityDir),
    desiredStateCache: new DesiredStateCache(paths.desiredStateFile),
    clock: systemClock,
    // iproute2 in the VM's own network stack (on the local driver, the VM's network namespace).
    ...(commandLine.podRoutes ? { podRoutes: { run: execCommand } } : {}),
  });
  let ending = false;
  const detach = (signal: string) => {
    if (ending) return;
    ending = true;
    logger.info('detaching: jobs keep running for the next agent', { signal });
    void agent.detach().finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => detach('SIGTERM'));
  process.on('SIGINT', () => detach('SIGINT'));
  logger.info('agent starting', { metadata: metadata.kind, root: commandLine.root });
  await agent.start();
  return agent;
}

/**
 * The program itself: `--help` prints the usage to stdout and exits 0; any error before the agent runs is
 * printed to stderr with exit code 1 (systemd's Restart=always then tries again).
 */
export function runAgentProgram(argv: string[], options: AgentProgramOptions = {}): void {
  const named = options.metadataSources ?? {};
  let commandLine: AgentCommandLine;
  try {
    commandLine = parseCommandLine(argv, usage(named));
  } catch (error) {
    fail(error);
    return;
  }
  if (commandLine.help) {
    process.stdout.write(usage(named));
    return;
  }
  if (commandLine.version) {
    process.stdout.write(`slipway-agent ${agentVersion()}\n`);
    return;
  }
  main(argv, options).catch(fail);
}

function fail(error: unknown): void {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
