import type { AvailableUpgrades, FleetUpgradeView } from '@slipway/engine';
import type { ApiClient } from '../api-client.js';
import type { ClusterDoc } from '../api-types.js';
import { ApiError, EXIT, UsageError } from '../errors.js';
import type { CliIo, OutputStream } from '../io.js';
import { printJson } from '../output/json.js';
import { keyValues, table } from '../output/table.js';
import { duration, localClock, localIso } from '../output/time.js';
import type { Command, CommandGroup, FlagSpec, ParsedFlags } from '../registry.js';
import { withSession } from '../session.js';
import { taskFailure, waitForTask } from '../task-progress.js';

const enc = encodeURIComponent;
const NAME_ARG = { name: 'NAME', description: 'the cluster name', required: true };
const WAIT_FLAG: FlagSpec = {
  type: 'boolean',
  description: 'wait until it ends, showing progress; exit 0 when it succeeded, 1 otherwise',
};
const MAX_IN_FLIGHT: FlagSpec = {
  type: 'string',
  valueName: 'N',
  description: 'workers replaced at once: a count or a percentage ("25%"); default the plan\'s update.max_in_flight',
};
const CANARIES: FlagSpec = {
  type: 'string',
  valueName: 'N',
  description: "workers replaced first and watched before the rest; default the plan's update.canaries",
};
const FORCE_DRAIN: FlagSpec = {
  type: 'boolean',
  description:
    'when a node does not drain (or its disk does not detach) in time, replace it anyway instead of stopping',
};

/** `2` → 2, `"25%"` stays a string; anything else is a usage error naming the flag. */
function countFlag(flags: ParsedFlags, name: string, command: string, min: number): number | string | undefined {
  const raw = flags.string(name);
  if (raw === undefined) return undefined;
  if (/^\d+(\.\d+)?%$/.test(raw)) return raw;
  if (/^\d+$/.test(raw) && Number(raw) >= min) return Number(raw);
  throw new UsageError(
    `--${name} must be a whole number${min ? ` of at least ${min}` : ''} or a percentage ("25%"); got "${raw}"`,
    command,
  );
}

async function followCluster(
  client: ApiClient,
  io: CliIo,
  accepted: ClusterDoc,
  wait: boolean,
  json: boolean,
): Promise<number> {
  if (!wait || accepted.task_id === null) {
    if (json) printJson(io.stdout, accepted);
    else io.stdout.write(`Follow it with: slipway task ${accepted.task_id}\n`);
    return EXIT.ok;
  }
  const progress = json ? io.stderr : io.stdout;
  const task = await waitForTask(client, accepted.task_id, io, progress);
  if (!task) return EXIT.interrupted;
  if (task.state !== 'done') throw taskFailure(task);
  // By uuid: an admin may see two owners' clusters of one name (names are unique per owner).
  const final = await client.get<ClusterDoc>(`/v1/clusters/${enc(accepted.uuid || accepted.name)}`);
  if (json) printJson(io.stdout, final);
  else io.stdout.write(`\nCluster ${final.name} runs Kubernetes ${final.k8s_version} (plan ${final.plan_name}).\n`);
  return EXIT.ok;
}

interface CatalogDoc {
  kubernetes_versions: string[];
  default_kubernetes_version: string;
  stemcells: string[];
  default_stemcell: string;
  plans: Array<{ name: string; kubernetes_version: string }>;
  rules: string[];
}

const versions: Command = {
  name: 'versions',
  summary: "Show the version catalog: Kubernetes versions, stemcells, each plan's default, the upgrade rules",
  json: true,
  async run({ io, flags }) {
    const doc = await withSession(io, ({ client }) => client.get<CatalogDoc>('/v1/versions'));
    if (flags.bool('json')) {
      printJson(io.stdout, doc);
      return EXIT.ok;
    }
    io.stdout.write(
      keyValues([
        ['Kubernetes Versions', doc.kubernetes_versions],
        ['Default Version', doc.default_kubernetes_version],
        ['Stemcells', doc.stemcells],
        ['Default Stemcell', doc.default_stemcell],
        ['Upgrade Rules', doc.rules],
      ]),
    );
    io.stdout.write(
      `\n${table(
        ['Plan', 'Kubernetes Version'],
        doc.plans.map((p) => [p.name, p.kubernetes_version]),
      )}`,
    );
    return EXIT.ok;
  },
};

