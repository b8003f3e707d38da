import { CliError } from './errors.js';

/**
 * The control plane's packages, loaded only by the commands that run one on this machine (up, validate,
 * backup, credentials import, plugins, fake). They are optional peers of the CLI: a remote user who only logs
 * in and lists clusters installs neither the engine nor SQLite.
 */
type Engine = typeof import('@slipway/engine');
type Api = typeof import('@slipway/api');

export async function loadEngine(command: string): Promise<Engine> {
  return load<Engine>('@slipway/engine', command, () => import('@slipway/engine'));
}

export async function loadApi(command: string): Promise<Api> {
  return load<Api>('@slipway/api', command, () => import('@slipway/api'));
}

async function load<T>(name: string, command: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (e) {
    const error = e as NodeJS.ErrnoException;
    if (error.code === 'ERR_MODULE_NOT_FOUND' && error.message.includes(name)) {
      throw new CliError(
        `slipway ${command} runs a control plane on this machine, and ${name} is not installed`,
        'Install the control plane next to the CLI: npm install @slipway/api @slipway/engine (and the plugins slipway.yaml names).',
      );
    }
    throw e;
  }
}
