import type { CliIo } from '../io.js';
import { canAsk, confirm } from '../confirm.js';
import { ApiError, CliError, EXIT, UsageError } from '../errors.js';
import { printJson } from '../output/json.js';
import { keyValues, table } from '../output/table.js';
import { localIso } from '../output/time.js';
import type { Command, CommandGroup, ParsedFlags } from '../registry.js';
import { withSession } from '../session.js';

/** TKGI's limits: null is no limit, 0 allows none; memory in GB. */
export interface QuotaLimitDoc {
  cpu: number | null;
  memory: number | null;
  cluster: number | null;
}

export interface QuotaDoc {
  owner: string;
  limit: QuotaLimitDoc;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface UsageDoc {
  owner: string;
  totals: { cpu: number; memory: number; cluster: number };
  clusters: Array<{ name: string; cpu: number; memory: number }>;
}

const enc = encodeURIComponent;
const OWNER_ARG = { name: 'OWNER', description: 'the user whose quota it is', required: true };
const limitText = (v: number | null, unit = '') => (v === null ? 'no limit' : `${v}${unit}`);

const quotas: Command = {
  name: 'quotas',
  summary: 'List the quotas on owners (admins)',
  json: true,
  async run({ io, flags }) {
    const list = await withSession(io, ({ client }) => client.get<QuotaDoc[]>('/v1/quotas'));
    if (flags.bool('json')) {
      printJson(io.stdout, list);
      return EXIT.ok;
    }
    if (!list.length) {
      io.stdout.write('No quotas; set one with: slipway set-quota OWNER --clusters N --cpu N --memory GB\n');
      return EXIT.ok;
    }
    io.stdout.write(
      table(
        ['Owner', 'Clusters', 'CPUs', 'Memory (GB)', 'Updated'],
        list.map((q) => [
          q.owner,
          limitText(q.limit.cluster),
          limitText(q.limit.cpu),
          limitText(q.limit.memory),
          localIso(q.updated_at),
        ]),
      ),
    );
    return EXIT.ok;
  },
};

const quota: Command = {
  name: 'quota',
  summary: "Show an owner's quota (admins, or the owner itself)",
  args: [OWNER_ARG],
  json: true,
  async run({ io, args, flags }) {
    const q = await withSession(io, ({ client }) => client.get<QuotaDoc>(`/v1/quotas/${enc(args.OWNER!)}`));
    if (flags.bool('json')) printJson(io.stdout, q);
    else {
      io.stdout.write(
        keyValues([
          ['Owner', q.owner],
          ['Clusters', limitText(q.limit.cluster)],
          ['CPUs', limitText(q.limit.cpu)],
          ['Memory', limitText(q.limit.memory, ' GB')],
          ['Set By', q.created_by],
          ['Updated', localIso(q.updated_at)],
        ]),
      );
    }
    return EXIT.ok;
  },
};

/** A limit flag: a number, or `none` to remove that limit. */
function limitFlag(flags: ParsedFlags, name: string, whole: boolean): number | null | undefined {
  const value = flags.string(name);
  if (value === undefined) return undefined;
  if (value === 'none') return null;
  const ok = whole ? /^\d+$/.test(value) : /^\d+(\.\d+)?$/.test(value);
  if (!ok)
    throw new UsageError(
      `--${name} must be ${whole ? 'a whole number' : 'a number of GB'} from 0, or "none" for no limit; got "${value}"`,
      'set-quota',
    );
  return Number(value);
}

const setQuota: Command = {
  name: 'set-quota',
  summary: "Set or change an owner's limits on clusters, CPUs and memory (admins)",
  description:
    'Limits left out keep their value (none on a new quota: no limit). 0 allows none: with --cpu 0 or --memory 0 the owner can create ' +
    'no cluster, as in TKGI. "none" removes a limit. Admins are exempt from quotas. CPUs and memory count every VM (masters and workers) of ' +
    "the owner's live clusters, from their plans' VM types.",
  args: [OWNER_ARG],
  flags: {
    clusters: { type: 'string', valueName: 'N', description: 'live clusters the owner may have (or none)' },
    cpu: { type: 'string', valueName: 'N', description: "CPUs all its clusters' VMs may use (or none)" },
    memory: { type: 'string', valueName: 'GB', description: "memory in GB all its clusters' VMs may use (or none)" },
  },
  json: true,
  examples: ['slipway set-quota alice --clusters 2 --cpu 24 --memory 96', 'slipway set-quota alice --memory none'],
  async run({ io, args, flags }) {
    const owner = args.OWNER!;
    const limit: Record<string, number | null> = {};
    for (const [flag, field, whole] of [
      ['clusters', 'cluster', true],
      ['cpu', 'cpu', true],
      ['memory', 'memory', false],
    ] as const) {
      const value = limitFlag(flags, flag, whole);
      if (value !== undefined) limit[field] = value;
    }
    if (!Object.keys(limit).length)
      throw new UsageError('set-quota needs at least one of --clusters, --cpu, --memory', 'set-quota');
    const q = await withSession(io, async ({ client }) => {
      try {
        return await client.patch<QuotaDoc>(`/v1/quotas/${enc(owner)}`, { limit });
      } catch (e) {
        // No quota yet: create one. Another admin creating it meanwhile makes the POST a 409, shown as is.
        if (e instanceof ApiError && e.status === 404) return client.post<QuotaDoc>('/v1/quotas', { owner, limit });
        throw e;
      }
    });
    if (flags.bool('json')) printJson(io.stdout, q);
    else
      io.stdout.write(
        `Quota of ${q.owner}: clusters ${limitText(q.limit.cluster)}, CPUs ${limitText(q.limit.cpu)}, memory ${limitText(q.limit.memory, ' GB')}.\n`,
      );
    return EXIT.ok;
  },
};

const deleteQuota: Command = {
  name: 'delete-quota',
  summary: "Remove an owner's quota: no limits apply to it any more (admins)",
  args: [OWNER_ARG],
  flags: { 'non-interactive': { type: 'boolean', description: 'delete without asking for confirmation' } },
  async run({ io, args, flags }) {
    const owner = args.OWNER!;
    if (!flags.bool('non-interactive')) await confirmOrStop(io, owner);
    await withSession(io, ({ client }) => client.delete(`/v1/quotas/${enc(owner)}`));
    io.stdout.write(`Quota of ${owner} deleted; no limits apply to it.\n`);
    return EXIT.ok;
  },
};

async function confirmOrStop(io: CliIo, owner: string): Promise<void> {
  if (!canAsk(io))
    throw new UsageError(
      `delete-quota asks for confirmation, and this is not a terminal; pass --non-interactive to delete the quota of ${owner}`,
      'delete-quota',
    );
  if (!(await confirm(io, `Are you sure you want to remove the quota of ${owner}?`)))
    throw new CliError('Deletion cancelled; nothing was changed.', '');
}

const usages: Command = {
  name: 'usages',
  summary: 'CPUs, memory and clusters each owner uses (admins: everyone; others: themselves)',
  args: [{ name: 'OWNER', description: 'one owner: its clusters one by one', required: false }],
  json: true,
  async run({ io, args, flags }) {
    const owner = args.OWNER;
    const result = await withSession<UsageDoc | UsageDoc[]>(io, ({ client }) =>
      owner ? client.get<UsageDoc>(`/v1/usages/${enc(owner)}`) : client.get<UsageDoc[]>('/v1/usages'),
    );
    if (flags.bool('json')) {
      printJson(io.stdout, result);
      return EXIT.ok;
    }
    if (Array.isArray(result)) {
      if (!result.length) io.stdout.write('No owner has a live cluster or a quota.\n');
      else
        io.stdout.write(
          table(
            ['Owner', 'Clusters', 'CPUs', 'Memory (GB)'],
            result.map((u) => [u.owner, u.totals.cluster, u.totals.cpu, u.totals.memory]),
          ),
        );
      return EXIT.ok;
    }
    const rows = result.clusters.map((c) => [c.name, c.cpu, c.memory]);
    rows.push(['Total', result.totals.cpu, result.totals.memory]);
    io.stdout.write(
      `Owner: ${result.owner} (${result.totals.cluster} cluster${result.totals.cluster === 1 ? '' : 's'})\n`,
    );
    io.stdout.write(table(['Cluster', 'CPUs', 'Memory (GB)'], rows));
    return EXIT.ok;
  },
};

export const quotaCommands: CommandGroup = {
  title: 'Quotas and usages',
  commands: [quotas, quota, setQuota, deleteQuota, usages],
};