const upgrades: Command = {
  name: 'upgrades',
  summary: 'Show what a cluster may upgrade to',
  args: [NAME_ARG],
  json: true,
  async run({ io, args, flags }) {
    const doc = await withSession(io, ({ client }) =>
      client.get<AvailableUpgrades>(`/v1/clusters/${enc(args.NAME!)}/upgrades`),
    );
    if (flags.bool('json')) printJson(io.stdout, doc);
    else {
      io.stdout.write(
        keyValues([
          ['Cluster', doc.cluster],
          ['K8s Version', doc.k8s_version],
          ['Stemcell', doc.stemcell],
          ['Plan Default Version', doc.plan_default_version],
          ['Kubernetes Upgrades', doc.kubernetes_versions.length ? doc.kubernetes_versions : 'none'],
          ['Stemcell Upgrades', doc.stemcells.length ? doc.stemcells : 'none'],
          [
            'Default Upgrade',
            doc.default_target
              ? `Kubernetes ${doc.default_target.kubernetes_version} on ${doc.default_target.stemcell}`
              : 'up to date',
          ],
        ]),
      );
    }
    return EXIT.ok;
  },
};

const upgradeCluster: Command = {
  name: 'upgrade-cluster',
  summary: "Upgrade a cluster's Kubernetes version and/or stemcell, rolling its VMs",
  description: [
    'Masters go first, one at a time (etcd keeps quorum), then workers: canaries first, then max_in_flight at a',
    'time, each drained before its VM is replaced; persistent disks are reattached. Without flags: toward the',
    "plan's Kubernetes version one minor at a time, on the default stemcell (or the cluster's own, when it is",
    "newer). --kubernetes-version alone keeps the cluster's stemcell. slipway task ID shows each step and what",
    'it waits for.',
  ].join('\n'),
  args: [NAME_ARG],
  flags: {
    'kubernetes-version': {
      type: 'string',
      valueName: 'VERSION',
      description: 'the target Kubernetes version (slipway versions lists them)',
    },
    stemcell: {
      type: 'string',
      valueName: 'NAME/VERSION',
      description: "the target stemcell; default the cluster's own with --kubernetes-version, else kubernetes.stemcell",
    },
    'max-in-flight': MAX_IN_FLIGHT,
    canaries: CANARIES,
    'force-drain': FORCE_DRAIN,
    wait: WAIT_FLAG,
  },
  json: true,
  apiFields: {
    kubernetes_version: '--kubernetes-version',
    stemcell: '--stemcell',
    max_in_flight: '--max-in-flight',
    canaries: '--canaries',
  },
  examples: [
    'slipway upgrade-cluster prod --kubernetes-version 1.31.4 --wait',
    'slipway upgrade-cluster prod --max-in-flight 25% --wait',
  ],
  async run({ io, args, flags }) {
    const body = {
      ...(flags.string('kubernetes-version') ? { kubernetes_version: flags.string('kubernetes-version') } : {}),
      ...(flags.string('stemcell') ? { stemcell: flags.string('stemcell') } : {}),
      ...(countFlag(flags, 'max-in-flight', 'upgrade-cluster', 1) !== undefined
        ? { max_in_flight: countFlag(flags, 'max-in-flight', 'upgrade-cluster', 1) }
        : {}),
      ...(countFlag(flags, 'canaries', 'upgrade-cluster', 0) !== undefined
        ? { canaries: countFlag(flags, 'canaries', 'upgrade-cluster', 0) }
        : {}),
      ...(flags.bool('force-drain') ? { force_drain: true } : {}),
    };
    return withSession(io, async ({ client }) => {
      const accepted = await client.post<ClusterDoc>(`/v1/clusters/${enc(args.NAME!)}/upgrade`, body);
      const json = flags.bool('json');
      if (!json) io.stdout.write(`Upgrading cluster ${accepted.name} (task ${accepted.task_id}).\n`);
      return followCluster(client, io, accepted, flags.bool('wait'), json);
    });
  },
};

