import { followEvents, type StreamedEvent } from '../event-stream.js';
import { EXIT } from '../errors.js';
import { printJson } from '../output/json.js';
import { table } from '../output/table.js';
import { localIso } from '../output/time.js';
import type { Command, CommandGroup } from '../registry.js';
import { withSession } from '../session.js';

function eventLine(e: StreamedEvent): string {
  return `${localIso(e.at)}  ${e.severity.padEnd(8)} ${(e.cluster ?? '-').padEnd(16)} ${e.kind.padEnd(22)} ${e.message}\n`;
}

const events: Command = {
  name: 'events',
  summary: 'Show events (of one cluster, or all you may see); --follow streams them live',
  description:
    'Events are what the control plane did and saw: task steps, VMs resurrected, processes restarted, certificates renewed. ' +
    'With --follow the command keeps streaming new events until interrupted, reconnecting (without losing any) when the connection drops.',
  args: [{ name: 'CLUSTER', description: 'only the events of this cluster', required: false }],
  flags: {
    kind: {
      type: 'string',
      valueName: 'KINDS',
      description: 'only these kinds, comma-separated; a trailing * matches a prefix (task.*,resurrection.*)',
    },
    task: { type: 'string', valueName: 'ID', description: 'only the events of this task' },
    limit: {
      type: 'string',
      short: 'l',
      valueName: 'N',
      description: 'how many recent events to show first (default 50)',
    },
    follow: { type: 'boolean', short: 'f', description: 'keep streaming new events until interrupted (Ctrl-C)' },
  },
  json: true,
  examples: ['slipway events prod', 'slipway events --follow --kind "task.*"', 'slipway events prod -f --json'],
  async run({ io, args, flags }) {
    const query = new URLSearchParams();
    if (args.CLUSTER) query.set('cluster', args.CLUSTER);
    const kind = flags.string('kind');
    if (kind) query.set('kind', kind);
    const task = flags.int('task', { min: 1 });
    if (task !== undefined) query.set('task', String(task));
    const limit = flags.int('limit', { min: 1, max: 1000 }) ?? 50;
    const json = flags.bool('json');
    await withSession(io, async ({ client }) => {
      const recent = await client.get<StreamedEvent[]>(
        `/v1/events?${new URLSearchParams([...query, ['limit', String(limit)]])}`,
      );
      if (!flags.bool('follow')) {
        if (json) printJson(io.stdout, recent);
        else if (!recent.length)
          io.stdout.write(args.CLUSTER ? `No events for cluster ${args.CLUSTER}.\n` : 'No events.\n');
        else
          io.stdout.write(
            table(
              ['Time', 'Severity', 'Cluster', 'Kind', 'Message'],
              recent.map((e) => [localIso(e.at), e.severity, e.cluster ?? '-', e.kind, e.message]),
            ),
          );
        return;
      }
      // Following: what happened lately, then live from the last one shown (one JSON object a line with --json).
      const show = (e: StreamedEvent) => io.stdout.write(json ? `${JSON.stringify(e)}\n` : eventLine(e));
      recent.forEach(show);
      const after = recent.length ? recent[recent.length - 1].id : undefined;
      if (after !== undefined) query.set('after', String(after));
      await followEvents(client, query, {
        signal: io.signal,
        onEvent: show,
        onReconnect: () => io.stderr.write('event stream dropped; reconnecting\n'),
      });
    });
    return EXIT.ok;
  },
};

interface AuditDoc {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  result: string;
  source: string | null;
  request_id: string | null;
  details: Record<string, unknown> | null;
}

const audit: Command = {
  name: 'audit',
  summary: "Show the audit trail, newest first: API changes, logins, credential operations, the engine's own decisions",
  description:
    'Admins read the whole trail; everyone else reads their own actions. Times are ISO-8601 (2026-01-31 or 2026-01-31T12:00:00Z).',
  flags: {
    actor: { type: 'string', valueName: 'USER', description: 'only what this user (or `engine`) did' },
    action: {
      type: 'string',
      valueName: 'ACTION',
      description: 'only this action; a trailing * matches a prefix (cluster.*, credential.*, login)',
    },
    cluster: { type: 'string', short: 'c', valueName: 'NAME', description: 'only entries about this cluster' },
    target: {
      type: 'string',
      valueName: 'TARGET',
      description: 'only entries about this target (user:alice, credential:/path)',
    },
    result: { type: 'string', valueName: 'RESULT', description: 'success, failure or denied' },
    since: { type: 'string', valueName: 'TIME', description: 'entries at or after this time' },
    until: { type: 'string', valueName: 'TIME', description: 'entries before this time' },
    before: { type: 'string', valueName: 'ID', description: 'entries older than this id (the next page)' },
    limit: { type: 'string', short: 'l', valueName: 'N', description: 'at most N entries (default 100, at most 1000)' },
  },
  json: true,
  examples: [
    'slipway audit --action "cluster.*" --since 2026-01-01',
    'slipway audit --action login --result failure',
    'slipway audit --actor engine',
  ],
  async run({ io, flags }) {
    const query = new URLSearchParams();
    for (const name of ['actor', 'action', 'cluster', 'target', 'result', 'since', 'until']) {
      const value = flags.string(name);
      if (value) query.set(name, value);
    }
    const before = flags.int('before', { min: 1 });
    if (before !== undefined) query.set('before', String(before));
    const limit = flags.int('limit', { min: 1, max: 1000 });
    if (limit !== undefined) query.set('limit', String(limit));
    const entries = await withSession(io, ({ client }) =>
      client.get<AuditDoc[]>(`/v1/audit${query.size ? `?${query}` : ''}`),
    );
    if (flags.bool('json')) {
      printJson(io.stdout, entries);
      return EXIT.ok;
    }
    if (!entries.length) {
      io.stdout.write('No audit entries.\n');
      return EXIT.ok;
    }
    io.stdout.write(
      table(
        ['ID', 'Time', 'Actor', 'Action', 'Target', 'Result', 'Source', 'Request ID'],
        entries.map((e) => [
          e.id,
          localIso(e.at),
          e.actor,
          e.action,
          e.target ?? '-',
          e.result,
          e.source ?? '-',
          e.request_id ?? '-',
        ]),
      ),
    );
    if (entries.length === (limit ?? 100))
      io.stdout.write(`More: slipway audit --before ${entries[entries.length - 1].id}\n`);
    return EXIT.ok;
  },
};

export const eventCommands: CommandGroup = { title: 'Events and audit', commands: [events, audit] };
