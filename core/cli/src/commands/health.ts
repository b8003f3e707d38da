import { createInterface } from 'node:readline';
import type { ClusterHealthView, DoctorReport, Problem, Resolution, ResurrectionStatus } from '@slipway/engine';
import type { ApiClient } from '../api-client.js';
import type { TaskDoc } from '../api-types.js';
import { canAsk, confirm } from '../confirm.js';
import { EXIT, UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { printJson } from '../output/json.js';
import { keyValues, table } from '../output/table.js';
import { localIso } from '../output/time.js';
import type { Command, CommandGroup } from '../registry.js';
import { withSession } from '../session.js';
import { taskFailure, waitForTask } from '../task-progress.js';

const enc = encodeURIComponent;
const NAME_ARG = { name: 'NAME', description: 'the cluster name', required: true };

function resurrectionLines(name: string, r: ResurrectionStatus): string {
  return keyValues([
    ['Cluster', name],
    [
      'Resurrection',
      `${r.enabled ? 'on' : 'off'} (${r.source === 'cluster' ? `set for this cluster by ${r.set_by}` : 'the default of health.resurrector.enabled'})`,
    ],
    [
      'Meltdown Guard',
      r.meltdown.active
        ? `HOLDING since ${localIso(r.meltdown.since)}: ${r.meltdown.reason}`
        : `clear: ${r.meltdown.reason}`,
    ],
  ]);
}

const resurrection: Command = {
  name: 'resurrection',
  summary: "Show, or turn on or off, the resurrection of a cluster's failed VMs",
  description: [
    "Without STATE: whether the resurrector recreates this cluster's missing and unresponsive VMs, and whether the",
    'meltdown guard holds it back. on / off set it for this cluster; default returns to health.resurrector.enabled.',
  ].join('\n'),
  args: [NAME_ARG, { name: 'STATE', description: 'on, off or default', required: false }],
  json: true,
  examples: ['slipway resurrection prod off', 'slipway resurrection prod on'],
  async run({ io, args, flags }) {
    const name = args.NAME!;
    const state = args.STATE;
    if (state !== undefined && !['on', 'off', 'default'].includes(state))
      throw new UsageError(`STATE must be on, off or default; got "${state}"`, 'resurrection');
    const doc = await withSession(io, ({ client }) =>
      state === undefined
        ? client.get<ResurrectionStatus & { cluster: string }>(`/v1/clusters/${enc(name)}/resurrection`)
        : client
            .call<ResurrectionStatus & { cluster: string }>('PUT', `/v1/clusters/${enc(name)}/resurrection`, {
              enabled: state === 'default' ? null : state === 'on',
            })
            .then((r) => r.body),
    );
    if (flags.bool('json')) printJson(io.stdout, doc);
    else io.stdout.write(resurrectionLines(name, doc));
    return EXIT.ok;
  },
};

const health: Command = {
  name: 'health',
  summary: "Show a cluster's health: instance states, incidents, resurrection and meltdown guard",
  args: [NAME_ARG],
  json: true,
  async run({ io, args, flags }) {
    const doc = await withSession(io, ({ client }) =>
      client.get<ClusterHealthView>(`/v1/clusters/${enc(args.NAME!)}/health`),
    );
    if (flags.bool('json')) {
      printJson(io.stdout, doc);
      return EXIT.ok;
    }
    io.stdout.write(
      keyValues([
        [
          'Instances',
          Object.entries(doc.states)
            .map(([s, n]) => `${n} ${s}`)
            .join(', ') || 'none',
        ],
        [
          'Detection Bounds',
          `unresponsive ${doc.detection_bounds_ms.unresponsive / 1000} s, missing ${doc.detection_bounds_ms.missing / 1000} s, failing ${doc.detection_bounds_ms.failing / 1000} s`,
        ],
      ]),
    );
    io.stdout.write(resurrectionLines(doc.cluster, doc.resurrection));
    io.stdout.write('\nRecent incidents:\n');
    io.stdout.write(
      doc.incidents.length
        ? table(
            ['Instance', 'Kind', 'VM CID', 'Detected', 'Resolved', 'How', 'Task'],
            doc.incidents.map((i) => [
              i.instance,
              i.kind,
              i.vm_cid,
              localIso(i.detected_at),
              localIso(i.resolved_at),
              i.resolution ?? 'open',
              i.task_id,
            ]),
          )
        : 'No incidents.\n',
    );
    return EXIT.ok;
  },
};

function problemsTable(report: DoctorReport): string {
  return table(
    ['#', 'Problem', 'Instance', 'Description', 'Fixes (default first)'],
    report.problems.map((p, i) => [
      i + 1,
      p.type,
      p.instance ?? '-',
      p.description,
      [p.default_resolution, ...p.resolutions.filter((r) => r !== p.default_resolution)].join(' | '),
    ]),
  );
}

/** Asks one question per problem on the terminal; an empty answer takes the default. */
async function choose(io: CliIo, problems: Problem[]): Promise<Record<string, Resolution>> {
  const rl = createInterface({ input: io.stdin!, terminal: false });
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  rl.on('line', (l) => {
    lines.push(l);
    wake?.();
  });
  rl.on('close', () => wake?.());
  const next = async (): Promise<string> => {
    while (!lines.length) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      if (!lines.length) return '';
    }
    return lines.shift()!;
  };
  const chosen: Record<string, Resolution> = {};
  try {
    for (const [i, p] of problems.entries()) {
      const options = [p.default_resolution, ...p.resolutions.filter((r) => r !== p.default_resolution)];
      io.stdout.write(`\nProblem ${i + 1} of ${problems.length}: ${p.description}\n`);
      options.forEach((o, n) => io.stdout.write(`  ${n + 1}. ${o}${n === 0 ? ' (default)' : ''}\n`));
      for (;;) {
        io.stdout.write(`Fix [1-${options.length}, Enter for ${options[0]}]: `);
        const answer = (await next()).trim();
        const pick =
          answer === ''
            ? options[0]
            : (options[Number(answer) - 1] ??
              (options.includes(answer as Resolution) ? (answer as Resolution) : undefined));
        if (pick) {
          chosen[p.id] = pick;
          break;
        }
        io.stdout.write(`"${answer}" is not one of the choices.\n`);
      }
    }
  } finally {
    rl.close();
  }
  return chosen;
}