const updateCluster: Command = {
  name: 'update-cluster',
  summary: 'Move a cluster to another plan (VM types), or recreate every VM, rolling as upgrade-cluster does',
  description: [
    'A plan with a larger persistent_disk_mb grows each disk while its VM is replaced: in place where the cloud',
    "resizes disks, else onto a new disk that the new VM's agent fills with the old one's content before it",
    'mounts it (the old disk is deleted once the VM runs). A smaller disk is refused: disks only grow.',
  ].join('\n'),
  args: [NAME_ARG],
  flags: {
    plan: {
      type: 'string',
      short: 'p',
      valueName: 'PLAN',
      description: 'the new plan: same IaaS and number of masters',
    },
    recreate: { type: 'boolean', description: 'replace every VM even when nothing about it changes' },
    'max-in-flight': MAX_IN_FLIGHT,
    canaries: CANARIES,
    'force-drain': FORCE_DRAIN,
    'network-profile': {
      type: 'string',
      valueName: 'PROFILE',
      description:
        'move to this network profile; only its updatable fields (fip_pool_ids, pod_ip_block_ids, nodes_dns, cni_configurations) may differ',
    },
    wait: WAIT_FLAG,
  },
  json: true,
  apiFields: { plan_name: '--plan', max_in_flight: '--max-in-flight', network_profile_name: '--network-profile' },
  examples: [
    'slipway update-cluster prod --plan large --wait',
    'slipway update-cluster prod --network-profile prod-dns-2 --wait',
  ],
  async run({ io, args, flags }) {
    const profile = flags.string('network-profile');
    if (profile && !flags.string('plan') && !flags.bool('recreate')) {
      // TKGI's PATCH /v1/clusters/NAME with network_profile_name: an UPDATE task that re-prepares the network.
      return withSession(io, async ({ client }) => {
        const accepted = await client.patch<ClusterDoc>(`/v1/clusters/${enc(args.NAME!)}`, {
          network_profile_name: profile,
        });
        if (!flags.bool('json'))
          io.stdout.write(
            `Updating cluster ${accepted.name} to network profile ${profile} (task ${accepted.task_id}).\n`,
          );
        return followCluster(client, io, accepted, flags.bool('wait'), flags.bool('json'));
      });
    }
    if (profile)
      throw new UsageError(
        '--network-profile is applied on its own; run update-cluster twice to change the plan and the profile',
        'update-cluster',
      );
    if (!flags.string('plan') && !flags.bool('recreate'))
      throw new UsageError(
        'pass --plan PLAN, --recreate to replace every VM, or --network-profile PROFILE',
        'update-cluster',
      );
    const body = {
      ...(flags.string('plan') ? { plan_name: flags.string('plan') } : {}),
      ...(flags.bool('recreate') ? { recreate: true } : {}),
      ...(countFlag(flags, 'max-in-flight', 'update-cluster', 1) !== undefined
        ? { max_in_flight: countFlag(flags, 'max-in-flight', 'update-cluster', 1) }
        : {}),
      ...(countFlag(flags, 'canaries', 'update-cluster', 0) !== undefined
        ? { canaries: countFlag(flags, 'canaries', 'update-cluster', 0) }
        : {}),
      ...(flags.bool('force-drain') ? { force_drain: true } : {}),
    };
    return withSession(io, async ({ client }) => {
      const accepted = await client.post<ClusterDoc>(`/v1/clusters/${enc(args.NAME!)}/update`, body);
      if (!flags.bool('json')) io.stdout.write(`Updating cluster ${accepted.name} (task ${accepted.task_id}).\n`);
      return followCluster(client, io, accepted, flags.bool('wait'), flags.bool('json'));
    });
  },
};

function fleetTable(job: FleetUpgradeView): string {
  return table(
    ['Cluster', 'Canary', 'State', 'Task', 'Started', 'Ended', 'Detail'],
    job.clusters.map((c) => [
      c.cluster_name,
      c.is_canary ? 'yes' : '',
      c.state,
      c.task_id,
      localIso(c.started_at),
      localIso(c.ended_at),
      c.detail,
    ]),
  );
}

