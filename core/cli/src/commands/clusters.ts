import type { ApiClient } from '../api-client.js';
import type { ClusterDoc, EventDoc, InstanceDoc } from '../api-types.js';
import type { CliIo } from '../io.js';
import { canAsk, confirm } from '../confirm.js';
import { ApiError, EXIT, UsageError } from '../errors.js';
import { printJson } from '../output/json.js';
import { keyValues, table } from '../output/table.js';
import { localIso } from '../output/time.js';
import type { Command, CommandGroup, FlagSpec } from '../registry.js';
import { withSession } from '../session.js';
import { taskFailure, waitForTask } from '../task-progress.js';

const WAIT_FLAG: FlagSpec = {
  type: 'boolean',
  description:
    'wait for the task to end, showing its steps; exit 0 when it is done, 1 when it fails (with --json: progress on stderr, the final document on stdout)',
};
const NAME_ARG = { name: 'NAME', description: 'the cluster name', required: true };

const enc = encodeURIComponent;

/** The fields `pks cluster` prints, with Slipway's own. */
export function clusterSummary(c: ClusterDoc): string {
  return keyValues([
    ['Slipway Version', c.slipway_version],
    ['Name', c.name],
    ['K8s Version', c.k8s_version],
    ['Plan Name', c.plan_name],
    ['IaaS', c.iaas],
    ['Owner', c.owner],
    ['UUID', c.uuid],
    ['Last Action', c.last_action],
    ['Last Action State', c.last_action_state],
    ['Last Action Description', c.last_action_description],
    ['Last Task ID', c.task_id],
    ['Kubernetes Master Host', c.parameters.kubernetes_master_host],
    ['Kubernetes Master Port', c.parameters.kubernetes_master_port],
    ['Master Nodes', c.parameters.kubernetes_master_instances],
    ['Worker Nodes', c.parameters.kubernetes_worker_instances],
    ['Network Profile', c.network_profile_name ?? '-'],
    ...(c.kubernetes?.require_api === false
      ? ([['Kubernetes API', 'not required by the plan (etcd-only rehearsal: the API was not checked)']] as Array<
          [string, string]
        >)
      : []),
    [
      'Kubernetes Master IP(s)',
      c.kubernetes_master_ips.length ? masterIps(c) : c.last_action_state === 'in progress' ? 'In Progress' : '-',
    ],
    ...(c.registry
      ? ([
          ['Registry Project', `${c.registry.endpoint}/${c.registry.project}`],
          ['Registry Pull Robot', c.registry.pull_robot ?? '-'],
        ] as Array<[string, string]>)
      : []),
    ['Created', localIso(c.created_at)],
    ['Updated', localIso(c.updated_at)],
  ]);
}

/** The VIP marked as such (a load-balanced network), then the masters' own addresses. */
function masterIps(c: ClusterDoc): string {
  return c.kubernetes_master_ips.map((ip) => (ip === c.kubernetes_api_vip ? `${ip} (load balancer)` : ip)).join(', ');
}

/** The persistent disk, and whether the VM's agent has it mounted (it is attached first, mounted at boot). */
function diskSummary(instance: InstanceDoc): string {
  const disk = instance.persistent_disk;
  if (!disk) return '-';
  return disk.mounted
    ? `${disk.disk_cid} mounted`
    : `${disk.disk_cid} ${disk.attached_vm_cid ? 'attached, not mounted' : 'detached'}`;
}

/** What agents report wrong with processes that run (a binary of another version than the catalog's), one per line. */
export function processWarnings(instances: Array<Pick<InstanceDoc, 'name' | 'processes'>>): string {
  const lines = instances.flatMap((i) =>
    i.processes.flatMap((job) =>
      (job.processes ?? []).filter((p) => p.warning).map((p) => `  ${i.name} ${p.name}: ${p.warning}\n`),
    ),
  );
  return lines.length ? `\nWarnings:\n${lines.join('')}` : '';
}

function processSummary(instance: InstanceDoc): string {
  const all = instance.processes.flatMap((job) => job.processes ?? []);
  if (!all.length) return '-';
  const running = all.filter((p) => p.state === 'running').length;
  const down = all.filter((p) => p.state !== 'running').map((p) => `${p.name} ${p.state}`);
  return `${running}/${all.length} running${down.length ? ` (${down.join(', ')})` : ''}`;
}

/** Reads an optional detail route; an API without it (404 on the route) gives undefined. */
async function optional<T>(client: ApiClient, path: string): Promise<T | undefined> {
  try {
    return await client.get<T>(path);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && /no route/i.test(e.message)) return undefined;
    throw e;
  }
}

