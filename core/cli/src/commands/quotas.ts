import { EXIT, UsageError } from '../errors.js';
import { printJson } from '../output/json.js';
import { table } from '../output/table.js';
import type { Command, CommandGroup } from '../registry.js';
import { withSession } from '../session.js';

interface QuotaDoc { owner: string; limit: { cpu: number; memory: number; cluster: number } }
interface UsageDoc { owner: string; totals: { cpu: number; memory: number; cluster: number }; clusters: Array<{ name: string; cpu: number; memory: number }> }

const limitText = (n: number) => (n === 0 ? 'none' : String(n));

const quotas: Command = {
  name: 'quotas',
  summary: 'List quotas: every owner\'s for admins, your own otherwise (0: no limit)',
  json: true,
  async run({ io, flags }) {
    const list = await withSession(io, ({ client }) => client.get<QuotaDoc[]>('/v1/quotas'));
    if (flags.bool('json')) printJson(io.stdout, list);
    else if (!list.length) io.stdout.write('No quotas.\n');
    else io.stdout.write(table(['Owner', 'CPUs', 'Memory (GB)', 'Clusters'], list.map((q) => [q.owner, limitText(q.limit.cpu), limitText(q.limit.memory), limitText(q.limit.cluster)])));
    return EXIT.ok;
  },
};

const setQuota: Command = {
  name: 'set-quota',
  summary: 'Set an owner\'s limits on CPUs, memory and clusters (admins); 0 means no limit',
  args: [{ name: 'OWNER', description: 'the user whose clusters the quota covers', required: true }],
  flags: {
    cpu: { type: 'string', valueName: 'N', description: 'CPUs of all the owner\'s clusters\' VMs' },
    memory: { type: 'string', valueName: 'GB', description: 'memory of all the owner\'s clusters\' VMs, in GB' },
    clusters: { type: 'string', valueName: 'N', description: 'number of clusters' },
  },
  json: true,
  examples: ['slipway set-quota alice --cpu 32 --memory 128 --clusters 4'],
  apiFields: { 'limit.cpu': '--cpu', 'limit.memory': '--memory', 'limit.cluster': '--clusters' },
  async run({ io, args, flags }) {
    const limit: Record<string, number> = {};
    for (const [flag, field] of [['cpu', 'cpu'], ['memory', 'memory'], ['clusters', 'cluster']] as const) {
      const value = flags.int(flag, { min: 0 });
      if (value !== undefined) limit[field] = value;
    }
    if (!Object.keys(limit).length) throw new UsageError('give at least one of --cpu, --memory, --clusters', 'set-quota');
    const doc = await withSession(io, async ({ client }) => {
      const exists = (await client.get<QuotaDoc[]>('/v1/quotas')).some((q) => q.owner === args.OWNER);
      return exists
        ? client.patch<QuotaDoc>(`/v1/quotas/${encodeURIComponent(args.OWNER!)}`, { limit })
        : client.post<QuotaDoc>('/v1/quotas', { owner: args.OWNER, limit: { cpu: 0, memory: 0, cluster: 0, ...limit } });
    });
    if (flags.bool('json')) printJson(io.stdout, doc);
    else io.stdout.write(`Quota of ${doc.owner}: CPUs ${limitText(doc.limit.cpu)}, memory ${limitText(doc.limit.memory)} GB, clusters ${limitText(doc.limit.cluster)}.\n`);
    return EXIT.ok;
  },
};

const deleteQuota: Command = {
  name: 'delete-quota',
  summary: 'Remove an owner\'s quota (admins)',
  args: [{ name: 'OWNER', description: 'the user', required: true }],
  async run({ io, args }) {
    await withSession(io, ({ client }) => client.delete(`/v1/quotas/${encodeURIComponent(args.OWNER!)}`));
    io.stdout.write(`Quota of ${args.OWNER} removed.\n`);
    return EXIT.ok;
  },
};

const usages: Command = {
  name: 'usages',
  summary: 'What each owner\'s clusters take (CPUs, memory), against their quota',
  args: [{ name: 'OWNER', description: 'only this owner', required: false }],
  json: true,
  async run({ io, args, flags }) {
    const list = await withSession(io, async ({ client }) => (args.OWNER
      ? [await client.get<UsageDoc>(`/v1/usages/${encodeURIComponent(args.OWNER)}`)]
      : client.get<UsageDoc[]>('/v1/usages')));
    if (flags.bool('json')) {
      printJson(io.stdout, args.OWNER ? list[0] : list);
      return EXIT.ok;
    }
    if (!list.length) {
      io.stdout.write('No usage.\n');
      return EXIT.ok;
    }
    io.stdout.write(table(['Owner', 'Clusters', 'CPUs', 'Memory (GB)', 'Cluster List'],
      list.map((u) => [u.owner, u.totals.cluster, u.totals.cpu, u.totals.memory, u.clusters.map((c) => `${c.name} (${c.cpu} CPU, ${c.memory} GB)`).join(', ')])));
    return EXIT.ok;
  },
};

export const quotaCommands: CommandGroup = { title: 'Quotas and usages', commands: [quotas, setQuota, deleteQuota, usages] };