function fleetSummary(job: FleetUpgradeView): string {
  const counts = Object.entries(job.summary)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  return `Fleet upgrade ${job.id}: ${job.state} (${counts || 'no clusters'})${job.error ? `: ${job.error}` : ''}\n`;
}

/** One line per cluster state change, then the result table. */
async function waitForFleet(
  client: ApiClient,
  io: CliIo,
  id: number,
  out: OutputStream,
): Promise<FleetUpgradeView | undefined> {
  const seen = new Map<string, string>();
  const started = Date.now();
  for (;;) {
    if (io.signal?.aborted) {
      io.stderr.write(`Stopped waiting; fleet upgrade ${id} goes on. Follow it with: slipway fleet-upgrade ${id}\n`);
      return undefined;
    }
    let job: FleetUpgradeView;
    try {
      job = await client.get<FleetUpgradeView>(`/v1/fleet-upgrades/${id}`);
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) throw e;
      await new Promise((r) => setTimeout(r, io.pollIntervalMs ?? 1000));
      continue;
    }
    for (const c of job.clusters) {
      const key = `${c.state}|${c.task_id ?? ''}`;
      if (seen.get(c.cluster_name) === key || c.state === 'queued') continue;
      seen.set(c.cluster_name, key);
      out.write(
        `${localClock(new Date())} ${c.cluster_name}${c.is_canary ? ' (canary)' : ''}: ${c.state}${c.task_id ? ` (task ${c.task_id})` : ''}${c.state !== 'in progress' && c.detail ? `: ${c.detail}` : ''}\n`,
      );
    }
    if (!['queued', 'in progress'].includes(job.state)) {
      out.write(`${localClock(new Date())} fleet upgrade ${id} ${job.state} after ${duration(Date.now() - started)}\n`);
      return job;
    }
    await new Promise((r) => setTimeout(r, io.pollIntervalMs ?? 1000));
  }
}

const upgradeClusters: Command = {
  name: 'upgrade-clusters',
  summary: 'Upgrade many clusters: canaries first, one at a time, then max-in-flight at a time',
  description: [
    'Each cluster is upgraded as upgrade-cluster does. A failed canary stops the rest; a failed non-canary does not.',
    'To patch a CVE: publish the fixed stemcell as kubernetes.stemcell in slipway.yaml, restart, then run',
    'slipway upgrade-clusters --all --wait.',
  ].join('\n'),
  flags: {
    clusters: { type: 'string', short: 'c', valueName: 'A,B', description: 'the clusters to upgrade, comma-separated' },
    all: { type: 'boolean', description: 'every cluster' },
    'max-in-flight': {
      type: 'string',
      valueName: 'N',
      description: 'clusters upgraded at once after the canaries (default 1)',
    },
    canaries: {
      type: 'string',
      valueName: 'N|A,B',
      description: 'the first N clusters, or these names, go first, one at a time',
    },
    'kubernetes-version': {
      type: 'string',
      valueName: 'VERSION',
      description: "default: each cluster's plan version, one minor at a time",
    },
    stemcell: { type: 'string', valueName: 'NAME/VERSION', description: 'default: kubernetes.stemcell' },
    'force-drain': FORCE_DRAIN,
    wait: WAIT_FLAG,
  },
  json: true,
  apiFields: {
    clusters: '--clusters',
    max_in_flight: '--max-in-flight',
    canaries: '--canaries',
    kubernetes_version: '--kubernetes-version',
    stemcell: '--stemcell',
  },
  examples: [
    'slipway upgrade-clusters --all --max-in-flight 5 --canaries 1 --wait',
    'slipway upgrade-clusters --clusters dev,stage,prod --canaries dev --wait',
  ],
  async run({ io, flags }) {
    const names = flags
      .string('clusters')
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!names?.length && !flags.bool('all'))
      throw new UsageError('name the clusters with --clusters A,B, or pass --all', 'upgrade-clusters');
    if (names?.length && flags.bool('all'))
      throw new UsageError('pass --clusters or --all, not both', 'upgrade-clusters');
    const maxInFlight = flags.int('max-in-flight', { min: 1 });
    const rawCanaries = flags.string('canaries');
    const canaries =
      rawCanaries === undefined
        ? undefined
        : /^\d+$/.test(rawCanaries)
          ? Number(rawCanaries)
          : rawCanaries
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean);
    const body = {
      ...(names?.length ? { clusters: names } : { all: true }),
      ...(maxInFlight !== undefined ? { max_in_flight: maxInFlight } : {}),
      ...(canaries !== undefined ? { canaries } : {}),
      ...(flags.string('kubernetes-version') ? { kubernetes_version: flags.string('kubernetes-version') } : {}),
      ...(flags.string('stemcell') ? { stemcell: flags.string('stemcell') } : {}),
      ...(flags.bool('force-drain') ? { force_drain: true } : {}),
    };
    return withSession(io, async ({ client }) => {
      const job = await client.post<FleetUpgradeView>('/v1/fleet-upgrades', body);
      const json = flags.bool('json');
      if (!flags.bool('wait')) {
        if (json) printJson(io.stdout, job);
        else io.stdout.write(`${fleetSummary(job)}Follow it with: slipway fleet-upgrade ${job.id}\n`);
        return EXIT.ok;
      }
      const progress = json ? io.stderr : io.stdout;
      progress.write(
        `Fleet upgrade ${job.id} of ${job.clusters.length} cluster${job.clusters.length === 1 ? '' : 's'} started.\n`,
      );
      const final = await waitForFleet(client, io, job.id, progress);
      if (!final) return EXIT.interrupted;
      if (json) printJson(io.stdout, final);
      else io.stdout.write(`\n${fleetSummary(final)}${fleetTable(final)}`);
      return final.state === 'done' ? EXIT.ok : EXIT.failed;
    });
  },
};