async function applyFixes(
  client: ApiClient,
  io: CliIo,
  name: string,
  body: { auto?: boolean; resolutions?: Record<string, Resolution> },
  json: boolean,
): Promise<number> {
  const res = await client.call<{ report: DoctorReport; task_id: number | null }>(
    'POST',
    `/v1/clusters/${enc(name)}/doctor`,
    body,
  );
  if (res.body.task_id === null) {
    if (json) printJson(io.stdout, res.body);
    else io.stdout.write('Nothing to apply: every chosen fix is "ignore".\n');
    return EXIT.ok;
  }
  const progress = json ? io.stderr : io.stdout;
  progress.write(`Applying fixes (task ${res.body.task_id}).\n`);
  const task: TaskDoc | undefined = await waitForTask(client, res.body.task_id, io, progress);
  if (!task) return EXIT.interrupted;
  if (task.state !== 'done') throw taskFailure(task);
  const after = await client.get<DoctorReport>(`/v1/clusters/${enc(name)}/doctor`);
  if (json) printJson(io.stdout, { task, report: after });
  else
    io.stdout.write(
      after.problems.length
        ? `\nStill found:\n${problemsTable(after)}`
        : `\nCluster ${name}: the store and the cloud agree again.\n`,
    );
  return after.problems.length ? EXIT.failed : EXIT.ok;
}

const doctor: Command = {
  name: 'doctor',
  summary: 'Compare a cluster in the store with its cloud and fix what disagrees (BOSH cck)',
  description: [
    'Finds VMs and disks the cloud has that the store does not know (leftovers of a crash), VMs and disks the store',
    'names that the cloud lost, unresponsive agents and detached persistent disks, and offers fixes: recreate the VM,',
    'delete the leftover, reattach the disk. On a terminal it asks per problem; --yes applies every default fix',
    '(for scripts); --report only lists (exit 1 when there are problems).',
  ].join('\n'),
  args: [{ name: 'CLUSTER', description: 'the cluster name (not with --leftovers)', required: false }],
  flags: {
    yes: { type: 'boolean', short: 'y', description: "apply every problem's default fix without asking" },
    report: { type: 'boolean', short: 'r', description: 'only list the problems' },
    leftovers: {
      type: 'boolean',
      description:
        'instead of a cluster: network objects tagged with clusters that are gone, offered for removal (admins)',
    },
  },
  json: true,
  examples: [
    'slipway doctor prod',
    'slipway doctor prod --yes',
    'slipway doctor prod --report --json',
    'slipway doctor --leftovers',
  ],
  async run({ io, args, flags }) {
    const json = flags.bool('json');
    if (flags.bool('yes') && flags.bool('report'))
      throw new UsageError('--yes applies fixes and --report only lists them: pass one', 'doctor');
    if (flags.bool('leftovers')) {
      if (args.CLUSTER) throw new UsageError('--leftovers looks at every deleted cluster: pass no CLUSTER', 'doctor');
      return networkLeftovers(io, { yes: flags.bool('yes'), report: flags.bool('report'), json });
    }
    if (!args.CLUSTER) throw new UsageError('name the CLUSTER to check, or pass --leftovers', 'doctor');
    const name = args.CLUSTER;
    return withSession(io, async ({ client }) => {
      const report = await client.get<DoctorReport>(`/v1/clusters/${enc(name)}/doctor`);
      if (!report.problems.length) {
        if (json) printJson(io.stdout, report);
        else
          io.stdout.write(
            `No problems: the store and the cloud agree on cluster ${name}.${report.notes.length ? `\n${report.notes.map((n) => `Note: ${n}`).join('\n')}` : ''}\n`,
          );
        return EXIT.ok;
      }
      if (flags.bool('report') || (!flags.bool('yes') && !canAsk(io))) {
        if (json) printJson(io.stdout, report);
        else {
          io.stdout.write(problemsTable(report));
          for (const n of report.notes) io.stdout.write(`Note: ${n}\n`);
          if (!flags.bool('report'))
            io.stderr.write(
              `Not a terminal: nothing was changed. Pass --yes to apply the default fixes: slipway doctor ${name} --yes\n`,
            );
        }
        return EXIT.failed;
      }
      if (!json) io.stdout.write(problemsTable(report));
      if (flags.bool('yes')) return applyFixes(client, io, name, { auto: true }, json);
      const chosen = await choose(io, report.problems);
      return applyFixes(client, io, name, { resolutions: chosen }, json);
    });
  },
};

