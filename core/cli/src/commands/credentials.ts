import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import type { ApiClient } from '../api-client.js';
import { canAsk, confirm } from '../confirm.js';
import { ApiError, CliError, EXIT, UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { printJson } from '../output/json.js';
import { table } from '../output/table.js';
import { localIso } from '../output/time.js';
import type { Command, CommandGroup, FlagSpec, ParsedFlags } from '../registry.js';
import { withSession } from '../session.js';

/** A credential as the CredHub API returns it. */
interface CredentialDoc {
  id: string;
  name: string;
  type: string;
  value: unknown;
  version_created_at: string;
  metadata?: unknown;
  transitional?: boolean;
  expiry_date?: string;
}

interface AuditEventDoc {
  seq: number;
  at: string;
  actor: string;
  operation: string;
  name: string | null;
  version_id: string | null;
  result: string;
  source_address: string | null;
}

const NAME_ARG = {
  name: 'NAME',
  description: 'the credential name, e.g. /slipway/clusters/UUID/admin',
  required: true,
};
const TYPES = ['value', 'json', 'password', 'user', 'certificate', 'rsa', 'ssh'];
const GENERATED = ['password', 'user', 'certificate', 'rsa', 'ssh'];
const TYPE_FLAG: FlagSpec = {
  type: 'string',
  short: 't',
  valueName: 'TYPE',
  required: true,
  description: `the credential type: ${TYPES.join(', ')}`,
};

const enc = encodeURIComponent;

/**
 * The CredHub API answers errors as `{ error, hint }` (OAuth2's `error_description` for a 401) where the
 * Slipway API sends problem+json; this keeps the API's message and hint for the user.
 */
async function credhub<T>(io: CliIo, call: (client: ApiClient) => Promise<T>): Promise<T> {
  return withSession(io, async ({ client }) => {
    try {
      return await call(client);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      const body = e.problem as unknown as { error?: string; error_description?: string; hint?: string };
      if (e.status === 401)
        throw new CliError(
          `the credential API refused the login: ${body.error_description ?? body.error ?? 'unauthenticated'}`,
          'Run: slipway login',
        );
      if (e.status === 404 && !body.error)
        throw new CliError(
          'this control plane does not serve the credential API (/api/v1)',
          'Upgrade the control plane, or check the URL you logged in with.',
        );
      throw new CliError(body.error ?? e.message, body.hint);
    }
  });
}

/** A credential for reading: the CredHub CLI's YAML (`name`, `type`, `value`, ...), or one field of its value. */
function printCredential(io: CliIo, credential: CredentialDoc, flags: ParsedFlags): void {
  if (flags.bool('json')) return printJson(io.stdout, credential);
  const key = flags.string('key');
  if (key) {
    const value = credential.value as Record<string, unknown> | null;
    if (value === null || typeof value !== 'object' || !(key in value)) {
      throw new CliError(
        `${credential.name} (a ${credential.type}) has no field "${key}"`,
        `Its fields: ${value && typeof value === 'object' ? Object.keys(value).join(', ') : 'none; it is a single value'}`,
      );
    }
    const field = value[key];
    io.stdout.write(
      typeof field === 'string' ? (field.endsWith('\n') ? field : `${field}\n`) : `${JSON.stringify(field)}\n`,
    );
    return;
  }
  if (flags.bool('quiet')) {
    io.stdout.write(typeof credential.value === 'string' ? `${credential.value}\n` : stringify(credential.value));
    return;
  }
  const { id, name, type, value, version_created_at, metadata, transitional, expiry_date } = credential;
  io.stdout.write(
    stringify(
      {
        id,
        name,
        type,
        value,
        version_created_at: localIso(version_created_at),
        ...(metadata ? { metadata } : {}),
        ...(expiry_date ? { expiry_date: localIso(expiry_date) } : {}),
        ...(transitional ? { transitional } : {}),
      },
      { lineWidth: 0 },
    ),
  );
}

const READ_FLAGS: Record<string, FlagSpec> = {
  key: {
    type: 'string',
    short: 'k',
    valueName: 'FIELD',
    description: 'print only this field of the value (password, certificate, private_key, ...)',
  },
  quiet: { type: 'boolean', short: 'q', description: 'print only the value' },
};

const get: Command = {
  name: 'credentials get',
  summary: 'Show a credential: its current version, a version by id, or the last N',
  args: [{ ...NAME_ARG, required: false }],
  flags: {
    ...READ_FLAGS,
    id: { type: 'string', valueName: 'ID', description: 'the version with this id instead of a name' },
    versions: { type: 'string', valueName: 'N', description: 'the last N versions, newest first' },
  },
  json: true,
  examples: [
    'slipway credentials get /slipway/clusters/UUID/admin -k certificate',
    'slipway credentials get /app/db --versions 3 --json',
  ],
  async run({ io, args, flags }) {
    const id = flags.string('id');
    if (!id && !args.NAME) throw new UsageError('give a credential NAME or --id ID', 'credentials get');
    if (id && args.NAME) throw new UsageError('give a credential NAME or --id ID, not both', 'credentials get');
    const versions = flags.int('versions', { min: 1, max: 1000 });
    if (id) {
      const credential = await credhub(io, (c) => c.get<CredentialDoc>(`/api/v1/data/${enc(id)}`));
      printCredential(io, credential, flags);
      return EXIT.ok;
    }
    const query = versions ? `versions=${versions}` : 'current=true';
    const { data } = await credhub(io, (c) =>
      c.get<{ data: CredentialDoc[] }>(`/api/v1/data?name=${enc(args.NAME!)}&${query}`),
    );
    if (flags.bool('json')) {
      printJson(io.stdout, versions ? data : data[0]);
      return EXIT.ok;
    }
    data.slice(0, versions ?? 1).forEach((credential, i) => {
      if (i > 0) io.stdout.write('---\n');
      printCredential(io, credential, flags);
    });
    return EXIT.ok;
  },
};

const set: Command = {
  name: 'credentials set',
  summary: 'Store a value as a new version of a credential',
  description: 'Certificates and keys are read from PEM files. A json value is JSON text.',
  args: [NAME_ARG],
  flags: {
    type: TYPE_FLAG,
    value: { type: 'string', short: 'v', valueName: 'VALUE', description: 'the value (value, password, json)' },
    username: { type: 'string', short: 'z', valueName: 'USER', description: 'user: the username' },
    password: { type: 'string', short: 'w', valueName: 'PASSWORD', description: 'user: the password' },
    certificate: {
      type: 'string',
      short: 'c',
      valueName: 'FILE',
      description: 'certificate: the certificate PEM file',
    },
    'private-key': {
      type: 'string',
      short: 'p',
      valueName: 'FILE',
      description: 'certificate, rsa, ssh: the private key PEM file',
    },
    'public-key': { type: 'string', short: 'u', valueName: 'FILE', description: 'rsa, ssh: the public key file' },
    'root-ca': { type: 'string', short: 'r', valueName: 'FILE', description: 'certificate: the signing CA PEM file' },
    'ca-name': {
      type: 'string',
      short: 'm',
      valueName: 'NAME',
      description: 'certificate: the name of the stored CA that signed it',
    },
  },
  json: true,
  examples: [
    'slipway credentials set /app/db -t json -v \'{"user":"app","password":"s3cret"}\'',
    'slipway credentials set /app/tls -t certificate -c tls.crt -p tls.key -m /app/ca',
  ],
  apiFields: { name: 'NAME', type: '--type', value: '--value' },
  async run({ io, args, flags }) {
    const type = checkType(flags.string('type')!, TYPES, 'credentials set');
    const value = await valueOf(io, type, flags);
    const credential = await credhub(io, (c) =>
      c.call<CredentialDoc>('PUT', '/api/v1/data', { name: args.NAME, type, value }).then((r) => r.body),
    );
    if (flags.bool('json')) printJson(io.stdout, credential);
    else io.stdout.write(`Stored ${credential.name} (${credential.type}), version ${credential.id}.\n`);
    return EXIT.ok;
  },
};

async function valueOf(io: CliIo, type: string, flags: ParsedFlags): Promise<unknown> {
  const file = async (flag: string) => {
    const path = flags.string(flag);
    if (!path) return undefined;
    try {
      return await readFile(resolve(io.cwd, path), 'utf8');
    } catch (e) {
      throw new CliError(`cannot read --${flag} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const need = (flag: string) => {
    const v = flags.string(flag);
    if (v === undefined) throw new UsageError(`a ${type} credential needs --${flag}`, 'credentials set');
    return v;
  };
  switch (type) {
    case 'value':
    case 'password':
      return need('value');
    case 'json':
      try {
        return JSON.parse(need('value'));
      } catch (e) {
        if (e instanceof UsageError) throw e;
        throw new UsageError(`--value is not JSON: ${(e as Error).message}`, 'credentials set');
      }
    case 'user':
      return { username: flags.string('username'), password: need('password') };
    case 'certificate':
      return {
        certificate: await file('certificate'),
        private_key: await file('private-key'),
        ca: await file('root-ca'),
        ca_name: flags.string('ca-name'),
      };
    default:
      return { public_key: await file('public-key'), private_key: await file('private-key') };
  }
}

const generate: Command = {
  name: 'credentials generate',
  summary: 'Generate a credential with CredHub parameters (converge by default: only when they changed)',
  args: [NAME_ARG],
  flags: {
    type: { ...TYPE_FLAG, description: `the credential type: ${GENERATED.join(', ')}` },
    mode: { type: 'string', valueName: 'MODE', description: 'converge (default), overwrite or no-overwrite' },
    length: { type: 'string', short: 'l', valueName: 'N', description: 'password, user: length (default 30)' },
    'exclude-upper': { type: 'boolean', description: 'password, user: no upper-case letters' },
    'exclude-lower': { type: 'boolean', description: 'password, user: no lower-case letters' },
    'exclude-number': { type: 'boolean', description: 'password, user: no digits' },
    'include-special': { type: 'boolean', description: 'password, user: add special characters' },
    username: { type: 'string', short: 'z', valueName: 'USER', description: 'user: the username (default: random)' },
    'common-name': { type: 'string', valueName: 'CN', description: 'certificate: common name' },
    'alternative-name': {
      type: 'string',
      valueName: 'NAMES',
      description: 'certificate: subject alternative names, comma-separated',
    },
    organization: { type: 'string', short: 'o', valueName: 'O', description: 'certificate: organization' },
    'organization-unit': { type: 'string', valueName: 'OU', description: 'certificate: organization unit' },
    locality: { type: 'string', valueName: 'L', description: 'certificate: locality' },
    state: { type: 'string', valueName: 'ST', description: 'certificate: state' },
    country: { type: 'string', valueName: 'C', description: 'certificate: country (two letters)' },
    'key-usage': {
      type: 'string',
      valueName: 'USAGES',
      description: 'certificate: key usages, comma-separated (digital_signature, key_encipherment, ...)',
    },
    'ext-key-usage': {
      type: 'string',
      valueName: 'USAGES',
      description: 'certificate: extended key usages, comma-separated (server_auth, client_auth, ...)',
    },
    duration: {
      type: 'string',
      short: 'd',
      valueName: 'DAYS',
      description: 'certificate: validity in days (default 365)',
    },
    'key-length': {
      type: 'string',
      valueName: 'BITS',
      description: 'certificate, rsa, ssh: 2048 (default), 3072 or 4096',
    },
    ca: { type: 'string', valueName: 'NAME', description: 'certificate: the CA credential that signs it' },
    'is-ca': { type: 'boolean', description: 'certificate: make a CA' },
    'self-sign': { type: 'boolean', description: 'certificate: self-signed' },
    'ssh-comment': { type: 'string', valueName: 'COMMENT', description: 'ssh: comment of the public key' },
  },
  json: true,
  examples: [
    'slipway credentials generate /app/password -t password -l 40 --include-special',
    'slipway credentials generate /app/tls -t certificate --common-name app.example.test --ca /app/ca --ext-key-usage server_auth',
  ],
  apiFields: {
    name: 'NAME',
    type: '--type',
    mode: '--mode',
    'parameters.length': '--length',
    'parameters.duration': '--duration',
    'parameters.ca': '--ca',
    'parameters.common_name': '--common-name',
    'parameters.alternative_names': '--alternative-name',
    'parameters.key_length': '--key-length',
  },
  async run({ io, args, flags }) {
    const type = checkType(flags.string('type')!, GENERATED, 'credentials generate');
    const mode = flags.string('mode');
    if (mode !== undefined && !['converge', 'overwrite', 'no-overwrite'].includes(mode))
      throw new UsageError(`--mode must be converge, overwrite or no-overwrite; got "${mode}"`, 'credentials generate');
    const list = (flag: string) =>
      flags
        .string(flag)
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    const parameters = Object.fromEntries(
      Object.entries({
        length: flags.int('length', { min: 1 }),
        exclude_upper: flags.bool('exclude-upper') || undefined,
        exclude_lower: flags.bool('exclude-lower') || undefined,
        exclude_number: flags.bool('exclude-number') || undefined,
        include_special: flags.bool('include-special') || undefined,
        username: flags.string('username'),
        common_name: flags.string('common-name'),
        alternative_names: list('alternative-name'),
        organization: flags.string('organization'),
        organization_unit: flags.string('organization-unit'),
        locality: flags.string('locality'),
        state: flags.string('state'),
        country: flags.string('country'),
        key_usage: list('key-usage'),
        extended_key_usage: list('ext-key-usage'),
        duration: flags.int('duration', { min: 1 }),
        key_length: flags.int('key-length'),
        ca: flags.string('ca'),
        is_ca: flags.bool('is-ca') || undefined,
        self_sign: flags.bool('self-sign') || undefined,
        ssh_comment: flags.string('ssh-comment'),
      }).filter(([, v]) => v !== undefined),
    );
    const credential = await credhub(io, (c) =>
      c.post<CredentialDoc>('/api/v1/data', { name: args.NAME, type, parameters, ...(mode ? { mode } : {}) }),
    );
    if (flags.bool('json')) printJson(io.stdout, credential);
    else
      io.stdout.write(
        `${credential.name} (${credential.type}) is at version ${credential.id}, created ${localIso(credential.version_created_at)}.\n`,
      );
    return EXIT.ok;
  },
};

const regenerate: Command = {
  name: 'credentials regenerate',
  summary: 'Generate a new version with the parameters of the current one',
  args: [NAME_ARG],
  flags: {
    transitional: {
      type: 'boolean',
      description:
        'certificate: keep the current version signing, add the new one as transitional (CA rotation, phase 1)',
    },
  },
  json: true,
  async run({ io, args, flags }) {
    const name = args.NAME!;
    const credential = await credhub(io, async (c) => {
      if (!flags.bool('transitional')) return c.post<CredentialDoc>('/api/v1/regenerate', { name });
      const { certificates } = await c.get<{ certificates: Array<{ id: string }> }>(
        `/api/v1/certificates?name=${enc(name)}`,
      );
      return c.post<CredentialDoc>(`/api/v1/certificates/${enc(certificates[0].id)}/regenerate`, {
        set_as_transitional: true,
      });
    });
    if (flags.bool('json')) printJson(io.stdout, credential);
    else
      io.stdout.write(
        `Regenerated ${credential.name}: version ${credential.id}${credential.transitional ? ' (transitional)' : ''}.\n`,
      );
    return EXIT.ok;
  },
};

const del: Command = {
  name: 'credentials delete',
  summary: 'Delete a credential with all its versions',
  description: 'Asks for confirmation on a terminal; elsewhere --non-interactive is required.',
  args: [NAME_ARG],
  flags: { 'non-interactive': { type: 'boolean', description: 'delete without asking for confirmation' } },
  async run({ io, args, flags }) {
    const name = args.NAME!;
    if (!flags.bool('non-interactive')) {
      if (!canAsk(io))
        throw new UsageError(
          `credentials delete asks for confirmation, and this is not a terminal; pass --non-interactive to delete ${name} without asking`,
          'credentials delete',
        );
      if (!(await confirm(io, `Delete ${name} and all its versions?`))) {
        io.stdout.write('Nothing was deleted.\n');
        return EXIT.failed;
      }
    }
    await credhub(io, (c) => c.call('DELETE', `/api/v1/data?name=${enc(name)}`));
    io.stdout.write(`Deleted ${name} and all its versions.\n`);
    return EXIT.ok;
  },
};

const find: Command = {
  name: 'credentials find',
  summary: 'List the credentials you may read under a path, or whose name contains a string',
  flags: {
    path: { type: 'string', valueName: 'PATH', description: 'names under this path (default /)' },
    'name-like': { type: 'string', short: 'n', valueName: 'TEXT', description: 'names containing TEXT (any case)' },
    'expires-within-days': { type: 'string', valueName: 'DAYS', description: 'only certificates expiring within DAYS' },
  },
  json: true,
  async run({ io, flags }) {
    const nameLike = flags.string('name-like');
    if (nameLike !== undefined && flags.has('path'))
      throw new UsageError('give --path or --name-like, not both', 'credentials find');
    const query = new URLSearchParams(
      nameLike !== undefined ? { 'name-like': nameLike } : { path: flags.string('path') ?? '/' },
    );
    const days = flags.int('expires-within-days', { min: 0 });
    if (days !== undefined) query.set('expires-within-days', String(days));
    const { credentials } = await credhub(io, (c) =>
      c.get<{ credentials: Array<{ name: string; version_created_at: string }> }>(`/api/v1/data?${query}`),
    );
    if (flags.bool('json')) {
      printJson(io.stdout, credentials);
      return EXIT.ok;
    }
    if (!credentials.length) {
      io.stdout.write('No credentials found (or none you may read).\n');
      return EXIT.ok;
    }
    io.stdout.write(
      table(
        ['Name', 'Version Created At'],
        credentials.map((c) => [c.name, localIso(c.version_created_at)]),
      ),
    );
    return EXIT.ok;
  },
};

const audit: Command = {
  name: 'credentials audit',
  summary: 'List audit events, newest first: who read or changed which credential, from where',
  description: 'Admins see every event; anyone else sees their own.',
  flags: {
    actor: {
      type: 'string',
      valueName: 'ACTOR',
      description: 'only this actor (user:ID as `slipway users list --json` shows it, slipway:engine)',
    },
    name: { type: 'string', valueName: 'NAME', description: 'only this credential' },
    path: { type: 'string', valueName: 'PATH', description: 'only credentials under this path' },
    operation: {
      type: 'string',
      valueName: 'OP',
      description: 'only this operation (get, set, generate, regenerate, delete, add_permissions, ...)',
    },
    result: {
      type: 'string',
      valueName: 'RESULT',
      description: 'only this result (success, unchanged, denied, not_found, invalid, error)',
    },
    since: { type: 'string', valueName: 'TIME', description: 'from this ISO time on' },
    until: { type: 'string', valueName: 'TIME', description: 'up to this ISO time' },
    limit: { type: 'string', short: 'l', valueName: 'N', description: 'at most N events (default 100)' },
  },
  json: true,
  examples: [
    'slipway credentials audit --result denied',
    'slipway credentials audit --path /slipway/clusters/UUID --since 2026-12-01T00:00:00Z',
  ],
  async run({ io, flags }) {
    const query = new URLSearchParams();
    for (const key of ['actor', 'name', 'path', 'operation', 'result', 'since', 'until']) {
      const v = flags.string(key);
      if (v !== undefined) query.set(key, v);
    }
    const limit = flags.int('limit', { min: 1, max: 1000 });
    if (limit !== undefined) query.set('limit', String(limit));
    const { events } = await credhub(io, (c) =>
      c.get<{ events: AuditEventDoc[] }>(`/api/v1/audit${query.size ? `?${query}` : ''}`),
    );
    if (flags.bool('json')) {
      printJson(io.stdout, events);
      return EXIT.ok;
    }
    if (!events.length) {
      io.stdout.write('No audit events match.\n');
      return EXIT.ok;
    }
    io.stdout.write(
      table(
        ['Time', 'Actor', 'Operation', 'Name', 'Result', 'Source', 'Version'],
        events.map((e) => [localIso(e.at), e.actor, e.operation, e.name, e.result, e.source_address, e.version_id]),
      ),
    );
    return EXIT.ok;
  },
};

function checkType(type: string, allowed: string[], command: string): string {
  if (!allowed.includes(type))
    throw new UsageError(`--type must be one of ${allowed.join(', ')}; got "${type}"`, command);
  return type;
}

export const credentialCommands: CommandGroup = {
  title: 'Credentials',
  commands: [get, set, generate, regenerate, del, find, audit],
};