const fleetUpgrades: Command = {
  name: 'fleet-upgrades',
  summary: 'List fleet upgrades, newest first',
  json: true,
  async run({ io, flags }) {
    const list = await withSession(io, ({ client }) => client.get<FleetUpgradeView[]>('/v1/fleet-upgrades'));
    if (flags.bool('json')) printJson(io.stdout, list);
    else
      io.stdout.write(
        list.length
          ? table(
              ['ID', 'State', 'Clusters', 'User', 'Started', 'Ended'],
              list.map((j) => [
                j.id,
                j.state,
                Object.entries(j.summary)
                  .filter(([, n]) => n)
                  .map(([s, n]) => `${n} ${s}`)
                  .join(', '),
                j.user,
                localIso(j.started_at),
                localIso(j.ended_at),
              ]),
            )
          : 'No fleet upgrades.\n',
      );
    return EXIT.ok;
  },
};

function idArg(raw: string, command: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new UsageError(`ID must be a positive integer; got "${raw}"`, command);
  return Number(raw);
}

const fleetUpgrade: Command = {
  name: 'fleet-upgrade',
  summary: 'Show a fleet upgrade with the result per cluster; --cancel drops the clusters not started yet',
  args: [{ name: 'ID', description: 'the fleet upgrade id', required: true }],
  flags: {
    cancel: { type: 'boolean', description: 'cancel: clusters not started yet are dropped, running ones finish' },
    wait: WAIT_FLAG,
  },
  json: true,
  async run({ io, args, flags }) {
    const id = idArg(args.ID!, 'fleet-upgrade');
    return withSession(io, async ({ client }) => {
      let job = flags.bool('cancel')
        ? await client.post<FleetUpgradeView>(`/v1/fleet-upgrades/${id}/cancel`)
        : await client.get<FleetUpgradeView>(`/v1/fleet-upgrades/${id}`);
      if (flags.bool('wait'))
        job = (await waitForFleet(client, io, id, flags.bool('json') ? io.stderr : io.stdout)) ?? job;
      if (flags.bool('json')) printJson(io.stdout, job);
      else io.stdout.write(`${fleetSummary(job)}${fleetTable(job)}`);
      return EXIT.ok;
    });
  },
};

export const upgradeCommands: CommandGroup = {
  title: 'Upgrades',
  commands: [versions, upgrades, upgradeCluster, updateCluster, upgradeClusters, fleetUpgrades, fleetUpgrade],
};
