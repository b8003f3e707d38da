#!/usr/bin/env node
/**
 * `slipway-agent`: the node agent as a program, what the VM image's systemd unit runs. It reads its settings
 * through the metadata source named on the command line, runs its jobs with real child processes and the
 * Kubernetes job catalog, and on SIGTERM detaches (leaves its jobs running) so a restarted agent adopts them.
 */
import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import type { MetadataSource } from '@slipway/contracts';
import { Agent } from './agent.js';
import { ChildProcessRunner } from './child-process-runner.js';
import { FileMetadataSource } from './file-metadata.js';
import { KubernetesJobCatalog } from './kubernetes/catalog.js';
import { createJsonLogger } from './logger.js';
import { agentPaths } from './paths.js';
import { PersistentDisk } from './persistent-disk.js';
import { systemClock } from './system-clock.js';

export const USAGE = `usage: slipway-agent --metadata SOURCE [--root DIR] [--bin-dir DIR]... [--log-max-bytes N] [--log-level debug|info]

  --metadata file:USER_DATA[,META_DATA]   settings from a file (the local driver, a config drive)
  --metadata module:SPECIFIER#EXPORT      a driver's agent-side reader, e.g.
                                          module:@slipway/iaas-openstack/metadata#OpenStackMetadataService
  --root DIR        prefix of every path the agent writes (default /; the local driver gives each VM its own)
  --bin-dir DIR     where job binaries are, searched before the image's packages and PATH (repeatable)
`;

export interface AgentCommandLine {
  metadata: string;
  root: string;
  binDirs: string[];
  logMaxBytes?: number;
  logLevel: 'debug' | 'info';
}

export function parseCommandLine(argv: string[]): AgentCommandLine {
  const parsed: AgentCommandLine = { metadata: '', root: '/', binDirs: [], logLevel: 'info' };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--metadata': parsed.metadata = value(); break;
      case '--root': parsed.root = resolve(value()); break;
      case '--bin-dir': parsed.binDirs.push(resolve(value())); break;
      case '--log-max-bytes': parsed.logMaxBytes = Number(value()); break;
      case '--log-level': parsed.logLevel = value() === 'debug' ? 'debug' : 'info'; break;
      case '--help': case '-h': throw new Error(USAGE);
      default: throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  if (!parsed.metadata) throw new Error(`--metadata is required\n${USAGE}`);
  return parsed;
}

/** The metadata source a `--metadata` value names. */
export async function metadataSourceOf(spec: string): Promise<MetadataSource> {
  if (spec.startsWith('file:')) {
    const [userData, metaData] = spec.slice('file:'.length).split(',');
    return new FileMetadataSource(resolve(userData!), metaData ? resolve(metaData) : undefined);
  }
  if (spec.startsWith('module:')) {
    const [specifier, exportName = 'default'] = spec.slice('module:'.length).split('#');
    const target = isAbsolute(specifier!) ? pathToFileURL(specifier!).href : specifier!;
    const module = (await import(target)) as Record<string, unknown>;
    const factory = module[exportName];
    if (typeof factory !== 'function') throw new Error(`${specifier} has no export ${exportName} to build a metadata source with`);
    const isClass = /^class[\s{]/.test(Function.prototype.toString.call(factory));
    return (isClass ? new (factory as new () => MetadataSource)() : (factory as () => MetadataSource)());
  }
  throw new Error(`--metadata ${spec}: expected file:PATH or module:SPECIFIER#EXPORT`);
}

export async function main(argv: string[]): Promise<Agent> {
  const options = parseCommandLine(argv);
  const logger = createJsonLogger({ minLevel: options.logLevel, fields: { component: 'agent' } });
  const paths = agentPaths(options.root);
  const metadata = await metadataSourceOf(options.metadata);
  const runner = new ChildProcessRunner({ runDir: paths.runDir, logDir: paths.logDir, logMaxBytes: options.logMaxBytes });
  const agent = new Agent({
    metadata,
    runner,
    logger,
    jobCatalog: new KubernetesJobCatalog({ paths, binDirs: options.binDirs, logger }),
    disk: ({ metadata: source, logger: diskLogger, clock }) => new PersistentDisk({ metadata: source, storeDir: paths.storeDir, logger: diskLogger, clock }),
    clock: systemClock,
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
  await agent.start();
  return agent;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
