import { readFile } from 'node:fs/promises';
import { ApiClient } from './api-client.js';
import { readCliConfig, type CliConfig } from './cli-config.js';
import { CliError } from './errors.js';
import type { CliIo } from './io.js';
import { localIso } from './output/time.js';
import { cliConfigPath } from './paths.js';

export interface Session {
  client: ApiClient;
  config: CliConfig;
}

/** Reads a CA file given by path, with an error that says which file and why. */
export async function readCaFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new CliError(
      `cannot read the CA certificate ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      'Pass the CA file of the control plane ($SLIPWAY_HOME/ca.pem), or -k to skip verification.',
    );
  }
}

/** An API client with the stored token; fails with what to do when not logged in or the token expired. */
export async function openSession(io: CliIo): Promise<Session> {
  const path = cliConfigPath(io);
  const config = await readCliConfig(path);
  if (!config?.access_token) {
    throw new CliError(
      'you are not logged in',
      `Run: slipway login -a ${config?.api ?? 'API_URL'} -u USER -p PASSWORD${config?.ca_cert ? ` --ca-cert ${config.ca_cert}` : ''}`,
    );
  }
  if (config.expires_at && Date.parse(config.expires_at) <= Date.now()) {
    throw new CliError(
      `your login to ${config.api} expired at ${localIso(config.expires_at)}`,
      `Run: slipway login -a ${config.api} -u ${config.user ?? 'USER'} -p PASSWORD${config.ca_cert ? ` --ca-cert ${config.ca_cert}` : ''}`,
    );
  }
  const ca = config.ca_cert && !config.skip_ssl_validation ? await readCaFile(config.ca_cert) : undefined;
  // -k is never remembered silently: each command that relies on it says so.
  if (config.skip_ssl_validation)
    io.stderr.write(
      `Warning: not verifying the certificate of ${config.api} (logged in with -k); log in with --ca-cert FILE to verify it.\n`,
    );
  return {
    client: new ApiClient({
      baseUrl: config.api,
      ca,
      insecure: config.skip_ssl_validation,
      token: config.access_token,
    }),
    config,
  };
}

/** Runs `fn` with a session and always releases the client's sockets. */
export async function withSession<T>(io: CliIo, fn: (session: Session) => Promise<T>): Promise<T> {
  const session = await openSession(io);
  try {
    return await fn(session);
  } finally {
    session.client.close();
  }
}