/**
 * After an accepted change: with --wait, follow its task and finish with the cluster's new state; without,
 * say how to follow it. With --json the progress goes to stderr and stdout gets one JSON document: the
 * accepted cluster, or after --wait the cluster's final state (the ended task for a delete).
 */
async function followTask(
  client: ApiClient,
  io: CliIo,
  accepted: ClusterDoc,
  options: { wait: boolean; json: boolean; verb: 'create' | 'resize' | 'delete' | 'rotate-certificates' },
): Promise<number> {
  const { wait, json, verb } = options;
  if (!wait || accepted.task_id === null) {
    if (json) printJson(io.stdout, accepted);
    else
      io.stdout.write(
        `\nUse 'slipway cluster ${accepted.name}' to monitor the state of your cluster${accepted.task_id === null ? '' : `, or 'slipway task ${accepted.task_id}' to follow its steps`}.\n`,
      );
    if (!json && verb === 'rotate-certificates')
      io.stdout.write(getCredentialsAgain(accepted.name, 'When the task is done, run'));
    return EXIT.ok;
  }
  const progress = json ? io.stderr : io.stdout;
  progress.write('\n');
  const task = await waitForTask(client, accepted.task_id, io, progress);
  if (!task) return EXIT.interrupted;
  if (task.state !== 'done') throw taskFailure(task);
  if (verb === 'delete') {
    if (json) printJson(io.stdout, task);
    else io.stdout.write(`\nCluster ${accepted.name} is deleted.\n`);
    return EXIT.ok;
  }
  // By uuid: an admin may see two owners' clusters of one name (names are unique per owner).
  const final = await client.get<ClusterDoc>(`/v1/clusters/${enc(accepted.uuid || accepted.name)}`);
  if (json) printJson(io.stdout, final);
  else io.stdout.write(`\n${clusterSummary(final)}`);
  if (!json && verb === 'rotate-certificates') io.stdout.write(getCredentialsAgain(accepted.name, 'Run'));
  return EXIT.ok;
}

/** Kubeconfigs hold a client certificate (and the CA) from before a rotation: users fetch new ones. */
function getCredentialsAgain(name: string, lead: string): string {
  return `\n${lead} 'slipway get-credentials ${name}' again: kubeconfigs written before the rotation hold the old certificates.\n`;
}

const clusters: Command = {
  name: 'clusters',
  summary: 'List the clusters you may see',
  json: true,
  async run({ io, flags }) {
    const list = await withSession(io, ({ client }) => client.get<ClusterDoc[]>('/v1/clusters'));
    if (flags.bool('json')) {
      printJson(io.stdout, list);
      return EXIT.ok;
    }
    if (!list.length) {
      io.stdout.write('You do not have any clusters at this time.\n');
      return EXIT.ok;
    }
    io.stdout.write(
      table(
        ['Name', 'Plan Name', 'K8s Version', 'Workers', 'UUID', 'Status', 'Action'],
        list.map((c) => [
          c.name,
          c.plan_name,
          c.k8s_version,
          c.parameters.kubernetes_worker_instances,
          c.uuid,
          c.last_action_state,
          c.last_action,
        ]),
      ),
    );
    return EXIT.ok;
  },
};

