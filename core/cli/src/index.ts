/**
 * @slipway/cli: the `slipway` command. Importing this module has no side effects; src/main.ts runs it.
 */
export { runCli } from './cli.js';
export { COMMAND_GROUPS } from './commands/index.js';
export { commandHelp, topHelp } from './help.js';
export { READY_PREFIX } from './commands/control-plane.js';
export { processIo } from './process-io.js';
export type { CliIo, OutputStream, InputStream } from './io.js';
export type { Command, CommandGroup, CommandContext, FlagSpec, ArgSpec, ParsedFlags } from './registry.js';
export { EXIT, UsageError, CliError, ApiError, describeError, type Problem } from './errors.js';
export { ApiClient, type ApiClientOptions } from './api-client.js';
export { mergeKubeconfig, mergeKubeconfigFile, type KubeconfigDoc } from './kubeconfig-merge.js';
export { waitForTask, LiveTaskView, LogTaskView, type TaskProgressView } from './task-progress.js';
