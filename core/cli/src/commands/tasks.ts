import type { TaskDoc } from '../api-types.js';
import { EXIT, UsageError } from '../errors.js';
import { printJson } from '../output/json.js';
import { keyValues, table } from '../output/table.js';
import { localIso } from '../output/time.js';
import type { Command, CommandGroup } from '../registry.js';
import { withSession } from '../session.js';

const ID_ARG = { name: 'ID', description: 'the task id (slipway tasks lists them)', required: true };

function taskId(raw: string, command: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new UsageError(`task ID must be a positive integer; got "${raw}"`, command);
  return Number(raw);
}

const tasks: Command = {
  name: 'tasks',
  summary: 'List tasks, newest first',
  flags: {
    cluster: { type: 'string', short: 'c', valueName: 'NAME', description: 'only the tasks of this cluster' },
    limit: { type: 'string', short: 'l', valueName: 'N', description: 'at most N tasks (default 50)' },
  },
  json: true,
  async run({ io, flags }) {
    const limit = flags.int('limit', { min: 1, max: 1000 });
    const query = new URLSearchParams();
    if (limit !== undefined) query.set('limit', String(limit));
    const cluster = flags.string('cluster');
    if (cluster) query.set('cluster', cluster);
    const list = await withSession(io, ({ client }) =>
      client.get<TaskDoc[]>(`/v1/tasks${query.size ? `?${query}` : ''}`),
    );
    if (flags.bool('json')) {
      printJson(io.stdout, list);
      return EXIT.ok;
    }
    if (!list.length) {
      io.stdout.write(cluster ? `No tasks for cluster ${cluster}.\n` : 'No tasks.\n');
      return EXIT.ok;
    }
    io.stdout.write(
      table(
        ['ID', 'Type', 'Cluster', 'State', 'Progress', 'User', 'Started', 'Ended', 'Description'],
        list.map((t) => [
          t.id,
          t.type,
          t.cluster_name,
          t.state,
          `${t.progress.done}/${t.progress.total}`,
          t.user,
          localIso(t.started_at ?? t.created_at),
          localIso(t.ended_at),
          t.description,
        ]),
      ),
    );
    return EXIT.ok;
  },
};

/** `slipway task ID`: the task, its steps, what it waits for, its error and its log. */
export function taskReport(t: TaskDoc): string {
  const parts = [
    keyValues([
      ['Task ID', t.id],
      ['Type', t.type],
      ['Cluster', t.cluster_name],
      ['User', t.user],
      ['State', t.state],
      ['Description', t.description],
      ['Progress', `${t.progress.done}/${t.progress.total} steps`],
      ['Created', localIso(t.created_at)],
      ['Started', localIso(t.started_at)],
      ['Ended', localIso(t.ended_at)],
      ...(t.waiting_for ? [['Waiting For', t.waiting_for] as [string, string]] : []),
      ...(t.error
        ? [
            ['Error', `${t.error.code}: ${t.error.message}`] as [string, string],
            ['Hint', t.error.hint ?? ''] as [string, string],
          ]
        : []),
    ]),
  ];
  parts.push(
    '\nSteps:\n',
    table(
      ['#', 'Step', 'State', 'Started', 'Finished', 'Detail'],
      t.steps.map((s, i) => [i + 1, s.name, s.state, localIso(s.started_at), localIso(s.finished_at), s.detail]),
    ),
  );
  if (t.log) {
    parts.push(
      '\nLog:\n',
      t.log.length
        ? table(
            ['Time', 'Level', 'Message'],
            t.log.map((l) => [localIso(l.at), l.level, l.message]),
          )
        : 'No log lines.\n',
    );
  }
  return parts.join('');
}

const task: Command = {
  name: 'task',
  summary: 'Show a task: its steps, progress, log lines and error',
  args: [ID_ARG],
  json: true,
  async run({ io, args, flags }) {
    const id = taskId(args.ID!, 'task');
    const doc = await withSession(io, ({ client }) => client.get<TaskDoc>(`/v1/tasks/${id}`));
    if (flags.bool('json')) printJson(io.stdout, doc);
    else io.stdout.write(taskReport(doc));
    return EXIT.ok;
  },
};

const cancelTask: Command = {
  name: 'cancel-task',
  summary: 'Cancel a running task; it stops at its next safe point',
  args: [ID_ARG],
  json: true,
  async run({ io, args, flags }) {
    const id = taskId(args.ID!, 'cancel-task');
    const doc = await withSession(io, ({ client }) => client.post<TaskDoc>(`/v1/tasks/${id}/cancel`));
    if (flags.bool('json')) printJson(io.stdout, doc);
    else
      io.stdout.write(
        `Task ${doc.id} (${doc.description}) is ${doc.state}: it stops at its next safe point.\nFollow it with: slipway task ${doc.id}\n`,
      );
    return EXIT.ok;
  },
};

export const taskCommands: CommandGroup = { title: 'Tasks', commands: [tasks, task, cancelTask] };