const cluster: Command = {
  name: 'cluster',
  summary: 'Show a cluster',
  description: [
    'With --details, also its instances (VM, IP, zone, agent state, processes, last heartbeat, persistent disk',
    'and whether the agent has it mounted) and its',
    'recent events. With --json --details the cluster document gets two more keys, "instances" and',
    '"events", each exactly as GET /v1/clusters/NAME/instances and /events return it.',
  ].join('\n'),
  args: [NAME_ARG],
  flags: { details: { type: 'boolean', description: 'also show instances and recent events' } },
  json: true,
  async run({ io, args, flags }) {
    const name = args.NAME!;
    return withSession(io, async ({ client }) => {
      const doc = await client.get<ClusterDoc>(`/v1/clusters/${enc(name)}`);
      const details = flags.bool('details');
      const instances = details
        ? await optional<InstanceDoc[]>(client, `/v1/clusters/${enc(name)}/instances`)
        : undefined;
      const events = details ? await optional<EventDoc[]>(client, `/v1/clusters/${enc(name)}/events`) : undefined;
      if (flags.bool('json')) {
        printJson(
          io.stdout,
          details ? { ...doc, ...(instances ? { instances } : {}), ...(events ? { events } : {}) } : doc,
        );
        return EXIT.ok;
      }
      io.stdout.write(clusterSummary(doc));
      // The last change rotated certificates (a user's, or Slipway's automatic renewal): old kubeconfigs are stale.
      if (doc.last_action === 'ROTATE' && doc.last_action_state === 'succeeded') {
        io.stdout.write(getCredentialsAgain(doc.name, `Its certificates were rotated (task ${doc.task_id}). Run`));
      }
      if (instances) {
        io.stdout.write('\nInstances:\n');
        io.stdout.write(
          instances.length
            ? table(
                [
                  'Instance',
                  'VM CID',
                  'IP',
                  'Zone',
                  'State',
                  'Desired',
                  'Processes',
                  'Last Heartbeat',
                  'Persistent Disk',
                ],
                instances.map((i) => [
                  i.name,
                  i.vm_cid,
                  i.ip,
                  i.zone,
                  i.state,
                  i.desired,
                  processSummary(i),
                  localIso(i.last_heartbeat_at),
                  diskSummary(i),
                ]),
              )
            : 'No instances.\n',
        );
        io.stdout.write(processWarnings(instances));
      }
      if (events) {
        io.stdout.write('\nRecent events:\n');
        io.stdout.write(
          events.length
            ? table(
                ['Time', 'Severity', 'Kind', 'Message'],
                events.map((e) => [localIso(e.at), e.severity, e.kind, e.message]),
              )
            : 'No events.\n',
        );
      }
      return EXIT.ok;
    });
  },
};

const createCluster: Command = {
  name: 'create-cluster',
  summary: 'Create a cluster from a plan',
  description:
    'The cluster is created by a task; --wait follows it, else slipway cluster NAME or slipway task ID show its progress.',
  args: [
    { name: 'NAME', description: 'the new cluster name: 1-40 lowercase letters, digits and dashes', required: true },
  ],
  flags: {
    plan: {
      type: 'string',
      short: 'p',
      valueName: 'PLAN',
      required: true,
      description: 'the plan (slipway plans lists them)',
    },
    'external-hostname': {
      type: 'string',
      short: 'e',
      valueName: 'HOST',
      required: true,
      description: 'host name clients reach the Kubernetes API at',
    },
    'num-nodes': {
      type: 'string',
      short: 'n',
      valueName: 'N',
      description: "number of worker nodes (default: the plan's)",
    },
    'network-profile': {
      type: 'string',
      valueName: 'PROFILE',
      description: 'the network profile (slipway network-profiles lists them)',
    },
    wait: WAIT_FLAG,
  },
  json: true,
  examples: ['slipway create-cluster dev --plan small --external-hostname dev.k8s.example.com --num-nodes 2 --wait'],
  apiFields: {
    name: 'NAME',
    plan_name: '--plan',
    network_profile_name: '--network-profile',
    'parameters.kubernetes_master_host': '--external-hostname',
    'parameters.kubernetes_worker_instances': '--num-nodes',
  },
  async run({ io, args, flags }) {
    const workers = flags.int('num-nodes', { min: 1 });
    const profile = flags.string('network-profile');
    const body = {
      name: args.NAME!,
      plan_name: flags.string('plan')!,
      ...(profile ? { network_profile_name: profile } : {}),
      parameters: {
        kubernetes_master_host: flags.string('external-hostname')!,
        ...(workers !== undefined ? { kubernetes_worker_instances: workers } : {}),
      },
    };
    return withSession(io, async ({ client }) => {
      const created = await client.post<ClusterDoc>('/v1/clusters', body);
      const json = flags.bool('json');
      if (!json) io.stdout.write(clusterSummary(created));
      return followTask(client, io, created, { wait: flags.bool('wait'), json, verb: 'create' });
    });
  },
};

const resize: Command = {
  name: 'resize',
  summary: 'Change the number of worker nodes of a cluster',
  description: 'Growing adds workers; shrinking drains the highest-numbered workers first, then deletes them.',
  args: [NAME_ARG],
  flags: {
    'num-nodes': {
      type: 'string',
      short: 'n',
      valueName: 'N',
      required: true,
      description: "the new number of worker nodes (up to the plan's maximum)",
    },
    wait: WAIT_FLAG,
    'non-interactive': { type: 'boolean', description: 'accepted for pks compatibility; resize never asks' },
  },
  json: true,
  examples: ['slipway resize dev --num-nodes 5 --wait'],
  apiFields: { kubernetes_worker_instances: '--num-nodes' },
  async run({ io, args, flags }) {
    const workers = flags.int('num-nodes', { min: 1 })!;
    return withSession(io, async ({ client }) => {
      const updated = await client.patch<ClusterDoc>(`/v1/clusters/${enc(args.NAME!)}`, {
        kubernetes_worker_instances: workers,
      });
      const json = flags.bool('json');
      if (!json)
        io.stdout.write(
          `Resizing cluster ${updated.name} to ${workers} worker node${workers === 1 ? '' : 's'} (task ${updated.task_id}).\n`,
        );
      return followTask(client, io, updated, { wait: flags.bool('wait'), json, verb: 'resize' });
    });
  },
};

