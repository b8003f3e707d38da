import { readFile } from 'node:fs/promises';
import type { CliIo } from '../io.js';
import { canAsk, confirm } from '../confirm.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { printJson } from '../output/json.js';
import { keyValues, table } from '../output/table.js';
import { localIso } from '../output/time.js';
import type { Command, CommandGroup } from '../registry.js';
import { withSession } from '../session.js';

/** A network profile as /v1/network-profiles answers it (TKGI's fields). */
export interface NetworkProfileDoc {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
  created_by: string;
  created_at: string;
}

const enc = encodeURIComponent;
const NAME_ARG = { name: 'NAME', description: 'the network profile name', required: true };

function summary(p: NetworkProfileDoc): string {
  return keyValues([
    ['Name', p.name],
    ['Description', p.description ?? '-'],
    ['Created By', p.created_by],
    ['Created', localIso(p.created_at)],
    ...Object.entries(p.parameters).map(
      ([k, v]) => [`Parameter ${k}`, typeof v === 'string' ? v : JSON.stringify(v)] as [string, string],
    ),
  ]);
}

const networkProfiles: Command = {
  name: 'network-profiles',
  summary: 'List the network profiles clusters can be created with',
  json: true,
  async run({ io, flags }) {
    const list = await withSession(io, ({ client }) => client.get<NetworkProfileDoc[]>('/v1/network-profiles'));
    if (flags.bool('json')) {
      printJson(io.stdout, list);
      return EXIT.ok;
    }
    if (!list.length) {
      io.stdout.write(
        'No network profiles yet; an admin creates them with: slipway create-network-profile FILE.json\n',
      );
      return EXIT.ok;
    }
    io.stdout.write(
      table(
        ['Name', 'Description', 'Parameters'],
        list.map((p) => [p.name, p.description ?? '', Object.keys(p.parameters).join(', ')]),
      ),
    );
    return EXIT.ok;
  },
};

const networkProfile: Command = {
  name: 'network-profile',
  summary: 'Show one network profile',
  args: [NAME_ARG],
  json: true,
  async run({ io, args, flags }) {
    const profile = await withSession(io, ({ client }) =>
      client.get<NetworkProfileDoc>(`/v1/network-profiles/${enc(args.NAME!)}`),
    );
    if (flags.bool('json')) printJson(io.stdout, profile);
    else io.stdout.write(summary(profile));
    return EXIT.ok;
  },
};

async function readProfileFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new CliError(
      `cannot read ${file}: ${(e as Error).message}`,
      'Pass the path of a JSON network profile document.',
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(
      `${file} is not valid JSON: ${(e as Error).message}`,
      'A network profile is a JSON document: {"name": ..., "description": ..., "parameters": {...}}.',
    );
  }
}

const createNetworkProfile: Command = {
  name: 'create-network-profile',
  summary: 'Create a network profile from a JSON file (admins)',
  description:
    'FILE holds TKGI\'s shape: {"name", "description", "parameters": {"nodes_dns", "fip_pool_ids", "pod_ip_block_ids", "lb_size", ...}}. ' +
    'Every problem is listed with its field before anything is created.',
  args: [{ name: 'FILE', description: 'the profile document (JSON)', required: true }],
  json: true,
  examples: ['slipway create-network-profile small-lb.json'],
  async run({ io, args, flags }) {
    const document = await readProfileFile(args.FILE!);
    const created = await withSession(io, ({ client }) =>
      client.post<NetworkProfileDoc>('/v1/network-profiles', document),
    );
    if (flags.bool('json')) printJson(io.stdout, created);
    else io.stdout.write(`Network profile ${created.name} created.\n`);
    return EXIT.ok;
  },
};

const deleteNetworkProfile: Command = {
  name: 'delete-network-profile',
  summary: 'Delete a network profile no cluster uses (admins)',
  args: [NAME_ARG],
  flags: { 'non-interactive': { type: 'boolean', description: 'delete without asking for confirmation' } },
  async run({ io, args, flags }) {
    const name = args.NAME!;
    if (!flags.bool('non-interactive')) await confirmOrStop(io, name);
    await withSession(io, ({ client }) => client.delete(`/v1/network-profiles/${enc(name)}`));
    io.stdout.write(`Network profile ${name} deleted.\n`);
    return EXIT.ok;
  },
};

async function confirmOrStop(io: CliIo, name: string): Promise<void> {
  if (!canAsk(io)) {
    throw new UsageError(
      `delete-network-profile asks for confirmation, and this is not a terminal; pass --non-interactive to delete ${name}`,
      'delete-network-profile',
    );
  }
  if (!(await confirm(io, `Are you sure you want to delete the network profile ${name}?`)))
    throw new CliError('Deletion cancelled; nothing was changed.', '');
}

export const networkProfileCommands: CommandGroup = {
  title: 'Network profiles',
  commands: [networkProfiles, networkProfile, createNetworkProfile, deleteNetworkProfile],
};
