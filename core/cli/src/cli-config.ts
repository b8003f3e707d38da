import { readFile } from 'node:fs/promises';
import { CliError } from './errors.js';
import { writeFileAtomic } from './files.js';

/** What `slipway login` remembers, in ~/.slipway/cli.json (mode 0600). */
export interface CliConfig {
  /** `https://host:port` of the Slipway API. */
  api: string;
  user?: string;
  /** The CA file that verifies the API's certificate; absent: the system's CAs. */
  ca_cert?: string;
  skip_ssl_validation?: boolean;
  access_token?: string;
  /** ISO time the token expires. */
  expires_at?: string;
  scope?: string;
}

export async function readCliConfig(path: string): Promise<CliConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(
      `cannot read ${path}: ${(e as Error).message}`,
      'Check the file permissions, or set SLIPWAY_CLI_CONFIG to another file.',
    );
  }
  try {
    const parsed = JSON.parse(text) as CliConfig;
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.api !== 'string')
      throw new Error('no "api" field');
    return parsed;
  } catch (e) {
    throw new CliError(
      `${path} is not a slipway CLI config: ${(e as Error).message}`,
      'Delete it and run: slipway login',
    );
  }
}

export async function writeCliConfig(path: string, config: CliConfig): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(config, null, 2)}\n`, 0o600);
}
