import { canAsk, confirm } from '../confirm.js';
import { EXIT, UsageError } from '../errors.js';
import { printJson } from '../output/json.js';
import { table } from '../output/table.js';
import { localIso } from '../output/time.js';
import type { Command, CommandGroup } from '../registry.js';
import { readPasswordChange } from '../secret-input.js';
import { withSession } from '../session.js';

interface UserDoc {
  id: number;
  name: string;
  roles: string[];
  actor: string;
  clusters: string[];
  created_at: string;
}

const ROLE_NAMES = ['clusters.admin', 'clusters.admin.read', 'clusters.manage'];
const NAME_ARG = { name: 'NAME', description: 'the user name', required: true };
const ROLE_FLAG = {
  type: 'string' as const,
  short: 'r',
  valueName: 'ROLE[,ROLE]',
  required: true,
  description: `one or more of ${ROLE_NAMES.join(', ')} (PKS's UAA scopes), comma-separated`,
};
const enc = encodeURIComponent;

function rolesOf(raw: string, command: string): string[] {
  const roles = raw
    .split(',')
    .map((r) => r.trim().replace(/^pks\./, ''))
    .filter(Boolean);
  const unknown = roles.filter((r) => !ROLE_NAMES.includes(r));
  if (!roles.length || unknown.length)
    throw new UsageError(
      `--role: ${unknown.length ? `unknown role ${unknown.join(', ')}` : 'no role given'}; use ${ROLE_NAMES.join(', ')}`,
      command,
    );
  return roles;
}

const list: Command = {
  name: 'users list',
  summary: 'List users, their roles and the clusters they own (admin)',
  json: true,
  async run({ io, flags }) {
    const users = await withSession(io, ({ client }) => client.get<UserDoc[]>('/v1/users'));
    if (flags.bool('json')) {
      printJson(io.stdout, users);
      return EXIT.ok;
    }
    io.stdout.write(
      table(
        ['Name', 'ID', 'Roles', 'Clusters', 'Created'],
        users.map((u) => [u.name, u.id, u.roles.join(', '), u.clusters.join(', ') || '-', localIso(u.created_at)]),
      ),
    );
    return EXIT.ok;
  },
};

const create: Command = {
  name: 'users create',
  summary: 'Create a user (admin); the password is asked for, or read from stdin',
  args: [NAME_ARG],
  flags: { role: ROLE_FLAG },
  json: true,
  examples: [
    'slipway users create alice --role clusters.manage',
    'printf \'%s\\n\' "$PW" | slipway users create ci --role clusters.manage',
  ],
  apiFields: { name: 'NAME', roles: '--role' },
  async run({ io, args, flags }) {
    const roles = rolesOf(flags.string('role')!, 'users create');
    const { next: password } = await readPasswordChange(io, { next: `Password for ${args.NAME}: ` }, 'users create');
    const user = await withSession(io, ({ client }) =>
      client.post<UserDoc>('/v1/users', { name: args.NAME, password, roles }),
    );
    if (flags.bool('json')) printJson(io.stdout, user);
    else io.stdout.write(`User ${user.name} created with ${user.roles.join(', ')}.\n`);
    return EXIT.ok;
  },
};

const remove: Command = {
  name: 'users delete',
  summary: 'Delete a user (admin): refused while it owns clusters, unless --reassign-to hands them over',
  description:
    'Its credential grants and kubeconfig certificates go with it. Asks for confirmation on a terminal; elsewhere --non-interactive is required.',
  args: [NAME_ARG],
  flags: {
    'reassign-to': {
      type: 'string',
      valueName: 'USER',
      description: 'give the clusters it owns to USER (who needs clusters.manage or clusters.admin)',
    },
    'non-interactive': { type: 'boolean', description: 'delete without asking for confirmation' },
  },
  json: true,
  examples: ['slipway users delete alice', 'slipway users delete alice --reassign-to bob --non-interactive'],
  apiFields: { reassign_to: '--reassign-to' },
  async run({ io, args, flags }) {
    const name = args.NAME!;
    const to = flags.string('reassign-to');
    if (!flags.bool('non-interactive')) {
      if (!canAsk(io))
        throw new UsageError(
          `users delete asks for confirmation, and this is not a terminal; pass --non-interactive to delete ${name} without asking`,
          'users delete',
        );
      if (
        !(await confirm(
          io,
          `Are you sure you want to delete the user ${name}${to ? ` and give its clusters to ${to}` : ''}?`,
        ))
      ) {
        io.stdout.write('Deletion cancelled; nothing was changed.\n');
        return EXIT.failed;
      }
    }
    const result = await withSession(io, ({ client }) =>
      client.delete<{ reassigned: string[] } | undefined>(
        `/v1/users/${enc(name)}${to ? `?reassign_to=${enc(to)}` : ''}`,
      ),
    );
    const reassigned = result?.reassigned ?? [];
    if (flags.bool('json')) printJson(io.stdout, { name, reassigned });
    else
      io.stdout.write(`User ${name} deleted.${reassigned.length ? ` ${to} now owns ${reassigned.join(', ')}.` : ''}\n`);
    return EXIT.ok;
  },
};

const setRoles: Command = {
  name: 'users set-roles',
  summary: "Replace a user's roles (admin)",
  args: [NAME_ARG],
  flags: { role: ROLE_FLAG },
  json: true,
  examples: ['slipway users set-roles alice --role clusters.manage,clusters.admin.read'],
  apiFields: { roles: '--role' },
  async run({ io, args, flags }) {
    const roles = rolesOf(flags.string('role')!, 'users set-roles');
    const user = await withSession(io, ({ client }) =>
      client.call<UserDoc>('PUT', `/v1/users/${enc(args.NAME!)}/roles`, { roles }).then((r) => r.body),
    );
    if (flags.bool('json')) printJson(io.stdout, user);
    else io.stdout.write(`User ${user.name} now has ${user.roles.join(', ')}.\n`);
    return EXIT.ok;
  },
};

const setPassword: Command = {
  name: 'users set-password',
  summary: "Set a user's password: yours (asks your current one too), or anyone's as an admin",
  description:
    "The new password is asked for, or read from stdin (first line; yours: the current one on the first line, the new one on the second). An admin's reset ends the user's sessions.",
  args: [NAME_ARG],
  flags: {
    own: { type: 'boolean', description: 'change your own password as a non-admin: asks your current one first' },
  },
  examples: ['slipway users set-password alice', 'printf \'%s\\n\' "$NEW" | slipway users set-password ci'],
  async run({ io, args, flags }) {
    const name = args.NAME!;
    const { current: old, next: password } = await readPasswordChange(
      io,
      {
        ...(flags.bool('own') ? { current: 'Current password: ' } : {}),
        next: `New password for ${name}: `,
      },
      'users set-password',
    );
    await withSession(io, ({ client }) =>
      client.call('PUT', `/v1/users/${enc(name)}/password`, {
        password,
        ...(old !== undefined ? { old_password: old } : {}),
      }),
    );
    io.stdout.write(`Password of ${name} changed.\n`);
    return EXIT.ok;
  },
};

export const userCommands: CommandGroup = { title: 'Users', commands: [list, create, remove, setRoles, setPassword] };
