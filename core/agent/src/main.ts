#!/usr/bin/env node
/**
 * `slipway-agent`: the node agent as a program, run from the package's compiled output (the local driver
 * starts it this way). It reads its settings through the metadata source named on the command line
 * (`file:` or `module:`), runs its jobs with real child processes and the Kubernetes job catalog, and on
 * SIGTERM detaches (leaves its jobs running) so a restarted agent adopts them. A VM image runs the bundled
 * single file instead (`npm run bundle`), which knows every in-repo cloud's metadata source by name.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { runAgentProgram } from './cli.js';

export {
  main,
  metadataSourceOf,
  parseCommandLine,
  runAgentProgram,
  usage,
  USAGE,
  type AgentCommandLine,
  type AgentProgramOptions,
  type NamedMetadataSource,
  type NamedMetadataSources,
} from './cli.js';

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (invokedDirectly) runAgentProgram(process.argv.slice(2));