interface AlertDoc {
  id: string;
  at: string;
  severity: string;
  kind: string;
  title: string;
  summary: string;
  cluster: string | null;
}

const alerts: Command = {
  name: 'alerts',
  summary: 'List recent alerts (meltdown, failing or missing VMs, failed resurrections), newest first',
  flags: {
    cluster: { type: 'string', short: 'c', valueName: 'NAME', description: 'only the alerts of this cluster' },
    limit: { type: 'string', short: 'l', valueName: 'N', description: 'at most N alerts (default 50)' },
  },
  json: true,
  async run({ io, flags }) {
    const query = new URLSearchParams();
    const limit = flags.int('limit', { min: 1, max: 1000 });
    if (limit !== undefined) query.set('limit', String(limit));
    if (flags.string('cluster')) query.set('cluster', flags.string('cluster')!);
    const list = await withSession(io, ({ client }) =>
      client.get<AlertDoc[]>(`/v1/alerts${query.size ? `?${query}` : ''}`),
    );
    if (flags.bool('json')) printJson(io.stdout, list);
    else
      io.stdout.write(
        list.length
          ? table(
              ['Time', 'Severity', 'Cluster', 'Alert', 'Summary'],
              list.map((a) => [localIso(a.at), a.severity, a.cluster, a.title, a.summary]),
            )
          : 'No alerts.\n',
      );
    return EXIT.ok;
  },
};

export const healthCommands: CommandGroup = {
  title: 'Health and repair',
  commands: [health, resurrection, doctor, alerts],
};

interface NetworkLeftoverDoc {
  supported: boolean;
  leftovers: Array<{ cluster_uuid: string; cluster_name: string | null; objects: Array<{ kind: string; id: string }> }>;
}

/** Lists the network objects of deleted clusters and removes them (each after a yes, or all with --yes). */
async function networkLeftovers(io: CliIo, options: { yes: boolean; report: boolean; json: boolean }): Promise<number> {
  return withSession(io, async ({ client }) => {
    const report = await client.get<NetworkLeftoverDoc>('/v1/network-leftovers');
    if (options.json && (options.report || !report.leftovers.length || (!options.yes && !canAsk(io)))) {
      printJson(io.stdout, report);
      return report.leftovers.length ? EXIT.failed : EXIT.ok;
    }
    if (!report.supported) {
      io.stdout.write('The network driver cannot list what it made (no leftovers capability): nothing to check.\n');
      return EXIT.ok;
    }
    if (!report.leftovers.length) {
      io.stdout.write('No network leftovers: every network object belongs to a live cluster.\n');
      return EXIT.ok;
    }
    io.stdout.write(
      table(
        ['Cluster UUID', 'Deleted Cluster', 'Objects'],
        report.leftovers.map((l) => [
          l.cluster_uuid,
          l.cluster_name ?? '(unknown)',
          l.objects.map((o) => `${o.kind} ${o.id}`).join(', '),
        ]),
      ),
    );
    if (options.report) return EXIT.failed;
    if (!options.yes && !canAsk(io)) {
      io.stderr.write(
        'Not a terminal: nothing was changed. Pass --yes to remove them: slipway doctor --leftovers --yes\n',
      );
      return EXIT.failed;
    }
    let left = 0;
    for (const l of report.leftovers) {
      if (
        !options.yes &&
        !(await confirm(io, `Remove the ${l.objects.length} network objects of ${l.cluster_name ?? l.cluster_uuid}?`))
      ) {
        left++;
        continue;
      }
      await client.delete(`/v1/network-leftovers/${encodeURIComponent(l.cluster_uuid)}`);
      io.stdout.write(`Removed the network objects of ${l.cluster_name ?? l.cluster_uuid}.\n`);
    }
    return left ? EXIT.failed : EXIT.ok;
  });
}
