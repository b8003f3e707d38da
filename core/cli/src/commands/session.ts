import { resolve } from 'node:path';
import { ApiClient } from '../api-client.js';
import type { TokenDoc } from '../api-types.js';
import { readCliConfig, writeCliConfig } from '../cli-config.js';
import { EXIT, UsageError } from '../errors.js';
import { localIso } from '../output/time.js';
import { cliConfigPath } from '../paths.js';
import type { Command, CommandGroup } from '../registry.js';
import { readCaFile } from '../session.js';
import { readPassword } from '../secret-prompt.js';

/** The port pks and Slipway serve their API on when an address names none. */
const DEFAULT_API_PORT = 9021;

/** `-a api.example.com` → `https://api.example.com:9021`; an https URL is kept as given. */
export function normalizeApiUrl(raw: string, command = 'login'): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`-a/--api "${raw}" is not a URL or host name`, command);
  }
  if (url.protocol !== 'https:')
    throw new UsageError(
      `-a/--api must be an https URL (the API sends tokens only over TLS); got ${url.protocol}//`,
      command,
    );
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) && !url.port) url.port = String(DEFAULT_API_PORT);
  return url.origin;
}

const login: Command = {
  name: 'login',
  summary: 'Log in to a Slipway API and store the token',
  description: [
    'Gets a token with the OAuth2 password grant (POST /oauth/token) and stores the API URL, the',
    'token, its expiry and the CA file in $SLIPWAY_CLI_CONFIG (default ~/.slipway/cli.json, mode 0600).',
    "Every later command uses them. The control plane's CA is $SLIPWAY_HOME/ca.pem.",
    'Without -p the password is asked on the terminal (not echoed), or read as the first line of stdin when',
    'stdin is not a terminal, so scripts keep it out of the process list: echo "$PASSWORD" | slipway login ...',
    'With -k the certificate is not verified; cli.json records it and every later command says so on stderr.',
  ].join('\n'),
  flags: {
    api: {
      type: 'string',
      short: 'a',
      valueName: 'URL',
      required: true,
      description: `API address: https://HOST:PORT, or HOST (port ${DEFAULT_API_PORT})`,
    },
    username: { type: 'string', short: 'u', valueName: 'USER', required: true, description: 'user name' },
    password: {
      type: 'string',
      short: 'p',
      valueName: 'PASSWORD',
      description: 'password; default: asked on the terminal, or read from stdin',
    },
    'ca-cert': {
      type: 'string',
      valueName: 'FILE',
      description: "CA certificate (PEM) that signed the API's certificate",
    },
    'skip-ssl-validation': {
      type: 'boolean',
      short: 'k',
      description: 'accept any API certificate (insecure; for a first look only)',
    },
  },
  examples: [
    'slipway login -a https://127.0.0.1:9021 -u admin --ca-cert ~/.slipway-home/ca.pem',
    'printf "%s\\n" "$PASSWORD" | slipway login -a https://127.0.0.1:9021 -u admin --ca-cert ~/.slipway-home/ca.pem',
  ],
  async run({ io, flags }) {
    const api = normalizeApiUrl(flags.string('api')!);
    const caFlag = flags.string('ca-cert');
    const insecure = flags.bool('skip-ssl-validation');
    if (caFlag && insecure)
      throw new UsageError(
        '--ca-cert and -k/--skip-ssl-validation exclude each other: verify with the CA, or skip verification',
        'login',
      );
    const caPath = caFlag ? resolve(io.cwd, caFlag) : undefined;
    const ca = caPath ? await readCaFile(caPath) : undefined;
    const user = flags.string('username')!;
    const password = flags.string('password') ?? (await readPassword(io, 'login'));
    const client = new ApiClient({ baseUrl: api, ca, insecure });
    let token: TokenDoc;
    try {
      token = await client.postForm<TokenDoc>('/oauth/token', {
        grant_type: 'password',
        username: user,
        password,
        client_id: 'slipway_cli',
      });
    } finally {
      client.close();
    }
    const expiresAt = new Date(Date.now() + token.expires_in * 1000).toISOString();
    const path = cliConfigPath(io);
    await writeCliConfig(path, {
      api,
      user,
      ...(caPath ? { ca_cert: caPath } : {}),
      ...(insecure ? { skip_ssl_validation: true } : {}),
      access_token: token.access_token,
      expires_at: expiresAt,
      ...(token.scope ? { scope: token.scope } : {}),
    });
    if (insecure) {
      io.stderr.write(
        `Warning: the API certificate was not verified (-k); pass --ca-cert FILE to verify it. ${path} records skip_ssl_validation, and every command will warn until you log in with --ca-cert.\n`,
      );
    }
    io.stdout.write(
      `API Endpoint: ${api}\nUser: ${user}\nRoles: ${token.scope || '-'}\nToken expires: ${localIso(expiresAt)}\n\nLogin successful.\n`,
    );
    return EXIT.ok;
  },
};

const logout: Command = {
  name: 'logout',
  summary: 'Revoke the token on the server and forget it',
  description: [
    'Revokes the stored token on the API (POST /oauth/revoke), so a copy of it stops working too, then',
    'removes it from $SLIPWAY_CLI_CONFIG; the API address and CA file stay for the next login. When the API',
    'cannot be reached the token is still forgotten here, and the message says until when it stays valid.',
  ].join('\n'),
  async run({ io }) {
    const path = cliConfigPath(io);
    const config = await readCliConfig(path);
    if (!config?.access_token) {
      io.stdout.write('Not logged in.\n');
      return EXIT.ok;
    }
    let revoked = false;
    try {
      const ca = config.ca_cert && !config.skip_ssl_validation ? await readCaFile(config.ca_cert) : undefined;
      const client = new ApiClient({ baseUrl: config.api, ca, insecure: config.skip_ssl_validation });
      try {
        await client.postForm('/oauth/revoke', { token: config.access_token });
        revoked = true;
      } finally {
        client.close();
      }
    } catch (e) {
      const until = config.expires_at
        ? ` it stays valid until ${localIso(config.expires_at)}`
        : ' it stays valid until it expires';
      io.stderr.write(`Warning: the token could not be revoked on ${config.api} (${(e as Error).message});${until}.\n`);
    }
    const { access_token: _token, expires_at: _expires, scope: _scope, ...kept } = config;
    await writeCliConfig(path, kept);
    io.stdout.write(`Logged out of ${config.api}${revoked ? '; the token is revoked' : ''}.\n`);
    return EXIT.ok;
  },
};

export const sessionCommands: CommandGroup = { title: 'Session', commands: [login, logout] };