const rotateCertificates: Command = {
  name: 'rotate-certificates',
  summary: "Rotate a cluster's certificates without downtime: its CAs in three phases, or the leaves only",
  description: [
    'With the CAs (the default, or --all as pks spells it): a new CA is trusted beside the old one, every',
    'certificate is reissued under it, then the old CA is dropped; the cluster is rolled after each phase,',
    'so nodes and kubeconfigs keep working until the last phase. Run get-credentials again afterwards.',
    "--leaf-only reissues every certificate under the same CAs. Either also gives the cluster's registry",
    "robots new secrets (nodes take the pull robot's at their next sync); --registry-only does only that.",
  ].join('\n'),
  args: [NAME_ARG],
  flags: {
    all: { type: 'boolean', description: 'rotate the CAs and every certificate (the default)' },
    'leaf-only': { type: 'boolean', description: 'keep the CAs; reissue every other certificate' },
    'registry-only': {
      type: 'boolean',
      description: "only give the cluster's registry robots new secrets (every rotation does this too)",
    },
    wait: WAIT_FLAG,
  },
  json: true,
  examples: [
    'slipway rotate-certificates prod --wait',
    'slipway rotate-certificates prod --leaf-only',
    'slipway rotate-certificates prod --registry-only',
  ],
  async run({ io, args, flags }) {
    if (flags.bool('all') && flags.bool('leaf-only'))
      throw new UsageError('--all and --leaf-only contradict each other; pick one', 'rotate-certificates');
    const registryOnly = flags.bool('registry-only');
    if (registryOnly && (flags.bool('all') || flags.bool('leaf-only')))
      throw new UsageError('--registry-only rotates no certificates; drop --all / --leaf-only', 'rotate-certificates');
    const ca = !flags.bool('leaf-only');
    return withSession(io, async ({ client }) => {
      const updated = await client.post<ClusterDoc>(
        `/v1/clusters/${enc(args.NAME!)}/rotate-certificates`,
        registryOnly ? { registry_only: true } : { ca },
      );
      const json = flags.bool('json');
      const what = registryOnly ? 'registry robot secrets' : ca ? 'CAs and certificates' : 'leaf certificates';
      if (!json) io.stdout.write(`Rotating the ${what} of cluster ${updated.name} (task ${updated.task_id}).\n`);
      return followTask(client, io, updated, { wait: flags.bool('wait'), json, verb: 'rotate-certificates' });
    });
  },
};

const deleteCluster: Command = {
  name: 'delete-cluster',
  summary: 'Delete a cluster: its VMs, disks, addresses and credentials',
  description: 'Asks for confirmation on a terminal; elsewhere (scripts, CI) --non-interactive is required.',
  args: [NAME_ARG],
  flags: {
    wait: WAIT_FLAG,
    'non-interactive': { type: 'boolean', description: 'delete without asking for confirmation' },
  },
  json: true,
  examples: ['slipway delete-cluster dev', 'slipway delete-cluster dev --non-interactive --wait'],
  async run({ io, args, flags }) {
    const name = args.NAME!;
    if (!flags.bool('non-interactive')) {
      if (!canAsk(io))
        throw new UsageError(
          `delete-cluster asks for confirmation, and this is not a terminal; pass --non-interactive to delete ${name} without asking`,
          'delete-cluster',
        );
      if (!(await confirm(io, `Are you sure you want to delete the cluster ${name}?`))) {
        io.stdout.write('Deletion cancelled; nothing was changed.\n');
        return EXIT.failed;
      }
    }
    return withSession(io, async ({ client }) => {
      const deleting = await client.delete<ClusterDoc>(`/v1/clusters/${enc(name)}`);
      const json = flags.bool('json');
      if (!json) io.stdout.write(`Deletion of ${name} in progress (task ${deleting.task_id}).\n`);
      return followTask(client, io, deleting, { wait: flags.bool('wait'), json, verb: 'delete' });
    });
  },
};

export const clusterCommands: CommandGroup = {
  title: 'Clusters',
  commands: [clusters, cluster, createCluster, resize, rotateCertificates, deleteCluster],
};
