import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import type { CliIo } from './io.js';

/** The user's home directory: $HOME when set (tests point it at a temp dir), else the OS's. */
export function userHome(io: CliIo): string {
  return io.env.HOME || io.env.USERPROFILE || homedir();
}

/** The CLI's login state: $SLIPWAY_CLI_CONFIG, else ~/.slipway/cli.json. */
export function cliConfigPath(io: CliIo): string {
  return io.env.SLIPWAY_CLI_CONFIG
    ? resolve(io.cwd, io.env.SLIPWAY_CLI_CONFIG)
    : join(userHome(io), '.slipway', 'cli.json');
}

/** The kubeconfig kubectl writes to: the first path of $KUBECONFIG, else ~/.kube/config. */
export function kubeconfigPath(io: CliIo): string {
  const first = (io.env.KUBECONFIG ?? '').split(delimiter).find((p) => p.trim() !== '');
  return first ? resolve(io.cwd, first) : join(userHome(io), '.kube', 'config');
}

/** The control plane's home and config, resolved as `slipway up` does (flag, then env, then default). */
export function controlPlanePaths(
  io: CliIo,
  flags: { home?: string; config?: string },
): { home: string; configPath: string; explicitConfig: boolean } {
  // An empty variable counts as unset, as shells and CI systems often leave them.
  const home = resolve(io.cwd, flags.home || io.env.SLIPWAY_HOME || '.slipway');
  const explicit = flags.config || io.env.SLIPWAY_CONFIG || undefined;
  return {
    home,
    configPath: explicit ? resolve(io.cwd, explicit) : join(home, 'slipway.yaml'),
    explicitConfig: explicit !== undefined,
  };
}
